// The files service (src/core/files/service.ts) over the real blob store and SQLite store:
// staging and the cap, background validation, restart, expiry, imports through a fake fetcher.
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "node:test";
import { IngotError } from "../../src/core/errors.ts";
import type { UrlFetcher } from "../../src/core/ports/index.ts";
import { FileService } from "../../src/core/files/service.ts";
import type { FileServiceOptions } from "../../src/core/files/service.ts";
import { FsBlobStore } from "../../src/store/blobs/fs-blob-store.ts";
import { SqliteFileStore } from "../../src/store/sqlite/file-store.ts";
import { SqliteStore } from "../../src/store/sqlite/store.ts";

const chat = (i: number) => JSON.stringify({ messages: [{ role: "user", content: `Q${i}` }, { role: "assistant", content: `A${i}` }] });
const dataset = (n: number) => Array.from({ length: n }, (_, i) => chat(i)).join("\n") + "\n";
async function* bytes(text: string, size = 1000): AsyncIterable<Uint8Array> {
  const b = Buffer.from(text);
  for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size);
}

const noFetch: UrlFetcher = {
  check: async () => {
    throw new Error("no fetching here");
  },
};

function setup(opts: FileServiceOptions = {}, fetcher: UrlFetcher = noFetch, dir = mkdtempSync(join(tmpdir(), "ingot-files-"))) {
  const store = new SqliteStore(join(dir, "ingot.db"));
  store.putAccount({ name: "a", subscription: "s", resourceGroup: "g", location: "local", kind: "AIServices", skuName: "S0", tags: {}, properties: {}, createdAt: 0 });
  const blobsDir = join(dir, "blobs", "files");
  const files = new FileService(new SqliteFileStore(store.database), new FsBlobStore(blobsDir), fetcher, opts);
  return {
    dir,
    blobsDir,
    files,
    store,
    async done() {
      await files.close();
      store.close();
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function upload(files: FileService, text: string, purpose = "fine-tune") {
  const staged = await files.stage(bytes(text));
  return files.create("a", { purpose, filename: "train.jsonl", staged });
}

test("a file answers `uploaded` while validating in the background, then `processed` with format and count", async () => {
  const s = setup({ inlineWaitMs: 0 });
  const f = await upload(s.files, dataset(12));
  assert.equal(f.status, "uploaded");
  assert.match(f.id, /^file-[0-9a-f]{32}$/);
  await s.files.idle();
  const done = s.files.get("a", f.id)!;
  assert.deepEqual([done.status, done.format, done.examples, done.bytes], ["processed", "chat", 12, Buffer.byteLength(dataset(12))]);
  assert.equal(readFileSync(s.files.pathOf(f.id), "utf8"), dataset(12));
  assert.equal(s.files.get("b", f.id), undefined, "another account does not see it");
  await s.done();
  s.cleanup();
});

test("past the cap: refused with 413 and nothing left on disk", async () => {
  const s = setup({ maxBytes: 5000 });
  await assert.rejects(s.files.stage(bytes(dataset(200))), (e: IngotError) => e.status === 413 && /larger than 5000 bytes/.test(e.message));
  assert.deepEqual(readdirSync(join(s.blobsDir, ".tmp")), []);
  assert.deepEqual(readdirSync(s.blobsDir), [".tmp"]);
  assert.deepEqual(s.files.list("a").data, []);
  await s.done();
  s.cleanup();
});

test("a bad purpose discards the staged content", async () => {
  const s = setup();
  const staged = await s.files.stage(bytes("x"));
  await assert.rejects(s.files.create("a", { purpose: "vision", filename: "x", staged }), /Invalid purpose "vision". Use one of: fine-tune, assistants, batch/);
  assert.deepEqual(readdirSync(join(s.blobsDir, ".tmp")), []);
  await s.done();
  s.cleanup();
});

test("restart: files left `uploaded` are validated again; unfinished imports fail with a reason", async () => {
  const s = setup({ inlineWaitMs: 0 });
  const f = await upload(s.files, dataset(10));
  await s.files.close(); // stops validation if it had not finished
  s.store.database.prepare("UPDATE files SET status = 'uploaded' WHERE id = ?").run(f.id);
  s.store.database
    .prepare("INSERT INTO files (id, account, purpose, filename, bytes, status, created_at) VALUES ('file-import', 'a', 'fine-tune', 'x.jsonl', 0, 'uploaded', 0)")
    .run();
  s.store.close();
  const again = setup({}, noFetch, s.dir);
  again.files.resume();
  await again.files.idle();
  assert.equal(again.files.get("a", f.id)!.status, "processed");
  const imp = again.files.get("a", "file-import")!;
  assert.equal(imp.status, "error");
  assert.match(imp.statusDetails!, /^Import failed: Ingot stopped before the download finished/);
  await again.done();
  again.cleanup();
});

test("list: newest first, purpose filter, after/limit cursor", async () => {
  let now = 1_000_000;
  const s = setup({ clock: () => (now += 1000) });
  const a = await upload(s.files, dataset(10));
  const b = await upload(s.files, "batch", "batch");
  const c = await upload(s.files, dataset(10));
  assert.deepEqual(s.files.list("a").data.map((f) => f.id), [c.id, b.id, a.id]);
  assert.deepEqual(s.files.list("a", { order: "asc" }).data.map((f) => f.id), [a.id, b.id, c.id]);
  assert.deepEqual(s.files.list("a", { purpose: "fine-tune" }).data.map((f) => f.id), [c.id, a.id]);
  const page = s.files.list("a", { limit: 2 });
  assert.deepEqual([page.data.map((f) => f.id), page.hasMore], [[c.id, b.id], true]);
  assert.deepEqual(s.files.list("a", { limit: 2, after: b.id }).data.map((f) => f.id), [a.id]);
  assert.throws(() => s.files.list("a", { limit: 0 }), /'limit' must be an integer from 1 to 10000/);
  await s.done();
  s.cleanup();
});

test("expires_after: the file goes away by itself", async () => {
  let now = 1_000_000;
  const s = setup({ clock: () => now });
  const staged = await s.files.stage(bytes(dataset(10)));
  const f = await s.files.create("a", { purpose: "fine-tune", filename: "t.jsonl", staged, expiresAfter: { anchor: "created_at", seconds: 3600 } });
  assert.equal(f.expiresAt, now + 3600_000);
  now += 3600_000;
  assert.equal(s.files.get("a", f.id), undefined);
  assert.equal(s.files.list("a").data.length, 0);
  // The blob is removed in the background: poll for it, with a deadline.
  for (const deadline = Date.now() + 5000; readdirSync(s.blobsDir).includes(f.id); ) {
    assert.ok(Date.now() < deadline, "the expired file's blob is still on disk after 5 s");
    await new Promise((r) => setTimeout(r, 10));
  }
  const staged2 = await s.files.stage(bytes("x"));
  await assert.rejects(s.files.create("a", { purpose: "batch", filename: "t", staged: staged2, expiresAfter: { anchor: "created_at", seconds: 60 } }), /from 3600 \(1 hour\) to 2592000 \(30 days\)/);
  await s.done();
  s.cleanup();
});

test("delete removes record and content; putResult writes a processed fine-tune-results file", async () => {
  const s = setup();
  const f = await upload(s.files, dataset(10));
  await s.files.delete("a", f.id);
  assert.throws(() => s.files.require("a", f.id), (e: IngotError) => e.status === 404 && e.code === "notFound");
  assert.equal(readdirSync(s.blobsDir).includes(f.id), false);
  const r = await s.files.putResult("a", "ftjob-1-results.csv", "step,train_loss\n1,0.5\n");
  assert.deepEqual([r.purpose, r.status, r.bytes], ["fine-tune-results", "processed", 22]);
  assert.equal(readFileSync(s.files.pathOf(r.id), "utf8"), "step,train_loss\n1,0.5\n");
  await s.done();
  s.cleanup();
});

test("import: a refused URL is a 400 and leaves nothing; a failed download is the file's error", async () => {
  const fetcher: UrlFetcher = {
    check: async (url) => {
      if (url.includes("refused")) throw new Error("The address 127.0.0.1 is a loopback address.");
      return async () => {
        if (url.includes("forbidden")) throw new Error("The URL answered 403 Forbidden (AuthenticationFailed).");
        if (url.includes("huge")) return { body: bytes("x"), contentLength: 10_000_000, abort() {} };
        return { body: bytes(dataset(10), 7), contentLength: undefined, abort() {} };
      };
    },
  };
  const s = setup({ maxBytes: 1_000_000 }, fetcher);
  const input = { purpose: "fine-tune", filename: "t.jsonl" };
  await assert.rejects(s.files.import("a", { ...input, contentUrl: "https://refused" }), (e: IngotError) =>
    e.status === 400 && e.code === "fileImportFailed" && e.message === "Cannot import from content_url: The address 127.0.0.1 is a loopback address.",
  );
  assert.equal(s.files.list("a").data.length, 0);
  await assert.rejects(s.files.import("a", { ...input, contentUrl: undefined }), /Missing required parameter: 'content_url'/);
  const bad = await s.files.import("a", { ...input, contentUrl: "https://forbidden" });
  assert.deepEqual([bad.status, bad.statusDetails], ["error", "Import failed: The URL answered 403 Forbidden (AuthenticationFailed)."]);
  const huge = await s.files.import("a", { ...input, contentUrl: "https://huge" });
  assert.match(huge.statusDetails!, /^Import failed: The file is larger than 1000000 bytes/);
  const ok = await s.files.import("a", { ...input, contentUrl: "https://fine" });
  assert.deepEqual([ok.status, ok.bytes, ok.examples], ["processed", Buffer.byteLength(dataset(10)), 10]);
  assert.deepEqual(readdirSync(join(s.blobsDir, ".tmp")), []);
  await s.done();
  s.cleanup();
});

test("batch files are validated on arrival: Azure's codes with line numbers in status_details; good ones count their requests", async () => {
  const s = setup();
  const line = (id: string, model = "b") => JSON.stringify({ custom_id: id, method: "POST", url: "/v1/chat/completions", body: { model, messages: [{ role: "user", content: "hi" }] } });
  const good = await upload(s.files, [line("1"), line("2")].join("\n") + "\n", "batch");
  assert.equal(good.status, "processed");
  assert.equal(good.examples, 2);
  const bad = await upload(s.files, [line("1"), "{x", line("1"), line("3", "other")].join("\n"), "batch");
  assert.equal(bad.status, "error");
  assert.deepEqual(bad.statusDetails!.split("\n").map((l) => l.slice(0, l.indexOf(":", l.indexOf(":") + 1))), [
    "invalid_json_line: Line 2",
    "duplicate_custom_id: Line 3",
    "model_mismatch: Line 4",
  ]);
  const out = await s.files.putResult("a", "batch_x_output.jsonl", "", "batch_output");
  assert.equal(out.purpose, "batch_output");
  assert.equal(out.status, "processed");
  await s.done();
  s.cleanup();
});
