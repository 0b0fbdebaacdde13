// The BatchStore port: batch jobs and their lines, each line's result kept as soon as it is
// known (so a stop or a cancel never loses finished work). Implemented by
// store/sqlite/batch-store.ts (SqliteBatchStore).
import type { BatchCounts, BatchLine, BatchLineInput, BatchRecord, BatchStatus, BatchUsage, LineStatus } from "../batch/types.ts";

export type BatchPatch = Partial<
  Pick<BatchRecord, "status" | "errors" | "outputFileId" | "errorFileId" | "inProgressAt" | "finalizingAt" | "completedAt" | "failedAt" | "expiredAt" | "cancellingAt" | "cancelledAt">
>;

export interface BatchStore {
  /** The batch and its lines, at once (one transaction). */
  insert(batch: BatchRecord, lines: BatchLineInput[]): void;
  get(id: string): BatchRecord | undefined;
  /** An account's batches, newest first (created_at, then id). */
  list(account: string): BatchRecord[];
  listByStatus(statuses: readonly BatchStatus[]): BatchRecord[];
  update(id: string, patch: BatchPatch): void;
  /** Up to `limit` pending lines, lowest line number first, skipping those in `exclude`. */
  pendingLines(id: string, limit: number, exclude: ReadonlySet<number>): BatchLine[];
  /** Records a line's result; false (and nothing changed) when the line was no longer pending. */
  finishLine(id: string, line: number, status: Exclude<LineStatus, "pending">, result: string, usage: BatchUsage | undefined, at: number): boolean;
  counts(id: string): BatchCounts;
  /** Stored output lines (JSON text) of the lines with this status, in line order. */
  results(id: string, status: Exclude<LineStatus, "pending">): string[];
  /** Summed enqueued tokens of an account's batches in these statuses on this model. */
  enqueuedTokens(account: string, model: string, statuses: readonly BatchStatus[]): number;
  deleteAll(account: string): void;
}
