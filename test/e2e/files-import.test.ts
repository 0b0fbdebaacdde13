// POST /openai/files/import against a real Blob endpoint: Azurite (npm `azurite`) in a child
// process on a free loopback port, a container and blob made with @azure/storage-blob, and a
// SAS URL. Azurite is plain http on 127.0.0.1, so that server runs with allowPrivateImportUrls;
// a second server without it shows the SSRF refusals (nothing is ever sent to a refused address).
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { BlobSASPermissions, BlobServiceClient, StorageSharedKeyCredential } from "@azure/storage-blob";
import type { ContainerClient } from "@azure/storage-blob";
import { json, startServer } from "./harness.ts";
import type { TestServer } from "./harness.ts";
import { AZURITE_ACCOUNT, AZURITE_KEY, startAzurite } from "../support/azurite.ts";
import type { Azurite } from "../support/azurite.ts";
const MAX = 256 * 1024;

let azurite: Azurite;
let container: ContainerClient;
let open: TestServer; // --allow-private-import-urls
let guarded: TestServer; // default: SSRF protection on

const chat = (i: number) => JSON.stringify({ messages: [{ role: "user", content: `Q${i}` }, { role: "assistant", content: `A${i}` }] });
const jsonl = (n: number) => Array.from({ length: n }, (_, i) => chat(i + 1)).join("\n") + "\n";

/** Uploads a blob and returns a read-only SAS URL for it. */
async function blobSas(name: string, content: string | Buffer): Promise<string> {
  const blob = container.getBlockBlobClient(name);
  await blob.upload(content, Buffer.byteLength(content));
  return blob.generateSasUrl({ permissions: BlobSASPermissions.parse("r"), expiresOn: new Date(Date.now() + 3600_000) });
}

before(async () => {
  azurite = await startAzurite();
  const service = new BlobServiceClient(azurite.blobEndpoint, new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY));
  container = service.getContainerClient("datasets");
  await container.create();
  // A made-up name that resolves to Azurite, to exercise the pinned connection with a host name.
  open = await startServer({
    maxFileBytes: MAX,
    allowPrivateImportUrls: true,
    importLookup: async (host) => (host === "blob.azurite.test" ? [{ address: "127.0.0.1", family: 4 }] : []),
  });
  guarded = await startServer({
    importLookup: async (host) => {
      if (host === "datasets.corp.test") return [{ address: "10.20.30.40", family: 4 }];
      if (host === "localhost") return [{ address: "127.0.0.1", family: 4 }];
      throw Object.assign(new Error("not found"), { code: "ENOTFOUND" });
    },
  });
});

after(async () => {
  await open?.stop();
  await guarded?.stop();
  await azurite?.close();
});

const importFile = (server: TestServer, body: Record<string, unknown>, apiVersion = "2025-04-01-preview") =>
  server.post(`/openai/files/import?api-version=${apiVersion}`, body);

test("import from an Azure Blob SAS URL: 201 + Location, processed, same bytes as the blob", async () => {
  const text = jsonl(12);
  const sas = await blobSas("train.jsonl", text);
  const r = await importFile(open, { purpose: "fine-tune", filename: "train.jsonl", content_url: sas });
  assert.equal(r.status, 201);
  const file = await json(r);
  assert.equal(r.headers.get("location"), `${open.url}/openai/files/${file.id}?api-version=2025-04-01-preview`);
  const client = open.azure({ apiVersion: "2025-04-01-preview" });
  const done = await client.files.waitForProcessing(file.id, { pollInterval: 50 });
  assert.deepEqual([done.status, done.bytes, done.filename, done.purpose], ["processed", Buffer.byteLength(text), "train.jsonl", "fine-tune"]);
  assert.equal(await (await client.files.content(file.id)).text(), text);
  assert.equal(open.ingot.files.get("ingot", file.id)!.examples, 12);
});

test("import through a host name: resolved once, connected to the checked address", async () => {
  const sas = new URL(await blobSas("named.jsonl", jsonl(10)));
  sas.hostname = "blob.azurite.test";
  const file = await json(await importFile(open, { purpose: "fine-tune", filename: "named.jsonl", content_url: sas.toString() }));
  const done = await open.azure().files.waitForProcessing(file.id, { pollInterval: 50 });
  assert.equal(done.status, "processed", done.status_details ?? "");
});

test("an imported file is validated like an upload", async () => {
  const sas = await blobSas("nine.jsonl", jsonl(9));
  const file = await json(await importFile(open, { purpose: "fine-tune", filename: "nine.jsonl", content_url: sas }));
  const done = await open.v1().files.waitForProcessing(file.id, { pollInterval: 50 });
  assert.deepEqual([done.status, done.status_details], ["error", "9 examples: a training file needs at least 10"]);
});

test("a SAS URL that does not authorize, a missing blob, a blob past the cap: the file's status says why", async () => {
  const sas = new URL(await blobSas("private.jsonl", jsonl(10)));
  sas.searchParams.set("sig", "AAAA" + sas.searchParams.get("sig")!.slice(4));
  const cases: [string, RegExp][] = [
    [sas.toString(), /^Import failed: The URL answered 403 .*\((AuthenticationFailed|AuthorizationFailure)\)\. Check that the SAS token grants read access and has not expired\.$/],
    [await container.getBlockBlobClient("missing.jsonl").generateSasUrl({ permissions: BlobSASPermissions.parse("r"), expiresOn: new Date(Date.now() + 3600_000) }), /^Import failed: The URL answered 404 .*Check the URL: the blob or file does not exist\.$/],
    [await blobSas("big.jsonl", jsonl(6000)), /^Import failed: The file is larger than 262144 bytes/],
  ];
  for (const [url, expected] of cases) {
    const r = await importFile(open, { purpose: "fine-tune", filename: "x.jsonl", content_url: url });
    assert.equal(r.status, 201);
    const done = await open.v1().files.waitForProcessing((await json(r)).id, { pollInterval: 50 });
    assert.equal(done.status, "error");
    assert.match(done.status_details!, expected);
  }
  const blobs = join(open.dataDir, "blobs", "files");
  assert.deepEqual(readdirSync(join(blobs, ".tmp")), [], "nothing half-written is left");
});

test("SSRF: loopback, metadata and private addresses are refused without the operator flag", async () => {
  const cases: [string, RegExp][] = [
    [await blobSas("loop.jsonl", jsonl(10)), /^Cannot import from content_url: Plain http URLs are not imported: use https/],
    ["https://127.0.0.1:10000/devstoreaccount1/datasets/x.jsonl", /The address 127\.0\.0\.1 is a loopback address; Ingot does not fetch from loopback, private, link-local or metadata addresses\..*--allow-private-import-urls/],
    ["https://localhost/x.jsonl", /The host 'localhost' resolves to 127\.0\.0\.1, which is a loopback address/],
    ["https://169.254.169.254/metadata/instance?api-version=2021-02-01", /The address 169\.254\.169\.254 is a cloud metadata address/],
    ["https://[::ffff:169.254.169.254]/latest/meta-data/", /is a cloud metadata address/],
    ["https://datasets.corp.test/train.jsonl?sv=2024&sig=x", /The host 'datasets\.corp\.test' resolves to 10\.20\.30\.40, which is a private-network address/],
    ["ftp://files.example/train.jsonl", /Only https URLs can be imported/],
  ];
  const before = (await guarded.v1().files.list()).data.length;
  for (const [url, expected] of cases) {
    const r = await importFile(guarded, { purpose: "fine-tune", filename: "x.jsonl", content_url: url });
    assert.equal(r.status, 400, url);
    const body = await json(r);
    assert.equal(body.error.code, "fileImportFailed");
    assert.equal(body.error.param, "content_url");
    assert.match(body.error.message, expected);
  }
  assert.equal((await guarded.v1().files.list()).data.length, before, "no file records for refused URLs");
});

test("import request errors", async () => {
  let r = await importFile(guarded, { purpose: "fine-tune", filename: "x.jsonl" });
  assert.equal(r.status, 400);
  assert.match((await json(r)).error.message, /Missing required parameter: 'content_url'/);
  r = await importFile(guarded, { purpose: "fine-tune", content_url: "https://example.com/x" });
  assert.match((await json(r)).error.message, /Missing required parameter: 'filename'/);
  r = await guarded.post("/openai/files/import", { purpose: "fine-tune", filename: "x", content_url: "https://example.com/x" });
  assert.equal((await json(r)).error.code, "MissingApiVersionParameter");
});
