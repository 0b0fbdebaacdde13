// Azure ML serverless endpoints over HTTPS, replaying what Python's azure-ai-ml sends (it cannot
// be installed here; reference azure-ml.md §9): serverless_endpoints.begin_create_or_update (PUT
// {location, sku Consumption, properties.modelSettings.modelId}, then GET until the state is
// terminal), get_keys (POST listKeys), begin_delete; then seed 004's data-plane call
// requests.post(scoring_uri + "/v1/chat/completions", headers={"Authorization": key}), the
// Bearer and api-key forms, the openai client, @azure-rest/ai-inference, keys that open nothing
// else, regenerateKeys, the bad inputs, a failed load, and a delete that unloads the runner.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import ModelClient, { isUnexpected } from "@azure-rest/ai-inference";
import { AzureKeyCredential } from "@azure/core-auth";
import OpenAI from "openai";
import { API_KEY, json, startServer } from "./harness.ts";
import type { TestServer } from "./harness.ts";
import { RG, SUB } from "./arm-sdk-client.ts";
import { armFetch, mlPrincipal } from "./ml-principals.ts";

const PROVIDER = "Microsoft.MachineLearningServices";
const PY_API = "2024-01-01-preview";
const TINY_CHAT = "azureml://registries/azureml/models/tiny-chat";
const TINY_EMBED = "azureml://registries/azureml/models/tiny-embed/labels/latest";
const LLAMA = "azureml://registries/azureml-meta/models/Llama-3.2-1B-Instruct";

let server: TestServer;
let owner: string;
let admin: string;
const wsPath = (name: string) => `/subscriptions/${SUB}/resourceGroups/${RG}/providers/${PROVIDER}/workspaces/${name}`;
const epPath = (ws: string, name: string) => `${wsPath(ws)}/serverlessEndpoints/${name}`;

const tokenFor = (role: string, displayName: string, scope = `/subscriptions/${SUB}`) => mlPrincipal(server, displayName, role, scope).token;

const arm = (token: string, method: string, path: string, body?: unknown) => armFetch(server, token, method, path, body, PY_API);

/** What ServerlessEndpoint(name, model_id).begin_create_or_update sends. */
const pyBody = (modelId: string) => ({ location: "local", sku: { name: "Consumption" }, tags: {}, properties: { modelSettings: { modelId } } });

/** Python's LRO poller: GET the resource until provisioningState is terminal. */
async function pollTerminal(path: string, deadlineMs = 120_000) {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const res = await arm(owner, "GET", path);
    assert.equal(res.status, 200);
    const body = await json(res);
    if (["Succeeded", "Failed", "Canceled"].includes(body.properties.provisioningState)) return body;
    assert.ok(Date.now() < deadline, `still ${body.properties.provisioningState} after ${deadlineMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function createEndpoint(ws: string, name: string, modelId: string) {
  const put = await arm(owner, "PUT", epPath(ws, name), pyBody(modelId));
  const body = await json(put);
  assert.equal(put.status, 201, JSON.stringify(body));
  const ready = await pollTerminal(epPath(ws, name));
  assert.equal(ready.properties.provisioningState, "Succeeded", JSON.stringify(ready.properties));
  const keys = await json(await arm(owner, "POST", `${epPath(ws, name)}/listKeys`));
  return { put: body, ready, uri: ready.properties.inferenceEndpoint.uri as string, primary: keys.primaryKey as string, secondary: keys.secondaryKey as string };
}

/** Models the engine holds, from /readyz with an administrator's token. */
async function loadedModels(): Promise<string[]> {
  const res = await fetch(`${server.url}/readyz`, { headers: { authorization: `Bearer ${admin}` } });
  return ((await json(res)).models as { key: string }[]).map((m) => m.key);
}

async function waitFor(what: string, check: () => Promise<boolean>, deadlineMs = 60_000) {
  const deadline = Date.now() + deadlineMs;
  while (!(await check())) {
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const chat = (uri: string, headers: Record<string, string>, body: unknown = { max_tokens: 8, messages: [{ role: "user", content: "Hello" }] }, path = "/v1/chat/completions") =>
  fetch(`${uri}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });

before(async () => {
  // Llama's weights come from nowhere (a refused port): its endpoint's load fails, quickly.
  server = await startServer({ https: true, modelsBaseUrl: "http://127.0.0.1:9" });
  owner = tokenFor("Contributor", "ml-serverless-owner");
  admin = tokenFor("Owner", "ml-serverless-admin", "/");
  for (const ws of ["sls-ws", "sls-other"]) assert.equal((await arm(owner, "PUT", wsPath(ws), { location: "local", kind: "Hub" })).status, 201);
});
after(() => server.stop());

test("seed 004's flow: create from a registry model, poll to Succeeded, listKeys, requests.post(uri + '/v1/chat/completions', Authorization: <key>)", { timeout: 180_000 }, async () => {
  const ep = await createEndpoint("sls-ws", "tiny-chat-ep", TINY_CHAT);
  assert.equal(ep.put.id, epPath("sls-ws", "tiny-chat-ep"));
  assert.equal(ep.put.type, `${PROVIDER}/workspaces/serverlessEndpoints`);
  assert.ok(["Creating", "Succeeded"].includes(ep.put.properties.provisioningState));
  const p = ep.ready.properties;
  assert.deepEqual(p.modelSettings, { modelId: TINY_CHAT });
  assert.equal(p.authMode, "Key");
  assert.equal(p.endpointState, "Online");
  assert.equal(p.marketplaceSubscriptionId, null);
  assert.equal(p.contentSafety.contentSafetyStatus, "Enabled");
  assert.equal(ep.ready.sku.name, "Consumption");
  assert.equal(ep.ready.location, "local");
  assert.match(ep.uri, new RegExp(`^${server.url}/serverless/tiny-chat-ep-[a-z]{5}$`), "no trailing slash");
  assert.ok(ep.primary && ep.secondary && ep.primary !== ep.secondary);

  const res = await chat(ep.uri, { Authorization: ep.primary }, {
    max_tokens: 16,
    messages: [{ content: "This script is great so far. Can you add more dialogue between Amanda and Thierry?", role: "user" }],
  });
  const body = await json(res);
  assert.equal(res.status, 200, JSON.stringify(body));
  assert.equal(body.object, "chat.completion");
  assert.equal(typeof body.choices[0].message.content, "string");
  assert.ok(body.usage.total_tokens > 0);
  // The serverless limits (seed 004): 200,000 tokens and 1,000 requests a minute.
  assert.equal(res.headers.get("x-ratelimit-limit-tokens"), "200000");
  assert.equal(res.headers.get("x-ratelimit-limit-requests"), "1000");

  for (const headers of [{ Authorization: `Bearer ${ep.secondary}` }, { "api-key": ep.primary }] as Record<string, string>[]) {
    const r = await chat(ep.uri, headers);
    assert.equal(r.status, 200, JSON.stringify(headers));
  }

  const list = await json(await arm(owner, "GET", `${wsPath("sls-ws")}/serverlessEndpoints`));
  assert.deepEqual(list.value.map((e: { name: string }) => e.name), ["tiny-chat-ep"]);
  assert.equal(list.nextLink, undefined);
  assert.deepEqual((await json(await arm(owner, "GET", `${wsPath("sls-ws")}/serverlessEndpoints?$skip=1`))).value, []);
  assert.equal((await arm(owner, "GET", `${wsPath("sls-ws")}/serverlessEndpoints?$skip=x`)).status, 400);

  // PATCH {tags, sku}: tags change, the model, keys and URL stay.
  const patched = await arm(owner, "PATCH", epPath("sls-ws", "tiny-chat-ep"), { tags: { team: "a" }, sku: { name: "Consumption" } });
  assert.equal(patched.status, 200);
  const pb = await json(patched);
  assert.deepEqual(pb.tags, { team: "a" });
  assert.equal(pb.properties.inferenceEndpoint.uri, ep.uri);
  assert.equal((await arm(owner, "PATCH", epPath("sls-ws", "tiny-chat-ep"), { sku: { name: "Standard" } })).status, 400);
  assert.equal((await json(await arm(owner, "POST", `${epPath("sls-ws", "tiny-chat-ep")}/getStatus`))).endpointState, "Online");
});

test("the openai client (baseURL uri/v1, plain and streamed) and @azure-rest/ai-inference against the uri", { timeout: 120_000 }, async () => {
  const { uri, primary } = await keysOf("sls-ws", "tiny-chat-ep");
  const openai = new OpenAI({ baseURL: `${uri}/v1`, apiKey: primary, maxRetries: 0 });
  const c = await openai.chat.completions.create({ model: "ignored", messages: [{ role: "user", content: "Hi" }], max_tokens: 8 });
  assert.equal(c.choices.length, 1);
  let text = "";
  for await (const chunk of await openai.chat.completions.create({ model: "x", messages: [{ role: "user", content: "Hi" }], max_tokens: 8, stream: true })) text += chunk.choices[0]?.delta?.content ?? "";
  assert.ok(text.length > 0);

  const client = ModelClient(uri, new AzureKeyCredential(primary), { retryOptions: { maxRetries: 0 } });
  const res = await client.path("/chat/completions").post({ body: { messages: [{ role: "user", content: "Hi" }], max_tokens: 8 } });
  if (isUnexpected(res)) assert.fail(JSON.stringify(res.body));
  assert.equal(res.body.choices.length, 1);
  const info = await client.path("/info").get();
  if (isUnexpected(info)) assert.fail(JSON.stringify(info.body));
  assert.deepEqual(info.body, { model_name: "tiny-chat", model_type: "chat-completions", model_provider_name: "Ingot" });
  // The model-inference rules come with the shape: an unknown parameter is 422 unless extra-parameters says otherwise.
  const extra = await chat(uri, { "api-key": primary }, { messages: [{ role: "user", content: "Hi" }], max_tokens: 4, top_k: 3 }, "/chat/completions?api-version=2024-05-01-preview");
  assert.equal(extra.status, 422);
});

test("keys: account keys and other endpoints' keys are 401 in the surface's shape; an endpoint key opens nothing else; regenerateKeys kills the old key", { timeout: 180_000 }, async () => {
  const { uri, primary, secondary } = await keysOf("sls-ws", "tiny-chat-ep");
  for (const headers of [{}, { "api-key": API_KEY }, { Authorization: `Bearer ${API_KEY}` }, { Authorization: "nope" }, { Authorization: `Bearer ${owner}` }] as Record<string, string>[]) {
    const r = await chat(uri, headers);
    assert.equal(r.status, 401, JSON.stringify(headers));
    assert.match((await json(r)).error.message, /key for this serverless endpoint/);
  }
  const inf = await chat(uri, { "api-key": API_KEY }, { messages: [{ role: "user", content: "Hi" }] }, "/chat/completions");
  assert.equal(inf.status, 401);
  const infBody = await json(inf);
  assert.equal(infBody.status, 401, "model-inference shape");
  // Its key opens no account data plane.
  const other = await server.post("/openai/v1/chat/completions", { model: "tiny-chat", messages: [{ role: "user", content: "Hi" }] }, { "api-key": primary });
  assert.equal(other.status, 401);

  const regen = await arm(owner, "POST", `${epPath("sls-ws", "tiny-chat-ep")}/regenerateKeys`, { keyType: "Primary" });
  assert.equal(regen.status, 200);
  const keys = await json(regen);
  assert.notEqual(keys.primaryKey, primary);
  assert.equal(keys.secondaryKey, secondary);
  assert.equal((await chat(uri, { Authorization: primary })).status, 401, "the old key is dead");
  assert.equal((await chat(uri, { Authorization: keys.primaryKey })).status, 200);
  const bad = await arm(owner, "POST", `${epPath("sls-ws", "tiny-chat-ep")}/regenerateKeys`, { keyType: "Tertiary" });
  assert.equal(bad.status, 400);
  assert.match((await json(bad)).error.message, /'Primary', 'Secondary'/);

  // A Reader reads the endpoint but not its keys.
  const reader = tokenFor("Reader", "ml-serverless-reader");
  assert.equal((await arm(reader, "GET", epPath("sls-ws", "tiny-chat-ep"))).status, 200);
  assert.equal((await arm(reader, "POST", `${epPath("sls-ws", "tiny-chat-ep")}/listKeys`)).status, 403);
});

test("authMode AAD: a token with inference rights on the workspace opens the endpoint, a Reader's does not; the keys still do", { timeout: 60_000 }, async () => {
  const { uri, primary } = await keysOf("sls-ws", "tiny-chat-ep");
  const put = await arm(owner, "PUT", epPath("sls-ws", "tiny-chat-ep"), { ...pyBody(TINY_CHAT), properties: { modelSettings: { modelId: TINY_CHAT }, authMode: "AAD" } });
  assert.equal(put.status, 200);
  assert.equal((await json(put)).properties.authMode, "AAD");
  assert.equal((await chat(uri, { Authorization: `Bearer ${owner}` })).status, 200);
  const reader = tokenFor("Reader", "ml-serverless-aad-reader");
  assert.equal((await chat(uri, { Authorization: `Bearer ${reader}` })).status, 401);
  assert.equal((await chat(uri, { Authorization: primary })).status, 200);
  const back = await arm(owner, "PUT", epPath("sls-ws", "tiny-chat-ep"), { ...pyBody(TINY_CHAT), properties: { modelSettings: { modelId: TINY_CHAT }, authMode: "Key" } });
  assert.equal((await json(back)).properties.authMode, "Key");
  assert.equal((await chat(uri, { Authorization: `Bearer ${owner}` })).status, 401, "Key mode: tokens do not open it");
});

test("bad inputs are ARM 400 UserError saying what to change, and nothing half-created stays", { timeout: 120_000 }, async () => {
  const cases: [string, string, unknown, RegExp][] = [
    ["sls-ws", "1-bad-name", pyBody(TINY_CHAT), /start with a letter/],
    ["sls-other", "tiny-chat-ep", pyBody(TINY_CHAT), /Serverless endpoint name 'tiny-chat-ep' is not available/],
    ["sls-ws", "second-chat", pyBody(`${TINY_CHAT}/labels/latest`), /already deployed in workspace 'sls-ws' as serverless endpoint 'tiny-chat-ep'/],
    ["sls-ws", "unknown-model", pyBody("azureml://registries/azureml/models/no-such-model"), /does not resolve: .*'tiny-chat'/],
    ["sls-ws", "llama-ep", pyBody(LLAMA), /needs a marketplace subscription.*marketplaceSubscriptions/],
    ["sls-ws", "ft-ep", pyBody(`azureml://locations/local/workspaces/${crypto.randomUUID()}/models/ft/versions/1`), /was not found: no workspace model/],
    ["sls-ws", "no-model", { location: "local", properties: {} }, /modelSettings\.modelId' is required/],
    ["sls-ws", "bad-sku", { ...pyBody(TINY_CHAT), sku: { name: "Standard" } }, /Consumption/],
  ];
  for (const [ws, name, body, pattern] of cases) {
    const res = await arm(owner, "PUT", epPath(ws, name), body);
    const e = (await json(res)).error;
    assert.equal(res.status, 400, `${name}: ${JSON.stringify(e)}`);
    assert.equal(e.code, "UserError", name);
    assert.match(e.message, pattern, name);
    assert.deepEqual(e.additionalInfo, [{ type: "ComponentName", info: { value: "managementfrontend" } }]);
    if (name !== "tiny-chat-ep") assert.equal((await arm(owner, "GET", epPath(ws, name))).status, 404, `${name} was not created`);
  }
  assert.equal((await json(await arm(owner, "GET", `${wsPath("sls-other")}/serverlessEndpoints`))).value.length, 0);
  assert.equal((await arm(owner, "PUT", epPath("no-such-ws", "x"), pyBody(TINY_CHAT))).status, 404);
});

test("a third-party model with its marketplace subscription: the endpoint names it; a load that fails is Failed with the reason", { timeout: 120_000 }, async () => {
  assert.equal((await arm(owner, "PUT", `${wsPath("sls-ws")}/marketplaceSubscriptions/llama-sub`, { properties: { modelId: LLAMA } })).status, 201);
  const put = await arm(owner, "PUT", epPath("sls-ws", "llama-ep"), pyBody(LLAMA));
  assert.equal(put.status, 201);
  assert.equal((await json(put)).properties.marketplaceSubscriptionId, `${wsPath("sls-ws")}/marketplaceSubscriptions/llama-sub`);
  const done = await pollTerminal(epPath("sls-ws", "llama-ep"));
  assert.equal(done.properties.provisioningState, "Failed");
  assert.equal(done.properties.endpointState, "CreationFailed");
  assert.ok(done.properties.provisioningDetails.error, JSON.stringify(done.properties));
  const keys = await json(await arm(owner, "POST", `${epPath("sls-ws", "llama-ep")}/listKeys`));
  const r = await chat(done.properties.inferenceEndpoint.uri, { Authorization: keys.primaryKey });
  assert.equal(r.status, 503);
  assert.match((await json(r)).error.message, /failed to provision/);
  assert.equal((await arm(owner, "DELETE", epPath("sls-ws", "llama-ep"))).status, 200);
});

test("embeddings through /embeddings and /v1/embeddings; DELETE 200 then 204 unloads the runner no one else uses and the keys die", { timeout: 180_000 }, async () => {
  // Only this endpoint will use tiny-embed: the default account's deployment of it goes first.
  server.ingot.deployments.delete("ingot", "tiny-embed");
  await waitFor("tiny-embed to unload", async () => !(await loadedModels()).includes("Ingot/tiny-embed@1"));
  const ep = await createEndpoint("sls-ws", "embed-ep", TINY_EMBED);
  assert.ok((await loadedModels()).includes("Ingot/tiny-embed@1"));
  const inf = await chat(ep.uri, { "api-key": ep.primary }, { input: ["a", "b"] }, "/embeddings");
  assert.equal(inf.status, 200);
  assert.equal((await json(inf)).data.length, 2);
  const v1 = await chat(ep.uri, { Authorization: `Bearer ${ep.primary}` }, { model: "x", input: "a" }, "/v1/embeddings");
  assert.equal(v1.status, 200);

  assert.equal((await arm(owner, "DELETE", epPath("sls-ws", "embed-ep"))).status, 200);
  assert.equal((await arm(owner, "DELETE", epPath("sls-ws", "embed-ep"))).status, 204);
  assert.equal((await arm(owner, "GET", epPath("sls-ws", "embed-ep"))).status, 404);
  assert.equal((await chat(ep.uri, { "api-key": ep.primary }, { input: ["a"] }, "/embeddings")).status, 401);
  await waitFor("the runner to unload", async () => !(await loadedModels()).includes("Ingot/tiny-embed@1"));
});

test("deleting the workspace deletes its endpoints and their deployments", { timeout: 120_000 }, async () => {
  const ep = await createEndpoint("sls-other", "other-chat", TINY_CHAT);
  assert.equal((await arm(owner, "DELETE", wsPath("sls-other"))).status, 200);
  assert.equal((await chat(ep.uri, { Authorization: ep.primary })).status, 401);
  assert.ok(!server.ingot.deployments.list().some((d) => d.name === "other-chat"), "its deployment record is gone");
  // The name is free again.
  assert.equal((await arm(owner, "PUT", wsPath("sls-other"), { location: "local", kind: "Hub" })).status, 201);
  const again = await arm(owner, "PUT", epPath("sls-other", "other-chat"), pyBody(TINY_CHAT));
  assert.equal(again.status, 201);
  await pollTerminal(epPath("sls-other", "other-chat"));
});

async function keysOf(ws: string, name: string) {
  const ep = await json(await arm(owner, "GET", epPath(ws, name)));
  const keys = await json(await arm(owner, "POST", `${epPath(ws, name)}/listKeys`));
  return { uri: ep.properties.inferenceEndpoint.uri as string, primary: keys.primaryKey as string, secondary: keys.secondaryKey as string };
}
