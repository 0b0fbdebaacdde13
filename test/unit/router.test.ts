// The model router (core/router): the rule (policy.ts: the three modes, context fit, the
// difficulty heuristic), the candidates a router may use (ModelRouter over the real deployment
// rules and an in-memory store), the routing config checks on the deployment PUT (unknown
// mode or models → 400 naming what exists), and routed generation through GenerationService
// with a fake engine: the model used, the fallback order on 429/503 before output, counted.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Catalog } from "../../src/core/catalog/catalog.ts";
import { DeploymentService } from "../../src/core/deployments/service.ts";
import { IngotError, errors } from "../../src/core/errors.ts";
import { GenerationService } from "../../src/core/generation/service.ts";
import type { ChatChunk, ChatRequest } from "../../src/core/generation/types.ts";
import type { Engine, EngineEvent, EngineTarget, GenerateParams } from "../../src/core/ports/index.ts";
import { InMemoryRateLimiter } from "../../src/core/quotas/rate-limiter.ts";
import { difficultyOf, plan } from "../../src/core/router/policy.ts";
import type { RouteCandidate } from "../../src/core/router/policy.ts";
import { ModelRouter, autoDeployment } from "../../src/core/router/router.ts";
import { caught, rejection } from "./caught.ts";
import { MemoryResourceStore } from "./memory-resource-store.ts";

const T = { timeout: 10_000 };
const ACCOUNT = "acct";

const small: RouteCandidate = { deployment: "small", model: "small", contextLength: 512, capability: 0.2, price: 0.05 };
const large: RouteCandidate = { deployment: "large", model: "large", contextLength: 4096, capability: 0.8, price: 2 };
const mid: RouteCandidate = { deployment: "mid", model: "mid", contextLength: 2048, capability: 0.5, price: 0.5 };

describe("routing rule", () => {
  test("quality picks the most capable that fits, whatever the price", T, () => {
    const p = plan("quality", [small, mid, large], { promptTokens: 10, maxTokens: 10, difficulty: 0 });
    assert.deepEqual(p.order.map((c) => c.deployment), ["large", "mid", "small"]);
    assert.equal(p.reason, "most_capable");
  });

  test("balanced and cost pick the cheapest for an easy prompt, the capable one for a hard prompt", T, () => {
    for (const mode of ["balanced", "cost"] as const) {
      assert.equal(plan(mode, [large, small, mid], { promptTokens: 5, maxTokens: 10, difficulty: 0 }).order[0].deployment, "small", mode);
      const hard = plan(mode, [large, small, mid], { promptTokens: 300, maxTokens: 100, difficulty: 0.8 });
      assert.equal(hard.order[0].deployment, "large", mode);
      // Fallback order after the choice: the next most capable.
      assert.deepEqual(hard.order.map((c) => c.deployment), ["large", "mid", "small"], mode);
    }
  });

  test("cost accepts a larger quality gap than balanced", T, () => {
    // difficulty 0.12: expected quality large 0.976, mid 0.94, small 0.904.
    const req = { promptTokens: 5, maxTokens: 10, difficulty: 0.12 };
    assert.equal(plan("balanced", [small, mid, large], req).order[0].deployment, "large");
    assert.equal(plan("cost", [small, mid, large], req).order[0].deployment, "mid");
    assert.equal(plan("cost", [small, mid, large], req).reason, "cheapest_capable");
    assert.equal(plan("balanced", [small, mid, large], req).reason, "cheapest_within_margin");
  });

  test("a candidate whose context cannot hold prompt + max_tokens is left out, with why", T, () => {
    const p = plan("cost", [small, large], { promptTokens: 400, maxTokens: 200, difficulty: 0 });
    assert.deepEqual(p.order.map((c) => c.deployment), ["large"]);
    assert.match(p.excluded[0].why, /context 512 < 600/);
    assert.equal(plan("quality", [small], { promptTokens: 400, maxTokens: 200, difficulty: 0 }).order.length, 0);
  });

  test("equal prices: the faster measured model first", T, () => {
    const a = { ...small, deployment: "a", tokensPerSecond: 10 };
    const b = { ...small, deployment: "b", tokensPerSecond: 50 };
    assert.equal(plan("cost", [a, b], { promptTokens: 5, maxTokens: 0, difficulty: 0 }).order[0].deployment, "b");
  });

  test("difficulty: short chat is easy; code, math, multi-step wording and several questions add up", T, () => {
    assert.ok(difficultyOf("Hi!", 1) < 0.05);
    const hard = "Explain why, step by step, and compare: prove that the integral of x^2 is x^3/3.\n```python\ndef f(x): return x*x\n```\nWhat is 3 * 4? Why? How?";
    const d = difficultyOf(hard, 40);
    assert.ok(d >= 0.6, String(d));
    assert.ok(difficultyOf("a".repeat(8000), 2000) >= 0.3);
  });
});

// ---- the service over the real deployment rules ----

const skus = [
  { name: "GlobalStandard", minCapacity: 1, maxCapacity: 1000, defaultCapacity: 100 },
  { name: "DataZoneStandard", minCapacity: 1, maxCapacity: 1000, defaultCapacity: 100 },
];
const chatModel = (name: string, sizeBytes: number, contextLength: number) => ({
  format: "Test",
  name,
  version: "1",
  capabilities: ["chatCompletion"],
  contextLength,
  weights: `file:/models/${name}.gguf`,
  sizeBytes,
  skus,
  lifecycleStatus: "GenerallyAvailable",
  license: "MIT",
});
const routerModel = { format: "OpenAI", name: "model-router", version: "2025-11-18", capabilities: ["chatCompletion"], contextLength: 200000, weights: "none", engine: "router", skus, lifecycleStatus: "GenerallyAvailable", license: "Proprietary" };

class FakeEngine implements Engine {
  readonly name = "fake";
  calls: string[] = [];
  failing = new Map<string, Error>();
  async load() {}
  async unload() {}
  async loadAdapter() {}
  async unloadAdapter() {}
  async *generate(target: EngineTarget, _params: GenerateParams): AsyncGenerator<EngineEvent> {
    this.calls.push(target.key);
    const e = this.failing.get(target.key);
    if (e) throw e;
    await new Promise((r) => setImmediate(r));
    yield { type: "content", text: "ok" };
    yield { type: "end", finishReason: "stop", usage: { promptTokens: 3, completionTokens: 1, cachedTokens: 0 } };
  }
  async embed() {
    return { vectors: [], promptTokens: 0 };
  }
  status() {
    return [];
  }
  async close() {}
}

function setup() {
  const store = new MemoryResourceStore();
  const catalog = new Catalog(Catalog.validateEntries([chatModel("small", 5e8, 512), chatModel("large", 2e10, 4096), routerModel], "test"));
  const deployments = new DeploymentService(store, catalog);
  const engine = new FakeEngine();
  const decisions: { router: string; model: string; mode: string; reason: string }[] = [];
  const fallbacks: { router: string; model: string; reason: string }[] = [];
  const router = new ModelRouter({ deployments, catalog, metrics: { routed: (e) => decisions.push(e), fallback: (e) => fallbacks.push(e) } });
  const generation = new GenerationService(engine, deployments, router, new InMemoryRateLimiter(), { router });
  const deploy = (name: string, model: { format: string; name: string; version: string }, extra: { routing?: unknown; sku?: { name: string; capacity: number } } = {}) => {
    const { deployment } = deployments.createOrUpdate(ACCOUNT, name, { model, sku: extra.sku ?? { name: "GlobalStandard", capacity: 100 }, routing: extra.routing });
    deployments.setState(deployment, "Succeeded", null, { phase: "ready", percentComplete: 100 });
  };
  deploy("small", { format: "Test", name: "small", version: "1" });
  deploy("large", { format: "Test", name: "large", version: "1" });
  return { deployments, engine, generation, router, deploy, decisions, fallbacks };
}
const ROUTER = { format: "OpenAI", name: "model-router", version: "2025-11-18" };

const chatReq = (deployment: string, content: string, maxTokens = 10): ChatRequest => ({
  deployment,
  messages: [{ role: "user", content }],
  maxTokens,
  sampling: { temperature: 1, topP: 1, presencePenalty: 0, frequencyPenalty: 0, logitBias: {} },
  stop: [],
  n: 1,
  logprobs: false,
  topLogprobs: 0,
  responseFormat: { type: "text" },
  tools: [],
  toolChoice: "auto",
  parallelToolCalls: true,
});
async function drain(chunks: AsyncIterable<ChatChunk>): Promise<void> {
  for await (const _ of chunks);
}
const HARD = "Explain why, step by step, and compare two proofs: prove the integral of x^2 is x^3/3. ```def f(x): return x*x``` What is 3 * 4? Why?";

describe("routing config on the deployment PUT", () => {
  test("mode defaults to balanced; accuracy means quality; unknown mode → 400 naming the modes", T, () => {
    const { deployments, deploy } = setup();
    deploy("r1", ROUTER);
    assert.deepEqual(deployments.get(ACCOUNT, "r1")?.options?.routing, { mode: "balanced" });
    deploy("r2", ROUTER, { routing: { mode: "Accuracy" } });
    assert.deepEqual(deployments.get(ACCOUNT, "r2")?.options?.routing, { mode: "quality" });
    const e = caught(() => deploy("r3", ROUTER, { routing: { mode: "fastest" } }));
    assert.equal(e.status, 400);
    assert.match(e.message, /balanced, cost or quality/);
  });

  test("models must be served by a chat deployment of the account: 400 naming those there are", T, () => {
    const { deployments, deploy } = setup();
    deploy("r", ROUTER, { routing: { mode: "cost", models: [{ format: "Test", name: "small", version: "1" }] } });
    assert.deepEqual(deployments.get(ACCOUNT, "r")?.options?.routing?.models, [{ format: "Test", name: "small", version: "1" }]);
    const e = caught(() => deploy("r2", ROUTER, { routing: { models: [{ format: "Test", name: "absent", version: "1" }] } }));
    assert.equal(e.status, 400);
    assert.match(e.message, /Test\/small\/1/);
    assert.match(e.message, /Test\/large\/1/);
    assert.doesNotMatch(e.message, /model-router/);
  });

  test("routing on a model that is not a router → 400", T, () => {
    const { deploy } = setup();
    assert.equal(caught(() => deploy("x", { format: "Test", name: "small", version: "1" }, { routing: { mode: "cost" } })).status, 400);
  });
});

describe("routed generation", () => {
  test("the reply's model is the one picked; cost and quality differ on an easy prompt; counted", T, async () => {
    const { generation, deploy, decisions } = setup();
    deploy("cheap", ROUTER, { routing: { mode: "cost" } });
    deploy("best", ROUTER, { routing: { mode: "quality" } });
    const a = await generation.chat(ACCOUNT, chatReq("cheap", "Hi"), new AbortController().signal);
    await drain(a.chunks);
    assert.equal(a.model, "small");
    const b = await generation.chat(ACCOUNT, chatReq("best", "Hi"), new AbortController().signal);
    await drain(b.chunks);
    assert.equal(b.model, "large");
    const hard = await generation.chat(ACCOUNT, chatReq("cheap", HARD), new AbortController().signal);
    await drain(hard.chunks);
    assert.equal(hard.model, "large");
    assert.deepEqual(decisions.map((d) => [d.router, d.model, d.mode, d.reason]), [
      ["cheap", "small", "cost", "cheapest_capable"],
      ["best", "large", "quality", "most_capable"],
      ["cheap", "large", "cost", "cheapest_capable"],
    ]);
  });

  test("a prompt too long for the small model goes to the one whose context holds it", T, async () => {
    const { generation, deploy } = setup();
    deploy("cheap", ROUTER, { routing: { mode: "cost" } });
    const s = await generation.chat(ACCOUNT, chatReq("cheap", "word ".repeat(400), 100), new AbortController().signal);
    await drain(s.chunks);
    assert.equal(s.model, "large");
    const e = await rejection(generation.chat(ACCOUNT, chatReq("cheap", "word ".repeat(4000), 100), new AbortController().signal));
    assert.equal(e.status, 400);
    assert.match(e.message, /largest context: 4096/);
  });

  test("a 503 or 429 of the chosen candidate before any output falls back to the next, with the reason counted", T, async () => {
    const { generation, deploy, engine, decisions, fallbacks } = setup();
    deploy("cheap", ROUTER, { routing: { mode: "cost" } });
    engine.failing.set("Test/small@1", errors.unavailable("runner restarting"));
    const s = await generation.chat(ACCOUNT, chatReq("cheap", "Hi"), new AbortController().signal);
    await drain(s.chunks);
    assert.equal(s.model, "large");
    assert.deepEqual(engine.calls, ["Test/small@1", "Test/large@1"]);
    assert.deepEqual(fallbacks, [{ router: "cheap", model: "small", reason: "unavailable" }]);
    assert.equal(decisions.at(-1)?.reason, "fallback_unavailable");
    // Every candidate failing: a 503 naming those tried.
    engine.failing.set("Test/large@1", new IngotError("rate_limited", "429", "busy"));
    const e = await rejection(generation.chat(ACCOUNT, chatReq("cheap", "Hi"), new AbortController().signal));
    assert.equal(e.status, 503);
    assert.match(e.message, /small, large tried/);
    assert.equal(fallbacks.at(-1)?.reason, "rate_limited");
  });

  test("a candidate at its own rate limit is passed over (rate_limited)", T, async () => {
    const { generation, deploy, fallbacks } = setup();
    deploy("small", { format: "Test", name: "small", version: "1" }, { sku: { name: "GlobalStandard", capacity: 1 } });
    deploy("cheap", ROUTER, { routing: { mode: "cost" } });
    // 1K TPM: the first request takes most of it, the second is refused there and goes to large.
    const first = await generation.chat(ACCOUNT, chatReq("cheap", "Hi", 400), new AbortController().signal);
    assert.equal(first.model, "small");
    const s = await generation.chat(ACCOUNT, chatReq("cheap", "Hi", 400), new AbortController().signal);
    await drain(s.chunks);
    assert.equal(s.model, "large");
    assert.deepEqual(fallbacks, [{ router: "cheap", model: "small", reason: "rate_limited" }]);
    // Every candidate at its limit: the candidate's 429, which says when to retry.
    deploy("large", { format: "Test", name: "large", version: "1" }, { sku: { name: "GlobalStandard", capacity: 1 } });
    await drain(s.chunks);
    await drain(first.chunks);
    const e = await rejection(generation.chat(ACCOUNT, chatReq("cheap", "Hi", 400), new AbortController().signal));
    assert.equal(e.status, 429);
  });

  test("only the listed models are candidates; none left serving → 503 saying what to deploy", T, async () => {
    const { generation, deploy, deployments } = setup();
    deploy("q", ROUTER, { routing: { mode: "quality", models: [{ format: "Test", name: "small", version: "1" }] } });
    const s = await generation.chat(ACCOUNT, chatReq("q", "Hi"), new AbortController().signal);
    await drain(s.chunks);
    assert.equal(s.model, "small");
    deployments.delete(ACCOUNT, "small");
    const e = await rejection(generation.chat(ACCOUNT, chatReq("q", "Hi"), new AbortController().signal));
    assert.equal(e.status, 503);
    assert.match(e.message, /no chat deployment to route to among small/);
  });

  test("the router learns speeds from usage", T, () => {
    const { router } = setup();
    router.record({ model: "small", usage: { completionTokens: 100 }, firstTokenMs: 0, durationMs: 1000 });
    assert.equal(router.speedOf("small"), 100);
    assert.equal(router.candidates(ACCOUNT, { mode: "cost" }).find((c) => c.model === "small")?.tokensPerSecond, 100);
  });
});

describe("model: auto (v1 Responses)", () => {
  test("names the account's router (first by name); not when there is none, or a deployment is called auto", T, () => {
    const { deployments, deploy } = setup();
    const catalog = new Catalog(Catalog.validateEntries([chatModel("small", 5e8, 512), chatModel("large", 2e10, 4096), routerModel], "test"));
    assert.equal(autoDeployment("auto", deployments.list(ACCOUNT), catalog), undefined);
    deploy("zeta", ROUTER);
    deploy("alpha", ROUTER);
    assert.equal(autoDeployment("auto", deployments.list(ACCOUNT), catalog), "alpha");
    assert.equal(autoDeployment("small", deployments.list(ACCOUNT), catalog), undefined);
    deploy("auto", { format: "Test", name: "small", version: "1" });
    assert.equal(autoDeployment("auto", deployments.list(ACCOUNT), catalog), undefined);
  });
});
