// Rate limits from the deployment's SKU (reference §1.6, §2.7), over the wire: Standard
// capacity 1 (1 request per 10 s, 1,000 tokens per minute) throttles with Azure's 429 and
// recovers once the window has passed; every reply carries x-ratelimit-*, streamed ones
// included; Provisioned capacity 1 serves one request at a time; GlobalBatch refuses
// synchronous calls. The server's clock is fake, so windows pass without waiting.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import { RateLimitError } from "openai";
import { API_VERSION, json, startServer } from "./harness.ts";
import type { TestServer } from "./harness.ts";

const TINY = { format: "Ingot", name: "tiny-chat", version: "1" };
const NO_EOS = { "256": -100, "257": -100, "258": -100 };
const hi = [{ role: "user" as const, content: "hi" }];

let now = Date.parse("2025-06-01T00:00:00Z");
let server: TestServer;
before(async () => {
  server = await startServer({
    clock: () => now,
    extraDeployments: [
      { name: "tiny-c1", model: TINY, sku: { name: "Standard", capacity: 1 } },
      { name: "embed-c1", model: { format: "Ingot", name: "tiny-embed", version: "1" }, sku: { name: "GlobalStandard", capacity: 1 } },
      { name: "tiny-ptu", model: TINY, sku: { name: "ProvisionedManaged", capacity: 1 } },
      { name: "tiny-batch", model: TINY, sku: { name: "GlobalBatch", capacity: 10 } },
    ],
  });
});
after(() => server?.stop());
// Every test starts with empty windows.
beforeEach(() => {
  now += 120_000;
});

const c1Path = `/openai/deployments/tiny-c1/chat/completions?api-version=${API_VERSION}`;

function assertLimitHeaders(h: Headers, expected: { limitRequests: string; limitTokens?: string; remainingRequests?: string }) {
  assert.equal(h.get("x-ratelimit-limit-requests"), expected.limitRequests);
  if (expected.remainingRequests !== undefined) assert.equal(h.get("x-ratelimit-remaining-requests"), expected.remainingRequests);
  assert.match(h.get("x-ratelimit-reset-requests") ?? "", /^\d+$/);
  if (expected.limitTokens === undefined) {
    assert.equal(h.get("x-ratelimit-limit-tokens"), null);
    return;
  }
  assert.equal(h.get("x-ratelimit-limit-tokens"), expected.limitTokens);
  assert.match(h.get("x-ratelimit-remaining-tokens") ?? "", /^\d+$/);
  assert.match(h.get("x-ratelimit-reset-tokens") ?? "", /^\d+$/);
}

function assertRetryAfter(h: Headers, maxSeconds: number): number {
  const seconds = Number(h.get("retry-after"));
  const ms = Number(h.get("retry-after-ms"));
  assert.ok(seconds >= 1 && seconds <= maxSeconds, `retry-after ${h.get("retry-after")}`);
  assert.ok(ms > 0 && ms <= maxSeconds * 1000, `retry-after-ms ${h.get("retry-after-ms")}`);
  assert.equal(seconds, Math.ceil(ms / 1000));
  return ms;
}

async function rejection(p: Promise<unknown>): Promise<RateLimitError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof RateLimitError, `expected a RateLimitError, got ${String(e)}`);
    return e;
  }
  assert.fail("expected a 429");
}

describe("Standard capacity 1", () => {
  test("AzureOpenAI: the 2nd request in the same 10 s is a 429 with retry-after and the limits; after the window it succeeds", async () => {
    const client = server.azure({ deployment: "tiny-c1" });
    const { response } = await client.chat.completions.create({ model: "tiny-c1", messages: hi, max_tokens: 5 }).withResponse();
    assertLimitHeaders(response.headers, { limitRequests: "1", limitTokens: "1000", remainingRequests: "0" });
    // Charged at admission: prompt estimate (1 token for "hi") + max_tokens.
    assert.equal(response.headers.get("x-ratelimit-remaining-tokens"), String(1000 - 6));

    now += 3_000;
    const e = await rejection(client.chat.completions.create({ model: "tiny-c1", messages: hi, max_tokens: 5 }));
    assert.equal(e.status, 429);
    assert.equal(e.code, "429");
    assert.match(
      e.message,
      /Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have exceeded call rate limit of your current AIServices S0 pricing tier\. Please retry after 7 seconds\. Please go here: https:\/\/aka\.ms\/oai\/quotaincrease/,
    );
    assert.equal(assertRetryAfter(e.headers, 10), 7_000);
    assertLimitHeaders(e.headers, { limitRequests: "1", limitTokens: "1000", remainingRequests: "0" });
    assert.equal(e.headers.get("policy-id"), "DeploymentRatelimit-Call");

    now += 7_000;
    const ok = await client.chat.completions.create({ model: "tiny-c1", messages: hi, max_tokens: 5 });
    assert.equal(ok.object, "chat.completion");
  });

  test("OpenAI v1 and the project endpoint share the deployment's window", async () => {
    await server.v1().chat.completions.create({ model: "tiny-c1", messages: hi, max_tokens: 3 });
    const e = await rejection(server.v1().chat.completions.create({ model: "tiny-c1", messages: hi, max_tokens: 3 }));
    assert.match(e.message, /under Azure OpenAI API version v1 have exceeded call rate limit/);
    assertRetryAfter(e.headers, 10);
    assertLimitHeaders(e.headers, { limitRequests: "1", limitTokens: "1000", remainingRequests: "0" });
    await rejection(server.project().chat.completions.create({ model: "tiny-c1", messages: hi, max_tokens: 3 }));
  });

  test("raw HTTP: the 429 is Azure's body and headers", async () => {
    assert.equal((await server.post(c1Path, { messages: hi, max_tokens: 2 })).status, 200);
    now += 500;
    const res = await server.post(c1Path, { messages: hi, max_tokens: 2 });
    assert.equal(res.status, 429);
    const body = await json(res);
    assert.equal(body.error.code, "429");
    assert.match(body.error.message, /call rate limit/);
    assert.equal(assertRetryAfter(res.headers, 10), 9_500);
    assertLimitHeaders(res.headers, { limitRequests: "1", limitTokens: "1000", remainingRequests: "0" });
    assert.ok(res.headers.get("apim-request-id"));
  });

  test("max_tokens-heavy requests exhaust the 1,000 tokens per minute: a 429 naming tokens, then recovery after the window", async () => {
    const client = server.azure({ deployment: "tiny-c1" });
    // A long prompt makes the real use large whatever the model answers (tiny-chat's byte-level
    // tokenizer counts ~1 token per character, where the admission estimate assumes 4).
    const first = await client.chat.completions.create({ model: "tiny-c1", messages: [{ role: "user", content: "tell me more ".repeat(50) }], max_tokens: 8, temperature: 0 });
    assert.ok((first.usage?.total_tokens ?? 0) > 600, `used ${first.usage?.total_tokens}`);
    now += 10_000; // the request window has passed; the token window has not
    const e = await rejection(client.chat.completions.create({ model: "tiny-c1", messages: hi, max_tokens: 600 }));
    assert.match(e.message, /have exceeded token rate limit of your current AIServices S0 pricing tier\. Please retry after 50 seconds\./);
    assert.equal(assertRetryAfter(e.headers, 60), 50_000);
    assert.equal(e.headers.get("policy-id"), "DeploymentRatelimit-Token");
    const remaining = Number(e.headers.get("x-ratelimit-remaining-tokens"));
    assert.equal(remaining, 1000 - first.usage!.total_tokens, "the admission charge was corrected to the real usage");
    // A small request still fits in what is left.
    now += 1_000;
    await client.chat.completions.create({ model: "tiny-c1", messages: hi, max_tokens: 50 });
    now += 50_000;
    const again = await client.chat.completions.create({ model: "tiny-c1", messages: hi, max_tokens: 600 });
    assert.equal(again.object, "chat.completion");
  });

  test("a request larger than the whole minute's budget is a 429 that says to lower max_tokens, marked not to retry", async () => {
    const res = await server.post(c1Path, { messages: hi, max_tokens: 1000 });
    assert.equal(res.status, 429);
    assert.match((await json(res)).error.message, /estimated at 1001 tokens.*lower max_tokens/);
    assert.equal(res.headers.get("x-should-retry"), "false");
    assert.equal(res.headers.get("retry-after"), null);
    assertLimitHeaders(res.headers, { limitRequests: "1", limitTokens: "1000", remainingRequests: "1" });
  });

  test("streamed replies carry the limits before the first frame", async () => {
    const { data: stream, response } = await server
      .azure({ deployment: "tiny-c1" })
      .chat.completions.create({ model: "tiny-c1", messages: hi, max_tokens: 4, stream: true })
      .withResponse();
    assertLimitHeaders(response.headers, { limitRequests: "1", limitTokens: "1000", remainingRequests: "0" });
    assert.equal(response.headers.get("x-ratelimit-remaining-tokens"), String(1000 - 5));
    for await (const _ of stream);
    now += 10_000;
    const { data: v1Stream, response: v1Response } = await server.v1().completions.create({ model: "tiny-c1", prompt: "abcd", max_tokens: 4, stream: true }).withResponse();
    assertLimitHeaders(v1Response.headers, { limitRequests: "1", limitTokens: "1000", remainingRequests: "0" });
    for await (const _ of v1Stream);
  });

  test("embeddings are limited and report their limits too", async () => {
    const client = server.azure({ deployment: "embed-c1" });
    const { response } = await client.embeddings.create({ model: "embed-c1", input: "abcdefgh" }).withResponse();
    assertLimitHeaders(response.headers, { limitRequests: "1", limitTokens: "1000", remainingRequests: "0" });
    const e = await rejection(client.embeddings.create({ model: "embed-c1", input: "abcdefgh" }));
    assert.match(e.message, /Embeddings_Create Operation/);
  });

  test("/models/chat/completions: the 429 has the model-inference body and x-ms-error-code", async () => {
    const path = "/models/chat/completions?api-version=2024-05-01-preview";
    assert.equal((await server.post(path, { model: "tiny-c1", messages: hi, max_tokens: 2 })).status, 200);
    const res = await server.post(path, { model: "tiny-c1", messages: hi, max_tokens: 2 });
    assert.equal(res.status, 429);
    assert.equal(res.headers.get("x-ms-error-code"), "429");
    const body = await json(res);
    assert.equal(body.status, 429);
    assert.equal(body.code, "429");
    assert.match(body.message, /call rate limit/);
    assertRetryAfter(res.headers, 10);
    assertLimitHeaders(res.headers, { limitRequests: "1", limitTokens: "1000", remainingRequests: "0" });
  });

  test("errors after the deployment is known (a bad parameter) carry the limits as well", async () => {
    const res = await server.post(c1Path, { messages: hi, temperature: "hot" });
    assert.equal(res.status, 400);
    assertLimitHeaders(res.headers, { limitRequests: "1", limitTokens: "1000", remainingRequests: "1" });
  });
});

describe("default deployments", () => {
  test("tiny-chat is GlobalStandard 1,000: limits that local development never meets", async () => {
    const res = await server.post(`/openai/deployments/tiny-chat/chat/completions?api-version=${API_VERSION}`, { messages: hi, max_tokens: 2 });
    assert.equal(res.status, 200);
    assertLimitHeaders(res.headers, { limitRequests: "1000", limitTokens: "1000000" });
  });
});

describe("Provisioned capacity 1", () => {
  test("while one long stream is in flight a second request is a 429; once it finishes the next succeeds", async () => {
    const client = server.azure({ deployment: "tiny-ptu" });
    const { data: stream, response } = await client.chat.completions
      .create({ model: "tiny-ptu", messages: hi, max_tokens: 1500, logit_bias: NO_EOS, temperature: 0, stream: true })
      .withResponse();
    assertLimitHeaders(response.headers, { limitRequests: "1", remainingRequests: "0" });
    const chunks = stream[Symbol.asyncIterator]();
    await chunks.next();

    const e = await rejection(client.chat.completions.create({ model: "tiny-ptu", messages: hi, max_tokens: 2 }));
    assert.match(e.message, /The system is currently experiencing high demand/);
    assertRetryAfter(e.headers, 10);
    assertLimitHeaders(e.headers, { limitRequests: "1", remainingRequests: "0" });

    while (!(await chunks.next()).done);
    // The slot is freed when the server's stream ends, just before the client sees [DONE].
    let ok = false;
    for (let i = 0; i < 20 && !ok; i++) {
      const res = await server.post(`/openai/deployments/tiny-ptu/chat/completions?api-version=${API_VERSION}`, { messages: hi, max_tokens: 2 });
      ok = res.status === 200;
      if (ok) assertLimitHeaders(res.headers, { limitRequests: "1", remainingRequests: "0" });
      else await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(ok, "a request after the stream finished succeeds");
  });

  test("a client that drops its stream frees the slot", async () => {
    const path = `/openai/deployments/tiny-ptu/chat/completions?api-version=${API_VERSION}`;
    const res = await server.post(path, { messages: hi, max_tokens: 1500, stream: true, logit_bias: NO_EOS, temperature: 0 });
    const reader = res.body!.getReader();
    await reader.read();
    assert.equal((await server.post(path, { messages: hi, max_tokens: 2 })).status, 429);
    await reader.cancel();
    let status = 0;
    for (let i = 0; i < 40 && status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 50));
      status = (await server.post(path, { messages: hi, max_tokens: 2 })).status;
    }
    assert.equal(status, 200);
  });
});

describe("GlobalBatch", () => {
  test("synchronous requests are a 400 that points to a Standard deployment", async () => {
    const res = await server.post(`/openai/deployments/tiny-batch/chat/completions?api-version=${API_VERSION}`, { messages: hi, max_tokens: 2 });
    assert.equal(res.status, 400);
    const body = await json(res);
    assert.equal(body.error.code, "OperationNotSupported");
    assert.match(body.error.message, /GlobalBatch.*Batch API.*Standard/);
    assert.equal(res.headers.get("x-ratelimit-limit-requests"), null);
  });
});
