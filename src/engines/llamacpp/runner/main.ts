// A runner: a child process holding one loaded base model. Native aborts here kill only
// this process; the parent fails its in-flight requests and starts a new one.
//
// LoRA adapters are applied by llama.cpp per context (llama_set_adapters_lora), for every
// sequence of it: sequences of one context cannot use different adapters. So each attached
// adapter gets a context of its own over the shared weights ("lane"), with its own sequences,
// prefix cache and step barrier; the base context serves the base model's deployments.
import { getLlama, Llama, LlamaGrammar, LlamaLogLevel } from "node-llama-cpp";
import type { LlamaContext, LlamaEmbeddingContext, LlamaModel } from "node-llama-cpp";
import type { FromRunner, LoadAdapterMessage, LoadOptions, ToRunner } from "../protocol.ts";
import { runGeneration } from "./generate.ts";
import { PromptRenderer } from "./prompt.ts";
import { SequencePool } from "./sequence-pool.ts";

/** One context and its sequences: the base's, or an adapter's. */
interface Lane {
  context: LlamaContext;
  pool: SequencePool;
}

interface AdapterLane extends Lane {
  path: string;
}

interface Loaded {
  llama: Llama;
  model: LlamaModel;
  base: Lane;
  adapters: Map<string, AdapterLane>;
  renderer: PromptRenderer;
  options: LoadOptions;
  embedding?: Promise<LlamaEmbeddingContext>;
  grammars: Map<string, LlamaGrammar>;
}

let loaded: Loaded | undefined;
const active = new Map<number, { cancelled: boolean; adapter?: string }>();
/** The last error llama.cpp logged: node-llama-cpp's own errors (e.g. a refused adapter) do not say why. */
let lastLlamaError = "";

function send(message: FromRunner): void {
  process.send?.(message);
}

function contextOptions(options: LoadOptions, sequences: number) {
  return {
    contextSize: options.contextLength,
    sequences,
    threads: { ideal: options.threads, min: options.threads },
    batchSize: Math.min(512, options.contextLength),
    flashAttention: true,
  };
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
  const model = await llama.loadModel({ modelPath: options.modelPath, gpuLayers: 0 });
  // Every context reserves all the runner's threads (min = ideal), so contexts take turns
  // instead of oversubscribing the cores.
  const context = await model.createContext(contextOptions(options, options.sequences));
  loaded = { llama, model, base: { context, pool: new SequencePool(context) }, adapters: new Map(), renderer: new PromptRenderer(model), options, grammars: new Map() };
  send({ type: "loaded", trainContextSize: model.trainContextSize, hasFim: loaded.renderer.hasFim });
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
  lastLlamaError = "";
  let context: LlamaContext;
  try {
    context = await state.model.createContext({
      ...contextOptions(state.options, message.sequences),
      lora: { adapters: [{ filePath: message.path, scale: message.scale }] },
    });
  } catch (e) {
    // llama.cpp's log line arrives through the logger callback, at most a tick later.
    await new Promise((resolve) => setImmediate(resolve));
    const reason = lastLlamaError.replace(/^llama_adapter_lora_init\w*: /, "");
    const base = e instanceof Error ? e.message : String(e);
    return send({ type: "error", id: message.id, code: "internal", message: reason ? `${base}: ${reason}` : base });
  }
  state.adapters.set(message.adapter, { context, pool: new SequencePool(context), path: message.path });
  send({ type: "adapter_loaded", id: message.id });
}

async function unloadAdapter(state: Loaded, id: number, adapter: string): Promise<void> {
  await attaching.get(adapter)?.catch(() => {});
  const lane = state.adapters.get(adapter);
  if (lane) {
    state.adapters.delete(adapter);
    for (const [requestId, signal] of active) {
      if (signal.adapter !== adapter || signal.cancelled) continue;
      signal.cancelled = true;
      send({ type: "error", id: requestId, code: "internal", message: "The deployment was deleted while this request was running." });
    }
    lane.pool.wakeAll();
    await lane.pool.idle();
    await lane.context.dispose();
    await freeAdapterWeights(state.model, lane.path);
  }
  send({ type: "adapter_unloaded", id });
}

/**
 * node-llama-cpp keeps an adapter's weights on the model until the model is disposed; with
 * adapters coming and going on a long-lived base that would leak, so free them here.
 * (Internal API of node-llama-cpp 3.22: the model's map of loaded adapters by resolved path.)
 */
async function freeAdapterWeights(model: LlamaModel, path: string): Promise<void> {
  const adapters = (model as unknown as { _loraAdapters?: Map<string, { dispose(): Promise<void> }> })._loraAdapters;
  const entry = adapters?.get(path);
  if (!adapters || !entry) return;
  adapters.delete(path);
  await entry.dispose();
}

function grammarFor(state: Loaded, gbnf: string): LlamaGrammar {
  let grammar = state.grammars.get(gbnf);
  if (!grammar) {
    grammar = new LlamaGrammar(state.llama, { grammar: gbnf });
    if (state.grammars.size > 64) state.grammars.delete(state.grammars.keys().next().value!);
    state.grammars.set(gbnf, grammar);
  }
  return grammar;
}

async function embed(state: Loaded, id: number, inputs: string[]): Promise<void> {
  state.embedding ??= state.model.createEmbeddingContext({ contextSize: state.options.contextLength, threads: state.options.threads });
  const context = await state.embedding;
  const vectors: number[][] = [];
  let promptTokens = 0;
  for (const input of inputs) {
    const tokens = state.model.tokenize(input, false);
    if (tokens.length > state.options.contextLength) {
      send({ type: "error", id, code: "invalid_request", param: "input", message: `An input is ${tokens.length} tokens long; this model accepts at most ${state.options.contextLength} tokens per input. Shorten or split it.` });
      return;
    }
    promptTokens += tokens.length;
    vectors.push([...(await context.getEmbeddingFor(tokens)).vector]);
  }
  send({ type: "embedded", id, vectors, promptTokens });
}

async function handle(message: ToRunner): Promise<void> {
  switch (message.type) {
    case "load":
      try {
        await load(message);
      } catch (e) {
        send({ type: "load_failed", message: e instanceof Error ? e.message : String(e) });
      }
      return;
    case "generate": {
      const state = loaded;
      if (!state) return send({ type: "error", id: message.id, code: "internal", message: "model not loaded" });
      const lane = message.adapter === undefined ? state.base : state.adapters.get(message.adapter);
      if (!lane) return send({ type: "error", id: message.id, code: "internal", message: "The fine-tuned model of this deployment is not loaded (it is being removed or reloaded). Retry in a few seconds." });
      const signal = { cancelled: false, adapter: message.adapter };
      active.set(message.id, signal);
      try {
        let prompt;
        try {
          prompt = state.renderer.render(message.prompt);
        } catch {
          return send({ type: "error", id: message.id, code: "invalid_request", param: "suffix", message: `This model cannot complete with a suffix: it has no fill-in-the-middle tokens. Remove 'suffix'.` });
        }
        await runGeneration(
          { model: state.model, pool: lane.pool, contextLength: state.options.contextLength, grammarFor: (g) => grammarFor(state, g), send },
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
      loaded?.base.pool.wakeAll();
      for (const lane of loaded?.adapters.values() ?? []) lane.pool.wakeAll();
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
      for (const lane of loaded?.adapters.values() ?? []) await lane.context.dispose();
      await loaded?.base.context.dispose();
      await loaded?.model.dispose();
      process.exit(0);
  }
}

process.on("message", (message: ToRunner) => void handle(message));
// The parent going away (crash or kill) must not leave an orphan holding the model.
process.on("disconnect", () => process.exit(0));
