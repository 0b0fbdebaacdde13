// The MlJobStore port: Azure ML views kept by Ingot (migration 12): FineTuning jobs (the ML
// view of a fine-tuning job of the workspace's backing account) and workspace models
// (containers and versions). Keyed by the workspace's workspaceId GUID; names compare
// case-insensitively, as ARM resource names do. Implemented by store/sqlite/ml-job-store.ts.
import type { MlJobRecord } from "../ml/jobs.ts";
import type { ModelContainerRecord, ModelVersionRecord } from "../ml/models.ts";

export interface MlJobStore {
  getMlJob(workspaceId: string, name: string): MlJobRecord | undefined;
  /** The ML view of a fine-tuning job, by the job's id. */
  findMlJobByFtJobId(ftJobId: string): MlJobRecord | undefined;
  /** Oldest first. */
  listMlJobs(workspaceId?: string): MlJobRecord[];
  /** Inserts; false when a job of that name exists already (two creates raced). */
  insertMlJob(job: MlJobRecord): boolean;
  updateMlJob(job: MlJobRecord): void;
  deleteMlJob(workspaceId: string, name: string): void;

  getModelContainer(workspaceId: string, name: string): ModelContainerRecord | undefined;
  listModelContainers(workspaceId: string): ModelContainerRecord[];
  putModelContainer(c: ModelContainerRecord): void;
  /** Deletes the container and its versions. */
  deleteModelContainer(workspaceId: string, name: string): void;
  getModelVersion(workspaceId: string, name: string, version: string): ModelVersionRecord | undefined;
  /** Oldest first. */
  listModelVersions(workspaceId: string, name: string): ModelVersionRecord[];
  putModelVersion(v: ModelVersionRecord): void;
  deleteModelVersion(workspaceId: string, name: string, version: string): void;
  /** Every job and model of the workspace (it is being deleted). */
  deleteWorkspaceMl(workspaceId: string): void;
}
