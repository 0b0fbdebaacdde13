// The typed protocol between the server (parent) and a runner child process, which holds
// one loaded base model and, per attached LoRA adapter, one more context. Messages travel
// over the child_process IPC channel.
import type { TokenLogprob } from "../../core/generation/types.ts";

export interface LoadOptions {
  modelPath: string;
  threads: number;
  /** Parallel sequences in the one context (continuous batching slots). */
  sequences: number;
  /** Context window per sequence. */
  contextLength: number;
  embeddings: boolean;
  /** Streamed text is sent at most this often, in one message (runner/outbox.ts); 0: per piece. */
  streamIntervalMs: number;
}

export interface RunnerSampling {
  temperature: number;
  topP: number;
  topK?: number;
  minP?: number;
  seed?: number;
  presencePenalty: number;
  frequencyPenalty: number;
  logitBias: [number, number][];
}

export type RunnerPrompt =
  /** Chat turns already reduced to what a chat template understands. */
  | { kind: "chat"; messages: { role: "system" | "user" | "assistant"; content: string }[] }
  | { kind: "text"; text: string; suffix?: string };

export interface GenerateMessage {
  type: "generate";
  id: number;
  prompt: RunnerPrompt;
  maxTokens?: number;
  sampling: RunnerSampling;
  stop: string[];
  /** GBNF text constraining the output, if any. */
  grammar?: string;
  logprobs: number | null;
  /** Generate through this attached adapter's context (absent: the base context). */
  adapter?: string;
}

/** Attaches a LoRA adapter: a context of its own over the shared weights. Answered with adapter_loaded or error. */
export interface LoadAdapterMessage {
  type: "load_adapter";
  id: number;
  adapter: string;
  path: string;
  /** Parallel sequences of the adapter's context (fewer than the base's). */
  sequences: number;
  /** LoRA scale (default 1). */
  scale?: number;
}

export type ToRunner =
  | ({ type: "load" } & LoadOptions)
  | GenerateMessage
  | { type: "cancel"; id: number }
  | { type: "embed"; id: number; inputs: string[] }
  | LoadAdapterMessage
  /** Fails the adapter's in-flight requests, frees its context and weights; answered with adapter_unloaded. */
  | { type: "unload_adapter"; id: number; adapter: string }
  | { type: "shutdown" };

/** What one IPC message from a runner carries: a reply, or replies coalesced by its outbox. */
export type RunnerOutput = FromRunner | FromRunner[];

export type FromRunner =
  | { type: "loaded"; trainContextSize: number; hasFim: boolean }
  | { type: "load_failed"; message: string }
  | { type: "text"; id: number; text: string; logprobs?: TokenLogprob[] }
  | {
      type: "done";
      id: number;
      finishReason: "stop" | "length";
      promptTokens: number;
      completionTokens: number;
      cachedTokens: number;
    }
  | { type: "embedded"; id: number; vectors: number[][]; promptTokens: number }
  | { type: "adapter_loaded"; id: number }
  | { type: "adapter_unloaded"; id: number }
  | { type: "error"; id: number; code: "invalid_request" | "internal"; message: string; param?: string };
