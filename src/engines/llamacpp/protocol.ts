// The typed protocol between the server (parent) and a runner child process, which holds
// one loaded base model. Messages travel over the child_process IPC channel.
import type { TokenLogprob } from "../../core/generation/types.ts";

export interface LoadOptions {
  modelPath: string;
  threads: number;
  /** Parallel sequences in the one context (continuous batching slots). */
  sequences: number;
  /** Context window per sequence. */
  contextLength: number;
  embeddings: boolean;
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
}

export type ToRunner =
  | ({ type: "load" } & LoadOptions)
  | GenerateMessage
  | { type: "cancel"; id: number }
  | { type: "embed"; id: number; inputs: string[] }
  | { type: "shutdown" };

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
  | { type: "error"; id: number; code: "invalid_request" | "internal"; message: string; param?: string };
