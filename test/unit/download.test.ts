// hf: downloads against a local mirror: verified and renamed into place, resumed with Range
// after a cut connection, restarted when the server ignores Range, shared between concurrent
// callers, and every failure turned into a message that says what to do.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, beforeEach, test } from "node:test";
import { Catalog } from "../../src/core/catalog/catalog.ts";
import type { CatalogModelInput } from "../../src/core/catalog/catalog.ts";
import { MemoryModelRegistry } from "../../src/core/catalog/registry.ts";
import type { WeightsProgress } from "../../src/core/ports/index.ts";
import { hfFileUrl, parseHfUri, resolveBaseUrl } from "../../src/models/hf.ts";
import { LocalModelFiles } from "../../src/models/model-files.ts";
import { Mirror } from "./download-mirror.ts";
import { rejection } from "./caught.ts";

const BODY = randomBytes(3 * 1024 * 1024 + 123);
const SHA = createHash("sha256").update(BODY).digest("hex");
const REPO = "acme/tiny-GGUF";

let mirror: Mirror;
let root: string;
let dir: string;
before(async () => {
  mirror = await Mirror.start();
  mirror.put(REPO, "main", "model-q8_0.gguf", BODY);
  mirror.put(REPO, "v2", "sub/dir/model.gguf", BODY);
  root = mkdtempSync(join(tmpdir(), "ingot-download-"));
});
after(async () => {
  await mirror.close();
  rmSync(root, { recursive: true, force: true });
});
let n = 0;
beforeEach(() => {
  dir = join(root, `models-${n++}`);
  mirror.requests.length = 0;
  mirror.ignoreRange = false;
  mirror.failWith = undefined;
  mirror.cutNextAfter = undefined;
  mirror.delayMs = 0;
});

function entry(over: Partial<CatalogModelInput> = {}): CatalogModelInput {
  return {
    format: "Test",
    name: "tiny-model",
    version: "1",
    capabilities: ["chatCompletion"],
    contextLength: 512,
    weights: `hf:${REPO}/model-q8_0.gguf`,
    sha256: SHA,
    sizeBytes: BODY.length,
    skus: [{ name: "GlobalStandard", minCapacity: 1, maxCapacity: 10, defaultCapacity: 1 }],
    lifecycleStatus: "GenerallyAvailable",
    license: "MIT",
    ...over,
  };
}

const REF = { format: "Test", name: "tiny-model", version: "1" };

function files(models: CatalogModelInput[], opts: { registry?: MemoryModelRegistry; env?: NodeJS.ProcessEnv; attempts?: number } = {}) {
  const catalog = new Catalog(Catalog.validateEntries(models, "test"), opts.registry ?? new MemoryModelRegistry());
  return new LocalModelFiles(catalog, dir, { env: opts.env ?? { HF_ENDPOINT: mirror.url }, attempts: opts.attempts ?? 1, retryDelayMs: 5, progressIntervalMs: 0 });
}


test("URLs: {base}/{owner}/{repo}/resolve/{revision}/{path}; base from option, HF_ENDPOINT, default", () => {
  assert.deepEqual(parseHfUri("hf:a/b/c/d.gguf@rev1"), { owner: "a", repo: "b", path: "c/d.gguf", revision: "rev1" });
  assert.equal(parseHfUri("hf:a/b/d.gguf").revision, "main");
  assert.equal(hfFileUrl("http://m", parseHfUri("hf:a/b/c d.gguf@refs/pr/1")), "http://m/a/b/resolve/refs%2Fpr%2F1/c%20d.gguf");
  assert.deepEqual(resolveBaseUrl("http://opt/", { HF_ENDPOINT: "http://env" }), { url: "http://opt", source: "option" });
  assert.deepEqual(resolveBaseUrl(undefined, { HF_ENDPOINT: "http://env/" }), { url: "http://env", source: "HF_ENDPOINT" });
  assert.deepEqual(resolveBaseUrl(undefined, {}), { url: "https://huggingface.co", source: "default" });
});

test("a download is verified and renamed into place by sha256, with progress", async () => {
  const progress: WeightsProgress[] = [];
  const f = await files([entry()]).ensure(REF, (p) => progress.push(p));
  assert.deepEqual(f, { path: join(dir, `${SHA}.gguf`), sha256: SHA, sizeBytes: BODY.length });
  assert.ok(readFileSync(f.path).equals(BODY));
  assert.deepEqual(readdirSync(dir).sort(), [`${SHA}.gguf`], "no .part or lock left behind");
  const phases = [...new Set(progress.map((p) => p.phase))];
  assert.deepEqual(phases, ["downloading", "verifying", "ready"]);
  const last = progress.filter((p) => p.phase === "downloading").at(-1)!;
  assert.equal(last.bytes, BODY.length);
  assert.equal(last.totalBytes, BODY.length);
  assert.equal(mirror.requests.length, 1);
  assert.equal(mirror.requests[0].range, undefined);

  // A second ensure() finds the file and does not download again.
  await files([entry()]).ensure(REF);
  assert.equal(mirror.requests.length, 1);
});

test("a connection cut mid-file leaves a .part; the next ensure() resumes it with Range", async () => {
  mirror.cutNextAfter = 1024 * 1024;
  const e = await rejection(files([entry()]).ensure(REF));
  assert.equal(e.code, "ModelDownloadFailed");
  assert.match(e.message, /interrupted|closed/);
  assert.match(e.message, /partial file is kept/);
  const part = join(dir, `${SHA}.part`);
  const kept = statSync(part).size;
  assert.ok(kept > 0 && kept <= 1024 * 1024, `part holds what arrived (${kept})`);

  const f = await files([entry()]).ensure(REF);
  assert.ok(readFileSync(f.path).equals(BODY));
  assert.equal(mirror.requests.length, 2);
  const resumed = mirror.requests[1];
  assert.equal(resumed.range, `bytes=${kept}-`, "the second request carried Range from the end of the part");
  assert.equal(resumed.status, 206);
  assert.equal(resumed.bytesSent, BODY.length - kept, "only the rest was transferred");
  assert.ok(!existsSync(part));
});

test("within one ensure(), a cut is retried automatically from where it stopped", async () => {
  mirror.cutNextAfter = 512 * 1024;
  const f = await files([entry()], { attempts: 3 }).ensure(REF);
  assert.ok(readFileSync(f.path).equals(BODY));
  assert.equal(mirror.requests.length, 2);
  assert.match(mirror.requests[1].range ?? "", /^bytes=\d+-$/);
  assert.equal(mirror.requests[0].bytesSent + mirror.requests[1].bytesSent, BODY.length);
});

test("a server that answers 200 to a Range request makes the download restart from zero", async () => {
  mirror.cutNextAfter = 1024 * 1024;
  await rejection(files([entry()]).ensure(REF));
  mirror.ignoreRange = true;
  const f = await files([entry()]).ensure(REF);
  assert.ok(readFileSync(f.path).equals(BODY), "no bytes spliced from two transfers");
  assert.match(mirror.requests[1].range ?? "", /^bytes=/);
  assert.equal(mirror.requests[1].status, 200);
  assert.equal(mirror.requests[1].bytesSent, BODY.length);
});

test("a stale .part of the same length is verified without a new transfer", async () => {
  const { mkdirSync } = await import("node:fs");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${SHA}.part`), BODY);
  const f = await files([entry()]).ensure(REF);
  assert.equal(f.sha256, SHA);
  assert.equal(mirror.requests.length, 0);
});

test("a sha256 mismatch names both hashes and deletes the bad file", async () => {
  const wrong = "0".repeat(64);
  const e = await rejection(files([entry({ sha256: wrong })]).ensure(REF));
  assert.equal(e.code, "ModelChecksumMismatch");
  assert.match(e.message, new RegExp(`expected sha256 ${wrong}, got ${SHA}`));
  assert.match(e.message, /HF_ENDPOINT/);
  assert.deepEqual(readdirSync(dir), [], "neither the part nor a model file stays");
});

test("a size mismatch is caught before the body is read", async () => {
  const e = await rejection(files([entry({ sizeBytes: 10 })]).ensure(REF));
  assert.equal(e.code, "ModelChecksumMismatch");
  assert.match(e.message, new RegExp(`are ${BODY.length} bytes, but 10 were expected`));
});

test("404 names the URL and the mirror setting", async () => {
  const e = await rejection(files([entry({ weights: `hf:${REPO}/missing.gguf`, sha256: undefined, sizeBytes: undefined })]).ensure(REF));
  assert.equal(e.code, "ModelDownloadFailed");
  assert.match(e.message, new RegExp(`${mirror.url}/${REPO}/resolve/main/missing\\.gguf answered HTTP 404`));
  assert.match(e.message, /\(from HF_ENDPOINT\)/);
  assert.match(e.message, /Make sure the mirror serves this repository, revision and file/);
});

test("401 says to set HF_TOKEN; HF_TOKEN is sent as a bearer token", async () => {
  mirror.failWith = 401;
  const e = await rejection(files([entry()]).ensure(REF));
  assert.match(e.message, /gated or private: set HF_TOKEN/);
  mirror.failWith = undefined;
  await files([entry()], { env: { HF_ENDPOINT: mirror.url, HF_TOKEN: "hf_secret" } }).ensure(REF);
  assert.equal(mirror.requests.at(-1)!.authorization, "Bearer hf_secret");
});

test("5xx answers are retried, then reported", async () => {
  mirror.failWith = 503;
  const e = await rejection(files([entry()], { attempts: 2 }).ensure(REF));
  assert.equal(mirror.requests.length, 2);
  assert.match(e.message, /answered HTTP 503.*Retry later/);
});

test("an unreachable mirror names the address and HF_ENDPOINT", async () => {
  // A port that was just free: nothing listens there.
  const { createServer } = await import("node:net");
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
  const port = (probe.address() as import("node:net").AddressInfo).port;
  await new Promise((r) => probe.close(r));
  const e = await rejection(files([entry()], { env: { HF_ENDPOINT: `http://127.0.0.1:${port}` } }).ensure(REF));
  assert.equal(e.code, "ModelDownloadFailed");
  assert.match(e.message, new RegExp(`Could not reach http://127\\.0\\.0\\.1:${port} to download the weights of tiny-model \\(ECONNREFUSED\\)`));
  assert.match(e.message, /HF_ENDPOINT/);
});

test("concurrent ensure() calls share one download, and each sees progress", async () => {
  mirror.delayMs = 100;
  const f = files([entry()]);
  const seen = [0, 0];
  const [a, b] = await Promise.all([f.ensure(REF, () => seen[0]++), f.ensure(REF, () => seen[1]++)]);
  assert.deepEqual(a, b);
  assert.equal(mirror.requests.length, 1);
  assert.ok(seen[0] > 0 && seen[1] > 0);
});

test("a path inside the repo and a pinned revision resolve to the right URL", async () => {
  const f = await files([entry({ weights: `hf:${REPO}/sub/dir/model.gguf@v2` })]).ensure(REF);
  assert.equal(f.sha256, SHA);
  assert.equal(mirror.requests[0].path, `/${REPO}/resolve/v2/sub/dir/model.gguf`);
});

test("trust on first use: without a catalog sha256 the first download is pinned, and a changed file is refused", async () => {
  const registry = new MemoryModelRegistry();
  const unpinned = entry({ sha256: undefined, sizeBytes: undefined });
  const first = await files([unpinned], { registry }).ensure(REF);
  assert.equal(first.sha256, SHA);
  assert.deepEqual(registry.pinnedWeights(unpinned.weights), { sha256: SHA, sizeBytes: BODY.length });

  // The mirror now serves other bytes and the cached file is gone.
  rmSync(first.path);
  const other = randomBytes(BODY.length);
  mirror.put(REPO, "main", "model-q8_0.gguf", other);
  try {
    const e = await rejection(files([unpinned], { registry }).ensure(REF));
    assert.equal(e.code, "ModelChecksumMismatch");
    assert.match(e.message, new RegExp(`expected sha256 ${SHA}`));
    assert.match(e.message, /recorded at this model's first download \(trust on first use\)/);
    assert.match(e.message, /--repin/);

    const lf = files([unpinned], { registry });
    lf.forgetPin(Catalog.validateEntries([unpinned], "x")[0]);
    const repinned = await lf.ensure(REF);
    assert.equal(repinned.sha256, createHash("sha256").update(other).digest("hex"));
    assert.equal(registry.pinnedWeights(unpinned.weights)?.sha256, repinned.sha256);
  } finally {
    mirror.put(REPO, "main", "model-q8_0.gguf", BODY);
  }
});

test("weights none and missing files say what to do", async () => {
  const none = await rejection(files([entry({ weights: "none", engine: "upstream", sha256: undefined, sizeBytes: undefined })]).ensure(REF));
  assert.equal(none.code, "ModelNotDeployable");
  assert.equal(none.message, "Model tiny-model has no open weights; it can be deployed only when an upstream is configured for it.");
  const missing = await rejection(files([entry({ weights: "file:/nonexistent/x.gguf", sha256: undefined, sizeBytes: undefined })]).ensure(REF));
  assert.equal(missing.code, "ModelWeightsMissing");
  assert.match(missing.message, /\/nonexistent\/x\.gguf does not exist\. Put the GGUF back there, or register the model again/);
});

test("file: weights with a recorded sha256 are checked", async () => {
  const { mkdirSync } = await import("node:fs");
  mkdirSync(dir, { recursive: true });
  const path = join(dir, "local.gguf");
  writeFileSync(path, BODY);
  const ok = await files([entry({ weights: `file:${path}` })]).ensure(REF);
  assert.equal(ok.sha256, SHA);
  writeFileSync(path, Buffer.concat([BODY, Buffer.from("x")]));
  const e = await rejection(files([entry({ weights: `file:${path}` })]).ensure(REF));
  assert.match(e.message, /changed since they were registered: expected sha256/);
});

test("status() reports cached, partial and missing weights", async () => {
  const lf = files([entry()]);
  const model = Catalog.validateEntries([entry()], "x")[0];
  assert.deepEqual(await lf.status(model), { state: "missing" });
  mirror.cutNextAfter = 1024 * 1024;
  await rejection(lf.ensure(REF));
  const partial = await lf.status(model);
  assert.equal(partial.state, "partial");
  await lf.ensure(REF);
  assert.deepEqual(await lf.status(model), { state: "cached", path: join(dir, `${SHA}.gguf`), sizeBytes: BODY.length });
});
