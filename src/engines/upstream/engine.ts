// The upstream engine: models that run on an OpenAI-compatible server (llama-server, vLLM,
// another Ingot, Azure OpenAI) instead of a local runner. "Loading" a model connects to its
// pool of base URLs; each generation is one streamed request to the endpoint with the fewest
// requests in flight, failing over to the next on a connection error, a timeout or a 5xx before
// the reply starts. Every failure becomes an IngotError (503 unless the upstream refused the
// request itself), never a hang: the wait for the reply and each wait between chunks are bounded.
// Usage the upstream omits is counted with the model's tokenizer (the server's /tokenize) or,
// where there is none, estimated; the slot's log says which.
import { IngotError, errors } from "../../core/errors.ts";
import type { Engine, EngineAdapter, EngineEvent, EngineModel, EngineStatus, EngineTarget, GenerateParams, UpstreamSpec } from "../../core/ports/index.ts";
import type { Usage } from "../../core/generation/types.ts";
import { RunnerLog } from "../llamacpp/runner-log.ts";
import { UpstreamClient, UpstreamTransportError, readText, sseData } from "./http.ts";
import type { UpstreamReply } from "./http.ts";
import { UpstreamPool, apiUrl, rootUrl } from "./pool.ts";
import type { UpstreamEndpoint } from "./pool.ts";
import { ChunkReader, UpstreamReplyError, chatPromptText, estimateTokens, requestBody } from "./wire.ts";
import type { AdapterSelection } from "./wire.ts";

export const DEFAULT_UPSTREAM_TIMEOUT_MS = 60_000;
const HEALTH_TIMEOUT_MS = 3_000;

export interface UpstreamEngineOptions {
  /** How often every endpoint is checked (GET {baseUrl}/models); default 5 s. */
  healthIntervalMs?: number;
  log?: (level: "info" | "warn" | "error", message: string, fields?: Record<string, unknown>) => void;
  /** The environment the apiKeyEnv names are read from (default process.env). */
  env?: Record<string, string | undefined>;
}

type UsageSource = "upstream" | "tokenizer" | "estimate";

interface AdapterState {
  adapter: EngineAdapter;
  /** llama-server: the adapter's id on each endpoint that loaded it. */
  loraIds?: Map<UpstreamEndpoint, number>;
  /** vLLM: the LoRA's model name, on the endpoints that serve it. */
  vllm?: { name: string; endpoints: Set<UpstreamEndpoint> };
}

interface Slot {
  key: string;
  spec: UpstreamSpec;
  pool: UpstreamPool;
  headers: Record<string, string>;
  timeoutMs: number;
  state: EngineStatus["state"];
  error?: string;
  /** The LoRA adapter ids each endpoint's llama-server has loaded: every request there lists them (scale 0 unless chosen). */
  loraIds: Map<UpstreamEndpoint, number[]>;
  adapters: Map<string, AdapterState>;
  /** Whether the server has a /tokenize (undefined: not tried yet). */
  tokenizer?: boolean;
  usageSource?: UsageSource;
  log: RunnerLog;
  timer?: ReturnType<typeof setInterval>;
}

/** A vLLM LoRA name for an adapter id (`Ingot/tiny-chat.ft-…@1` → `tiny-chat.ft-…`). */
export const vllmLoraName = (id: string) => id.slice(id.indexOf("/") + 1).replace(/@[^@]*$/, "");

export class UpstreamEngine implements Engine {
  readonly name = "upstream";
  #client = new UpstreamClient();
  #slots = new Map<string, Slot>();
  #options: UpstreamEngineOptions;

  constructor(options: UpstreamEngineOptions = {}) {
    this.#options = options;
  }

  async load(model: EngineModel): Promise<void> {
    if (!model.upstream) throw new Error(`${model.key} has no upstream to connect to.`);
    const existing = this.#slots.get(model.key);
    if (existing && existing.state === "ready" && JSON.stringify(existing.spec) === JSON.stringify(model.upstream)) return;
    if (existing) this.#stop(existing);
    const spec = model.upstream;
    const headers: Record<string, string> = { accept: "text/event-stream, application/json", ...spec.headers };
    if (spec.apiKeyEnv) {
      const key = (this.#options.env ?? process.env)[spec.apiKeyEnv];
      if (!key) throw new Error(`The upstream of ${model.key} takes its key from the environment variable ${spec.apiKeyEnv}, which is not set: set it where Ingot runs and redeploy.`);
      const azure = (Array.isArray(spec.baseUrl) ? spec.baseUrl : [spec.baseUrl]).every((u) => new URL(u).hostname.endsWith(".azure.com"));
      if (azure) headers["api-key"] = key;
      else headers.authorization = `Bearer ${key}`;
    }
    const slot: Slot = {
      key: model.key,
      spec,
      pool: new UpstreamPool(spec),
      headers,
      timeoutMs: spec.timeoutMs ?? DEFAULT_UPSTREAM_TIMEOUT_MS,
      state: "loading",
      loraIds: new Map(),
      adapters: existing?.adapters ?? new Map(),
      log: existing?.log ?? new RunnerLog(),
    };
    this.#slots.set(model.key, slot);
    slot.log.note(`connecting to ${slot.pool.endpoints.map((e) => e.baseUrl).join(", ")} (model '${spec.model}')`);
    await Promise.all(slot.pool.endpoints.map((e) => this.#check(slot, e)));
    if (this.#slots.get(model.key) !== slot) throw new Error(`${model.key} was unloaded while connecting.`);
    if (!slot.pool.endpoints.some((e) => e.healthy)) {
      slot.state = "failed";
      slot.error = `No endpoint of the upstream answers: ${slot.pool.endpoints.map((e) => `${e.baseUrl}: ${e.problem}`).join("; ")}. Start the upstream server (or fix upstream.baseUrl in the catalog entry); the deployment is retried.`;
      slot.log.note(slot.error);
      throw new Error(slot.error);
    }
    await Promise.all(slot.pool.endpoints.filter((e) => e.healthy).map((e) => this.#probeLoras(slot, e)));
    slot.state = "ready";
    slot.error = undefined;
    slot.timer = setInterval(() => {
      for (const e of slot.pool.endpoints) void this.#check(slot, e);
    }, this.#options.healthIntervalMs ?? 5_000);
    slot.timer.unref();
  }

  async unload(key: string): Promise<void> {
    const slot = this.#slots.get(key);
    if (!slot) return;
    this.#stop(slot);
    this.#slots.delete(key);
    for (const a of slot.adapters.values()) if (a.vllm) await this.#unloadVllm(slot, a).catch(() => {});
  }

  async loadAdapter(key: string, adapter: EngineAdapter): Promise<void> {
    const slot = this.#slots.get(key);
    if (!slot || slot.state !== "ready") throw new Error(`The upstream base ${key} is not connected.`);
    const state: AdapterState = { adapter };
    const listed: string[] = [];
    let llamaServer = false;
    // llama-server: adapters are loaded at its start (--lora PATH); a request picks one by id.
    for (const e of slot.pool.endpoints) {
      const loras = await this.#loraList(slot, e);
      if (!loras) continue;
      llamaServer = true;
      listed.push(...loras.map((l) => l.path));
      const match = loras.find((l) => l.path === adapter.path) ?? loras.find((l) => baseName(l.path) === baseName(adapter.path));
      if (match) (state.loraIds ??= new Map()).set(e, match.id);
    }
    if (!state.loraIds && llamaServer) {
      throw new Error(
        `The upstream llama-server of ${key} has no LoRA adapter ${adapter.path} (it has ${listed.length ? listed.join(", ") : "none"}). Start llama-server with --lora ${adapter.path} --lora-init-without-apply and redeploy.`,
      );
    }
    if (!state.loraIds) {
      // vLLM (--enable-lora): load it at run time (VLLM_ALLOW_RUNTIME_LORA_UPDATING=True), or find it among the
      // adapters the server was started with (--lora-modules NAME=PATH).
      const name = vllmLoraName(adapter.id);
      const served = new Set<UpstreamEndpoint>();
      const problems: string[] = [];
      for (const e of slot.pool.endpoints.filter((x) => x.healthy)) {
        const loaded = await this.#json(slot, rootUrl(e, "v1/load_lora_adapter"), "POST", { lora_name: name, lora_path: adapter.path });
        if (loaded.status === 200 || /already/i.test(loaded.text)) {
          served.add(e);
          continue;
        }
        const models = await this.#json(slot, apiUrl(e, "models"), "GET");
        const ids = ((models.json as { data?: { id?: string }[] } | undefined)?.data ?? []).map((m) => m.id);
        if (ids.includes(name)) served.add(e);
        else problems.push(`${e.root}: load_lora_adapter answered ${loaded.status} ${loaded.text.slice(0, 200)}`);
      }
      if (served.size === 0)
        throw new Error(
          `The upstream of ${key} cannot serve the LoRA adapter ${adapter.path} as '${name}': ${problems.join("; ") || "no endpoint answers"}. For vLLM, start it with --enable-lora and VLLM_ALLOW_RUNTIME_LORA_UPDATING=True (or --lora-modules ${name}=${adapter.path}); for llama-server, with --lora ${adapter.path}.`,
        );
      state.vllm = { name, endpoints: served };
    }
    slot.adapters.set(adapter.id, state);
    slot.log.note(`adapter ${adapter.id} served upstream (${state.loraIds ? `llama-server lora ids ${[...state.loraIds.values()].join(", ")}` : `vLLM model '${state.vllm!.name}'`})`);
  }

  async unloadAdapter(key: string, adapterId: string): Promise<void> {
    const slot = this.#slots.get(key);
    const a = slot?.adapters.get(adapterId);
    if (!slot || !a) return;
    slot.adapters.delete(adapterId);
    if (a.vllm) await this.#unloadVllm(slot, a).catch(() => {});
  }

  async *generate(target: EngineTarget, params: GenerateParams, signal: AbortSignal): AsyncIterable<EngineEvent> {
    const slot = this.#ready(target.key);
    const adapter = this.#adapterOf(slot, target);
    const { reply, endpoint } = await this.#open(slot, signal, (e) => requestBody(slot.spec.model, params, selectionFor(slot, adapter, e)), adapter ? (e) => usableFor(adapter, e) : undefined);
    try {
      const reader = new ChunkReader();
      const type = String(reply.headers["content-type"] ?? "");
      if (type.includes("text/event-stream")) {
        try {
          for await (const data of sseData(reply.body)) {
            if (reader.done) continue; // drained to the end, so the connection is reused
            if (data === "[DONE]") {
              reader.done = true;
              continue;
            }
            let chunk: unknown;
            try {
              chunk = JSON.parse(data);
            } catch {
              throw garbage(endpoint, `a streamed event is not JSON: ${data.slice(0, 120)}`);
            }
            const out = readChunk(reader, chunk, endpoint);
            if (out) yield { type: "content", text: out.text, logprobs: out.logprobs };
          }
        } catch (e) {
          if (!reader.done) throw e;
        }
      } else if (type.includes("json")) {
        const text = await readText(reply);
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          throw garbage(endpoint, `the reply is not JSON: ${text.slice(0, 120)}`);
        }
        const out = readChunk(reader, body, endpoint);
        if (out) yield { type: "content", text: out.text, logprobs: out.logprobs };
        reader.done = true;
      } else {
        throw garbage(endpoint, `the reply has content-type '${type || "none"}', not text/event-stream`);
      }
      if (!reader.done && reader.finishReason === undefined)
        throw new IngotError("unavailable", "UpstreamClosed", `The upstream ${endpoint.baseUrl} ended its reply before it was complete; the answer is incomplete. Retry the request.`);
      let calls: { name: string; arguments: string }[];
      try {
        calls = reader.calls();
      } catch (e) {
        throw garbage(endpoint, (e as Error).message);
      }
      for (const call of calls) yield { type: "tool_call", call };
      const usage = await this.#usage(slot, endpoint, params, reader, calls);
      yield { type: "end", finishReason: reader.engineFinish(), usage };
    } catch (e) {
      throw this.#failure(slot, endpoint, e);
    } finally {
      endpoint.outstanding--;
      reply.discard();
    }
  }

  async embed(target: EngineTarget, inputs: string[], signal: AbortSignal): Promise<{ vectors: number[][]; promptTokens: number }> {
    const slot = this.#ready(target.key);
    const adapter = this.#adapterOf(slot, target);
    const { reply, endpoint } = await this.#open(
      slot,
      signal,
      () => ({ path: "embeddings", body: { model: adapter?.vllm ? adapter.vllm.name : slot.spec.model, input: inputs } }),
      adapter ? (e) => usableFor(adapter, e) : undefined,
    );
    try {
      const text = await readText(reply);
      let body: { data?: { index?: number; embedding?: unknown }[]; usage?: { prompt_tokens?: number } };
      try {
        body = JSON.parse(text);
      } catch {
        throw garbage(endpoint, `the embeddings reply is not JSON: ${text.slice(0, 120)}`);
      }
      if (!Array.isArray(body.data) || body.data.length !== inputs.length || body.data.some((d) => !Array.isArray(d.embedding)))
        throw garbage(endpoint, `the embeddings reply does not hold ${inputs.length} vectors`);
      const vectors = [...body.data].sort((a, b) => (a.index ?? 0) - (b.index ?? 0)).map((d) => d.embedding as number[]);
      const promptTokens = typeof body.usage?.prompt_tokens === "number" ? body.usage.prompt_tokens : await this.#countMissing(slot, endpoint, inputs, []).then((c) => c.prompt);
      return { vectors, promptTokens };
    } catch (e) {
      throw this.#failure(slot, endpoint, e);
    } finally {
      endpoint.outstanding--;
      reply.discard();
    }
  }

  status(): EngineStatus[] {
    return [...this.#slots.values()].map((s) => ({
      key: s.key,
      state: s.state,
      ...(s.error ? { error: s.error } : {}),
      activeSequences: s.pool.outstanding,
      queuedRequests: 0,
      adapters: [...s.adapters.values()].map((a) => ({ id: a.adapter.id, state: "ready" as const })),
    }));
  }

  logs(key: string, tail?: number): string | undefined {
    return this.#slots.get(key)?.log.tail(tail);
  }

  /** Whether `key` is a model this engine holds (the engine switch routes by it). */
  holds(key: string): boolean {
    return this.#slots.has(key);
  }

  async close(): Promise<void> {
    for (const s of this.#slots.values()) this.#stop(s);
    this.#slots.clear();
    this.#client.close();
  }

  #stop(slot: Slot): void {
    clearInterval(slot.timer);
    slot.timer = undefined;
  }

  #ready(key: string): Slot {
    const slot = this.#slots.get(key);
    if (!slot || slot.state !== "ready") throw errors.unavailable(`The upstream of this deployment is not connected${slot?.error ? `: ${slot.error}` : ""}. Retry once the deployment is Succeeded.`);
    return slot;
  }

  #adapterOf(slot: Slot, target: EngineTarget): AdapterState | undefined {
    if (target.adapter === undefined) return undefined;
    const a = slot.adapters.get(target.adapter);
    if (!a) throw errors.unavailable(`The fine-tuned model's adapter is not attached upstream yet. Retry once the deployment is Succeeded.`);
    return a;
  }

  /** Sends to the least busy usable endpoint; fails over on connection errors, timeouts and 5xx before the reply starts. */
  async #open(
    slot: Slot,
    signal: AbortSignal,
    build: (e: UpstreamEndpoint) => { path: string; body: Record<string, unknown> },
    usable?: (e: UpstreamEndpoint) => boolean,
  ): Promise<{ reply: UpstreamReply; endpoint: UpstreamEndpoint }> {
    const tried = new Set<UpstreamEndpoint>();
    let last: IngotError | undefined;
    for (;;) {
      const endpoint = slot.pool.pick(tried, usable);
      if (!endpoint) throw last ?? errors.unavailable("No endpoint of this deployment's upstream can serve the request. Retry later.");
      tried.add(endpoint);
      const { path, body } = build(endpoint);
      endpoint.outstanding++;
      let reply: UpstreamReply;
      try {
        reply = await this.#client.send(apiUrl(endpoint, path), { method: "POST", headers: slot.headers, body: JSON.stringify(body), timeoutMs: slot.timeoutMs, signal });
      } catch (e) {
        endpoint.outstanding--;
        last = this.#failure(slot, endpoint, e);
        if (signal.aborted) throw last;
        this.#down(slot, endpoint, (e as Error).message, tried.size < slot.pool.endpoints.length);
        continue;
      }
      if (reply.status >= 200 && reply.status < 300) return { reply, endpoint };
      const text = await readText(reply, 64 << 10).catch(() => "");
      endpoint.outstanding--;
      reply.discard();
      const message = upstreamMessage(text);
      if (reply.status >= 500) {
        last = new IngotError("unavailable", "UpstreamUnavailable", `The upstream ${endpoint.baseUrl} failed (HTTP ${reply.status}${message ? `: ${message}` : ""}). Retry the request; if it persists, check the upstream server.`);
        this.#down(slot, endpoint, `HTTP ${reply.status} ${message}`, tried.size < slot.pool.endpoints.length);
        continue;
      }
      throw refusal(endpoint, reply, message);
    }
  }

  #down(slot: Slot, e: UpstreamEndpoint, problem: string, failingOver: boolean): void {
    if (slot.pool.markDown(e, problem)) {
      slot.log.note(`endpoint ${e.baseUrl} taken out: ${problem}`);
      this.#options.log?.("warn", "upstream endpoint taken out of its pool", { model: slot.key, endpoint: e.baseUrl, problem, failover: failingOver });
    }
  }

  async #check(slot: Slot, e: UpstreamEndpoint): Promise<void> {
    let problem: string | undefined;
    try {
      const reply = await this.#client.send(apiUrl(e, "models"), { method: "GET", headers: slot.headers, timeoutMs: HEALTH_TIMEOUT_MS });
      const text = await readText(reply, 256 << 10);
      if (reply.status === 401 || reply.status === 403) problem = `HTTP ${reply.status}: the upstream refused Ingot's key${slot.spec.apiKeyEnv ? ` (from ${slot.spec.apiKeyEnv})` : " (set upstream.apiKeyEnv)"}`;
      else if (reply.status < 200 || reply.status >= 300) problem = `GET models answered HTTP ${reply.status} ${upstreamMessage(text)}`;
    } catch (err) {
      problem = (err as Error).message;
    }
    if (problem === undefined) {
      if (slot.pool.markUp(e) && slot.state === "ready") {
        slot.log.note(`endpoint ${e.baseUrl} is back`);
        this.#options.log?.("info", "upstream endpoint back in its pool", { model: slot.key, endpoint: e.baseUrl });
      }
    } else this.#down(slot, e, problem, false);
  }

  /** Notes which endpoints run a llama-server with LoRA adapters loaded (their base requests must turn them off). */
  async #probeLoras(slot: Slot, e: UpstreamEndpoint): Promise<void> {
    const loras = await this.#loraList(slot, e);
    if (loras && loras.length > 0) slot.loraIds.set(e, loras.map((l) => l.id));
  }

  async #loraList(slot: Slot, e: UpstreamEndpoint): Promise<{ id: number; path: string }[] | undefined> {
    const r = await this.#json(slot, rootUrl(e, "lora-adapters"), "GET");
    if (r.status !== 200 || !Array.isArray(r.json)) return undefined;
    return (r.json as { id?: unknown; path?: unknown }[]).filter((l) => typeof l.id === "number" && typeof l.path === "string") as { id: number; path: string }[];
  }

  async #json(slot: Slot, url: URL, method: string, body?: unknown): Promise<{ status: number; text: string; json?: unknown }> {
    try {
      const reply = await this.#client.send(url, { method, headers: slot.headers, body: body === undefined ? undefined : JSON.stringify(body), timeoutMs: HEALTH_TIMEOUT_MS });
      const text = await readText(reply, 1 << 20);
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status: reply.status, text, json };
    } catch (e) {
      return { status: 0, text: (e as Error).message };
    }
  }

  async #unloadVllm(slot: Slot, a: AdapterState): Promise<void> {
    for (const e of a.vllm?.endpoints ?? []) await this.#json(slot, rootUrl(e, "v1/unload_lora_adapter"), "POST", { lora_name: a.vllm!.name });
  }

  /** The reply's usage, or counts of our own where the upstream sent none. */
  async #usage(slot: Slot, e: UpstreamEndpoint, params: GenerateParams, reader: ChunkReader, calls: { name: string; arguments: string }[]): Promise<Usage> {
    const u = reader.usage;
    if (u && typeof u.prompt_tokens === "number" && typeof u.completion_tokens === "number") {
      this.#noteUsageSource(slot, "upstream");
      return { promptTokens: u.prompt_tokens, completionTokens: u.completion_tokens, cachedTokens: u.prompt_tokens_details?.cached_tokens ?? 0 };
    }
    const prompt = params.input.kind === "chat" ? chatPromptText(params.input.messages) : params.input.prompt + (params.input.suffix ?? "");
    const completion = reader.text + calls.map((c) => c.name + c.arguments).join("");
    const counted = await this.#countMissing(slot, e, [prompt], [completion]);
    return { promptTokens: counted.prompt, completionTokens: counted.completion, cachedTokens: 0 };
  }

  /** Token counts with the server's tokenizer (llama-server's and vLLM's /tokenize) when it has one, else an estimate. */
  async #countMissing(slot: Slot, e: UpstreamEndpoint, prompts: string[], completions: string[]): Promise<{ prompt: number; completion: number }> {
    const count = async (text: string): Promise<number | undefined> => {
      if (text === "" || slot.tokenizer === false) return text === "" ? 0 : undefined;
      const r = await this.#json(slot, rootUrl(e, "tokenize"), "POST", { content: text, prompt: text, add_special: false, model: slot.spec.model });
      const tokens = (r.json as { tokens?: unknown[]; count?: number } | undefined)?.tokens;
      if (r.status === 200 && Array.isArray(tokens)) {
        slot.tokenizer = true;
        return tokens.length;
      }
      if (r.status >= 400 && r.status < 500) slot.tokenizer = false;
      return undefined;
    };
    const all = await Promise.all([...prompts, ...completions].map(count));
    const exact = all.every((n) => n !== undefined);
    this.#noteUsageSource(slot, exact ? "tokenizer" : "estimate");
    const texts = [...prompts, ...completions];
    const n = all.map((c, i) => c ?? estimateTokens(texts[i]));
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    return { prompt: sum(n.slice(0, prompts.length)), completion: sum(n.slice(prompts.length)) };
  }

  #noteUsageSource(slot: Slot, source: UsageSource): void {
    if (slot.usageSource === source) return;
    slot.usageSource = source;
    const how = {
      upstream: "the upstream reports usage",
      tokenizer: "the upstream omits usage: tokens are counted with the model's tokenizer (the upstream's /tokenize)",
      estimate: "the upstream omits usage and has no /tokenize: tokens are estimated (4 characters per token)",
    }[source];
    slot.log.note(how);
    if (source !== "upstream") this.#options.log?.("warn", how, { model: slot.key });
  }

  /** Any failure as an Azure-shaped IngotError that says what happened upstream. */
  #failure(slot: Slot, e: UpstreamEndpoint, err: unknown): IngotError {
    if (err instanceof IngotError) return err;
    if (err instanceof UpstreamTransportError) {
      if (err.reason === "timeout") return new IngotError("unavailable", "UpstreamTimeout", `The upstream ${e.baseUrl} did not answer in time (${err.message}). Retry the request; if it persists, the upstream is overloaded or stuck.`, { retryAfterMs: 1_000 });
      if (err.reason === "connect") return new IngotError("unavailable", "UpstreamUnavailable", `The upstream ${e.baseUrl} cannot be reached (${err.message}). Retry later; the operator should check that the upstream server runs.`, { retryAfterMs: 1_000 });
      if (err.reason === "aborted") return new IngotError("unavailable", "RequestCancelled", "The request was cancelled.");
      return new IngotError("unavailable", "UpstreamClosed", `The upstream ${e.baseUrl} broke off its reply (${err.message}); the answer is incomplete. Retry the request.`, { retryAfterMs: 1_000 });
    }
    if (err instanceof UpstreamReplyError) return new IngotError("unavailable", "UpstreamError", `The upstream ${e.baseUrl} reported an error mid-reply: ${err.message}. Retry the request.`);
    slot.log.note(`unexpected failure: ${String(err)}`);
    return new IngotError("unavailable", "UpstreamInvalidResponse", `The upstream ${e.baseUrl} sent a reply Ingot cannot read (${(err as Error).message ?? String(err)}).`);
  }
}

function readChunk(reader: ChunkReader, chunk: unknown, e: UpstreamEndpoint) {
  try {
    return reader.read(chunk);
  } catch (err) {
    if (err instanceof UpstreamReplyError) throw err;
    throw garbage(e, (err as Error).message);
  }
}

const garbage = (e: UpstreamEndpoint, what: string) =>
  new IngotError("unavailable", "UpstreamInvalidResponse", `The upstream ${e.baseUrl} sent a reply that is not OpenAI-compatible: ${what}. Check that upstream.baseUrl names the API base (…/v1).`);

const baseName = (p: string) => p.slice(p.lastIndexOf("/") + 1);

function selectionFor(slot: Slot, adapter: AdapterState | undefined, e: UpstreamEndpoint): AdapterSelection {
  const loraIds = slot.loraIds.get(e) ?? [];
  if (adapter?.loraIds) return { kind: "llama-server", id: adapter.loraIds.get(e)!, loraIds };
  if (adapter?.vllm) return { kind: "vllm", name: adapter.vllm.name };
  return { kind: "none", loraIds };
}

const usableFor = (a: AdapterState, e: UpstreamEndpoint) => (a.loraIds ? a.loraIds.has(e) : (a.vllm?.endpoints.has(e) ?? false));

/** The message of an OpenAI- or Azure-shaped error body, or the start of the text. */
function upstreamMessage(text: string): string {
  try {
    const j = JSON.parse(text) as { error?: { message?: string } | string; message?: string; detail?: unknown };
    if (typeof j.error === "string") return j.error;
    if (j.error?.message) return j.error.message;
    if (typeof j.message === "string") return j.message;
    if (j.detail !== undefined) return typeof j.detail === "string" ? j.detail : JSON.stringify(j.detail);
  } catch {
    /* not JSON */
  }
  return text.slice(0, 300).trim();
}

/** A 4xx from the upstream: the request's fault passes through as a 400 (or 429); a configuration fault is a 503. */
function refusal(e: UpstreamEndpoint, reply: UpstreamReply, message: string): IngotError {
  const s = reply.status;
  if (s === 429) {
    const after = Number(reply.headers["retry-after"]);
    return new IngotError("rate_limited", "UpstreamRateLimited", `The upstream ${e.baseUrl} is at its rate limit${message ? ` (${message})` : ""}. Retry after the time in retry-after.`, {
      retryAfterMs: Number.isFinite(after) && after > 0 ? after * 1000 : 1_000,
    });
  }
  if (s === 401 || s === 403) return new IngotError("unavailable", "UpstreamAuthFailed", `The upstream ${e.baseUrl} refused Ingot's credentials (HTTP ${s}). The operator should check upstream.apiKeyEnv and headers.`);
  if (s === 404) return new IngotError("unavailable", "UpstreamNotFound", `The upstream ${e.baseUrl} answered 404${message ? ` (${message})` : ""}: upstream.baseUrl or upstream.model is wrong, or the upstream cannot serve this operation.`);
  return new IngotError("invalid_request", "UpstreamRejected", `The model server rejected the request: ${message || `HTTP ${s}`}`);
}
