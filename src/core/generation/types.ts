// The one internal generation model. Every inference surface (Azure OpenAI, OpenAI v1,
// Azure AI model inference) translates its wire shape to and from these types at its edge.

export type Role = "system" | "developer" | "user" | "assistant" | "tool";

export interface ToolCall {
  id: string;
  name: string;
  /** Compact JSON text, valid for the function's parameters schema. */
  arguments: string;
}

export interface ChatMessage {
  role: Role;
  content: string;
  name?: string;
  toolCalls?: ToolCall[];
  toolCallId?: string;
}

export interface ToolDefinition {
  name: string;
  description?: string;
  parameters?: Record<string, unknown>;
  strict?: boolean;
}

export type ToolChoice = "auto" | "none" | "required" | { name: string };

export type ResponseFormat =
  | { type: "text" }
  | { type: "json_object" }
  | { type: "json_schema"; name: string; schema: Record<string, unknown>; strict: boolean };

export interface Sampling {
  temperature: number;
  topP: number;
  seed?: number;
  presencePenalty: number;
  frequencyPenalty: number;
  /** token id → bias in [-100, 100] */
  logitBias: Record<number, number>;
  /** Non-OpenAI knobs a surface may pass through (model inference `extra-parameters: pass-through`). */
  topK?: number;
  minP?: number;
}

export interface ChatRequest {
  deployment: string;
  messages: ChatMessage[];
  maxTokens?: number;
  sampling: Sampling;
  stop: string[];
  n: number;
  logprobs: boolean;
  topLogprobs: number;
  responseFormat: ResponseFormat;
  tools: ToolDefinition[];
  toolChoice: ToolChoice;
  parallelToolCalls: boolean;
  user?: string;
}

export interface CompletionRequest {
  deployment: string;
  /** One or more prompts; choices are numbered prompt by prompt (n per prompt). */
  prompts: string[];
  suffix?: string;
  echo: boolean;
  maxTokens: number;
  sampling: Sampling;
  stop: string[];
  n: number;
  bestOf: number;
  /** Number of top logprobs per token (0–5), or null for none. */
  logprobs: number | null;
}

export interface EmbeddingRequest {
  deployment: string;
  inputs: string[];
  dimensions?: number;
}

export type FinishReason = "stop" | "length" | "tool_calls" | "content_filter";

export interface TokenLogprob {
  token: string;
  logprob: number;
  bytes: number[];
  top: { token: string; logprob: number; bytes: number[] }[];
}

export interface Usage {
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
}

/** One streamed piece of one choice. */
export type ChatChunk =
  | { type: "content"; index: number; text: string; logprobs?: TokenLogprob[] }
  | { type: "tool_call"; index: number; callIndex: number; call: ToolCall }
  | { type: "finish"; index: number; reason: FinishReason };

export interface ChoiceResult {
  index: number;
  content: string | null;
  toolCalls: ToolCall[];
  finishReason: FinishReason;
  logprobs?: TokenLogprob[];
}

export interface ChatResult {
  id: string;
  created: number;
  model: string;
  choices: ChoiceResult[];
  usage: Usage;
}

export interface EmbeddingResult {
  model: string;
  vectors: number[][];
  promptTokens: number;
}
