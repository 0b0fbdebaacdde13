// SKU → admission policy and the ARM rate-limit shapes (reference §1.5, §1.6).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { policyFor, rateLimitsOf, skuFamily } from "../../src/core/quotas/policy.ts";
import { estimateChat, estimateCompletion, estimateEmbedding } from "../../src/core/quotas/estimate.ts";
import type { ChatRequest, CompletionRequest, Sampling } from "../../src/core/generation/types.ts";

describe("policyFor", () => {
  test("Standard-like SKUs: capacity × 1,000 tokens per minute, capacity requests per 10 s (= capacity × 6 RPM)", () => {
    for (const name of ["Standard", "GlobalStandard", "DataZoneStandard", "DeveloperTier"]) {
      const p = policyFor({ name, capacity: 8 });
      assert.deepEqual(p, { kind: "standard", sku: name, requestsPerWindow: 8, requestWindowMs: 10_000, tokensPerWindow: 8000, tokenWindowMs: 60_000 });
    }
  });

  test("fixed per-minute limits replace the SKU's (Azure ML serverless: 200,000 TPM and 1,000 RPM whatever the capacity)", () => {
    const p = policyFor({ name: "GlobalStandard", capacity: 1 }, { tokensPerMinute: 200_000, requestsPerMinute: 1000 });
    assert.equal(p.kind, "standard");
    assert.equal(p.kind === "standard" && p.tokensPerWindow, 200_000);
    assert.equal(p.kind === "standard" && (p.requestsPerWindow * 60_000) / p.requestWindowMs, 1000);
  });

  test("SKU names are case-insensitive, as Azure's samples send them", () => {
    assert.equal(policyFor({ name: "standard", capacity: 1 }).kind, "standard");
    assert.equal(policyFor({ name: "developertier", capacity: 1 }).kind, "standard");
    assert.equal(policyFor({ name: "GLOBALPROVISIONEDMANAGED", capacity: 1 }).kind, "provisioned");
    assert.equal(policyFor({ name: "globalbatch", capacity: 1 }).kind, "batch");
    assert.equal(skuFamily("DataZoneBatch"), "batch");
    assert.equal(skuFamily("Premium"), undefined);
  });

  test("Provisioned SKUs: capacity parallel sequences, no token cap", () => {
    for (const name of ["ProvisionedManaged", "GlobalProvisionedManaged", "DataZoneProvisionedManaged"])
      assert.deepEqual(policyFor({ name, capacity: 3 }), { kind: "provisioned", sku: name, slots: 3 });
  });

  test("an unknown SKU name is limited like Standard, never unlimited", () => {
    assert.equal(policyFor({ name: "Whatever", capacity: 2 }).kind, "standard");
  });
});

describe("rateLimitsOf", () => {
  test("Standard: request rule per 10 s and token rule per 60 s, callRateLimit carries both", () => {
    const r = rateLimitsOf({ name: "GlobalStandard", capacity: 10 });
    assert.deepEqual(r.rateLimits, [
      { key: "request", renewalPeriod: 10, count: 10 },
      { key: "token", renewalPeriod: 60, count: 10_000 },
    ]);
    assert.deepEqual(r.callRateLimit, { count: 10, renewalPeriod: 10, rules: r.rateLimits });
  });

  test("Provisioned and Batch have no rate rules", () => {
    assert.deepEqual(rateLimitsOf({ name: "ProvisionedManaged", capacity: 50 }), { rateLimits: [] });
    assert.deepEqual(rateLimitsOf({ name: "GlobalBatch", capacity: 50 }), { rateLimits: [] });
  });
});

const sampling: Sampling = { temperature: 1, topP: 1, presencePenalty: 0, frequencyPenalty: 0, logitBias: {} };
const chat = (over: Partial<ChatRequest>): ChatRequest => ({
  deployment: "d",
  messages: [{ role: "user", content: "x".repeat(10) }],
  sampling,
  stop: [],
  n: 1,
  logprobs: false,
  topLogprobs: 0,
  responseFormat: { type: "text" },
  tools: [],
  toolChoice: "none",
  parallelToolCalls: true,
  ...over,
});

describe("token estimates", () => {
  test("chat: characters / 4 of messages, tools and schema, rounded up, plus max_tokens × n", () => {
    assert.deepEqual(estimateChat(chat({})), { prompt: 3, completion: 0, total: 3 });
    assert.deepEqual(estimateChat(chat({ maxTokens: 100, n: 3 })), { prompt: 3, completion: 300, total: 303 });
    const tool = { name: "get_weather", parameters: { type: "object" } };
    const withTool = estimateChat(chat({ tools: [tool] }));
    assert.equal(withTool.prompt, Math.ceil((10 + JSON.stringify(tool).length) / 4));
    const schema = { type: "object", properties: { a: { type: "string" } } };
    const withSchema = estimateChat(chat({ responseFormat: { type: "json_schema", name: "s", schema, strict: true } }));
    assert.equal(withSchema.prompt, Math.ceil((10 + JSON.stringify(schema).length) / 4));
  });

  test("completions: every prompt, and max_tokens for each of best_of candidates", () => {
    const req: CompletionRequest = { deployment: "d", prompts: ["abcd", "abcdefgh"], echo: false, maxTokens: 16, sampling, stop: [], n: 1, bestOf: 3, logprobs: null };
    assert.deepEqual(estimateCompletion(req), { prompt: 3, completion: 16 * 3 * 2, total: 99 });
  });

  test("embeddings: the input strings only", () => {
    assert.deepEqual(estimateEmbedding({ deployment: "d", inputs: ["abcde", "abc"] }), { prompt: 2, completion: 0, total: 2 });
  });
});
