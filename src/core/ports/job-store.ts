// The JobStore port: fine-tuning jobs, their events, checkpoints and metrics. Implemented by
// store/sqlite/job-store.ts (SqliteJobStore).
import type { CheckpointRecord, JobEvent, JobRecord, JobStatus, Page } from "../finetuning/types.ts";
import type { StepMetrics } from "./trainer.ts";

export interface JobStore {
  putJob(job: JobRecord): void;
  getJob(id: string): JobRecord | undefined;
  /** Newest first; `after` is a job id (the page continues after it). */
  listJobs(filter: { account?: string; status?: JobStatus[] }, page?: { after?: string; limit?: number }): Page<JobRecord>;
  deleteJob(id: string): void;
  addEvent(event: JobEvent): void;
  /** Newest first. */
  listEvents(jobId: string, page: { after?: string; limit: number }): Page<JobEvent>;
  putCheckpoint(c: CheckpointRecord): void;
  getCheckpoint(id: string): CheckpointRecord | undefined;
  /** Newest first. */
  listCheckpoints(jobId: string, page?: { after?: string; limit?: number }): Page<CheckpointRecord>;
  addMetrics(jobId: string, m: StepMetrics): void;
  /** In step order. */
  listMetrics(jobId: string): StepMetrics[];
  /**
   * Replicas on one database: takes the job's lease for `owner` until now + leaseMs when nobody
   * holds it, its holder's lease ran out, or `owner` already holds it; true when `owner` holds it
   * now. Atomic: of replicas claiming at once, exactly one gets it. Absent: one process only.
   */
  claimJob?(id: string, owner: string, now: number, leaseMs: number): boolean;
  /** Extends `owner`'s lease; false when it no longer holds it (another replica took the job over). */
  renewJobLease?(id: string, owner: string, now: number, leaseMs: number): boolean;
  releaseJob?(id: string, owner: string): void;
}
