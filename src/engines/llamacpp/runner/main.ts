// A runner: a child process holding one loaded base model. Native aborts here kill only
// this process; the parent fails its in-flight requests and starts a new one.
import { getLlama, LlamaGrammar, LlamaLogLevel } from "node-llama-cpp";
import type { Llama, LlamaContext, LlamaEmbeddingContext, LlamaModel } from "node-llama-cpp";
import type { FromRunner, LoadOptions, ToRunner } from "../protocol.ts";
import { runGeneration } from "./generate.ts";
import { PromptRenderer } from "./prompt.ts";
import { SequencePool } from "./sequence-pool.ts";

interface Loaded {
  llama: Llama;
  model: LlamaModel;
  context: LlamaContext;
  pool: SequencePool;
  renderer: PromptRenderer;
  options: LoadOptions;
  embedding?: Promise<LlamaEmbeddingContext>;
  grammars: Map<string, LlamaGrammar>;
}

let loaded: Loaded | undefined;
const active = new Map<number, { cancelled: boolean }>();

function send(message: FromRunner): void {
  process.send?.(message);
}

async function load(options: LoadOptions): Promise<void> {
  const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error, maxThreads: options.threads, progressLogs: false });
  const model = await llama.loadModel({ modelPath: options.modelPath, gpuLayers: 0 });
  const context = await model.createContext({
    contextSize: options.contextLength,
    sequences: options.sequences,
    threads: { ideal: options.threads, min: options.threads },
    batchSize: Math.min(512, options.contextLength),
    flashAttention: true,
  });
  loaded = { llama, model, context, pool: new SequencePool(context), renderer: new PromptRenderer(model), options, grammars: new Map() };
  send({ type: "loaded", trainContextSize: model.trainContextSize, hasFim: loaded.renderer.hasFim });
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
      const signal = { cancelled: false };
      active.set(message.id, signal);
      try {
        let prompt;
        try {
          prompt = state.renderer.render(message.prompt);
        } catch {
          return send({ type: "error", id: message.id, code: "invalid_request", param: "suffix", message: `This model cannot complete with a suffix: it has no fill-in-the-middle tokens. Remove 'suffix'.` });
        }
        await runGeneration(
          { model: state.model, pool: state.pool, contextLength: state.options.contextLength, grammarFor: (g) => grammarFor(state, g), send },
          message,
          prompt,
          signal,
        );
      } catch (e) {
        send({ type: "error", id: message.id, code: "internal", message: e instanceof Error ? e.message : String(e) });
      } finally {
        active.delete(message.id);
      }
      return;
    }
    case "cancel": {
      const signal = active.get(message.id);
      if (signal) signal.cancelled = true;
      loaded?.pool.wakeAll();
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
    case "shutdown":
      await loaded?.context.dispose();
      await loaded?.model.dispose();
      process.exit(0);
  }
}

process.on("message", (message: ToRunner) => void handle(message));
// The parent going away (crash or kill) must not leave an orphan holding the model.
process.on("disconnect", () => process.exit(0));
