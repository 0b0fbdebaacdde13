// The generation rules (core/generation/service.ts) against a fake Engine, a usage sink that
// records, the real deployment rules over an in-memory ResourceStore, and the in-memory rate
// limiter on an injected clock: deployment resolution (unknown → DeploymentNotFound, wrong
// capability and Batch SKU → 400, not ready → 503 saying when to retry), admission and the 429
// with its retry-after, usage corrected to the real tokens after the reply, per-request
// parallelism, engine errors, and release of the admission when a stream is cancelled.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Catalog } from "../../src/core/catalog/catalog.ts";
import { DeploymentService } from "../../src/core/deployments/service.ts";
import { IngotError } from "../../src/core/errors.ts";
import { GenerationService } from "../../src/core/generation/service.ts";
import type { ChatChunk, ChatRequest, CompletionRequest, Usage } from "../../src/core/generation/types.ts";
import type { Engine, EngineEvent, EngineStatus, EngineTarget, GenerateParams, UsageSink } from "../../src/core/ports/index.ts";
import { InMemoryRateLimiter } from "../../src/core/quotas/rate-limiter.ts";
import type { RateLimitSnapshot } from "../../src/core/quotas/rate-limiter.ts";
import { MemoryResourceStore } from "./memory-resource-store.ts";
import { rejection } from "./caught.ts";

const T = { timeout: 10_000 };
const ACCOUNT = "acct";

/** What one generate call does: its events (a tick apart), an error before the first, or an error after some. */
interface Script {
  events?: EngineEvent[];
  before?: Error;
  after?: { events: number; error: Error };
  /** After its events, wait for the abort instead of ending. */
  hang?: boolean;
}

const end = (completionTokens: number, promptTokens = 5, finishReason: "stop" | "length" = "stop"): EngineEvent => ({ type: "end", finishReason, usage: { promptTokens, completionTokens, cachedTokens: 0 } });
const tick = () => new Promise((r) => setImmediate(r));

/** An engine whose generations follow a script, counting how many run at once. */
class FakeEngine implements Engine {
  readonly name = "fake";
  calls: { target: EngineTarget; params: GenerateParams; signal: AbortSignal }[] = [];
  embedCalls: { target: EngineTarget; inputs: string[] }[] = [];
  active = 0;
  mostActive = 0;
  finished = 0;
  script: (call: number, params: GenerateParams) => Script = () => ({ events: [{ type: "content", text: "hi" }, end(1)] });

  async load() {}
  async unload() {}
  async loadAdapter() {}
  async unloadAdapter() {}
  async *generate(target: EngineTarget, params: GenerateParams, signal: AbortSignal): AsyncGenerator<EngineEvent> {
    const call = this.calls.push({ target, params, signal }) - 1;
    const s = this.script(call, params);
    if (s.before) throw s.before;
    this.active++;
    this.mostActive = Math.max(this.mostActive, this.active);
    try {
      let sent = 0;
      for (const e of s.events ?? []) {
        if (s.after && sent === s.after.events) throw s.after.error;
        await tick();
        yield e;
        sent++;
      }
      if (s.after && sent === s.after.events) throw s.after.error;
      if (s.hang) await new Promise((_, reject) => (signal.aborted ? reject(new Error("aborted")) : signal.addEventListener("abort", () => reject(new Error("aborted")), { once: true })));
    } finally {
      this.active--;
      this.finished++;
    }
  }
  async embed(target: EngineTarget, inputs: string[]) {
    this.embedCalls.push({ target, inputs });
    return { vectors: inputs.map(() => [3, 4, 0, 0]), promptTokens: 11 * inputs.length };
  }
  status(): EngineStatus[] {
    return [];
  }
  async close() {}
}

class RecordingSink implements UsageSink {
  records: { account: string; deployment: string; model: string; usage: Usage }[] = [];
  limited: { account: string; deployment: string; model: string }[] = [];
  record(entry: { account: string; deployment: string; model: string; usage: Usage }) {
    this.records.push({ account: entry.account, deployment: entry.deployment, model: entry.model, usage: { ...entry.usage } });
  }
  rateLimited(entry: { account: string; deployment: string; model: string }) {
    this.limited.push(entry);
  }
}

const skus = [
  { name: "GlobalStandard", minCapacity: 1, maxCapacity: 1000, defaultCapacity: 1 },
  { name: "GlobalBatch", minCapacity: 1, maxCapacity: 1000, defaultCapacity: 1 },
  { name: "ProvisionedManaged", minCapacity: 1, maxCapacity: 100, defaultCapacity: 1 },
];
const model = (name: string, capabilities: string[]) => ({
  format: "Test",
  name,
  version: "1",
  capabilities,
  contextLength: 256,
  weights: `file:/models/${name}.gguf`,
  skus,
  lifecycleStatus: "GenerallyAvailable",
  license: "MIT",
});

function setup(opts: { parallelPerRequest?: number } = {}) {
  let now = 1_700_000_000_000;
  const clock = () => now;
  const store = new MemoryResourceStore();
  const catalog = new Catalog(Catalog.validateEntries([model("chat", ["chatCompletion", "completion"]), model("embed", ["embeddings"])], "test"));
  const deployments = new DeploymentService(store, catalog, { clock });
  const engine = new FakeEngine();
  const sink = new RecordingSink();
  const generation = new GenerationService(engine, deployments, sink, new InMemoryRateLimiter(clock), { parallelPerRequest: opts.parallelPerRequest });
  /** A deployment the reconciler has finished loading. */
  const deploy = (name: string, modelName = "chat", sku = { name: "GlobalStandard", capacity: 1000 }) => {
    const { deployment } = deployments.createOrUpdate(ACCOUNT, name, { model: { format: "Test", name: modelName, version: "1" }, sku });
    deployments.setState(deployment, "Succeeded", null, { phase: "ready", percentComplete: 100 });
  };
  return { store, deployments, engine, sink, generation, deploy, advance: (ms: number) => void (now += ms) };
}

const sampling = { temperature: 1, topP: 1, presencePenalty: 0, frequencyPenalty: 0, logitBias: {} };
/** 12 characters of prompt: estimated at 3 tokens. */
const chatReq = (deployment: string, extra: Partial<ChatRequest> = {}): ChatRequest => ({
  deployment,
  messages: [{ role: "user", content: "hello world!" }],
  maxTokens: 10,
  sampling,
  stop: [],
  n: 1,
  logprobs: false,
  topLogprobs: 0,
  responseFormat: { type: "text" },
  tools: [],
  toolChoice: "auto",
  parallelToolCalls: true,
  ...extra,
});
const completionReq = (deployment: string, extra: Partial<CompletionRequest> = {}): CompletionRequest => ({
  deployment,
  prompts: ["abcd"],
  echo: false,
  maxTokens: 10,
  sampling,
  stop: [],
  n: 1,
  bestOf: 1,
  logprobs: null,
  ...extra,
});

const signal = () => new AbortController().signal;
async function drain(chunks: AsyncIterable<ChatChunk>): Promise<ChatChunk[]> {
  const out: ChatChunk[] = [];
  for await (const c of chunks) out.push(c);
  return out;
}

describe("deployment resolution", () => {
  test("an unknown deployment is DeploymentNotFound (404); nothing runs and nothing is charged", T, async () => {
    const s = setup();
    const e = await rejection(s.generation.chat(ACCOUNT, chatReq("nope"), signal()));
    assert.equal(e.status, 404);
    assert.equal(e.code, "DeploymentNotFound");
    assert.equal(s.engine.calls.length, 0);
    assert.deepEqual(s.sink.records, []);
    assert.equal(await s.generation.limits(ACCOUNT, "nope"), null);
    // Another account's deployment is not found either.
    s.deploy("d");
    assert.equal((await rejection(s.generation.chat("other", chatReq("d"), signal()))).code, "DeploymentNotFound");
  });

  test("an operation the model cannot do is a 400 OperationNotSupported naming the model", T, async () => {
    const s = setup();
    s.deploy("e", "embed");
    const e = await rejection(s.generation.chat(ACCOUNT, chatReq("e"), signal()));
    assert.equal(e.status, 400);
    assert.equal(e.code, "OperationNotSupported");
    assert.equal(e.message, "The chatCompletion operation does not work with the specified model, embed. Please choose different model and try again.");
    s.deploy("c");
    assert.equal((await rejection(s.generation.embed(ACCOUNT, { deployment: "c", inputs: ["x"] }, signal()))).code, "OperationNotSupported");
    assert.equal(s.engine.calls.length + s.engine.embedCalls.length, 0);
  });

  test("a Batch SKU serves no synchronous requests: 400 saying which SKU to use; no limits are reported", T, async () => {
    const s = setup();
    s.deploy("b", "chat", { name: "GlobalBatch", capacity: 10 });
    const limits: RateLimitSnapshot[] = [];
    const e = await rejection(s.generation.chat(ACCOUNT, chatReq("b"), signal(), { onLimits: (l) => limits.push(l) }));
    assert.equal(e.status, 400);
    assert.equal(e.code, "OperationNotSupported");
    assert.match(e.message, /Deployment 'b' has the GlobalBatch SKU, which serves the Batch API .* not synchronous ChatCompletions_Create requests\. Send this request to a deployment with a Standard or GlobalStandard SKU/);
    assert.deepEqual(limits, []);
    assert.equal(await s.generation.limits(ACCOUNT, "b"), null);
    assert.equal(s.engine.calls.length, 0);
    assert.deepEqual(s.sink.limited, [], "a Batch refusal is not a rate limit");
  });

  test("Batch API lines (batch option) run on a Batch SKU outside the online limits, and only there", T, async () => {
    const s = setup();
    s.deploy("b", "chat", { name: "GlobalBatch", capacity: 10 });
    s.deploy("std", "chat", { name: "GlobalStandard", capacity: 1 });
    const stream = await s.generation.chat(ACCOUNT, chatReq("b"), signal(), { batch: true });
    for await (const _ of stream.chunks);
    assert.equal(s.engine.calls.length, 1);
    assert.ok(stream.usage.completionTokens > 0, "usage is accounted as for online calls");
    const e = await rejection(s.generation.chat(ACCOUNT, chatReq("std"), signal(), { batch: true }));
    assert.equal(e.status, 400);
    assert.match(e.message, /batch jobs run on GlobalBatch or DataZoneBatch deployments/);
  });

  test("a deployment not ready is a 503 that says it is provisioning (retry in seconds) or failed (and when Ingot retries)", T, async () => {
    const s = setup();
    s.deployments.createOrUpdate(ACCOUNT, "p", { model: { format: "Test", name: "chat", version: "1" }, sku: { name: "GlobalStandard", capacity: 10 } });
    const loading = s.deployments.get(ACCOUNT, "p")!;
    s.deployments.setProgress(loading, { phase: "downloading", percentComplete: 42.4 });
    const e = await rejection(s.generation.chat(ACCOUNT, chatReq("p"), signal()));
    assert.equal(e.status, 503);
    assert.equal(e.code, "ServiceUnavailable");
    assert.equal(e.message, "Deployment 'p' is still provisioning (Accepted, downloading 42%). Retry in a few seconds.");
    s.deployments.setState(loading, "Failed", "runner exited (SIGKILL)", { phase: "failed", percentComplete: 0, attempts: 1, nextRetryAt: "2026-12-03T15:00:00.000Z" });
    const failed = await rejection(s.generation.complete(ACCOUNT, completionReq("p"), signal()));
    assert.equal(failed.status, 503);
    assert.match(failed.message, /^Deployment 'p' failed to provision: runner exited \(SIGKILL\)\. .*Ingot retries at 2026-12-03T15:00:00\.000Z\.$/);
    assert.equal(s.engine.calls.length, 0);
  });

  test("a served deployment runs on its engine key, reports its model name, and a name in another case finds it", T, async () => {
    const s = setup();
    s.deploy("MyChat");
    const stream = await s.generation.chat(ACCOUNT, chatReq("mychat"), signal());
    assert.equal(stream.model, "chat");
    assert.match(stream.id, /^chatcmpl-[0-9a-f]{29}$/);
    assert.deepEqual(await drain(stream.chunks), [
      { type: "content", index: 0, text: "hi", logprobs: undefined },
      { type: "finish", index: 0, reason: "stop" },
    ]);
    assert.deepEqual(s.engine.calls[0].target, { key: "Test/chat@1", adapter: undefined });
    assert.equal(s.sink.records[0].deployment, "MyChat");
  });
});

describe("rate limits", () => {
  test("capacity 1 admits one request per 10 s: the next is a 429 with retry-after from the limiter; the clock moving on admits it", T, async () => {
    const s = setup();
    s.deploy("d", "chat", { name: "GlobalStandard", capacity: 1 });
    const seen: RateLimitSnapshot[] = [];
    const onLimits = (l: RateLimitSnapshot) => seen.push(l);
    await drain((await s.generation.chat(ACCOUNT, chatReq("d"), signal(), { apiVersion: "2024-10-21", onLimits })).chunks);
    assert.equal(seen[0].limitRequests, 1);
    assert.equal(seen[0].remainingRequests, 0);
    s.advance(4000);
    const e = await rejection(s.generation.chat(ACCOUNT, chatReq("d"), signal(), { apiVersion: "2024-10-21", onLimits }));
    assert.equal(e.status, 429);
    assert.equal(e.retryAfterMs, 6000);
    assert.equal((e as IngotError & { rateLimit?: string }).rateLimit, "requests");
    assert.match(e.message, /^Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have exceeded call rate limit .* Please retry after 6 seconds\./);
    assert.deepEqual(s.sink.limited, [{ account: ACCOUNT, deployment: "d", model: "chat" }]);
    assert.equal(seen.length, 2, "the refused request's reply carries the limits too");
    assert.equal(seen[1].remainingRequests, 0);
    assert.equal(seen[1].resetRequestsMs, 6000);
    assert.equal(s.engine.calls.length, 1, "the refused request never reached the engine");
    s.advance(6000);
    await drain((await s.generation.chat(ACCOUNT, chatReq("d"), signal(), { onLimits })).chunks);
    assert.equal(s.engine.calls.length, 2);
  });

  test("tokens: a request estimated above the deployment's tokens per minute is refused up front, saying by how much", T, async () => {
    const s = setup();
    s.deploy("d", "chat", { name: "GlobalStandard", capacity: 1 });
    const e = await rejection(s.generation.chat(ACCOUNT, chatReq("d", { maxTokens: 500, n: 2 }), signal()));
    assert.equal(e.status, 429);
    assert.match(e.message, /This request alone is estimated at 1003 tokens, more than deployment 'd' allows per minute \(1000\)/);
    assert.equal(e.retryAfterMs, undefined, "waiting would not help");
  });

  test("usage is corrected to the real tokens once the reply is done: the limiter frees the unused max_tokens, the sink gets real figures", T, async () => {
    const s = setup();
    s.deploy("d", "chat", { name: "GlobalStandard", capacity: 10 });
    s.engine.script = () => ({ events: [{ type: "content", text: "a" }, { type: "content", text: "b" }, end(2, 9)] });
    const stream = await s.generation.chat(ACCOUNT, chatReq("d", { maxTokens: 4000, n: 2 }), signal());
    // Charged at admission: 3 (prompt estimate) + 2 × 4000.
    assert.equal((await s.generation.limits(ACCOUNT, "d"))!.remainingTokens, 10_000 - 8003);
    const chunks = await drain(stream.chunks);
    assert.deepEqual(chunks.filter((c) => c.type === "finish").map((c) => c.index).sort(), [0, 1]);
    // n choices share one prompt: counted once (9); completions add up (2 + 2).
    assert.deepEqual(stream.usage, { promptTokens: 9, completionTokens: 4, cachedTokens: 0 });
    assert.equal((await s.generation.limits(ACCOUNT, "d"))!.remainingTokens, 10_000 - 13);
    assert.deepEqual(s.sink.records, [{ account: ACCOUNT, deployment: "d", model: "chat", usage: { promptTokens: 9, completionTokens: 4, cachedTokens: 0 } }]);
  });

  test("completions: each prompt's tokens count once across its choices; the prompts add up", T, async () => {
    const s = setup();
    s.deploy("d");
    s.engine.script = (_call, params) => ({ events: [end(3, params.input.kind === "text" && params.input.prompt === "first" ? 4 : 6)] });
    const stream = await s.generation.complete(ACCOUNT, completionReq("d", { prompts: ["first", "second"], n: 3 }), signal());
    assert.match(stream.id, /^cmpl-/);
    const finishes = (await drain(stream.chunks)).filter((c) => c.type === "finish").map((c) => c.index);
    assert.deepEqual(finishes.sort(), [0, 1, 2, 3, 4, 5]);
    assert.deepEqual(stream.usage, { promptTokens: 10, completionTokens: 18, cachedTokens: 0 });
    // Choices 0–2 are the first prompt's, 3–5 the second's.
    assert.deepEqual(
      s.engine.calls.map((c) => (c.params.input.kind === "text" ? c.params.input.prompt : "")),
      ["first", "first", "first", "second", "second", "second"],
    );
  });

  test("embeddings: charged, corrected to the engine's count, recorded; vectors cut to `dimensions` and normalised", T, async () => {
    const s = setup();
    s.deploy("e", "embed", { name: "GlobalStandard", capacity: 1 });
    const result = await s.generation.embed(ACCOUNT, { deployment: "e", inputs: ["aaaa", "bbbb"], dimensions: 2 }, signal());
    assert.deepEqual(result, { model: "embed", vectors: [[0.6, 0.8], [0.6, 0.8]], promptTokens: 22 });
    assert.deepEqual(s.sink.records[0].usage, { promptTokens: 22, completionTokens: 0, cachedTokens: 0 });
    assert.equal((await s.generation.limits(ACCOUNT, "e"))!.remainingTokens, 1000 - 22);
  });
});

describe("per-request parallelism", () => {
  test("a request with 10 choices runs at most parallelPerRequest (3) at once, and every choice finishes", T, async () => {
    const s = setup({ parallelPerRequest: 3 });
    s.deploy("d");
    s.engine.script = () => ({ events: [{ type: "content", text: "x" }, { type: "content", text: "y" }, end(2)] });
    const stream = await s.generation.chat(ACCOUNT, chatReq("d", { n: 10, sampling: { ...sampling, seed: 42 } }), signal());
    assert.equal(s.engine.calls.length, 3, "only the first three start before the reply begins");
    const chunks = await drain(stream.chunks);
    assert.equal(s.engine.calls.length, 10);
    assert.equal(s.engine.mostActive, 3);
    assert.deepEqual(chunks.filter((c) => c.type === "finish").map((c) => c.index).sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    for (let i = 0; i < 10; i++) assert.equal(chunks.filter((c) => c.type === "content" && c.index === i).map((c) => (c as { text: string }).text).join(""), "xy", `choice ${i}`);
    // Each choice its own seed: the request's seed plus its index.
    assert.deepEqual(s.engine.calls.map((c) => c.params.sampling.seed).sort((a, b) => a! - b!), [42, 43, 44, 45, 46, 47, 48, 49, 50, 51]);
    assert.deepEqual(stream.usage, { promptTokens: 5, completionTokens: 20, cachedTokens: 0 });
  });

  test("the count is real: with a limit above n, all 10 run at once; without a seed each choice still gets its own", T, async () => {
    const s = setup({ parallelPerRequest: 100 });
    s.deploy("d");
    s.engine.script = () => ({ events: [{ type: "content", text: "x" }, end(1)] });
    await drain((await s.generation.chat(ACCOUNT, chatReq("d", { n: 10 }), signal())).chunks);
    assert.equal(s.engine.mostActive, 10);
    assert.equal(new Set(s.engine.calls.map((c) => c.params.sampling.seed)).size, 10);
  });
});

describe("engine errors", () => {
  test("an error before the first event rejects the call as the engine's IngotError; only the prompt estimate stays charged", T, async () => {
    const s = setup();
    s.deploy("d", "chat", { name: "GlobalStandard", capacity: 1 });
    s.engine.script = () => ({ before: new IngotError("invalid_request", "context_length_exceeded", "This model's maximum context length is 256 tokens.", { param: "messages" }) });
    const e = await rejection(s.generation.chat(ACCOUNT, chatReq("d", { maxTokens: 500 }), signal()));
    assert.equal(e.status, 400);
    assert.equal(e.code, "context_length_exceeded");
    assert.equal(e.param, "messages");
    // Admission charged 3 + 500; nothing was generated, so 3 remain charged.
    assert.equal((await s.generation.limits(ACCOUNT, "d"))!.remainingTokens, 1000 - 3);
  });

  test("when one of the first choices fails before its first event, the ones that started are closed (their engine sequences freed)", T, async () => {
    const s = setup({ parallelPerRequest: 4 });
    s.deploy("p", "chat", { name: "ProvisionedManaged", capacity: 4 });
    s.engine.script = (call) =>
      call === 2 ? { before: new IngotError("unavailable", "ServiceUnavailable", "The model runner is restarting. Retry the request in a few seconds.") } : { events: [{ type: "content", text: "a" }], hang: true };
    const e = await rejection(s.generation.chat(ACCOUNT, chatReq("p", { n: 3 }), signal()));
    assert.equal(e.status, 503);
    assert.equal(s.engine.calls.length, 3);
    await tick();
    assert.equal(s.engine.active, 0, "choices 0 and 1 were started and must not be left parked");
    assert.equal(s.engine.finished, 2, "both started generations ended");
    assert.equal((await s.generation.limits(ACCOUNT, "p"))!.remainingRequests, 4);
  });

  test("a failure mid-stream ends the stream with the error; usage so far is recorded and the charge settled to it", T, async () => {
    const s = setup();
    s.deploy("d", "chat", { name: "GlobalStandard", capacity: 10 });
    s.engine.script = (call) =>
      // Choice 0 ends (two ticks) before choice 1 fails (after four).
      call === 0 ? { events: [{ type: "content", text: "ok" }, end(7, 20)] } : { events: ["p", "a", "r", "t"].map((text) => ({ type: "content", text })), after: { events: 4, error: new Error("runner exited (SIGSEGV)") } };
    // A 400-character prompt: estimated at 100 tokens.
    const stream = await s.generation.chat(ACCOUNT, chatReq("d", { n: 2, maxTokens: 100, messages: [{ role: "user", content: "x".repeat(400) }] }), signal());
    const got: ChatChunk[] = [];
    await assert.rejects(
      (async () => {
        for await (const c of stream.chunks) got.push(c);
      })(),
      /runner exited \(SIGSEGV\)/,
    );
    assert.equal(got.filter((c) => c.type === "content" && c.index === 1).map((c) => (c as { text: string }).text).join(""), "part", "what came before the failure was streamed");
    assert.deepEqual(got.filter((c) => c.type === "finish").map((c) => c.index), [0]);
    assert.equal(s.sink.records.length, 1);
    // Choice 0 ended (its engine counted a prompt of 20, and 7 tokens); choice 1 did not, so the prompt is charged at the larger of the count and the estimate (100).
    assert.equal((await s.generation.limits(ACCOUNT, "d"))!.remainingTokens, 10_000 - 107);
    assert.deepEqual(s.sink.records[0].usage, { promptTokens: 20, completionTokens: 7, cachedTokens: 0 });
  });
});

describe("cancellation releases", () => {
  test("an abort frees a provisioned deployment's slot even when the stream is never drained, and stops the engine", T, async () => {
    const s = setup();
    s.deploy("p", "chat", { name: "ProvisionedManaged", capacity: 1 });
    s.engine.script = () => ({ events: [{ type: "content", text: "first" }], hang: true });
    const controller = new AbortController();
    const stream = await s.generation.chat(ACCOUNT, chatReq("p"), controller.signal);
    assert.equal(stream.model, "chat");
    assert.equal((await s.generation.limits(ACCOUNT, "p"))!.remainingRequests, 0);
    const busy = await rejection(s.generation.chat(ACCOUNT, chatReq("p"), signal()));
    assert.equal(busy.status, 429);
    assert.equal((busy as IngotError & { rateLimit?: string }).rateLimit, "sequences");
    controller.abort();
    assert.equal(s.engine.calls[0].signal.aborted, true, "the engine sees the abort");
    assert.equal((await s.generation.limits(ACCOUNT, "p"))!.remainingRequests, 1);
    s.engine.script = () => ({ events: [end(1)] });
    await drain((await s.generation.chat(ACCOUNT, chatReq("p"), signal())).chunks);
  });

  test("a client gone before admission completes (signal already aborted) still frees the slot without the stream being drained", T, async () => {
    const s = setup();
    s.deploy("p", "chat", { name: "ProvisionedManaged", capacity: 1 });
    const controller = new AbortController();
    controller.abort();
    const stream = await s.generation.chat(ACCOUNT, chatReq("p"), controller.signal);
    assert.equal(stream.model, "chat");
    assert.equal(s.engine.calls.length, 0, "nothing is generated for a client that is gone");
    assert.equal((await s.generation.limits(ACCOUNT, "p"))!.remainingRequests, 1);
  });

  test("a consumer that stops reading (break) releases the slot and records the usage", T, async () => {
    const s = setup();
    s.deploy("p", "chat", { name: "ProvisionedManaged", capacity: 1 });
    s.engine.script = () => ({ events: [{ type: "content", text: "a" }, { type: "content", text: "b" }], hang: true });
    const controller = new AbortController();
    const stream = await s.generation.chat(ACCOUNT, chatReq("p"), controller.signal);
    for await (const c of stream.chunks) {
      assert.equal(c.type, "content");
      break;
    }
    assert.equal((await s.generation.limits(ACCOUNT, "p"))!.remainingRequests, 1);
    assert.equal(s.sink.records.length, 1);
    controller.abort(); // what the http layer does when the reply ends; lets the parked engine call go
    await tick();
    assert.equal(s.engine.active, 0);
  });

  test("queued choices of an aborted request never start", T, async () => {
    const s = setup({ parallelPerRequest: 2 });
    s.deploy("d");
    s.engine.script = () => ({ events: [{ type: "content", text: "a" }], hang: true });
    const controller = new AbortController();
    const stream = await s.generation.chat(ACCOUNT, chatReq("d", { n: 6 }), controller.signal);
    const reading = drain(stream.chunks).catch((e: Error) => e);
    await tick();
    controller.abort();
    await reading;
    assert.equal(s.engine.calls.length, 2, "the four waiting choices were not started after the abort");
    assert.equal(s.engine.active, 0);
  });
});
