// Fine-tuning jobs: records, events, checkpoints and the store port (reference §4.4–4.7).
import type { ModelRef } from "../ports/index.ts";
import type { Hyperparameters, StepMetrics } from "../ports/trainer.ts";

/** OpenAI's vocabulary (reference §7.2), plus Azure's `paused`. */
export type JobStatus = "validating_files" | "queued" | "running" | "paused" | "succeeded" | "failed" | "cancelled";
export const TERMINAL_STATUSES: JobStatus[] = ["succeeded", "failed", "cancelled"];

/** As asked: each a number or "auto"; extras are Ingot's (LoRA shape, an absolute rate from Azure ML's names). */
export interface RequestedHyperparameters {
  n_epochs: number | "auto";
  batch_size: number | "auto";
  learning_rate_multiplier: number | "auto";
  learning_rate?: number;
  rank?: number;
  alpha?: number;
}

/** A create-job request, validated (the wire parsing is in http/openai/fine-tuning-request.ts). */
export interface CreateJobInput {
  model: string;
  trainingFile: string;
  validationFile: string | null;
  validationSplit: number;
  requested: RequestedHyperparameters;
  suffix: string | null;
  seed: number;
  metadata: Record<string, string> | null;
}

export interface JobError {
  code: string;
  message: string;
  param: string | null;
}

export interface JobRecord {
  id: string;
  account: string;
  /** What the caller named (a catalog model name or a custom model). */
  model: string;
  /** The catalog base model the adapter is trained over. */
  base: ModelRef;
  /** Continuous fine-tuning: the custom model whose adapter training starts from. */
  parentModel: string | null;
  trainingFile: string;
  validationFile: string | null;
  /** Fraction of the training file held out when there is no validation file. */
  validationSplit: number;
  requested: RequestedHyperparameters;
  /** Filled when training starts. */
  hyperparameters: Hyperparameters | null;
  suffix: string | null;
  seed: number;
  metadata: Record<string, string> | null;
  status: JobStatus;
  fineTunedModel: string | null;
  error: JobError | null;
  trainedTokens: number;
  estimatedFinish: number | null;
  resultFiles: string[];
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  /** Where training stands, for resuming: the last checkpoint's epoch/step/tokens. */
  progress: { epoch: number; step: number; trainedTokens: number; adapterPath: string } | null;
  /** Trainer restarts after crashes, to give up on a job that keeps killing its trainer. */
  attempts: number;
}

export interface JobEvent {
  id: string;
  jobId: string;
  createdAt: number;
  level: "info" | "warning" | "error";
  message: string;
  type: "message" | "metrics";
  data: Record<string, unknown> | null;
}

export interface CheckpointRecord {
  id: string;
  jobId: string;
  account: string;
  epoch: number;
  step: number;
  createdAt: number;
  adapterPath: string;
  metrics: StepMetrics;
}

export interface Page<T> {
  data: T[];
  hasMore: boolean;
}
