// The Foundry project endpoint through the official @azure/ai-projects 2.x AIProjectClient, over
// HTTPS with a service principal's ClientSecretCredential (tokens for https://ai.azure.com):
// deployments, connections (the account's own and one added over ARM), datasets (a real upload
// through the SAS startPendingUpload hands out, onto Ingot's blob service) and getOpenAIClient()
// for a chat completion and a file upload. Raw calls check what the SDK does not show.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { AIProjectClient } from "@azure/ai-projects";
import { ContainerClient } from "@azure/storage-blob";
import { json, startServer } from "./harness.ts";
import type { TestServer } from "./harness.ts";
import { RG, SUB } from "./arm-sdk-client.ts";
import { armFetch, mlPrincipal } from "./ml-principals.ts";
import type { MlPrincipal } from "./ml-principals.ts";

let server: TestServer;
let contributor: MlPrincipal;
let project: AIProjectClient;
const dir = mkdtempSync(join(tmpdir(), "ingot-ai-projects-"));
const TRAIN = '{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"hello"}]}\n';

before(async () => {
  server = await startServer({ https: true });
  contributor = mlPrincipal(server, "ai-projects-test");
  project = new AIProjectClient(`${server.url}/api/projects/default`, contributor.credential);
});
after(async () => {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

const CONNECTIONS = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.CognitiveServices/accounts/ingot/projects/default/connections`;

test("deployments: list with filters and get, with sku and capabilities", { timeout: 60_000 }, async () => {
  const all = [];
  for await (const d of project.deployments.list()) all.push(d);
  const tiny = all.find((d) => d.name === "tiny-chat") as any;
  assert.ok(tiny, `tiny-chat in ${all.map((d) => d.name).join(", ")}`);
  assert.equal(tiny.type, "ModelDeployment");
  assert.equal(tiny.capabilities.chat_completion, "true");
  assert.equal(typeof tiny.sku.name, "string");
  assert.equal(typeof tiny.sku.capacity, "number");
  const got = (await project.deployments.get("tiny-chat")) as any;
  assert.deepEqual(got, tiny);
  const byName = [];
  for await (const d of project.deployments.list({ modelName: tiny.modelName, modelPublisher: tiny.modelPublisher })) byName.push(d.name);
  assert.ok(byName.includes("tiny-chat"));
  const none = [];
  for await (const d of project.deployments.list({ modelName: "no-such-model" })) none.push(d);
  assert.deepEqual(none, []);
  await assert.rejects(project.deployments.get("no-such"), (e: any) => e.statusCode === 404);
});

test("connections: the account's own default AzureOpenAI connection, and one added over ARM", { timeout: 60_000 }, async () => {
  const own = await project.connections.getDefault("AzureOpenAI");
  assert.equal(own.name, "ingot");
  assert.equal(own.isDefault, true);
  assert.equal(own.target, `${server.url}/`);
  // The SDK reads an ApiKey credential's `key` into `apiKey`: absent unless asked for.
  assert.deepEqual(own.credentials, { type: "ApiKey", apiKey: undefined });
  const withKey = await project.connections.getWithCredentials("ingot");
  assert.equal((withKey.credentials as any).apiKey, server.ingot.accounts.listKeys("ingot").key1);
  assert.equal(((await project.connections.getDefault("AzureOpenAI", { includeCredentials: true })).credentials as any).apiKey, (withKey.credentials as any).apiKey);

  // A connection to an upstream OpenAI-compatible server, added on the management plane.
  const put = await armFetch(server, contributor.token, "PUT", `${CONNECTIONS}/upstream`, { properties: { category: "ApiKey", target: "http://127.0.0.1:9/v1", authType: "ApiKey", credentials: { key: "upstream-secret" }, metadata: { kind: "openai" } } }, "2025-06-01");
  assert.equal(put.status, 201);
  const armBody = await json(put);
  assert.equal(armBody.properties.category, "ApiKey");
  assert.doesNotMatch(JSON.stringify(armBody), /upstream-secret/);
  const got = await project.connections.get("upstream");
  assert.deepEqual([got.type, got.target, got.isDefault, got.credentials], ["ApiKey", "http://127.0.0.1:9/v1", false, { type: "ApiKey", apiKey: undefined }]);
  assert.equal(((await project.connections.get("upstream", { includeCredentials: true })).credentials as any).apiKey, "upstream-secret");
  const names = [];
  for await (const c of project.connections.list()) names.push(c.name);
  assert.deepEqual(names, ["ingot", "upstream"]);
  const apiKeyOnes = [];
  for await (const c of project.connections.list({ connectionType: "ApiKey" })) apiKeyOnes.push(c.name);
  assert.deepEqual(apiKeyOnes, ["upstream"]);
  const bad = await armFetch(server, contributor.token, "PUT", `${CONNECTIONS}/bad1`, { properties: { category: "ApiKey", target: "nowhere", authType: "ApiKey", credentials: { key: "x" } } }, "2025-06-01");
  assert.equal(bad.status, 400);
  assert.match((await json(bad)).error.message, /properties.target/);
  assert.equal((await armFetch(server, contributor.token, "DELETE", `${CONNECTIONS}/upstream`, undefined, "2025-06-01")).status, 200);
  await assert.rejects(project.connections.get("upstream"), (e: any) => e.statusCode === 404);
});

test("datasets: uploadFile through the SAS, get, list, listVersions, getCredentials (download), delete", { timeout: 60_000 }, async () => {
  const file = join(dir, "train.jsonl");
  writeFileSync(file, TRAIN);
  const v1 = await project.datasets.uploadFile("chat-data", "1", file);
  assert.equal(v1.type, "uri_file");
  assert.equal(v1.name, "chat-data");
  assert.equal(v1.version, "1");
  assert.match(v1.dataUri, /\/blob\/[a-z0-9]+\/dataset-[0-9a-f]+\/train\.jsonl$/);
  assert.doesNotMatch(v1.dataUri, /sig=/);
  const v2 = await project.datasets.uploadFile("chat-data", "2", file);
  assert.equal(v2.version, "2");
  assert.deepEqual(await project.datasets.get("chat-data", "1"), v1);

  const latest = [];
  for await (const d of project.datasets.list()) latest.push(`${d.name}:${d.version}`);
  assert.deepEqual(latest, ["chat-data:2"]);
  const versions = [];
  for await (const d of project.datasets.listVersions("chat-data")) versions.push(d.version);
  assert.deepEqual(versions, ["1", "2"]);

  // The bytes are on the blob service: read them back with the read SAS getCredentials gives.
  const creds = await project.datasets.getCredentials("chat-data", "1");
  assert.equal(creds.blobReference.credential.type, "SAS");
  const container = new ContainerClient(creds.blobReference.credential.sasUri);
  assert.equal((await container.getBlockBlobClient("train.jsonl").downloadToBuffer()).toString(), TRAIN);
  // A read SAS cannot write.
  await assert.rejects(container.getBlockBlobClient("other.txt").upload("x", 1), (e: any) => e.statusCode === 403);

  // merge-patch update keeps what it does not name.
  const patched = await project.datasets.createOrUpdate("chat-data", "1", { name: "chat-data", version: "1", type: "uri_file", dataUri: v1.dataUri, description: "first", tags: { split: "train" } });
  assert.deepEqual([patched.description, patched.tags, patched.dataUri], ["first", { split: "train" }, v1.dataUri]);

  await project.datasets.delete("chat-data", "1");
  await assert.rejects(project.datasets.get("chat-data", "1"), (e: any) => e.statusCode === 404);
});

test("getOpenAIClient(): chat completion and a file upload with an ai.azure.com token", { timeout: 120_000 }, async () => {
  const openai = project.getOpenAIClient();
  assert.equal(openai.baseURL, `${server.url}/api/projects/default/openai/v1`);
  const r = await openai.chat.completions.create({ model: "tiny-chat", messages: [{ role: "user", content: "hi" }], max_tokens: 3 });
  assert.equal(r.object, "chat.completion");
  const f = await openai.files.create({ file: new File([TRAIN], "train.jsonl"), purpose: "fine-tune" });
  assert.equal(f.filename, "train.jsonl");
  const jobs = await openai.fineTuning.jobs.list();
  assert.ok(Array.isArray(jobs.data));
});

test("project endpoint auth: no credential is a 401, a Reader's token a 401 naming the action, an unknown project a 404", { timeout: 60_000 }, async () => {
  const anonymous = await fetch(`${server.url}/api/projects/default/deployments?api-version=v1`);
  assert.equal(anonymous.status, 401);
  const reader = mlPrincipal(server, "ai-projects-reader", "Reader");
  const token = (await reader.credential.getToken("https://ai.azure.com/.default"))!.token;
  const denied = await fetch(`${server.url}/api/projects/default/connections/ingot/getConnectionWithCredentials?api-version=v1`, { method: "POST", headers: { authorization: `Bearer ${token}` } });
  assert.equal(denied.status, 401);
  assert.equal((await json(denied)).error.code, "PermissionDenied");
  const admin = server.ingot.identity.adminToken("cognitiveservices");
  const missing = await fetch(`${server.url}/api/projects/nope/deployments?api-version=v1`, { headers: { authorization: `Bearer ${admin}` } });
  assert.equal(missing.status, 404);
  const noVersion = await fetch(`${server.url}/api/projects/default/deployments`, { headers: { authorization: `Bearer ${admin}` } });
  assert.equal(noVersion.status, 400);
});
