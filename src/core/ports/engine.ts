// The Engine port: loads models and runs generation and embeddings on them.
// Implemented by engines/llamacpp (LlamaCppEngine).
import type { ChatMessage, ResponseFormat, Sampling, ToolCall, ToolChoice, ToolDefinition, TokenLogprob, Usage } from "../generation/types.ts";

/**
 * An OpenAI-compatible server a model runs on instead of a local runner (catalog `"engine": "upstream"`):
 * llama-server, vLLM, another Ingot, Azure OpenAI. Several base URLs make a pool.
 */
export interface UpstreamSpec {
  /** The API base, as OpenAI clients take it: `http://host:8000/v1`, `http://ingot:8080/openai/v1`, `https://x.openai.azure.com/openai/v1`. */
  baseUrl: string | string[];
  /** The model (or deployment) name the upstream knows; replies name the deployment's model instead. */
  model: string;
  /** The environment variable holding the upstream's key (sent as `api-key` to *.azure.com, else as a bearer token). */
  apiKeyEnv?: string;
  headers?: Record<string, string>;
  /** Longest wait for the first byte of a reply and between streamed chunks (default 60 s). */
  timeoutMs?: number;
}

/** A model file an engine can load; `key` identifies the loaded base (deployments of one model share it). */
export interface EngineModel {
  key: string;
  /** The weights file; empty for a model served upstream. */
  path: string;
  /** Set: the model runs on this upstream, not in a local runner. */
  upstream?: UpstreamSpec;
  /** Context window per sequence. */
  contextLength: number;
  /** Whether the model serves embeddings (its runner keeps an embedding context). */
  embeddings: boolean;
}

/** A LoRA adapter attached to a loaded base: fine-tuned deployments share their base's runner and weights. */
export interface EngineAdapter {
  /** Names the adapter in generate/embed targets (the custom model's engine key). */
  id: string;
  /** The adapter GGUF. */
  path: string;
}

/** What a request runs on: a loaded base, optionally through one of its adapters. */
export interface EngineTarget {
  key: string;
  adapter?: string;
}

/**
 * Parallel sequences of an adapter's own context: fewer than the base's, since each adapter
 * context holds its own KV cache and fine-tuned deployments usually see less traffic.
 */
export const adapterSequencesFor = (sequences: number) => Math.max(1, Math.ceil(sequences / 4));

export type GenerateInput =
  | {
      kind: "chat";
      messages: ChatMessage[];
      tools: ToolDefinition[];
      toolChoice: ToolChoice;
      parallelToolCalls: boolean;
      responseFormat: ResponseFormat;
    }
  | { kind: "text"; prompt: string; suffix?: string };

export interface GenerateParams {
  input: GenerateInput;
  /** Undefined: until the context is full. */
  maxTokens?: number;
  sampling: Sampling;
  stop: string[];
  /** null: no logprobs; k >= 0: the chosen token's logprob plus k alternatives. */
  logprobs: number | null;
}

export type EngineEvent =
  | { type: "content"; text: string; logprobs?: TokenLogprob[] }
  | { type: "tool_call"; call: Omit<ToolCall, "id"> }
  | { type: "end"; finishReason: "stop" | "length" | "tool_calls"; usage: Usage };

export interface EngineStatus {
  key: string;
  state: "loading" | "ready" | "failed" | "restarting";
  pid?: number;
  error?: string;
  activeSequences: number;
  queuedRequests: number;
  /** Adapters attached to this base (they run in the same process). */
  adapters?: { id: string; state: "loading" | "ready" | "failed"; error?: string }[];
}

export interface Engine {
  readonly name: string;
  /** Loads (or finds loaded) a model; resolves once it answers. */
  load(model: EngineModel): Promise<void>;
  /** Unloads the base and every adapter attached to it. */
  unload(key: string): Promise<void>;
  /** Attaches an adapter to the loaded base `key`; resolves once it answers. A failure leaves the base serving. */
  loadAdapter(key: string, adapter: EngineAdapter): Promise<void>;
  unloadAdapter(key: string, adapterId: string): Promise<void>;
  /** Throws IngotError before the first event for a request the model cannot honour (e.g. a schema it cannot enforce). */
  generate(target: EngineTarget, params: GenerateParams, signal: AbortSignal): AsyncIterable<EngineEvent>;
  embed(target: EngineTarget, inputs: string[], signal: AbortSignal): Promise<{ vectors: number[][]; promptTokens: number }>;
  status(): EngineStatus[];
  /** The last `tail` lines a loaded model's runner wrote (and the engine noted about it); undefined when `key` is not loaded or the engine keeps no logs. */
  logs?(key: string, tail?: number): string | undefined;
  close(): Promise<void>;
}
