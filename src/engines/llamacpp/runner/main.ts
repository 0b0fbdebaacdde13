// A runner: a child process holding one loaded base model. Native aborts here kill only
// this process; the parent fails its in-flight requests and starts a new one.
//
// The weights, contexts, decoding and sampling go through libllama directly (libllama.ts:
// synchronous calls on this thread, see lane.ts); node-llama-cpp loads the native libraries
// and the model's vocabulary only, for tokenizing, detokenizing and chat templates.
//
// LoRA adapters are applied by llama.cpp per context (llama_set_adapters_lora), for every
// sequence of it: sequences of one context cannot use different adapters. So each attached
// adapter gets a context of its own over the shared weights ("lane"), with its own sequences
// and prefix cache; the base context serves the base model's deployments. Lanes take turns:
// one llama_decode at a time in this process, each with all the runner's threads.
import { getLlama, Llama, LlamaLogLevel, LlamaVocabularyType } from "node-llama-cpp";
import type { LlamaModel } from "node-llama-cpp";
import type { FromRunner, GenerateMessage, LoadAdapterMessage, LoadOptions, ToRunner } from "../protocol.ts";
import { runGeneration } from "./generate.ts";
import { Lane, NativeBatch } from "./lane.ts";
import { LLAMA_FLASH_ATTN_ENABLED, LLAMA_POOLING_NONE, LLAMA_POOLING_RANK, loadLibllama, NativeViews } from "../../../native/libllama.ts";
import type { LlamaLib, Ptr } from "../../../native/libllama.ts";
import { Outbox } from "./outbox.ts";
import { EmptyPromptError, PromptRenderer } from "./prompt.ts";
import { Candidates, RequestSampler } from "./sampler.ts";
import type { SamplerDeps } from "./sampler.ts";

interface Embedder {
  ctx: Ptr;
  batch: NativeBatch;
}

interface Loaded {
  llama: Llama;
  lib: LlamaLib;
  /** node-llama-cpp's view of the model: vocabulary only. */
  vocabModel: LlamaModel;
  model: Ptr;
  vocab: Ptr;
  base: Lane;
  adapters: Map<string, { lane: Lane; adapter: Ptr; path: string }>;
  renderer: PromptRenderer;
  options: LoadOptions;
  embedder?: Embedder;
  /** Parsed grammars by GBNF text; each request gets a clone. */
  grammars: Map<string, Ptr>;
  samplerDeps: SamplerDeps;
  /** A persistent ggml threadpool shared by the lanes (they never decode at once), if enabled. */
  threadpool?: Ptr;
}

let loaded: Loaded | undefined;
const active = new Map<number, { cancelled: boolean; adapter?: string }>();
/** The last error llama.cpp logged: the C API's NULLs do not say why. */
let lastLlamaError = "";

/** Replies to the server; streamed text is coalesced over the load message's streamIntervalMs (outbox.ts). */
let outbox = new Outbox(0, (m) => process.send?.(m));

function send(message: FromRunner): void {
  outbox.send(message);
}

const BATCH_SIZE = 512;

/**
 * The ggml threadpool's polling level (0–100) between graphs; llama-bench's default is 50.
 * A persistent pool matters on few cores: without one, llama.cpp starts the worker threads
 * anew for every graph, and on 2 cores the scheduler then now and then puts a new worker on
 * the core of the thread that waits for it: after an idle spell, 2-thread decoding ran at
 * 45–75 tok/s instead of 150–170 for several seconds (bench/README.md). INGOT_RUNNER_POLL
 * overrides the level; "off" goes back to threads per graph.
 */
const DEFAULT_POLL = 50;

function threadpoolPoll(): number | undefined {
  const v = process.env.INGOT_RUNNER_POLL;
  if (v === "off") return undefined;
  const n = v === undefined || v === "" ? DEFAULT_POLL : Number(v);
  return Number.isInteger(n) && n >= 0 && n <= 100 ? n : DEFAULT_POLL;
}

function createContext(state: Pick<Loaded, "lib" | "model" | "options" | "threadpool">, sequences: number, embeddings = false): Ptr {
  const { lib, options } = state;
  // Each sequence gets its own contextLength of cells (kv_unified off), as node-llama-cpp did.
  const cells = Math.ceil((options.contextLength * sequences) / 256) * 256;
  const batch = embeddings ? embeddingBatch(options) : Math.min(BATCH_SIZE, cells);
  lastLlamaError = "";
  const ctx = lib.initFromModel(state.model, {
    ...lib.contextDefaultParams(),
    n_ctx: cells,
    n_batch: batch,
    n_ubatch: batch,
    n_seq_max: sequences,
    n_threads: options.threads,
    n_threads_batch: options.threads,
    flash_attn_type: LLAMA_FLASH_ATTN_ENABLED,
    no_perf: true,
    swa_full: false,
    kv_unified: false,
    embeddings,
  });
  if (!ctx) throw new Error(`Failed to create a llama.cpp context${lastLlamaError ? `: ${lastLlamaError}` : ""}`);
  if (state.threadpool) lib.attachThreadpool(ctx, state.threadpool, state.threadpool);
  return ctx;
}

/**
 * An embedding input goes in one ubatch when it can (llama.cpp pools per ubatch, and
 * non-causal models need the whole input at once): up to the context length, capped to keep
 * the compute buffers reasonable for long-context models.
 */
function embeddingBatch(options: LoadOptions): number {
  return Math.min(options.contextLength, MAX_EMBEDDING_BATCH);
}

const MAX_EMBEDDING_BATCH = 8192;

/** Puts the shared threadpool's workers to sleep now rather than after their polling spell; the next decode wakes them. */
function sleepWorkers(state: Pick<Loaded, "lib" | "threadpool">): void {
  if (state.threadpool) state.lib.threadpoolPause?.(state.threadpool);
}

function newLane(state: Pick<Loaded, "lib" | "model" | "options" | "threadpool">, sequences: number): Lane {
  const ctx = createContext(state, sequences);
  return new Lane(state.lib, ctx, sequences, Math.min(BATCH_SIZE, Math.ceil((state.options.contextLength * sequences) / 256) * 256), {
    // Text held by the outbox leaves right after a decode, not just before the next one: the
    // server and the client then do their part while this thread samples.
    afterDecode: () => outbox.flushDue(),
    // The pool's workers poll for ~160 ms after a graph before they sleep: after a request
    // that was a core spinning for nothing (and taken from the server, the client or the next
    // benchmark). Paused, they sleep at once; the next graph wakes them.
    idle: () => sleepWorkers(state),
  });
}

async function load(options: LoadOptions): Promise<void> {
  const llama = await getLlama({
    gpu: false,
    build: "never",
    logLevel: LlamaLogLevel.error,
    maxThreads: options.threads,
    progressLogs: false,
    logger: (level, message) => {
      if (level === LlamaLogLevel.error || level === LlamaLogLevel.fatal) lastLlamaError = message.trim();
      Llama.defaultConsoleLogger(level, message);
    },
  });
  const vocabModel = await llama.loadModel({ modelPath: options.modelPath, vocabOnly: true });
  const lib = loadLibllama();
  lastLlamaError = "";
  const model = lib.modelLoad(options.modelPath, { ...lib.modelDefaultParams(), n_gpu_layers: 0 });
  if (!model) {
    // llama.cpp's log line arrives through node-llama-cpp's logger, at most a tick later.
    await new Promise((resolve) => setImmediate(resolve));
    throw new Error(`Failed to load model${lastLlamaError ? `: ${lastLlamaError}` : ""}`);
  }
  const poll = threadpoolPoll();
  const threadpool = poll !== undefined && options.threads > 1 ? lib.threadpoolNew(options.threads, poll) : undefined;
  const base = newLane({ lib, model, options, threadpool }, options.sequences);
  const vocab = lib.modelVocab(model);
  const nVocab = lib.vocabNTokens(vocab);
  const isEog = (token: number) => lib.vocabIsEog(vocab, token);
  const samplerDeps: SamplerDeps = { lib, vocab, nVocab, isEog, views: new NativeViews(), candidates: new Candidates(nVocab) };
  loaded = { llama, lib, vocabModel, model, vocab, base, adapters: new Map(), renderer: new PromptRenderer(vocabModel), options, grammars: new Map(), samplerDeps, threadpool };
  send({ type: "loaded", trainContextSize: vocabModel.trainContextSize, hasFim: loaded.renderer.hasFim });
}

/** Adapter contexts being created, so a repeated load waits for the first instead of creating a second. */
const attaching = new Map<string, Promise<void>>();

async function loadAdapter(state: Loaded, message: LoadAdapterMessage): Promise<void> {
  const pending = attaching.get(message.adapter);
  if (pending) await pending;
  if (state.adapters.has(message.adapter)) return send({ type: "adapter_loaded", id: message.id });
  const attach = createAdapterLane(state, message);
  attaching.set(message.adapter, attach);
  try {
    await attach;
  } finally {
    attaching.delete(message.adapter);
  }
}

async function createAdapterLane(state: Loaded, message: LoadAdapterMessage): Promise<void> {
  const { lib } = state;
  // Let the lanes step once before this thread spends a while reading the adapter.
  await new Promise((resolve) => setImmediate(resolve));
  lastLlamaError = "";
  const adapter = lib.adapterInit(state.model, message.path);
  if (!adapter) {
    // llama.cpp's log line arrives through node-llama-cpp's logger, at most a tick later.
    await new Promise((resolve) => setImmediate(resolve));
    const reason = lastLlamaError.replace(/^llama_adapter_lora_init\w*: /, "");
    const base = `Failed to initialize LoRA adapter "${message.path}"`;
    return send({ type: "error", id: message.id, code: "internal", message: reason ? `${base}: ${reason}` : base });
  }
  let lane: Lane;
  try {
    lane = newLane(state, message.sequences);
  } catch (e) {
    lib.adapterFree(adapter);
    return send({ type: "error", id: message.id, code: "internal", message: e instanceof Error ? e.message : String(e) });
  }
  if (lib.setAdapters(lane.ctx, [adapter], [message.scale ?? 1]) !== 0) {
    lane.dispose();
    lib.adapterFree(adapter);
    return send({ type: "error", id: message.id, code: "internal", message: `llama.cpp refused the LoRA adapter "${message.path}" for this model${lastLlamaError ? `: ${lastLlamaError}` : ""}` });
  }
  state.adapters.set(message.adapter, { lane, adapter, path: message.path });
  send({ type: "adapter_loaded", id: message.id });
}

async function unloadAdapter(state: Loaded, id: number, adapter: string): Promise<void> {
  await attaching.get(adapter)?.catch(() => {});
  const entry = state.adapters.get(adapter);
  if (entry) {
    state.adapters.delete(adapter);
    for (const [requestId, signal] of active) {
      if (signal.adapter !== adapter || signal.cancelled) continue;
      signal.cancelled = true;
      send({ type: "error", id: requestId, code: "internal", message: "The deployment was deleted while this request was running." });
    }
    entry.lane.wakeAll();
    await entry.lane.idle();
    entry.lane.dispose();
    state.lib.adapterFree(entry.adapter);
  }
  send({ type: "adapter_unloaded", id });
}

function samplerFor(state: Loaded, request: GenerateMessage, maxTokens: number): RequestSampler {
  let grammar: Ptr | undefined;
  if (request.grammar) {
    let parsed = state.grammars.get(request.grammar);
    if (!parsed) {
      lastLlamaError = "";
      parsed = state.lib.grammar(state.vocab, request.grammar, "root");
      if (!parsed) throw new Error(`llama.cpp could not parse the request's grammar${lastLlamaError ? `: ${lastLlamaError}` : ""}`);
      if (state.grammars.size > 64) {
        const [oldest, sampler] = state.grammars.entries().next().value!;
        state.grammars.delete(oldest);
        state.lib.samplerFree(sampler);
      }
      state.grammars.set(request.grammar, parsed);
    }
    grammar = state.lib.samplerClone(parsed);
  }
  return new RequestSampler(state.samplerDeps, request.sampling, maxTokens, grammar, request.logprobs);
}

/** The tokens node-llama-cpp's embedding context evaluated for an input: BOS/SEP/EOS as the vocabulary wants them. */
function embeddingInput(model: LlamaModel, tokens: number[]): number[] {
  const out = [...tokens];
  const type = model.vocabularyType;
  const t = model.tokens;
  const first =
    type === LlamaVocabularyType.rwkv || type === LlamaVocabularyType.ugm ? null : type === LlamaVocabularyType.wpm ? t.bos : t.shouldPrependBosToken ? t.bos : null;
  if (first != null && out[0] !== first) out.unshift(first);
  const last = type === LlamaVocabularyType.rwkv ? null : type === LlamaVocabularyType.wpm ? t.sep : type === LlamaVocabularyType.ugm ? t.eos : t.shouldAppendEosToken ? t.eos : null;
  if (last != null && out.at(-1) !== last) out.push(last);
  return out;
}

function embedOne(state: Loaded, tokens: number[]): number[] {
  const { lib } = state;
  if (!state.embedder) {
    const ctx = createContext(state, 1, true);
    state.embedder = { ctx, batch: new NativeBatch(embeddingBatch(state.options)) };
  }
  const { ctx, batch } = state.embedder;
  if (tokens.length === 0) return [];
  if (tokens.length >= state.options.contextLength) throw new Error("Input is longer than the usable context size. Try to increase the context size or use another model that supports longer contexts.");
  lib.memoryClear(lib.memory(ctx), true);
  for (let start = 0; start < tokens.length; start += batch.capacity) {
    const n = Math.min(batch.capacity, tokens.length - start);
    for (let i = 0; i < n; i++) {
      batch.token[i] = tokens[start + i];
      batch.pos[i] = start + i;
      batch.seq[i] = 0;
      batch.logits[i] = 1;
    }
    batch.struct.n_tokens = n;
    const status = lib.decode(ctx, batch.struct);
    if (status !== 0) throw new Error(`llama_decode failed (${status}) computing embeddings`);
  }
  const pooling = lib.poolingType(ctx);
  const size = pooling === LLAMA_POOLING_RANK ? lib.modelNClsOut(state.model) : lib.modelNEmbdOut(state.model);
  const ptr = (pooling === LLAMA_POOLING_NONE ? null : lib.embeddingsSeq(ctx, 0)) ?? lib.embeddingsIth(ctx, -1);
  if (!ptr || size <= 0) throw new Error(`Failed to get embeddings for token ${tokens.length - 1}`);
  return Array.from(state.samplerDeps.views.floats(ptr, size));
}

async function embed(state: Loaded, id: number, inputs: string[]): Promise<void> {
  const vectors: number[][] = [];
  let promptTokens = 0;
  for (const input of inputs) {
    const tokens = state.vocabModel.tokenize(input, false);
    if (tokens.length > state.options.contextLength) {
      send({ type: "error", id, code: "invalid_request", param: "input", message: `An input is ${tokens.length} tokens long; this model accepts at most ${state.options.contextLength} tokens per input. Shorten or split it.` });
      return;
    }
    promptTokens += tokens.length;
    vectors.push(embedOne(state, embeddingInput(state.vocabModel, tokens)));
    // Generation lanes get a step between two inputs.
    await new Promise((resolve) => setImmediate(resolve));
  }
  sleepWorkers(state);
  send({ type: "embedded", id, vectors, promptTokens });
}

async function handle(message: ToRunner): Promise<void> {
  switch (message.type) {
    case "load":
      outbox = new Outbox(message.streamIntervalMs, (m) => process.send?.(m));
      try {
        await load(message);
      } catch (e) {
        send({ type: "load_failed", message: e instanceof Error ? e.message : String(e) });
      }
      return;
    case "generate": {
      const state = loaded;
      if (!state) return send({ type: "error", id: message.id, code: "internal", message: "model not loaded" });
      const lane = message.adapter === undefined ? state.base : state.adapters.get(message.adapter)?.lane;
      if (!lane) return send({ type: "error", id: message.id, code: "internal", message: "The fine-tuned model of this deployment is not loaded (it is being removed or reloaded). Retry in a few seconds." });
      const signal = { cancelled: false, adapter: message.adapter };
      active.set(message.id, signal);
      try {
        let prompt;
        try {
          prompt = state.renderer.render(message.prompt);
        } catch (e) {
          if (e instanceof EmptyPromptError) return send({ type: "error", id: message.id, code: "invalid_request", param: "prompt", message: e.message });
          return send({ type: "error", id: message.id, code: "invalid_request", param: "suffix", message: `This model cannot complete with a suffix: it has no fill-in-the-middle tokens. Remove 'suffix'.` });
        }
        await runGeneration(
          {
            model: state.vocabModel,
            lane,
            contextLength: state.options.contextLength,
            isEog: state.samplerDeps.isEog,
            sampler: (request, maxTokens) => samplerFor(state, request, maxTokens),
            send,
          },
          message,
          prompt,
          signal,
        );
      } catch (e) {
        if (!signal.cancelled) send({ type: "error", id: message.id, code: "internal", message: e instanceof Error ? e.message : String(e) });
      } finally {
        active.delete(message.id);
      }
      return;
    }
    case "cancel": {
      const signal = active.get(message.id);
      if (signal) signal.cancelled = true;
      loaded?.base.wakeAll();
      for (const a of loaded?.adapters.values() ?? []) a.lane.wakeAll();
      return;
    }
    case "embed":
      if (!loaded) return send({ type: "error", id: message.id, code: "internal", message: "model not loaded" });
      try {
        await embed(loaded, message.id, message.inputs);
      } catch (e) {
        send({ type: "error", id: message.id, code: "internal", message: e instanceof Error ? e.message : String(e) });
      }
      return;
    case "load_adapter":
      if (!loaded) return send({ type: "error", id: message.id, code: "internal", message: "model not loaded" });
      return loadAdapter(loaded, message);
    case "unload_adapter":
      if (!loaded) return send({ type: "adapter_unloaded", id: message.id });
      return unloadAdapter(loaded, message.id, message.adapter);
    case "shutdown":
      // The process exit frees the contexts and the weights.
      process.exit(0);
  }
}

process.on("message", (message: ToRunner) =>
  handle(message).catch((e: Error) => process.stderr.write(`runner: handling a ${message.type} message failed: ${e.stack ?? e.message}\n`)),
);
// The parent going away (crash or kill) must not leave an orphan holding the model.
process.on("disconnect", () => process.exit(0));
