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
  close(): Promise<void>;
}

export interface AccountRecord {
  name: string;
  subscription: string;
  resourceGroup: string;
  location: string;
  /** ARM kind: "AIServices" (Foundry) or "OpenAI". */
  kind: string;
  skuName: string;
  tags: Record<string, string>;
  /** User-settable ARM properties echoed back (customSubDomainName, publicNetworkAccess, …). */
  properties: Record<string, unknown>;
  createdAt: number;
}

export interface ModelRef {
  format: string;
  name: string;
  version: string;
}

export type ProvisioningState = "Accepted" | "Creating" | "Succeeded" | "Failed" | "Deleting";

/** Where provisioning is: shown on the deployment and its operation while it runs. */
export interface ProvisioningProgress {
  phase: "queued" | "downloading" | "verifying" | "building" | "loading" | "ready" | "failed";
  percentComplete: number;
  bytes?: number;
  totalBytes?: number;
  /** After a failure: failed attempts so far, and when the reconciler tries again (ISO 8601). */
  attempts?: number;
  nextRetryAt?: string;
}

/** Deployment properties stored as given and echoed back. */
export interface DeploymentOptions {
  raiPolicyName?: string;
  versionUpgradeOption?: string;
  /** ARM id of the account a custom model comes from (cross-account / cross-tenant deploy). */
  source?: string;
}

export interface DeploymentRecord {
  account: string;
  name: string;
  model: ModelRef;
  sku: { name: string; capacity: number };
  state: ProvisioningState;
  error: string | null;
  createdAt: number;
  updatedAt: number;
  tags?: Record<string, string>;
  options?: DeploymentOptions;
  progress?: ProvisioningProgress | null;
  /** Last inference call (for the idle-deletion rule of fine-tuned deployments). */
  lastUsedAt?: number | null;
}

export type OperationStatus = "InProgress" | "Succeeded" | "Failed" | "Canceled";

/** An ARM asynchronous operation (Azure-AsyncOperation / Location polling). */
export interface OperationRecord {
  id: string;
  account: string;
  deployment: string | null;
  kind: "create" | "update" | "delete";
  status: OperationStatus;
  errorCode: string | null;
  errorMessage: string | null;
  startedAt: number;
  endedAt: number | null;
}

/** Persistence for accounts, keys, deployments and operations (SQLite by default). */
export interface Store {
  getAccount(name: string): AccountRecord | undefined;
  listAccounts(filter?: { subscription?: string; resourceGroup?: string }): AccountRecord[];
  putAccount(account: AccountRecord): void;
  /** Removes the account with its keys and deployments. */
  deleteAccount(name: string): void;
  /** Key values by key name ("key1", "key2"); listKeys returns them, as Azure does. */
  getKeys(account: string): Record<string, string>;
  /** Stores the value and its hash (the hash is what requests are matched by). */
  setKey(account: string, keyName: string, value: string, hash: string): void;
  /** The account whose key has this hash, if any. */
  accountForKeyHash(hash: string): string | undefined;
  listDeployments(account?: string): DeploymentRecord[];
  /**
   * Deployment names compare case-insensitively, as ARM resource names do: `RACE` finds the
   * deployment stored as `race` (an exact match first, where an old database holds both).
   * The record carries the name as first written; put/delete/touch take that stored name.
   */
  getDeployment(account: string, name: string): DeploymentRecord | undefined;
  putDeployment(deployment: DeploymentRecord): void;
  deleteDeployment(account: string, name: string): void;
  touchDeployment(account: string, name: string, at: number): void;
  getOperation(id: string): OperationRecord | undefined;
  putOperation(op: OperationRecord): void;
  close(): void;
}

/** A verified local weights file. */
export interface WeightsFile {
  path: string;
  sha256: string;
  sizeBytes?: number;
}

/** Where model weights come from: resolves a catalog model to a verified local file. */
export interface ModelFiles {
  /**
   * The model's weights; for a LoRA custom model (`lora:` weights) `path` is its base's
   * weights and `adapter` the adapter file, checked against the base.
   */
  ensure(model: ModelRef, onProgress?: (p: WeightsProgress) => void): Promise<WeightsFile & { adapter?: WeightsFile }>;
  /** Throws an IngotError saying what to do when the model would not fit in free memory. */
  checkFits(path: string, contextLength: number, sequences: number, modelName: string): Promise<void>;
  /** The same for one more adapter context (the adapter plus its own KV cache) on a base already loaded. */
  checkAdapterFits(basePath: string, adapterPath: string, contextLength: number, sequences: number, modelName: string): Promise<void>;
  /** Deletes the file behind a removed custom model's weights URI (its `lora:` adapter); other schemes are left alone. */
  discard(weights: string): Promise<void>;
}

/** Progress of fetching weights (download, verification, building a built-in model). */
export interface WeightsProgress {
  phase: "downloading" | "verifying" | "building" | "ready";
  bytes: number;
  totalBytes?: number;
}
