// Usage history over the wire: Azure Monitor's metrics API on the account counts the tokens
// each deployment processed per day and the requests its rate limit refused (429).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { API_VERSION, json, startServer } from "./harness.ts";
import type { TestServer } from "./harness.ts";

const TINY = { format: "Ingot", name: "tiny-chat", version: "1" };
const ACCOUNT = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/ingot/providers/Microsoft.CognitiveServices/accounts/ingot";
let now = Date.parse("2026-11-20T09:30:00Z");
let server: TestServer;

before(async () => {
  server = await startServer({ clock: () => now, extraDeployments: [{ name: "tiny-c1", model: TINY, sku: { name: "Standard", capacity: 1 } }] });
});
after(() => server?.stop());

const chat = (deployment: string) =>
  server.post(`/openai/deployments/${deployment}/chat/completions?api-version=${API_VERSION}`, { messages: [{ role: "user", content: "hi" }], max_tokens: 4 });

async function metrics(query: string, token = server.ingot.identity.adminToken("management")): Promise<Response> {
  return fetch(`${server.url}${ACCOUNT}/providers/Microsoft.Insights/metrics?${query}`, { headers: { authorization: `Bearer ${token}` } });
}

test("tokens per deployment per day and 429s, in Azure Monitor's shape", async () => {
  const first = await json(await chat("tiny-c1"));
  assert.equal((await chat("tiny-c1")).status, 429, "capacity 1 admits one request per 10 s");
  now += 86_400_000;
  const second = await json(await chat("tiny-chat"));

  const timespan = "2026-11-20T00:00:00Z/2026-11-22T00:00:00Z";
  const res = await metrics(`api-version=2023-10-01&metricnames=TokenTransaction,ProcessedPromptTokens&aggregation=Total&interval=P1D&timespan=${timespan}&$filter=${encodeURIComponent("ModelDeploymentName eq '*'")}`);
  assert.equal(res.status, 200);
  const body = await json(res);
  assert.equal(body.interval, "P1D");
  assert.equal(body.timespan, timespan);
  assert.equal(body.namespace, "Microsoft.CognitiveServices/accounts");
  const [tokens, prompt] = body.value;
  assert.deepEqual(tokens.name, { value: "TokenTransaction", localizedValue: "Processed Inference Tokens" });
  assert.equal(tokens.id, `${ACCOUNT}/providers/Microsoft.Insights/metrics/TokenTransaction`);
  const series = (m: any) => Object.fromEntries(m.timeseries.map((t: any) => [t.metadatavalues[0].value, t.data.map((d: any) => d.total)]));
  assert.equal(tokens.timeseries[0].metadatavalues[0].name.value, "modeldeploymentname");
  assert.deepEqual(series(tokens), { "tiny-c1": [first.usage.total_tokens, 0], "tiny-chat": [0, second.usage.total_tokens] });
  assert.deepEqual(series(prompt), { "tiny-c1": [first.usage.prompt_tokens, 0], "tiny-chat": [0, second.usage.prompt_tokens] });
  assert.deepEqual(tokens.timeseries[0].data.map((d: any) => d.timeStamp), ["2026-11-20T00:00:00Z", "2026-11-21T00:00:00Z"]);

  const limited = await json(
    await metrics(`api-version=2023-10-01&metricnames=AzureOpenAIRequests&interval=P1D&timespan=${timespan}&$filter=${encodeURIComponent("ModelDeploymentName eq '*' and StatusCode eq '429'")}`),
  );
  assert.deepEqual(series(limited.value[0]), { "tiny-c1": [1, 0] });
});

test("bad metric queries are 400s in ARM's envelope that say what to write; a stranger gets 401", async () => {
  const bad = await metrics("api-version=2023-10-01&metricnames=Tokens");
  assert.equal(bad.status, 400);
  assert.match((await json(bad)).error.message, /Valid metrics: ProcessedPromptTokens/);
  const version = await metrics("api-version=2024-10-01&metricnames=TokenTransaction");
  assert.equal(version.status, 400);
  assert.match((await json(version)).error.message, /2023-10-01/);
  const stranger = await metrics("api-version=2023-10-01&metricnames=TokenTransaction", "not-a-token");
  assert.equal(stranger.status, 401);
});
