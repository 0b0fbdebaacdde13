// Generation rules shared by every inference surface: resolve the deployment, check that
// its model can do what is asked, fan out `n` choices, and account usage.
import { errors } from "../errors.ts";
import type { DeploymentResolver, Engine, EngineEvent, GenerateParams, ResolvedDeployment, UsageSink } from "../ports/index.ts";
import { estimateChat, estimateCompletion, estimateEmbedding } from "../quotas/estimate.ts";
import type { TokenEstimate } from "../quotas/estimate.ts";
import { policyFor } from "../quotas/policy.ts";
import { InMemoryRateLimiter, rateLimitKey } from "../quotas/rate-limiter.ts";
import type { Admission, RateLimiter, RateLimitSnapshot } from "../quotas/rate-limiter.ts";
import type { ModelRouter } from "../router/router.ts";
import { fallbackReasonOf } from "../router/router.ts";
import { merge, primed } from "./primed.ts";
import { checkSchemaLimits, newSchemaBudget } from "./schema-limits.ts";
import type { ChatChunk, ChatRequest, CompletionRequest, EmbeddingRequest, EmbeddingResult, TokenLogprob, Usage } from "./types.ts";

/** What a model can serve; the first three are inference operations, the rest catalog facts. */
export type Capability = "chatCompletion" | "completion" | "embeddings" | "fineTune" | "jsonSchema" | "tools";

/** Several sinks as one (Prometheus counters and the usage history). */
export function usageSinks(...sinks: UsageSink[]): UsageSink {
  return {
    record: (entry) => sinks.forEach((s) => s.record(entry)),
    rateLimited: (entry) => sinks.forEach((s) => s.rateLimited?.(entry)),
  };
}

/** Per-call options from the surface that was called. */
export interface CallOptions {
  /** Named in Azure's 429 message; the v1 routes have none and report "v1". */
  apiVersion?: string;
  /** Called once the deployment is resolved with its limits after admission (also when refused), so replies can carry them. */
  onLimits?: (limits: RateLimitSnapshot) => void;
  /** A Batch API line (core/batch): runs on a GlobalBatch/DataZoneBatch deployment, outside the online rate limits (the batch's enqueued-token quota was charged at create). */
  batch?: boolean;
}

export interface GenerationStream {
  id: string;
  created: number;
  model: string;
  chunks: AsyncIterable<ChatChunk>;
  /** Complete once `chunks` is drained. */
  usage: Usage;
}

export class GenerationService {
  #engine: Engine;
  #deployments: DeploymentResolver;
  #usage: UsageSink | undefined;
  #limiter: RateLimiter;

  #parallelPerRequest: number;
  #router: ModelRouter | undefined;

  /**
   * `parallelPerRequest`: choices of one request generating at once (the rest wait their
   * turn), so that a request with many prompts or a large `n` cannot take every sequence of a
   * model while other requests queue behind it. Default 4 (half the engine's default 8 sequences).
   */
  constructor(engine: Engine, deployments: DeploymentResolver, usage?: UsageSink, limiter: RateLimiter = new InMemoryRateLimiter(), opts: { parallelPerRequest?: number; router?: ModelRouter } = {}) {
    this.#engine = engine;
    this.#deployments = deployments;
    this.#usage = usage;
    this.#limiter = limiter;
    this.#parallelPerRequest = Math.max(1, opts.parallelPerRequest ?? 4);
    this.#router = opts.router;
  }

  /** The deployment's current limits, or null when it does not resolve or serves no synchronous requests. */
  async limits(account: string, deployment: string): Promise<RateLimitSnapshot | null> {
    let d: ResolvedDeployment;
    try {
      d = this.#deployments.resolve(account, deployment);
    } catch {
      return null;
    }
    return this.#limiter.snapshot(rateLimitKey(d.account, d.name), policyFor(d.sku, d.limits));
  }

  /** Charges the request against the deployment's limits (throws the 429 or Batch 400) and reports them. */
  async #admit(d: ResolvedDeployment, operation: string, estimate: TokenEstimate, sequences: number, opts: CallOptions, signal: AbortSignal): Promise<Admission> {
    const policy = policyFor(d.sku, d.limits);
    if (opts.batch) {
      if (policy.kind !== "batch") throw errors.invalid(`Deployment '${d.name}' has the ${d.sku.name} SKU; batch jobs run on GlobalBatch or DataZoneBatch deployments.`, "model");
      return { estimatedTokens: estimate.total, settle: () => {}, release: () => {} };
    }
    const key = rateLimitKey(d.account, d.name);
    let admission: Admission;
    try {
      admission = await this.#limiter.admit(key, policy, estimate.total, { operation, apiVersion: opts.apiVersion ?? "v1", deployment: d.name, sequences });
    } catch (e) {
      if ((e as { status?: number }).status === 429) this.#usage?.rateLimited?.({ account: d.account, deployment: d.name, model: d.modelName });
      throw e;
    } finally {
      const limits = await this.#limiter.snapshot(key, policy);
      if (limits) opts.onLimits?.(limits);
    }
    // A client that goes away frees its provisioned slot even if its stream is never drained;
    // one gone before admission completed (an abort during an async limiter's admit) fires no event.
    if (signal.aborted) admission.release();
    else signal.addEventListener("abort", () => admission.release(), { once: true });
    return admission;
  }

  #resolve(account: string, name: string, capability: Capability, operation: string): ResolvedDeployment {
    const d = this.#deployments.resolve(account, name);
    if (!d.capabilities.includes(capability))
      throw errors.invalid(`The ${operation} operation does not work with the specified model, ${d.modelName}. Please choose different model and try again.`, null, "OperationNotSupported");
    return d;
  }

  async chat(account: string, req: ChatRequest, signal: AbortSignal, opts: CallOptions = {}): Promise<GenerationStream> {
    const d = this.#resolve(account, req.deployment, "chatCompletion", "chatCompletion");
    checkRequestSchemas(req);
    const estimate = estimateChat(req);
    const admission = await this.#admit(d, "ChatCompletions_Create", estimate, req.n, opts, signal);
    const params: GenerateParams = {
      input: { kind: "chat", messages: req.messages, tools: req.tools, toolChoice: req.toolChoice, parallelToolCalls: req.parallelToolCalls, responseFormat: req.responseFormat },
      maxTokens: req.maxTokens,
      sampling: req.sampling,
      stop: req.stop,
      logprobs: req.logprobs ? req.topLogprobs : null,
    };
    if (d.routing) return this.#routed(account, d, req, params, signal, admission, estimate, opts);
    return this.#run(account, d, () => params, req.n, req.n, "chatcmpl", signal, admission, estimate);
  }

  /**
   * A model-router deployment: the router's limits admitted the request (its TPM covers what it
   * routes); the request runs on the first candidate of the plan (router/policy.ts) that is
   * available, within its own deployment's limits, and starts without a 429/5xx/timeout; the
   * others are tried in order, each pass-over counted with its reason. Usage is the router's.
   */
  async #routed(account: string, router: ResolvedDeployment, req: ChatRequest, params: GenerateParams, signal: AbortSignal, admission: Admission, estimate: TokenEstimate, opts: CallOptions): Promise<GenerationStream> {
    const routing = router.routing!;
    if (!this.#router) throw errors.unavailable(`Deployment '${router.name}' is a model router, and this server has no router configured.`);
    let committed = false;
    // An attempt that fails hands its charge back to the router only when no candidate is left.
    const shared = (own: Admission): Admission => ({
      estimatedTokens: own.estimatedTokens,
      settle: (n) => {
        own.settle(n);
        admission.settle(n);
      },
      release: () => {
        own.release();
        if (committed) admission.release();
      },
    });
    let plan;
    try {
      plan = this.#router.plan(account, router.name, routing, req, estimate);
    } catch (e) {
      admission.settle(0);
      admission.release();
      throw e;
    }
    let fellBack: string | undefined;
    let lastError: unknown;
    let allRateLimited = true;
    for (const candidate of plan.order) {
      let own: Admission | undefined;
      try {
        const d = this.#resolve(account, candidate.deployment, "chatCompletion", "chatCompletion");
        own = await this.#admit(d, "ChatCompletions_Create", estimate, req.n, {}, signal);
        // Reported and billed as the router deployment; the engine and model are the candidate's.
        const stream = await this.#run(account, { ...d, name: router.name }, () => params, req.n, req.n, "chatcmpl", signal, shared(own), estimate);
        committed = true;
        this.#router.routed(router.name, candidate.model, routing.mode, fellBack ? `fallback_${fellBack}` : plan.reason);
        return stream;
      } catch (e) {
        own?.release();
        const why = signal.aborted ? undefined : fallbackReasonOf(e);
        if (!why) {
          admission.settle(estimate.prompt);
          admission.release();
          throw e;
        }
        this.#router.fellBack(router.name, candidate, why, e instanceof Error ? e.message : String(e));
        fellBack ??= why;
        lastError = e;
        if (why !== "rate_limited") allRateLimited = false;
      }
    }
    admission.settle(0);
    admission.release();
    // Every candidate at its limit: the 429 (with its retry-after) says when to come back.
    if (allRateLimited && lastError) throw lastError;
    throw errors.unavailable(
      `Model router '${router.name}' found no candidate able to serve this request (${plan.order.map((c) => c.deployment).join(", ")} tried; last: ${lastError instanceof Error ? lastError.message : String(lastError)}). Retry later.`,
    );
  }

  async complete(account: string, req: CompletionRequest, signal: AbortSignal, opts: CallOptions = {}): Promise<GenerationStream> {
    const d = this.#resolve(account, req.deployment, "completion", "completion");
    const candidates = req.bestOf > req.n ? req.bestOf : req.n;
    const estimate = estimateCompletion(req);
    const admission = await this.#admit(d, "Completions_Create", estimate, req.prompts.length * candidates, opts, signal);
    const paramsFor = (i: number): GenerateParams => ({
      input: { kind: "text", prompt: req.prompts[Math.floor(i / candidates)], suffix: req.suffix },
      maxTokens: req.maxTokens,
      sampling: req.sampling,
      stop: req.stop,
      logprobs: req.bestOf > req.n ? Math.max(req.logprobs ?? 0, 0) : req.logprobs,
    });
    const stream = await this.#run(account, d, paramsFor, req.prompts.length * candidates, candidates, "cmpl", signal, admission, estimate);
    if (req.bestOf > req.n) stream.chunks = await bestOf(stream.chunks, req.prompts.length, candidates, req.n, req.logprobs !== null);
    if (req.echo) stream.chunks = echoed(stream.chunks, (index) => req.prompts[Math.floor(index / req.n)]);
    return stream;
  }

  async embed(account: string, req: EmbeddingRequest, signal: AbortSignal, opts: CallOptions = {}): Promise<EmbeddingResult> {
    const d = this.#resolve(account, req.deployment, "embeddings", "embeddings");
    const admission = await this.#admit(d, "Embeddings_Create", estimateEmbedding(req), 1, opts, signal);
    const started = Date.now();
    let embedded: { vectors: number[][]; promptTokens: number };
    try {
      embedded = await this.#engine.embed({ key: d.engineKey, adapter: d.adapter }, req.inputs, signal);
      admission.settle(embedded.promptTokens);
    } finally {
      admission.release();
    }
    const { vectors, promptTokens } = embedded;
    const sized = vectors.map((v) => resize(v, req.dimensions));
    this.#usage?.record({ account, deployment: d.name, model: d.modelName, usage: { promptTokens, completionTokens: 0, cachedTokens: 0 }, durationMs: Date.now() - started });
    return { model: d.modelName, vectors: sized, promptTokens };
  }

  /** Runs `n` choices; consecutive groups of `perPrompt` choices share one prompt. */
  async #run(
    account: string,
    d: ResolvedDeployment,
    paramsFor: (choice: number) => GenerateParams,
    n: number,
    perPrompt: number,
    idPrefix: string,
    signal: AbortSignal,
    admission: Admission,
    estimate: TokenEstimate,
  ): Promise<GenerationStream> {
    const started = Date.now();
    // Without a seed each choice still needs its own: engines may default to the clock, which would make n choices identical.
    const seedFor = (seed: number | undefined, i: number) => (seed === undefined ? Math.floor(Math.random() * 2 ** 32) : (seed + (i % perPrompt)) >>> 0);
    const generate = (i: number) => {
      const params = paramsFor(i);
      return this.#engine.generate({ key: d.engineKey, adapter: d.adapter }, { ...params, sampling: { ...params.sampling, seed: seedFor(params.sampling.seed, i) } }, signal);
    };
    // The first choices start now (and their errors, such as a prompt too long, are a plain
    // rejection); the others start as those end, each taking a finished one's turn.
    const turns = new Turns(this.#parallelPerRequest, signal);
    let sources: AsyncIterable<EngineEvent>[];
    try {
      const first = Math.min(n, this.#parallelPerRequest);
      const started = await Promise.allSettled(Array.from({ length: first }, (_, i) => primed(turns.run(() => generate(i)))));
      const refused = started.find((r) => r.status === "rejected");
      if (refused) {
        // Choices that did start are closed too: the engine frees a sequence when its stream ends.
        for (const r of started) if (r.status === "fulfilled") void r.value[Symbol.asyncIterator]().return?.().catch(() => {});
        throw refused.reason;
      }
      sources = [
        ...started.map((r) => (r as PromiseFulfilledResult<AsyncIterable<EngineEvent>>).value),
        ...Array.from({ length: n - first }, (_, k) => turns.run(() => generate(first + k))),
      ];
    } catch (e) {
      // Refused before generating (e.g. prompt too long): nothing was generated, so max_tokens is not charged.
      admission.settle(estimate.prompt);
      admission.release();
      throw e;
    }
    const promptTokensOf = new Map<number, number>();
    const usage: Usage = { promptTokens: 0, completionTokens: 0, cachedTokens: 0 };
    const stream: GenerationStream = {
      id: `${idPrefix}-${crypto.randomUUID().replaceAll("-", "").slice(0, 29)}`,
      created: Math.floor(started / 1000),
      model: d.modelName,
      usage,
      chunks: undefined as unknown as AsyncIterable<ChatChunk>,
    };
    const record = (firstTokenMs?: number) => this.#usage?.record({ account, deployment: d.name, model: d.modelName, usage, firstTokenMs, durationMs: Date.now() - started });
    stream.chunks = (async function* (): AsyncGenerator<ChatChunk> {
      let firstTokenMs: number | undefined;
      let ended = 0;
      const callCounts = new Array<number>(n).fill(0);
      try {
        for await (const [index, event] of merge<EngineEvent>(sources)) {
          firstTokenMs ??= Date.now() - started;
          if (event.type === "content") yield { type: "content", index, text: event.text, logprobs: event.logprobs };
          else if (event.type === "tool_call") {
            const call = { id: `call_${crypto.randomUUID().replaceAll("-", "").slice(0, 24)}`, ...event.call };
            yield { type: "tool_call", index, callIndex: callCounts[index]++, call };
          } else {
            // Choices of one prompt share it: count each prompt once, as OpenAI does for n > 1.
            const group = Math.floor(index / perPrompt);
            promptTokensOf.set(group, Math.max(promptTokensOf.get(group) ?? 0, event.usage.promptTokens));
            usage.promptTokens = [...promptTokensOf.values()].reduce((a, b) => a + b, 0);
            usage.cachedTokens = Math.max(usage.cachedTokens, event.usage.cachedTokens);
            usage.completionTokens += event.usage.completionTokens;
            ended++;
            yield { type: "finish", index, reason: event.finishReason };
          }
        }
      } finally {
        record(firstTokenMs);
        // Cut short (abort, engine failure): prompts of unfinished choices are known only by estimate.
        const prompt = ended === n ? usage.promptTokens : Math.max(usage.promptTokens, estimate.prompt);
        admission.settle(prompt + usage.completionTokens);
        admission.release();
      }
    })();
    return stream;
  }
}

/** The request's JSON Schemas within SCHEMA_LIMITS, before any engine compiles them. */
function checkRequestSchemas(req: ChatRequest): void {
  const budget = newSchemaBudget();
  if (req.responseFormat.type === "json_schema") checkSchemaLimits(req.responseFormat.schema, "response_format", budget);
  req.tools.forEach((t, i) => t.parameters !== undefined && checkSchemaLimits(t.parameters, `tools[${i}].function.parameters`, budget));
}

/** At most `size` sources of one request iterate at once; the next waits for a turn (FIFO), or for the abort. */
class Turns {
  #free: number;
  #waiting: (() => void)[] = [];
  #signal: AbortSignal;

  constructor(size: number, signal: AbortSignal) {
    this.#free = size;
    this.#signal = signal;
    signal.addEventListener("abort", () => this.#waiting.splice(0).forEach((wake) => wake()), { once: true });
  }

  async *run<T>(start: () => AsyncIterable<T>): AsyncGenerator<T> {
    while (this.#free === 0) {
      if (this.#signal.aborted) return;
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    }
    if (this.#signal.aborted) return;
    this.#free--;
    try {
      yield* start();
    } finally {
      this.#free++;
      this.#waiting.shift()?.();
    }
  }
}

/** Truncates to `dimensions` and re-normalises, as text-embedding-3 models do. */
function resize(vector: number[], dimensions: number | undefined): number[] {
  const v = dimensions && dimensions < vector.length ? vector.slice(0, dimensions) : vector;
  const norm = Math.hypot(...v) || 1;
  return v.map((x) => x / norm);
}

/** Runs all candidates to the end and keeps, per prompt, the `n` with the highest total logprob. */
async function bestOf(chunks: AsyncIterable<ChatChunk>, prompts: number, candidates: number, n: number, keepLogprobs: boolean): Promise<AsyncIterable<ChatChunk>> {
  const byIndex = new Map<number, ChatChunk[]>();
  const score = new Map<number, number>();
  for await (const c of chunks) {
    if (!byIndex.has(c.index)) byIndex.set(c.index, []);
    byIndex.get(c.index)!.push(c);
    if (c.type === "content") score.set(c.index, (score.get(c.index) ?? 0) + (c.logprobs ?? []).reduce((s, l: TokenLogprob) => s + l.logprob, 0));
  }
  const out: ChatChunk[] = [];
  for (let p = 0; p < prompts; p++) {
    const group = [...byIndex.keys()].filter((i) => Math.floor(i / candidates) === p);
    const winners = group.sort((a, b) => (score.get(b) ?? 0) - (score.get(a) ?? 0)).slice(0, n);
    winners.forEach((original, rank) => {
      const index = p * n + rank;
      for (const c of byIndex.get(original)!) out.push(c.type === "content" && !keepLogprobs ? { ...c, index, logprobs: undefined } : { ...c, index });
    });
  }
  return (async function* () {
    yield* out;
  })();
}

async function* echoed(chunks: AsyncIterable<ChatChunk>, promptOf: (index: number) => string): AsyncGenerator<ChatChunk> {
  const started = new Set<number>();
  for await (const c of chunks) {
    if (!started.has(c.index)) {
      started.add(c.index);
      yield { type: "content", index: c.index, text: promptOf(c.index) };
    }
    yield c;
  }
}
