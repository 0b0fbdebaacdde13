// Fine-tuning on the data plane (reference §4): the wire shapes the portal reads, and helpers
// for files (upload, wait for validation), jobs, events (paged newest first) and metrics.
import { data, dataUpload, sleep } from "../api.ts";
import type { Session } from "../api.ts";

export interface FtFile {
  id: string;
  object: "file";
  bytes: number | null;
  created_at: number;
  filename: string;
  purpose: string;
  status: "uploaded" | "pending" | "running" | "processed" | "error" | "deleted";
  status_details: string | null;
}

export interface FtHyperparameters {
  n_epochs: number | "auto";
  batch_size: number | "auto";
  learning_rate_multiplier: number | "auto";
}

export type JobStatus = "validating_files" | "queued" | "running" | "paused" | "succeeded" | "failed" | "cancelled";

export interface FtJob {
  id: string;
  created_at: number;
  model: string;
  fine_tuned_model: string | null;
  training_file: string;
  validation_file: string | null;
  result_files: string[];
  status: JobStatus;
  finished_at: number | null;
  trained_tokens: number | null;
  estimated_finish: number | null;
  hyperparameters: FtHyperparameters;
  suffix: string | null;
  seed: number;
  error: { code: string; message: string; param: string | null } | null;
  /** Ingot extras. */
  lora?: { rank: number; alpha: number };
  learning_rate?: number;
  validation_split?: number;
}

export interface FtMetrics {
  step: number;
  total_steps?: number;
  epoch?: number;
  train_loss?: number;
  train_mean_token_accuracy?: number;
  valid_loss?: number | null;
  valid_mean_token_accuracy?: number | null;
  full_valid_loss?: number | null;
  full_valid_mean_token_accuracy?: number | null;
}

export interface FtEvent {
  id: string;
  created_at: number;
  level: "info" | "warning" | "warn" | "error";
  message: string;
  type: "message" | "metrics";
  data?: FtMetrics;
}

export interface FtCheckpoint {
  id: string;
  created_at: number;
  fine_tuned_model_checkpoint: string;
  fine_tuning_job_id: string;
  step_number: number;
  metrics: FtMetrics;
}

export interface DataModel {
  id: string;
  owned_by: string;
  /** For a custom model: its base. */
  model?: string;
  fine_tune?: string;
  capabilities: { fine_tune: boolean; chat_completion: boolean; completion: boolean; embeddings: boolean };
  lifecycle_status: string;
}

export const TERMINAL: JobStatus[] = ["succeeded", "failed", "cancelled"];
export const isTerminal = (s: JobStatus) => TERMINAL.includes(s);
export const isCancellable = (s: JobStatus) => !TERMINAL.includes(s);

export const STATUS_LABEL: Record<string, string> = {
  validating_files: "Validating files",
  queued: "Queued",
  running: "Running",
  paused: "Paused",
  succeeded: "Succeeded",
  failed: "Failed",
  cancelled: "Cancelled",
  uploaded: "Validating",
  pending: "Validating",
  processed: "Processed",
  error: "Error",
  deleted: "Deleted",
};

/** A file still being validated by the server. */
export const isFileSettling = (f: FtFile) => f.status === "uploaded" || f.status === "pending" || f.status === "running";

/** Uploads a fine-tune dataset (multipart), reporting upload progress 0–1. */
export async function uploadDataset(s: Session, file: File, onProgress?: (f: number) => void, signal?: AbortSignal): Promise<FtFile> {
  const form = new FormData();
  form.append("purpose", "fine-tune");
  form.append("file", file, file.name);
  return dataUpload(s, "/files", form, onProgress, signal);
}

/** Polls a file until its validation settles (processed or error). */
export async function waitForFile(s: Session, id: string, signal?: AbortSignal, onPoll?: (f: FtFile) => void): Promise<FtFile> {
  for (let wait = 250; ; wait = Math.min(wait * 1.5, 2000)) {
    const f: FtFile = await data(s, "GET", `/files/${encodeURIComponent(id)}`);
    onPoll?.(f);
    if (!isFileSettling(f) || signal?.aborted) return f;
    await sleep(wait);
  }
}

export async function listFiles(s: Session): Promise<FtFile[]> {
  const r = await data(s, "GET", "/files?order=desc");
  return (r.data as FtFile[]).filter((f) => f.purpose === "fine-tune" || f.purpose === "fine-tune-results");
}

/** Jobs, newest first, following `has_more` up to `max`. */
export async function listJobs(s: Session, max = 200): Promise<FtJob[]> {
  const out: FtJob[] = [];
  let after: string | undefined;
  for (;;) {
    const r = await data(s, "GET", `/fine_tuning/jobs?limit=100${after ? `&after=${encodeURIComponent(after)}` : ""}`);
    out.push(...(r.data as FtJob[]));
    if (!r.has_more || out.length >= max || r.data.length === 0) return out;
    after = out[out.length - 1].id;
  }
}

/**
 * Events newer than those already known (all of them the first time), newest first. Pages
 * back until it reaches a known event or the oldest one.
 */
export async function fetchNewEvents(s: Session, jobId: string, known: ReadonlySet<string>): Promise<FtEvent[]> {
  const fresh: FtEvent[] = [];
  let after: string | undefined;
  for (let page = 0; page < 200; page++) {
    const r = await data(s, "GET", `/fine_tuning/jobs/${encodeURIComponent(jobId)}/events?limit=100${after ? `&after=${encodeURIComponent(after)}` : ""}`);
    const events = r.data as FtEvent[];
    for (const e of events) {
      if (known.has(e.id)) return fresh;
      fresh.push(e);
    }
    if (!r.has_more || events.length === 0) return fresh;
    after = events[events.length - 1].id;
  }
  return fresh;
}

export async function listCheckpoints(s: Session, jobId: string): Promise<FtCheckpoint[]> {
  const out: FtCheckpoint[] = [];
  let after: string | undefined;
  for (let page = 0; page < 20; page++) {
    const r = await data(s, "GET", `/fine_tuning/jobs/${encodeURIComponent(jobId)}/checkpoints?limit=100${after ? `&after=${encodeURIComponent(after)}` : ""}`);
    out.push(...(r.data as FtCheckpoint[]));
    if (!r.has_more || r.data.length === 0) break;
    after = out[out.length - 1].id;
  }
  return out;
}

/** The latest step's metrics among events (newest first), if any. */
export const latestMetrics = (events: FtEvent[]): FtMetrics | undefined => events.find((e) => e.type === "metrics" && e.data)?.data;

/** "1 h 4 min", "3 min 10 s", "12 s". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60 ? `${s % 60} s` : ""}`.trim();
  const m = Math.round(s / 60);
  return `${Math.floor(m / 60)} h ${m % 60 ? `${m % 60} min` : ""}`.trim();
}

export const formatNumber = (v: number | null | undefined, digits = 4) => (v === null || v === undefined || !Number.isFinite(v) ? "—" : Number(v.toFixed(digits)).toString());

/** A ready-made download of a blob under a file name. */
export function saveBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** The validation problems of a file, one per entry: `{line, message}` when the problem names a line. */
export function problemsOf(details: string | null): { line: number | null; message: string }[] {
  if (!details) return [];
  return details
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => {
      const m = /^line (\d+): (.*)$/s.exec(l);
      return m ? { line: Number(m[1]), message: m[2] } : { line: null, message: l };
    });
}
