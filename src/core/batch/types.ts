// The Batch API's vocabulary (issue 15 item 2; reference azure-api-2.md §3): a batch job over
// a JSONL file of requests to one GlobalBatch/DataZoneBatch deployment, its lines and statuses.

export type BatchStatus = "validating" | "failed" | "in_progress" | "finalizing" | "completed" | "expired" | "cancelling" | "cancelled";

export const TERMINAL_STATUSES: readonly BatchStatus[] = ["failed", "completed", "expired", "cancelled"];
/** Statuses whose input tokens count against the enqueued-token quota (Azure: every non-terminal job). */
export const ACTIVE_STATUSES: readonly BatchStatus[] = ["validating", "in_progress", "finalizing", "cancelling"];

/** The operations a line may call, by their canonical (un-versioned) path. */
export type BatchEndpoint = "/chat/completions" | "/completions" | "/embeddings" | "/responses";
export const BATCH_ENDPOINTS: readonly BatchEndpoint[] = ["/chat/completions", "/completions", "/embeddings", "/responses"];

/** `/v1/chat/completions` and `/chat/completions` are one endpoint (the SDK sends the first, Azure's docs the second). */
export function canonicalEndpoint(url: string): BatchEndpoint | undefined {
  const path = url.startsWith("/v1/") ? url.slice(3) : url;
  return (BATCH_ENDPOINTS as readonly string[]).includes(path) ? (path as BatchEndpoint) : undefined;
}

/** One entry of a batch's `errors.data` (OpenAI's BatchError): a validation problem, with its 1-based line. */
export interface BatchError {
  code: string;
  message: string;
  param?: string | null;
  line?: number | null;
}

export interface BatchUsage {
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
}

export interface BatchRecord {
  id: string;
  account: string;
  /** The GlobalBatch/DataZoneBatch deployment every line names. */
  deployment: string;
  /** The deployment's model name: the enqueued-token quota counts per model. */
  model: string;
  /** As the caller sent it (`/v1/chat/completions` or `/chat/completions`, echoed back). */
  endpoint: string;
  inputFileId: string;
  completionWindow: string;
  status: BatchStatus;
  errors: BatchError[] | null;
  outputFileId: string | null;
  errorFileId: string | null;
  /** Epoch milliseconds. */
  createdAt: number;
  inProgressAt: number | null;
  expiresAt: number;
  finalizingAt: number | null;
  completedAt: number | null;
  failedAt: number | null;
  expiredAt: number | null;
  cancellingAt: number | null;
  cancelledAt: number | null;
  metadata: Record<string, string> | null;
  /** Lines (requests) of the input file. */
  total: number;
  /** Estimated input tokens of all lines (what the enqueued-token quota counts). */
  enqueuedTokens: number;
}

export type LineStatus = "pending" | "succeeded" | "failed";

/** A request line as validated and stored at create (the body as sent). */
export interface BatchLineInput {
  line: number;
  customId: string;
  body: Record<string, unknown>;
}

export interface BatchLine extends BatchLineInput {
  status: LineStatus;
}

/** What running one line gave: the HTTP status and body the online call would have answered. */
export interface LineOutcome {
  statusCode: number;
  body: unknown;
  usage?: BatchUsage;
}

export interface BatchCounts {
  total: number;
  completed: number;
  failed: number;
  usage: BatchUsage;
}
