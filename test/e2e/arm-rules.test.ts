// The management plane over plain HTTP, as the seeds' python `requests` and curl lines call
// it: every validation rule and error, asynchronous provisioning, and failures with reasons.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { json, startServer } from "./harness.ts";
import type { TestServer } from "./harness.ts";

const ACCOUNT = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/ingot/providers/Microsoft.CognitiveServices/accounts/ingot";
let server: TestServer;
let token: string;

before(async () => {
  server = await startServer({
    extraModels: [
      {
        format: "Ingot",
        name: "missing-weights",
        version: "1",
        capabilities: ["chatCompletion"],
        contextLength: 512,
        weights: "file:/nonexistent/model.gguf",
        skus: [{ name: "Standard", usageName: "Ingot.Standard.missing-weights", minCapacity: 1, maxCapacity: 100, defaultCapacity: 1 }],
        lifecycleStatus: "Preview",
        license: "MIT",
      },
    ],
  });
  token = server.ingot.identity.adminToken("management");
});
after(() => server.stop());

const arm = (method: string, path: string, body?: unknown, opts: { apiVersion?: string | null; headers?: Record<string, string> } = {}) => {
  const v = opts.apiVersion === undefined ? "2024-10-01" : opts.apiVersion;
  const url = `${server.url}${path}${v === null ? "" : `${path.includes("?") ? "&" : "?"}api-version=${v}`}`;
  return fetch(url, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json", ...opts.headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
};
const put = (name: string, body: unknown, opts?: { apiVersion?: string | null }) => arm("PUT", `${ACCOUNT}/deployments/${name}`, body, opts);
const chatModel = (over: Record<string, unknown> = {}) => ({ sku: { name: "standard", capacity: 1 }, properties: { model: { format: "Ingot", name: "tiny-chat", version: "1", ...over } } });

async function settle(name: string): Promise<{ state: string; body: any }> {
  for (let i = 0; i < 600; i++) {
    const body = await json(await arm("GET", `${ACCOUNT}/deployments/${name}`));
    const state = body.properties.provisioningState;
    if (state === "Succeeded" || state === "Failed") return { state, body };
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`deployment ${name} did not settle`);
}

test("seed 001's python body: 201 at once with an absolute Azure-AsyncOperation URL, which reaches Succeeded", async () => {
  const res = await put("seed-py", chatModel(), { apiVersion: "2024-10-21" });
  assert.equal(res.status, 201);
  const body = await json(res);
  assert.ok(["Accepted", "Creating", "Succeeded"].includes(body.properties.provisioningState));
  assert.equal(body.sku.name, "Standard", "SKU names are matched case-insensitively and stored canonically");
  const opUrl = res.headers.get("azure-asyncoperation")!;
  assert.match(opUrl, /^http:\/\/127\.0\.0\.1:\d+\/subscriptions\/.+\/operationsStatuses\/[0-9a-f-]+\?api-version=2024-10-21$/);
  assert.equal(res.headers.get("retry-after"), "1");
  let status;
  for (let i = 0; i < 300; i++) {
    status = await json(await fetch(opUrl, { headers: { authorization: `Bearer ${token}` } }));
    if (status.status !== "InProgress") break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(status.status, "Succeeded");
  assert.equal((await settle("seed-py")).state, "Succeeded");
  const again = await put("seed-py", chatModel());
  assert.equal(again.status, 200, "a replace answers 200");
});

test("seed 001's curl: POST on the deployment path creates it", async () => {
  const res = await arm("POST", `${ACCOUNT}/deployments/seed-curl`, chatModel());
  assert.equal(res.status, 201);
  assert.equal((await settle("seed-curl")).state, "Succeeded");
  const reply = await server.post("/openai/deployments/seed-curl/chat/completions?api-version=2024-10-21", { messages: [{ role: "user", content: "hi" }], max_tokens: 2 });
  assert.equal(reply.status, 200);
});

test("format strings are case-sensitive; OpenAI-OSS is accepted for open models", async () => {
  const res = await put("fmt", chatModel({ format: "ingot" }));
  assert.equal(res.status, 400);
  const body = await json(res);
  assert.equal(body.error.code, "DeploymentModelNotSupported");
  assert.match(body.error.message, /'Ingot'/);
  const oss = await put("fmt-oss", chatModel({ format: "OpenAI-OSS" }));
  assert.equal(oss.status, 201);
  assert.equal((await json(oss)).properties.model.format, "Ingot");
});

test("a model with no open weights is refused until an upstream is configured", async () => {
  const res = await put("gpt", { sku: { name: "GlobalStandard", capacity: 1 }, properties: { model: { format: "OpenAI", name: "gpt-4.1-mini" } } });
  assert.equal(res.status, 400);
  assert.match((await json(res)).error.message, /no open weights.*upstream/i);
});

test("SKU and capacity are checked against the model's offers", async () => {
  const sku = await json(await put("sku", { ...chatModel(), sku: { name: "Premium", capacity: 1 } }));
  assert.equal(sku.error.code, "InvalidSkuName");
  assert.match(sku.error.message, /GlobalStandard/);
  const cap = await put("cap", { ...chatModel(), sku: { name: "Standard", capacity: 0 } });
  assert.equal(cap.status, 400);
  assert.equal((await json(cap)).error.code, "InvalidCapacity");
  const dev = await json(await put("dev", { ...chatModel(), sku: { name: "developertier", capacity: 1 } }));
  assert.equal(dev.error.code, "InvalidSkuName");
});

test("deployment names: at most 64 letters, digits and hyphens", async () => {
  for (const name of ["a".repeat(65), "under_score", "dot.ted"]) {
    const res = await put(name, chatModel());
    assert.equal(res.status, 400, name);
    assert.equal((await json(res)).error.code, "InvalidResourceName");
  }
  assert.equal((await put("a".repeat(64), chatModel())).status, 201);
});

test("changing the model of a deployment is a 409 naming the fix", async () => {
  assert.equal((await put("swap", chatModel())).status, 201);
  const res = await put("swap", { sku: { name: "Standard", capacity: 1 }, properties: { model: { format: "Ingot", name: "tiny-embed", version: "1" } } });
  assert.equal(res.status, 409);
  assert.match((await json(res)).error.message, /Delete the deployment first/);
});

test("quota per usage name: InsufficientQuota with the numbers; a deleted deployment frees name and quota at once", async () => {
  const limit = server.ingot.deployments.policy.quotaPerUsage;
  const big = await put("big", { sku: { name: "Standard", capacity: limit - 10 }, properties: { model: { format: "Ingot", name: "tiny-chat" } } });
  assert.equal(big.status, 201);
  const over = await put("over", { sku: { name: "Standard", capacity: 500 }, properties: { model: { format: "Ingot", name: "tiny-chat" } } });
  assert.equal(over.status, 400);
  const err = (await json(over)).error;
  assert.equal(err.code, "InsufficientQuota");
  assert.match(err.message, /require 500 new capacity/);
  assert.match(err.message, new RegExp(`quota limit is ${limit}`));
  const del = await arm("DELETE", `${ACCOUNT}/deployments/big`);
  assert.equal(del.status, 202);
  assert.match(del.headers.get("location")!, /operationResults/);
  assert.equal((await put("over", { sku: { name: "Standard", capacity: 500 }, properties: { model: { format: "Ingot", name: "tiny-chat" } } })).status, 201);
  assert.equal((await put("big", chatModel())).status, 201, "the name is free again");
  // The Location poll ends with 204 once the delete has finished.
  let status = 202;
  for (let i = 0; i < 100 && status === 202; i++) {
    status = (await fetch(del.headers.get("location")!, { headers: { authorization: `Bearer ${token}` } })).status;
    if (status === 202) await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(status, 204);
});

test("PATCH changes capacity within quota", async () => {
  await put("patchy", chatModel());
  const res = await arm("PATCH", `${ACCOUNT}/deployments/patchy`, { sku: { capacity: 3 } });
  assert.equal(res.status, 200);
  const body = await json(res);
  assert.equal(body.sku.capacity, 3);
  assert.equal(body.properties.rateLimits[0].count, 3);
  const bad = await arm("PATCH", `${ACCOUNT}/deployments/patchy`, { sku: { capacity: 100000 } });
  assert.equal(bad.status, 400);
});

test("provisioning failure: Failed with a reason that says what to do, on the deployment and its operation", async () => {
  const res = await put("broken", { sku: { name: "Standard", capacity: 1 }, properties: { model: { format: "Ingot", name: "missing-weights", version: "1" } } });
  assert.equal(res.status, 201);
  const { state, body } = await settle("broken");
  assert.equal(state, "Failed");
  assert.match(body.properties.provisioningDetails.error, /nonexistent\/model\.gguf/);
  const op = await json(await fetch(res.headers.get("azure-asyncoperation")!, { headers: { authorization: `Bearer ${token}` } }));
  assert.equal(op.status, "Failed");
  assert.match(op.error.message, /does not exist/);
  const inference = await server.post("/openai/deployments/broken/chat/completions?api-version=2024-10-21", { messages: [{ role: "user", content: "hi" }] });
  assert.equal(inference.status, 503);
});

test("api-version and authentication errors", async () => {
  const missing = await arm("GET", `${ACCOUNT}/deployments`, undefined, { apiVersion: null });
  assert.equal(missing.status, 400);
  assert.equal((await json(missing)).error.code, "MissingApiVersionParameter");
  const wrong = await arm("GET", `${ACCOUNT}/deployments`, undefined, { apiVersion: "2019-01-01" });
  assert.equal(wrong.status, 400);
  const noAuth = await fetch(`${server.url}${ACCOUNT}/deployments?api-version=2024-10-01`);
  assert.equal(noAuth.status, 401);
  assert.equal((await json(noAuth)).error.code, "AuthenticationFailed");
  const garbage = await arm("GET", `${ACCOUNT}/deployments`, undefined, { headers: { authorization: "Bearer not-a-token" } });
  assert.equal(garbage.status, 401);
  const apiKey = await arm("GET", `${ACCOUNT}/deployments`, undefined, { headers: { authorization: "Bearer 0123456789abcdef0123456789abcdef" } });
  assert.equal(apiKey.status, 401, "an account key is not a management token");
});

test("not found: deployment (NotFound) and account (ResourceNotFound)", async () => {
  const d = await arm("GET", `${ACCOUNT}/deployments/nope`);
  assert.equal(d.status, 404);
  assert.equal((await json(d)).error.code, "NotFound");
  const a = await arm("GET", ACCOUNT.replace(/ingot$/, "nope"));
  assert.equal(a.status, 404);
  const body = await json(a);
  assert.equal(body.error.code, "ResourceNotFound");
  assert.match(body.error.message, /Microsoft\.CognitiveServices\/accounts\/nope/);
  assert.equal((await arm("DELETE", `${ACCOUNT}/deployments/nope`)).status, 204);
});

test("paths are case-insensitive (resourcegroups)", async () => {
  const res = await arm("GET", `${ACCOUNT.replace("resourceGroups", "resourcegroups")}/deployments/tiny-chat`);
  assert.equal(res.status, 200);
});
