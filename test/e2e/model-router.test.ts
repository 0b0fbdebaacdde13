// The model router (issue 15 item 4) end to end: a second small chat model deployed with the
// official ARM SDK, model-router deployments with properties.routing (sent through the SDK
// client's raw request: @azure/arm-cognitiveservices 8.1.0's Deployment model has no
// `routing`), chat through the openai client naming the router, where the reply's `model` is
// the model used: an easy prompt and a hard one pick differently per mode; a candidate at its
// rate limit is passed over; a deleted one is no longer a candidate; decisions and fallbacks
// are counted in /metrics; `model: "auto"` on v1 Responses uses the account's router.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { CognitiveServicesManagementClient } from "@azure/arm-cognitiveservices";
import { createHttpHeaders, createPipelineRequest } from "@azure/core-rest-pipeline";
import OpenAI from "openai";
import { API_KEY, startServer } from "./harness.ts";
import type { TestServer } from "./harness.ts";
import { armSdkClient, POLL, RG, SUB } from "./arm-sdk-client.ts";

const T = { timeout: 240_000 };
let server: TestServer;
let arm: CognitiveServicesManagementClient;
let client: OpenAI;

// Same weights as tiny-chat, but the catalog says it is a 5 GB model: more capable, dearer.
const BIG = { format: "Ingot", name: "tiny-chat-big", version: "1" };
const ROUTER = { format: "OpenAI", name: "model-router", version: "2025-11-18" };
const HARD =
  "Explain why, step by step, and compare two approaches: prove that the integral of x^2 from 0 to 3 is 9. Then write the code:\n```python\ndef integral(f, a, b):\n    pass\n```\nWhat is 3 * 4? Why? How would you test it?";

before(async () => {
  server = await startServer({
    https: true,
    extraModels: [
      {
        ...BIG,
        capabilities: ["chatCompletion", "completion"],
        contextLength: 2048,
        weights: "builtin:tiny-chat",
        sizeBytes: 5_000_000_000,
        skus: [{ name: "GlobalStandard", minCapacity: 1, maxCapacity: 10000, defaultCapacity: 100 }],
        lifecycleStatus: "GenerallyAvailable",
        license: "MIT",
      },
    ],
  });
  arm = armSdkClient(server, "router-test");
  client = new OpenAI({ baseURL: `${server.url}/openai/v1`, apiKey: API_KEY, maxRetries: 0 });
});
after(() => server?.stop());

const deploymentUrl = (name: string) => `${server.url}/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.CognitiveServices/accounts/ingot/deployments/${name}?api-version=2025-06-01`;

/** The SDK's pipeline (its credential and retries), with a body its model would drop `routing` from. */
async function armRaw(method: "PUT" | "GET", name: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await arm.sendRequest(
    createPipelineRequest({ url: deploymentUrl(name), method, headers: createHttpHeaders({ "content-type": "application/json" }), body: body === undefined ? undefined : JSON.stringify(body) }),
  );
  return { status: res.status, body: res.bodyAsText ? JSON.parse(res.bodyAsText) : undefined };
}

async function waitSucceeded(name: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const d = await arm.deployments.get(RG, "ingot", name);
    if (d.properties?.provisioningState === "Succeeded") return;
    if (d.properties?.provisioningState === "Failed" || Date.now() > deadline) assert.fail(`deployment ${name}: ${JSON.stringify(d.properties)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function putRouter(name: string, routing: unknown): Promise<void> {
  const res = await armRaw("PUT", name, { sku: { name: "GlobalStandard", capacity: 10 }, properties: { model: ROUTER, routing } });
  assert.ok(res.status === 200 || res.status === 201, JSON.stringify(res.body));
  await waitSucceeded(name);
}

const ask = async (model: string, content: string, max_tokens = 4) => (await client.chat.completions.create({ model, messages: [{ role: "user", content }], max_tokens })).model;

async function metrics(): Promise<string[]> {
  const admin = { authorization: `Bearer ${server.ingot.identity.adminToken("management")}` };
  return (await (await fetch(`${server.url}/metrics`, { headers: admin })).text()).split("\n");
}
/** The value of the one series whose labels include all of `labels`. */
const series = (lines: string[], name: string, labels: Record<string, string>) => {
  const line = lines.find((l) => l.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
  return line === undefined ? 0 : Number(line.split(" ").at(-1));
};

test("routers pick per mode, the reply names the model used, fallbacks and decisions are counted", T, async () => {
  await arm.deployments.beginCreateOrUpdateAndWait(RG, "ingot", "big", { sku: { name: "GlobalStandard", capacity: 100 }, properties: { model: BIG } }, POLL);
  await waitSucceeded("big");

  // Bad routing: an unknown mode, a model no deployment serves (the 400 names those there are).
  const badMode = await armRaw("PUT", "bad", { sku: { name: "GlobalStandard", capacity: 10 }, properties: { model: ROUTER, routing: { mode: "fastest" } } });
  assert.equal(badMode.status, 400);
  assert.match(badMode.body.error.message, /balanced, cost or quality/);
  const badModel = await armRaw("PUT", "bad", { sku: { name: "GlobalStandard", capacity: 10 }, properties: { model: ROUTER, routing: { mode: "cost", models: [{ format: "OpenAI", name: "gpt-4.1", version: "2025-04-14" }] } } });
  assert.equal(badModel.status, 400);
  assert.match(badModel.body.error.message, /Ingot\/tiny-chat\/1/);
  assert.match(badModel.body.error.message, /Ingot\/tiny-chat-big\/1/);

  await putRouter("router-cost", { mode: "cost" });
  await putRouter("router-quality", { mode: "Accuracy", models: [{ format: "Ingot", name: "tiny-chat", version: "1" }, BIG] });
  await putRouter("router-balanced", { mode: "balanced" });
  const echoed = await armRaw("GET", "router-quality");
  assert.deepEqual(echoed.body.properties.routing, { mode: "quality", models: [{ format: "Ingot", name: "tiny-chat", version: "1" }, BIG] });
  assert.equal(echoed.body.properties.model.name, "model-router");

  // Easy prompt: cost and balanced take the cheap model, quality the capable one; a hard prompt: the capable one.
  assert.equal(await ask("router-cost", "Hi"), "tiny-chat");
  assert.equal(await ask("router-balanced", "Hi"), "tiny-chat");
  assert.equal(await ask("router-quality", "Hi"), "tiny-chat-big");
  assert.equal(await ask("router-cost", HARD), "tiny-chat-big");
  assert.equal(await ask("router-balanced", HARD), "tiny-chat-big");

  // v1 Responses: "auto" is the account's router (the first by name: router-balanced).
  const r = await client.responses.create({ model: "auto", input: "Hi", max_output_tokens: 4 });
  assert.equal(r.model, "tiny-chat");

  // tiny-chat at 1K TPM cannot take 1,500 tokens of max_tokens: the cost router falls back to the next candidate.
  await arm.deployments.beginCreateOrUpdateAndWait(RG, "ingot", "tiny-chat", { sku: { name: "GlobalStandard", capacity: 1 }, properties: { model: { format: "Ingot", name: "tiny-chat", version: "1" } } }, POLL);
  assert.equal(await ask("router-cost", "Hi", 1500), "tiny-chat-big");

  const m = await metrics();
  assert.equal(series(m, "ingot_router_decisions_total", { router: "router-cost", model: "tiny-chat", mode: "cost", reason: "cheapest_capable" }), 1);
  assert.equal(series(m, "ingot_router_decisions_total", { router: "router-quality", model: "tiny-chat-big", mode: "quality", reason: "most_capable" }), 1);
  assert.equal(series(m, "ingot_router_decisions_total", { router: "router-cost", model: "tiny-chat-big", mode: "cost", reason: "cheapest_capable" }), 1);
  assert.equal(series(m, "ingot_router_decisions_total", { router: "router-cost", model: "tiny-chat-big", mode: "cost", reason: "fallback_rate_limited" }), 1);
  assert.equal(series(m, "ingot_router_fallbacks_total", { router: "router-cost", model: "tiny-chat", reason: "rate_limited" }), 1);

  // A deleted candidate is no longer one (tiny-chat back at full capacity); with none left the router says what to deploy.
  await arm.deployments.beginCreateOrUpdateAndWait(RG, "ingot", "tiny-chat", { sku: { name: "GlobalStandard", capacity: 1000 }, properties: { model: { format: "Ingot", name: "tiny-chat", version: "1" } } }, POLL);
  await arm.deployments.beginDeleteAndWait(RG, "ingot", "big", POLL);
  assert.equal(await ask("router-quality", "Hi"), "tiny-chat");
  await arm.deployments.beginDeleteAndWait(RG, "ingot", "tiny-chat", POLL);
  await assert.rejects(ask("router-quality", "Hi"), (e: any) => e.status === 503 && /no chat deployment to route to/.test(e.message));
});
