// Rules of Ingot's blob service (core): block blobs put whole or as blocks + block list,
// conditions, ranges, listing by prefix with a delimiter and paging, metadata names, and the
// cleanup of replaced content and abandoned blocks (nothing left on disk).
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { BlobService, checkConditions, parseRange, UNCOMMITTED_BLOCK_TTL_MS } from "../../src/core/ml/blobs.ts";
import { FsBlobStore } from "../../src/store/blobs/fs-blob-store.ts";
import { SqliteMlDataStore } from "../../src/store/sqlite/ml-data-store.ts";
import { SqliteStore } from "../../src/store/sqlite/store.ts";
import { caught, rejection } from "./caught.ts";

const dir = mkdtempSync(join(tmpdir(), "ingot-ml-blobs-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

function setup(maxBlobBytes?: number) {
  const root = join(dir, `case${n++}`);
  mkdirSync(root);
  const store = new SqliteStore(join(root, "ingot.db"));
  let t = 1_000_000_000;
  const clock = { now: () => t, advance: (ms: number) => (t += ms) };
  const blobs = new BlobService(new SqliteMlDataStore(store.database), new FsBlobStore(join(root, "blobs")), { clock: () => clock.now(), ...(maxBlobBytes ? { maxBlobBytes } : {}) });
  blobs.ensureContainer("acct", "c1");
  const files = () => readdirSync(join(root, "blobs")).filter((f) => f !== ".tmp");
  return { blobs, clock, files };
}

const body = (...parts: string[]) =>
  (async function* () {
    for (const p of parts) yield Buffer.from(p);
  })();

async function read(iterable: AsyncIterable<Uint8Array>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of iterable) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks).toString();
}

test("Put Blob: content, MD5, metadata; a replace leaves one file; If-None-Match * refuses an existing blob (409)", async () => {
  const { blobs, files } = setup();
  const b = await blobs.putBlob("acct", "c1", "a/b.jsonl", body("hello ", "world"), { contentType: "application/jsonl" }, { upload_status: "pending" });
  assert.equal(b.size, 11);
  assert.equal(b.contentMd5, "XrY7u+Ae7tCTyyK7j1rNww==");
  assert.equal(await read(blobs.read(b)), "hello world");
  const again = await blobs.putBlob("acct", "c1", "a/b.jsonl", body("bye"), {}, {});
  assert.notEqual(again.etag, b.etag);
  assert.equal(files().length, 1, "the replaced content is gone");
  assert.equal((await rejection(blobs.putBlob("acct", "c1", "a/b.jsonl", body("x"), {}, {}, { ifNoneMatch: "*" }))).code, "BlobAlreadyExists");
  assert.equal((await rejection(blobs.putBlob("acct", "c1", "a/b.jsonl", body("x"), {}, {}, { ifMatch: '"0xnope"' }))).status, 412);
  assert.equal((await rejection(blobs.putBlob("acct", "c1", "x", body("x"), { contentMd5: "AAAAAAAAAAAAAAAAAAAAAA==" }, {}))).code, "Md5Mismatch");
  assert.equal((await rejection(blobs.putBlob("acct", "nope", "x", body("x"), {}, {}))).code, "ContainerNotFound");
  assert.equal((await rejection(blobs.putBlob("acct", "c1", "x", body("x"), {}, { "bad-name": "v" }))).code, "InvalidHeaderValue");
  const updated = blobs.setMetadata("acct", "c1", "a/b.jsonl", { upload_status: "completed", name: "train", version: "1" });
  assert.deepEqual(blobs.blob("acct", "c1", "a/b.jsonl").metadata, updated.metadata);
  await blobs.deleteBlob("acct", "c1", "a/b.jsonl");
  assert.equal(caught(() => blobs.blob("acct", "c1", "a/b.jsonl")).code, "BlobNotFound");
  assert.deepEqual(files(), []);
});

test("a body over the limit is refused (413) and leaves nothing", async () => {
  const { blobs, files } = setup(10);
  const e = await rejection(blobs.putBlob("acct", "c1", "big", body("0123456789", "x"), {}, {}));
  assert.equal(e.status, 413);
  assert.equal(blobs.find("acct", "c1", "big"), undefined);
  assert.deepEqual(files(), []);
});

test("blocks: Put Block then Put Block List in the listed order; unknown ids refused; Put Blob discards staged blocks", async () => {
  const { blobs, files } = setup();
  const id = (s: string) => Buffer.from(s).toString("base64");
  await blobs.putBlock("acct", "c1", "big.bin", id("b1"), body("AAA"));
  await blobs.putBlock("acct", "c1", "big.bin", id("b2"), body("BBB"));
  await blobs.putBlock("acct", "c1", "big.bin", id("b2"), body("bb"));
  assert.equal(caught(() => blobs.blob("acct", "c1", "big.bin")).code, "BlobNotFound", "uncommitted blocks are not a blob");
  assert.equal((await rejection(blobs.putBlockList("acct", "c1", "big.bin", [{ kind: "Latest", id: id("zz") }], {}, {}))).code, "InvalidBlockList");
  const b = await blobs.putBlockList("acct", "c1", "big.bin", [{ kind: "Latest", id: id("b2") }, { kind: "Uncommitted", id: id("b1") }], { contentType: "application/octet-stream" }, { k: "v" });
  assert.equal(await read(blobs.read(b)), "bbAAA");
  assert.equal(files().length, 1, "blocks are gone once committed");
  assert.equal((await rejection(blobs.putBlock("acct", "c1", "x", "not base64!", body("x")))).code, "InvalidQueryParameterValue");
  assert.equal((await rejection(blobs.putBlock("acct", "c1", "x", id("b9"), body("x"), "AAAAAAAAAAAAAAAAAAAAAA=="))).code, "Md5Mismatch");
  await blobs.putBlock("acct", "c1", "big.bin", id("b3"), body("CCC"));
  await blobs.putBlob("acct", "c1", "big.bin", body("whole"), {}, {});
  assert.equal(files().length, 1, "Put Blob discarded the staged block");
});

test("abandoned blocks go after a week", async () => {
  const { blobs, clock, files } = setup();
  await blobs.putBlock("acct", "c1", "left.bin", Buffer.from("b1").toString("base64"), body("AAA"));
  assert.equal(await blobs.sweepStaleBlocks(), 0);
  clock.advance(UNCOMMITTED_BLOCK_TTL_MS + 1);
  assert.equal(await blobs.sweepStaleBlocks(), 1);
  assert.deepEqual(files(), []);
});

test("listing: prefix, delimiter folds folders, paging by marker covers everything once", async () => {
  const { blobs } = setup();
  for (const name of ["a/1.jsonl", "a/2.jsonl", "a/sub/3.jsonl", "b/4.jsonl", "top.txt", "a%_x"]) await blobs.putBlob("acct", "c1", name, body(name), {}, {});
  assert.deepEqual(blobs.listBlobs("acct", "c1", { prefix: "a/" }).blobs.map((b) => b.name), ["a/1.jsonl", "a/2.jsonl", "a/sub/3.jsonl"]);
  assert.deepEqual(blobs.listBlobs("acct", "c1", { prefix: "a%" }).blobs.map((b) => b.name), ["a%_x"], "% and _ are plain characters");
  const folded = blobs.listBlobs("acct", "c1", { delimiter: "/" });
  assert.deepEqual(folded.prefixes, ["a/", "b/"]);
  assert.deepEqual(folded.blobs.map((b) => b.name), ["a%_x", "top.txt"]);
  assert.deepEqual(blobs.listBlobs("acct", "c1", { prefix: "a/", delimiter: "/" }).prefixes, ["a/sub/"]);
  const seen: string[] = [];
  let marker: string | undefined;
  do {
    const page = blobs.listBlobs("acct", "c1", { maxResults: 2, ...(marker ? { marker } : {}) });
    assert.ok(page.blobs.length <= 2);
    seen.push(...page.blobs.map((b) => b.name));
    marker = page.nextMarker || undefined;
  } while (marker);
  assert.deepEqual(seen, ["a%_x", "a/1.jsonl", "a/2.jsonl", "a/sub/3.jsonl", "b/4.jsonl", "top.txt"]);
});

test("containers: names, create twice is 409, delete removes its blobs", async () => {
  const { blobs, files } = setup();
  assert.equal(caught(() => blobs.createContainer("acct", "Bad_Name", {})).code, "InvalidResourceName");
  blobs.createContainer("acct", "cont2", { owner: "me" });
  assert.equal(caught(() => blobs.createContainer("acct", "cont2", {})).code, "ContainerAlreadyExists");
  await blobs.putBlob("acct", "cont2", "x", body("x"), {}, {});
  await blobs.deleteContainer("acct", "cont2");
  assert.equal(caught(() => blobs.container("acct", "cont2")).code, "ContainerNotFound");
  assert.deepEqual(files(), []);
});

test("ranges and conditions", () => {
  assert.deepEqual(parseRange("bytes=0-", 10), { start: 0, end: 9 });
  assert.deepEqual(parseRange("bytes=2-5", 10), { start: 2, end: 5 });
  assert.deepEqual(parseRange("bytes=0-33554431", 10), { start: 0, end: 9 }, "a range past the end is cut to the size");
  assert.equal(parseRange(undefined, 10), undefined);
  assert.equal(parseRange("bytes=0-", 0), undefined, "an empty blob read from 0 is the whole blob");
  assert.equal(caught(() => parseRange("bytes=10-", 10)).status, 416);
  assert.equal(caught(() => parseRange("items=1-2", 10)).code, "InvalidHeaderValue");
  const current = { etag: '"0x1"', updatedAt: 1_000_000 };
  checkConditions({ ifMatch: '"0x1"' }, current, true);
  checkConditions({ ifMatch: "*" }, current, true);
  assert.equal(caught(() => checkConditions({ ifMatch: "*" }, undefined, true)).status, 412);
  assert.equal(caught(() => checkConditions({ ifNoneMatch: '"0x1"' }, current, false)).status, 412);
  assert.equal(caught(() => checkConditions({ ifUnmodifiedSince: new Date(0).toUTCString() }, current, true)).status, 412);
  checkConditions({ ifNoneMatch: "*" }, undefined, true);
});
