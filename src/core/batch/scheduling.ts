// The rules of batch work (pure functions, unit-tested): which status changes are allowed, and
// how many lines of batch work a model's runner may take now. Batch work is low priority: it
// only fills sequences online traffic leaves idle, keeps one sequence free for the next online
// request, and gives sequences back (preemption) as soon as online requests queue.
import type { BatchStatus } from "./types.ts";

const NEXT: Record<BatchStatus, readonly BatchStatus[]> = {
  validating: ["in_progress", "failed", "cancelling"],
  in_progress: ["finalizing", "cancelling", "expired"],
  finalizing: ["completed", "expired"],
  cancelling: ["cancelled"],
  completed: [],
  failed: [],
  expired: [],
  cancelled: [],
};

export function canTransition(from: BatchStatus, to: BatchStatus): boolean {
  return NEXT[from].includes(to);
}

/** What the scheduler knows of one runner (a loaded base model) at a tick. */
export interface RunnerLoad {
  /** The runner's parallel sequences. */
  sequences: number;
  /** Requests generating now (online and batch). */
  active: number;
  /** Requests waiting for a sequence. */
  queued: number;
  /** Of active + queued, how many are this service's batch lines. */
  batchRunning: number;
  /** Online requests ran on this runner within the last second (they come and go between ticks). */
  onlineRecently?: boolean;
}

export interface BatchRoom {
  /** Batch lines that may start now. */
  start: number;
  /** Batch lines to stop (they return to pending) so queued online requests get their sequences. */
  preempt: number;
}

/** Batch lines a runner keeps while online traffic is about: an eighth of its sequences (at least one). Measured in bench/batch-vs-online.ts: with a quarter, online p50 was ~2.6× idle on 2 cores; with an eighth ~1.5×. */
export const batchShareWhileOnline = (sequences: number) => Math.max(1, Math.ceil(sequences / 8));

/**
 * Online first: while online requests queue, batch lines give their sequences back (as many as
 * are queued) and none start. While online requests run (or ran within the last second), batch
 * lines do not start beyond an eighth of the sequences (one of 8), since every sequence decoding alongside
 * an online request slows it; lines already running finish (no work is thrown away). On an
 * idle runner batch lines take every sequence but one, kept free for the next online arrival
 * (none kept when the runner has only one: it would otherwise never serve a batch).
 */
export function batchRoom(load: RunnerLoad): BatchRoom {
  const online = Math.max(0, load.active + load.queued - load.batchRunning);
  const onlineQueued = Math.max(0, online - Math.max(0, load.sequences - load.batchRunning));
  if (load.queued > 0 && load.batchRunning > 0) return { start: 0, preempt: Math.min(load.batchRunning, Math.max(load.queued, onlineQueued)) };
  if (load.queued > 0) return { start: 0, preempt: 0 };
  const reserve = load.sequences > 1 ? 1 : 0;
  const free = load.sequences - reserve - online - load.batchRunning;
  const share = online > 0 || load.onlineRecently ? batchShareWhileOnline(load.sequences) - load.batchRunning : free;
  return { start: Math.max(0, Math.min(free, share)), preempt: 0 };
}

/** Transient failures (model loading, rate of a shared runner, runner restart) are retried, not recorded as the line's answer. */
export function isRetryable(statusCode: number): boolean {
  return statusCode === 429 || statusCode === 503 || statusCode === 500;
}

export const MAX_LINE_ATTEMPTS = 3;
/** Enqueued-token quota per unit of a batch deployment's capacity (inferred: Azure sells batch quota as enqueued tokens). */
export const ENQUEUED_TOKENS_PER_UNIT = 1000;
/** Azure accepts only a 24-hour completion window. */
export const COMPLETION_WINDOW_MS = 24 * 3600 * 1000;
