// The embedded llama.cpp engine: one runner process per loaded base model, shared by every
// deployment of that model and by the LoRA adapters (fine-tuned models) attached to it. A
// runner that dies fails its in-flight requests and is restarted with its adapters.
import { errors, IngotError } from "../../core/errors.ts";
import { adapterSequencesFor } from "../../core/ports/index.ts";
import type { Engine, EngineAdapter, EngineEvent, EngineModel, EngineStatus, EngineTarget, GenerateParams } from "../../core/ports/index.ts";
import { AsyncQueue } from "../../lib/async-queue.ts";
import { prepareChat } from "./chat-format.ts";
import type { FromRunner, RunnerPrompt } from "./protocol.ts";
import { RunnerClient } from "./runner-client.ts";
import { RunnerLog } from "./runner-log.ts";
import { ToolCallScanner } from "./tool-call-scanner.ts";

export interface LlamaCppEngineOptions {
  threads: number;
  /** Parallel sequences per loaded model (continuous batching slots). */
  sequences: number;
  /** Streamed text leaves a runner at most this often, coalesced (runner/outbox.ts); 0: every piece at once. */
  streamIntervalMs: number;
  /** Parallel sequences of each adapter's context (default adapterSequencesFor(sequences)). */
  adapterSequences?: number;
  /** A runner that has not loaded its model after this long is killed and the load fails (default DEFAULT_LOAD_TIMEOUT_MS). */
  loadTimeoutMs?: number;
  log?: (level: "info" | "warn" | "error", message: string, fields?: Record<string, unknown>) => void;
}

interface AdapterSlot {
  adapter: EngineAdapter;
  state: "loading" | "ready" | "failed";
  error?: string;
  ready: Promise<void>;
}

interface Slot {
  model: EngineModel;
  client: RunnerClient;
  state: EngineStatus["state"];
  error?: string;
  ready: Promise<void>;
  restarts: number;
  adapters: Map<string, AdapterSlot>;
  /** The recent output of this slot's runners (getLogs). */
  log: RunnerLog;
}

const MAX_RESTART_DELAY_MS = 10_000;
/** Loading reads the whole file; 5 minutes covers multi-GB models on slow disks. */
export const DEFAULT_LOAD_TIMEOUT_MS = 5 * 60_000;

const isText = (m: FromRunner) => m.type === "text";

export class LlamaCppEngine implements Engine {
  readonly name = "llamacpp";
  #options: LlamaCppEngineOptions;
  #slots = new Map<string, Slot>();
  #closing = false;

  constructor(options: LlamaCppEngineOptions) {
    this.#options = options;
  }

  load(model: EngineModel): Promise<void> {
    const existing = this.#slots.get(model.key);
    if (existing && existing.state !== "failed") return existing.ready;
    const slot = { model, state: "loading", restarts: 0, adapters: existing?.adapters ?? new Map(), log: existing?.log ?? new RunnerLog() } as Slot;
    this.#slots.set(model.key, slot);
    this.#startRunner(slot);
    return slot.ready;
  }

  #startRunner(slot: Slot): void {
    const { model } = slot;
    slot.client = new RunnerClient(
      {
        modelPath: model.path,
        threads: this.#options.threads,
        sequences: this.#options.sequences,
        contextLength: model.contextLength,
        embeddings: model.embeddings,
        streamIntervalMs: this.#options.streamIntervalMs,
      },
      (code, signal) => this.#onRunnerExit(slot, code, signal),
      slot.log,
    );
    const started = slot.client.start(this.#options.loadTimeoutMs ?? DEFAULT_LOAD_TIMEOUT_MS).then(async () => {
      // A restarted runner gets back the adapters that were serving before it died.
      for (const a of slot.adapters.values()) if (a.state === "ready") await this.#attach(slot, a).catch(() => {});
      if (!slot.client.pid) throw new Error("the runner exited while its adapters were being attached again");
    });
    slot.ready = started.then(
      () => {
        slot.state = "ready";
        slot.error = undefined;
        slot.restarts = 0;
      },
      (e: Error) => {
        slot.state = "failed";
        slot.error = e.message;
        throw e;
      },
    );
    slot.ready.catch(() => {});
  }

  #onRunnerExit(slot: Slot, code: number | null, signal: string | null): void {
    if (this.#closing || this.#slots.get(slot.model.key) !== slot || slot.state !== "ready") return;
    slot.state = "restarting";
    this.#options.log?.("warn", "runner exited; restarting", { model: slot.model.key, code, signal });
    const delay = Math.min(MAX_RESTART_DELAY_MS, 250 * 2 ** slot.restarts++);
    // Requests arriving meanwhile wait on `ready` for the new runner instead of failing.
    slot.ready = new Promise((resolve) => setTimeout(resolve, delay)).then(() => {
      if (this.#closing || this.#slots.get(slot.model.key) !== slot) throw new Error("unloaded");
      this.#startRunner(slot);
      return slot.ready;
    });
    slot.ready.catch(() => {});
  }

  async unload(key: string): Promise<void> {
    const slot = this.#slots.get(key);
    if (!slot) return;
    this.#slots.delete(key);
    await slot.client.stop();
  }

  loadAdapter(key: string, adapter: EngineAdapter): Promise<void> {
    const slot = this.#slots.get(key);
    if (!slot) return Promise.reject(errors.unavailable(`The base model ${key} is not loaded; load it before attaching ${adapter.id}.`));
    const existing = slot.adapters.get(adapter.id);
    if (existing && existing.state !== "failed" && existing.adapter.path === adapter.path) return existing.ready;
    const a = { adapter, state: "loading" } as AdapterSlot;
    slot.adapters.set(adapter.id, a);
    a.ready = (async () => {
      // Another file under the same id (the model was re-registered): the old context goes first.
      if (existing) await this.#detach(slot, existing);
      await slot.ready;
      await this.#attach(slot, a);
    })();
    a.ready.catch(() => {});
    return a.ready;
  }

  async #attach(slot: Slot, a: AdapterSlot): Promise<void> {
    const { id, path } = a.adapter;
    try {
      await slot.client.call((rid) => ({ type: "load_adapter", id: rid, adapter: id, path, sequences: this.#adapterSequences }), "adapter_loaded");
    } catch (e) {
      a.state = "failed";
      a.error = `The LoRA adapter of ${id} (${path}) could not be attached to its base ${slot.model.key}: ${e instanceof Error ? e.message : String(e)}`;
      throw new IngotError("unavailable", "AdapterLoadFailed", a.error);
    }
    a.state = "ready";
    a.error = undefined;
    // Detached while it was attaching: free the context it just got.
    if (slot.adapters.get(id) !== a) await this.#detach(slot, a);
  }

  async #detach(slot: Slot, a: AdapterSlot): Promise<void> {
    if (a.state === "loading") await a.ready.catch(() => {});
    if (a.state !== "ready" || !slot.client.pid) return;
    a.state = "failed";
    a.error = "detached";
    await slot.client.call((rid) => ({ type: "unload_adapter", id: rid, adapter: a.adapter.id }), "adapter_unloaded").catch(() => {});
  }

  async unloadAdapter(key: string, adapterId: string): Promise<void> {
    const slot = this.#slots.get(key);
    const a = slot?.adapters.get(adapterId);
    if (!slot || !a) return;
    slot.adapters.delete(adapterId);
    await this.#detach(slot, a);
  }

  get #adapterSequences(): number {
    return this.#options.adapterSequences ?? adapterSequencesFor(this.#options.sequences);
  }

  async #readyClient(target: EngineTarget): Promise<RunnerClient> {
    const slot = this.#slots.get(target.key);
    if (!slot) throw errors.unavailable("The model for this deployment is not loaded yet. Retry in a few seconds.");
    if (slot.state === "restarting" || slot.state === "loading") await slot.ready.catch(() => {});
    if (slot.state !== "ready") throw errors.unavailable(`The model for this deployment is not available: ${slot.error ?? slot.state}.`);
    if (target.adapter !== undefined) {
      const a = slot.adapters.get(target.adapter);
      if (!a) throw errors.unavailable("The fine-tuned model for this deployment is not loaded yet. Retry in a few seconds.");
      if (a.state === "loading") await a.ready.catch(() => {});
      if (a.state !== "ready") throw errors.unavailable(`The fine-tuned model for this deployment is not available: ${a.error ?? a.state}.`);
    }
    return slot.client;
  }

  async *generate(target: EngineTarget, params: GenerateParams, signal: AbortSignal): AsyncIterable<EngineEvent> {
    let prompt: RunnerPrompt;
    let grammar: string | undefined;
    let scanner: ToolCallScanner | undefined;
    if (params.input.kind === "chat") {
      const prepared = await prepareChat(params.input);
      prompt = prepared.prompt;
      grammar = prepared.grammar;
      if (prepared.toolsActive) scanner = new ToolCallScanner();
    } else {
      prompt = { kind: "text", text: params.input.prompt, suffix: params.input.suffix };
    }
    const client = await this.#readyClient(target);
    if (prompt.kind === "text" && prompt.suffix !== undefined && !client.hasFim)
      throw errors.invalid("This model cannot complete with a suffix: it has no fill-in-the-middle tokens. Remove 'suffix' or deploy a model with infill support.", "suffix");

    const queue = new AsyncQueue<FromRunner>();
    const req = client.request(
      (id) => ({
        type: "generate",
        id,
        prompt,
        grammar,
        maxTokens: params.maxTokens,
        stop: params.stop,
        logprobs: params.logprobs,
        adapter: target.adapter,
        sampling: { ...params.sampling, logitBias: Object.entries(params.sampling.logitBias).map(([t, b]) => [Number(t), b]) },
      }),
      { onMessage: (m) => queue.push(m), onDeath: (e) => queue.fail(e) },
    );
    const onAbort = () => {
      client.cancel(req.id);
      queue.end();
    };
    signal.addEventListener("abort", onAbort, { once: true });
    let finished = false;
    try {
      for await (const m of queue) {
        if (m.type === "text") {
          // The tokens that reached the server together (a runner's stream interval sends them
          // in one message, runner/outbox.ts) go on as one piece: one pass through the
          // generation pipeline and one SSE chunk, not one per token. Azure's default streaming
          // also returns content in buffered chunks rather than token by token.
          let text = m.text;
          let logprobs = m.logprobs;
          for (let more = queue.takeIf(isText); more?.type === "text"; more = queue.takeIf(isText)) {
            text += more.text;
            if (more.logprobs) logprobs = logprobs ? logprobs.concat(more.logprobs) : more.logprobs;
          }
          if (!scanner) yield { type: "content", text, logprobs };
          else for (const piece of scanner.push(text)) yield piece.type === "content" ? { type: "content", text: piece.text } : { type: "tool_call", call: { name: piece.name, arguments: piece.arguments } };
        } else if (m.type === "done") {
          finished = true;
          const usage = { promptTokens: m.promptTokens, completionTokens: m.completionTokens, cachedTokens: m.cachedTokens };
          this.#slots.get(target.key)?.log.note(`generation done: ${m.promptTokens} prompt + ${m.completionTokens} completion tokens, finish ${m.finishReason}${target.adapter ? `, adapter ${target.adapter}` : ""}`);
          // A call cut by max_tokens is no call: its text goes out as content, finish_reason "length".
          const cut = scanner?.end();
          if (cut) yield { type: "content", text: cut };
          yield { type: "end", finishReason: scanner?.sawCalls && !cut ? "tool_calls" : m.finishReason, usage };
          return;
        } else if (m.type === "error") {
          finished = true;
          throw m.code === "invalid_request" ? errors.invalid(m.message, m.param ?? null) : errors.internal(m.message);
        }
      }
    } finally {
      signal.removeEventListener("abort", onAbort);
      req.done();
      // A consumer that stops early (client gone) must free the runner's sequence.
      if (!finished && !signal.aborted) client.cancel(req.id);
    }
  }

  async embed(target: EngineTarget, inputs: string[], signal: AbortSignal): Promise<{ vectors: number[][]; promptTokens: number }> {
    // node-llama-cpp's embedding context takes no adapters.
    if (target.adapter !== undefined) throw errors.invalid("Fine-tuned (LoRA) deployments do not serve embeddings; use a deployment of the base model.", "model");
    const client = await this.#readyClient(target);
    return new Promise((resolve, reject) => {
      const req = client.request((id) => ({ type: "embed", id, inputs }), {
        onMessage: (m) => {
          req.done();
          if (m.type === "embedded") resolve({ vectors: m.vectors, promptTokens: m.promptTokens });
          else if (m.type === "error") reject(m.code === "invalid_request" ? errors.invalid(m.message, m.param ?? "input") : errors.internal(m.message));
        },
        onDeath: reject,
      });
      signal.addEventListener("abort", () => reject(new IngotError("invalid_request", "cancelled", "The request was cancelled.")), { once: true });
    });
  }

  /** The last `tail` lines of the runner output of slot `key` (undefined: no such slot). */
  logs(key: string, tail?: number): string | undefined {
    return this.#slots.get(key)?.log.tail(tail);
  }

  status(): EngineStatus[] {
    return [...this.#slots.values()].map((s) => ({
      key: s.model.key,
      state: s.state,
      pid: s.client.pid,
      error: s.error,
      activeSequences: Math.min(s.client.inFlight, this.#options.sequences),
      queuedRequests: Math.max(0, s.client.inFlight - this.#options.sequences),
      adapters: [...s.adapters.values()].map((a) => ({ id: a.adapter.id, state: a.state, ...(a.error ? { error: a.error } : {}) })),
    }));
  }

  async close(): Promise<void> {
    this.#closing = true;
    await Promise.all([...this.#slots.values()].map((s) => s.client.stop()));
    this.#slots.clear();
  }
}
