// AzureBlobStore against Azurite (started here): what one replica's store writes, another's
// (its own cache dir) reads, lists as existing, and copies to local disk; staged content is
// invisible until committed; delete removes it for both; Container= picks the container; job
// outputs (SharedJobFiles) resolve on another replica to its own downloaded copy.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { AzureBlobStore, isBlobConnectionString, parseBlobConnection } from "../../src/store/blobs/azure-blob-store.ts";
import { SharedJobFiles } from "../../src/store/blobs/shared-job-files.ts";
import { mkdirSync, writeFileSync } from "node:fs";
import { startAzurite } from "../support/azurite.ts";
import type { Azurite } from "../support/azurite.ts";

let azurite: Azurite;
const dirs: string[] = [];
const cache = () => {
  const d = mkdtempSync(join(tmpdir(), "ingot-blob-cache-"));
  dirs.push(d);
  return d;
};
async function text(body: AsyncIterable<Uint8Array>): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of body) parts.push(Buffer.from(c));
  return Buffer.concat(parts).toString();
}
async function* chunks(...parts: string[]) {
  for (const p of parts) yield Buffer.from(p);
}
async function until(what: string, check: () => boolean, ms = 5000) {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("AzureBlobStore (Azurite)", { timeout: 60_000 }, () => {
  before(async () => {
    azurite = await startAzurite();
  });
  after(async () => {
    await azurite?.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  test("connection strings: recognised, and Container= is Ingot's own key", () => {
    assert.equal(isBlobConnectionString("UseDevelopmentStorage=true"), true);
    assert.equal(isBlobConnectionString(azurite.connectionString), true);
    assert.equal(isBlobConnectionString("/var/lib/ingot"), false);
    assert.deepEqual(parseBlobConnection("AccountName=a;AccountKey=k==;Container=shared"), { connectionString: "AccountName=a;AccountKey=k==", container: "shared" });
    assert.equal(parseBlobConnection("AccountName=a").container, "ingot");
  });

  test("what one replica writes, another reads, sees as existing and copies to its disk", async () => {
    const a = new AzureBlobStore(azurite.connectionString, "files", cache());
    const b = new AzureBlobStore(azurite.connectionString, "files", cache());
    const staged = await a.stage(chunks("hello ", "world\n"));
    assert.equal(staged.bytes, 12);
    assert.equal(b.exists("file-1"), false, "staged content is not visible");
    await a.commit(staged, "file-1");
    assert.equal(a.exists("file-1"), true);
    assert.equal(await text(b.read("file-1")), "hello world\n", "streamed from the container");
    await b.refresh();
    assert.equal(b.exists("file-1"), true, "the listing knows it");
    const local = await b.localPath("file-1");
    assert.equal(readFileSync(local, "utf8"), "hello world\n");
    assert.ok(local.startsWith(dirs[1]), "in b's own cache");
    await a.put("file-2", "small");
    const c = new AzureBlobStore(azurite.connectionString, "files", cache());
    await until("a fresh store to list what exists", () => c.exists("file-2"));
    await b.delete("file-1");
    assert.equal(b.exists("file-1"), false);
    await assert.rejects(text(new AzureBlobStore(azurite.connectionString, "files", cache()).read("file-1")), /BlobNotFound|not exist/i);
  });

  test("discard removes staged content; another prefix or container sees nothing of this one", async () => {
    const a = new AzureBlobStore(azurite.connectionString, "files", cache());
    const staged = await a.stage(chunks("x"));
    await a.discard(staged);
    await assert.rejects(a.commit(staged, "never"), /not staged/);
    await a.put("same-key", "files");
    const other = new AzureBlobStore(azurite.connectionString, "ml", cache());
    const elsewhere = new AzureBlobStore(`${azurite.connectionString}Container=second`, "files", cache());
    await other.refresh();
    await elsewhere.refresh();
    assert.equal(other.exists("same-key"), false);
    assert.equal(elsewhere.exists("same-key"), false);
    await elsewhere.put("same-key", "second");
    assert.equal(await text(a.read("same-key")), "files");
    assert.equal(await text(new AzureBlobStore(`${azurite.connectionString}Container=second`, "files", cache()).read("same-key")), "second");
  });

  test("fine-tuning outputs: what one replica's job wrote resolves on another to its own downloaded copy; its own paths stay as they are", async () => {
    const dirA = cache();
    const dirB = cache();
    const a = new SharedJobFiles(azurite.connectionString, dirA);
    const b = new SharedJobFiles(azurite.connectionString, dirB);
    const jobDir = join(dirA, "blobs", "jobs", "ftjob-1");
    mkdirSync(join(jobDir, "checkpoints"), { recursive: true });
    writeFileSync(join(jobDir, "adapter.gguf"), "final adapter");
    writeFileSync(join(jobDir, "checkpoints", "epoch-1.gguf"), "checkpoint 1");
    await a.syncAll();
    const notYet = await b.resolve(join(jobDir, "adapter.gguf"));
    assert.equal(notYet, join(jobDir, "adapter.gguf"), "files just written wait until settled (the job may still write them)");
    await a.syncUp("ftjob-1");
    for (const rel of ["adapter.gguf", "checkpoints/epoch-1.gguf"]) {
      const path = await b.resolve(join(jobDir, rel));
      assert.ok(path.startsWith(join(dirB, "blobs", "cache", "jobs")), `${rel}: b's own copy (${path})`);
      assert.equal(readFileSync(path, "utf8"), readFileSync(join(jobDir, rel), "utf8"));
    }
    assert.equal(await a.resolve(join(jobDir, "adapter.gguf")), join(jobDir, "adapter.gguf"), "a reads its own outputs in place");
    assert.equal(await b.resolve("/elsewhere/blobs/jobs/ftjob-9/missing.gguf"), "/elsewhere/blobs/jobs/ftjob-9/missing.gguf", "no shared copy: the path, reported missing by the caller");
    assert.equal(await b.resolve("/models/x.gguf"), "/models/x.gguf");
    await a.close();
    await b.close();
  });
});
