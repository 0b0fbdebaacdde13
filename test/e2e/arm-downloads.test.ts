// Deployments of hf: models download their weights from a (local) Hugging Face mirror:
// verified by sha256, visible only when complete, and failures name the cause and the fix.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { CatalogModelInput } from "../../src/core/catalog/catalog.ts";
import { buildModel } from "../../src/models/builtin/builder.ts";
import { Mirror } from "../unit/download-mirror.ts";
import { json, startServer } from "./harness.ts";
import type { TestServer } from "./harness.ts";

const ACCOUNT = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/ingot/providers/Microsoft.CognitiveServices/accounts/ingot";
let mirror: Mirror;
let server: TestServer;
let weights: Buffer;
let expectedTampered: string;

const entry = (name: string, sha256: string): CatalogModelInput => ({
  format: "Ingot",
  name,
  version: "1",
  capabilities: ["chatCompletion"],
  contextLength: 512,
  weights: `hf:ingot-test/${name}-GGUF/${name}.gguf`,
  sha256,
  sizeBytes: weights.length,
  skus: [{ name: "Standard", minCapacity: 1, maxCapacity: 100, defaultCapacity: 10 }],
  lifecycleStatus: "Preview",
  license: "MIT",
});

before(async () => {
  mirror = await Mirror.start();
  // Its own seed: the built-in tiny-chat has other bytes, so nothing in the server's cache matches.
  const dir = mkdtempSync(join(tmpdir(), "ingot-mirror-src-"));
  const built = await buildModel({ shape: "tiny", seed: 99, type: "f16", out: join(dir, "hub.gguf") });
  weights = readFileSync(built.path);
  rmSync(dir, { recursive: true, force: true });
  const sha = createHash("sha256").update(weights).digest("hex");
  mirror.put("ingot-test/hub-chat-GGUF", "main", "hub-chat.gguf", weights);
  // The catalog expects other bytes than the mirror serves (weights are cached by sha256, so each expected hash is new).
  mirror.put("ingot-test/tampered-GGUF", "main", "tampered.gguf", weights);
  expectedTampered = createHash("sha256").update("the file the publisher released").digest("hex");
  server = await startServer({
    modelsBaseUrl: mirror.url,
    extraModels: [entry("hub-chat", sha), entry("tampered", expectedTampered), entry("absent", createHash("sha256").update("absent").digest("hex"))],
  });
});
after(async () => {
  await server.stop();
  await mirror.close();
});

const token = () => server.ingot.identity.adminToken();
const put = (name: string, model: string) =>
  fetch(`${server.url}${ACCOUNT}/deployments/${name}?api-version=2024-10-01`, {
    method: "PUT",
    headers: { authorization: `Bearer ${token()}`, "content-type": "application/json" },
    body: JSON.stringify({ sku: { name: "Standard", capacity: 10 }, properties: { model: { format: "Ingot", name: model, version: "1" } } }),
  });
async function settle(name: string): Promise<any> {
  for (let i = 0; i < 300; i++) {
    const body = await json(await fetch(`${server.url}${ACCOUNT}/deployments/${name}?api-version=2024-10-01`, { headers: { authorization: `Bearer ${token()}` } }));
    if (["Succeeded", "Failed"].includes(body.properties.provisioningState)) return body;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${name} did not settle`);
}

test("an hf: model downloads from the mirror, verifies, loads and answers", async () => {
  assert.equal((await put("hub", "hub-chat")).status, 201);
  const d = await settle("hub");
  assert.equal(d.properties.provisioningState, "Succeeded");
  assert.equal(d.properties.provisioningDetails.phase, "ready");
  assert.ok(mirror.requests.some((r) => r.path === "/ingot-test/hub-chat-GGUF/resolve/main/hub-chat.gguf" && r.status === 200));
  const reply = await server.post("/openai/deployments/hub/chat/completions?api-version=2024-10-21", { messages: [{ role: "user", content: "hi" }], max_tokens: 3 });
  assert.equal(reply.status, 200);
  // A second deployment of the cached model downloads nothing.
  const before = mirror.requests.length;
  assert.equal((await put("hub2", "hub-chat")).status, 201);
  assert.equal((await settle("hub2")).properties.provisioningState, "Succeeded");
  assert.equal(mirror.requests.length, before);
});

test("a file whose sha256 differs from the catalog's fails the deployment, naming both hashes", async () => {
  assert.equal((await put("bad-sha", "tampered")).status, 201);
  const d = await settle("bad-sha");
  assert.equal(d.properties.provisioningState, "Failed");
  assert.match(d.properties.provisioningDetails.error, /sha256/i);
  assert.match(d.properties.provisioningDetails.error, new RegExp(expectedTampered));
  assert.match(d.properties.provisioningDetails.error, new RegExp(createHash("sha256").update(weights).digest("hex")));
});

test("a file the mirror does not have fails the deployment, naming the URL and HF_ENDPOINT", async () => {
  assert.equal((await put("absent", "absent")).status, 201);
  const d = await settle("absent");
  assert.equal(d.properties.provisioningState, "Failed");
  assert.match(d.properties.provisioningDetails.error, /404/);
  assert.match(d.properties.provisioningDetails.error, /absent\.gguf/);
});
