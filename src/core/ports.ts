// Interfaces owned by core and implemented by adapters (engines, stores).
import type { ChatMessage, ResponseFormat, Sampling, ToolCall, ToolChoice, ToolDefinition, TokenLogprob, Usage } from "./generation/types.ts";

/** A model file an engine can load; `key` identifies the loaded base (deployments of one model share it). */
export interface EngineModel {
  key: string;
  path: string;
  /** Context window per sequence. */
  contextLength: number;
  /** Whether the model serves embeddings (its runner keeps an embedding context). */
  embeddings: boolean;
}

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
}

export interface Engine {
  readonly name: string;
  /** Loads (or finds loaded) a model; resolves once it answers. */
  load(model: EngineModel): Promise<void>;
  unload(key: string): Promise<void>;
  /** Throws IngotError before the first event for a request the model cannot honour (e.g. a schema it cannot enforce). */
  generate(key: string, params: GenerateParams, signal: AbortSignal): AsyncIterable<EngineEvent>;
  embed(key: string, inputs: string[], signal: AbortSignal): Promise<{ vectors: number[][]; promptTokens: number }>;
  status(): EngineStatus[];
  close(): Promise<void>;
}

export interface AccountRecord {
  name: string;
  subscription: string;
  resourceGroup: string;
  location: string;
  createdAt: number;
}

export interface ModelRef {
  format: string;
  name: string;
  version: string;
}

export type ProvisioningState = "Accepted" | "Creating" | "Succeeded" | "Failed" | "Deleting";

export interface DeploymentRecord {
  account: string;
  name: string;
  model: ModelRef;
  sku: { name: string; capacity: number };
  state: ProvisioningState;
  error: string | null;
  createdAt: number;
  updatedAt: number;
}

/** Persistence for accounts, keys and deployments (SQLite by default). */
export interface Store {
  getAccount(name: string): AccountRecord | undefined;
  putAccount(account: AccountRecord): void;
  /** Key hashes by key name ("key1", "key2"). */
  getKeyHashes(account: string): Record<string, string>;
  setKeyHash(account: string, keyName: string, hash: string): void;
  /** The account whose key has this hash, if any. */
  accountForKeyHash(hash: string): string | undefined;
  listDeployments(account?: string): DeploymentRecord[];
  getDeployment(account: string, name: string): DeploymentRecord | undefined;
  putDeployment(deployment: DeploymentRecord): void;
  deleteDeployment(account: string, name: string): void;
  close(): void;
}

/** Where model weights come from: resolves a catalog model to a verified local file. */
export interface ModelFiles {
  ensure(model: ModelRef): Promise<{ path: string; sha256: string }>;
}
