// SQLite persistence for Azure ML FineTuning jobs and workspace models (migration 12). The
// echoed bodies are JSON; names compare case-insensitively (COLLATE NOCASE in the tables).
import type { SqlDatabase } from "../sql/database.ts";
import type { MlJobRecord } from "../../core/ml/jobs.ts";
import type { ModelContainerRecord, ModelVersionRecord } from "../../core/ml/models.ts";
import type { MlJobStore } from "../../core/ports/ml-job-store.ts";

interface JobRow {
  workspace_id: string;
  name: string;
  account: string;
  ftjob_id: string;
  properties: string;
  status: string;
  files: string;
  output: string;
  error: string | null;
  created_at: number;
  updated_at: number;
}

interface ContainerRow {
  workspace_id: string;
  name: string;
  body: string;
  created_at: number;
  updated_at: number;
}

interface VersionRow {
  workspace_id: string;
  name: string;
  version: string;
  body: string;
  catalog_ref: string | null;
  created_at: number;
  updated_at: number;
}

const toJob = (r: JobRow): MlJobRecord => ({
  workspaceId: r.workspace_id,
  name: r.name,
  account: r.account,
  ftJobId: r.ftjob_id,
  properties: JSON.parse(r.properties),
  status: r.status as MlJobRecord["status"],
  files: JSON.parse(r.files),
  output: JSON.parse(r.output),
  error: r.error ? JSON.parse(r.error) : null,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const toContainer = (r: ContainerRow): ModelContainerRecord => ({ ...JSON.parse(r.body), workspaceId: r.workspace_id, name: r.name, createdAt: r.created_at, updatedAt: r.updated_at });

const toVersion = (r: VersionRow): ModelVersionRecord => ({
  ...JSON.parse(r.body),
  workspaceId: r.workspace_id,
  name: r.name,
  version: r.version,
  catalogRef: r.catalog_ref ? JSON.parse(r.catalog_ref) : null,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export class SqliteMlJobStore implements MlJobStore {
  #db: SqlDatabase;

  constructor(db: SqlDatabase) {
    this.#db = db;
  }

  getMlJob(workspaceId: string, name: string): MlJobRecord | undefined {
    const r = this.#db.prepare("SELECT * FROM ml_jobs WHERE workspace_id = ? AND name = ?").get(workspaceId, name) as JobRow | undefined;
    return r && toJob(r);
  }

  findMlJobByFtJobId(ftJobId: string): MlJobRecord | undefined {
    const r = this.#db.prepare("SELECT * FROM ml_jobs WHERE ftjob_id = ?").get(ftJobId) as JobRow | undefined;
    return r && toJob(r);
  }

  listMlJobs(workspaceId?: string): MlJobRecord[] {
    const rows = workspaceId === undefined
      ? this.#db.prepare("SELECT * FROM ml_jobs ORDER BY created_at, rowid").all()
      : this.#db.prepare("SELECT * FROM ml_jobs WHERE workspace_id = ? ORDER BY created_at, rowid").all(workspaceId);
    return (rows as unknown as JobRow[]).map(toJob);
  }

  insertMlJob(j: MlJobRecord): boolean {
    const res = this.#db
      .prepare(
        `INSERT INTO ml_jobs (workspace_id, name, account, ftjob_id, properties, status, files, output, error, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(workspace_id, name) DO NOTHING`,
      )
      .run(j.workspaceId, j.name, j.account, j.ftJobId, JSON.stringify(j.properties), j.status, JSON.stringify(j.files), JSON.stringify(j.output), j.error ? JSON.stringify(j.error) : null, j.createdAt, j.updatedAt);
    return Number(res.changes) === 1;
  }

  updateMlJob(j: MlJobRecord): void {
    this.#db
      .prepare("UPDATE ml_jobs SET properties = ?, status = ?, files = ?, output = ?, error = ?, updated_at = ? WHERE workspace_id = ? AND name = ?")
      .run(JSON.stringify(j.properties), j.status, JSON.stringify(j.files), JSON.stringify(j.output), j.error ? JSON.stringify(j.error) : null, j.updatedAt, j.workspaceId, j.name);
  }

  deleteMlJob(workspaceId: string, name: string): void {
    this.#db.prepare("DELETE FROM ml_jobs WHERE workspace_id = ? AND name = ?").run(workspaceId, name);
  }

  getModelContainer(workspaceId: string, name: string): ModelContainerRecord | undefined {
    const r = this.#db.prepare("SELECT * FROM ml_model_containers WHERE workspace_id = ? AND name = ?").get(workspaceId, name) as ContainerRow | undefined;
    return r && toContainer(r);
  }

  listModelContainers(workspaceId: string): ModelContainerRecord[] {
    return (this.#db.prepare("SELECT * FROM ml_model_containers WHERE workspace_id = ? ORDER BY created_at, name").all(workspaceId) as unknown as ContainerRow[]).map(toContainer);
  }

  putModelContainer(c: ModelContainerRecord): void {
    const { workspaceId, name, createdAt, updatedAt, ...rest } = c;
    this.#db
      .prepare(
        `INSERT INTO ml_model_containers (workspace_id, name, body, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(workspace_id, name) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at`,
      )
      .run(workspaceId, name, JSON.stringify(rest), createdAt, updatedAt);
  }

  deleteModelContainer(workspaceId: string, name: string): void {
    this.#db.prepare("DELETE FROM ml_model_versions WHERE workspace_id = ? AND name = ?").run(workspaceId, name);
    this.#db.prepare("DELETE FROM ml_model_containers WHERE workspace_id = ? AND name = ?").run(workspaceId, name);
  }

  getModelVersion(workspaceId: string, name: string, version: string): ModelVersionRecord | undefined {
    const r = this.#db.prepare("SELECT * FROM ml_model_versions WHERE workspace_id = ? AND name = ? AND version = ?").get(workspaceId, name, version) as VersionRow | undefined;
    return r && toVersion(r);
  }

  listModelVersions(workspaceId: string, name: string): ModelVersionRecord[] {
    return (this.#db.prepare("SELECT * FROM ml_model_versions WHERE workspace_id = ? AND name = ? ORDER BY created_at, rowid").all(workspaceId, name) as unknown as VersionRow[]).map(toVersion);
  }

  putModelVersion(v: ModelVersionRecord): void {
    const { workspaceId, name, version, catalogRef, createdAt, updatedAt, ...rest } = v;
    this.#db
      .prepare(
        `INSERT INTO ml_model_versions (workspace_id, name, version, body, catalog_ref, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(workspace_id, name, version) DO UPDATE SET body = excluded.body, catalog_ref = excluded.catalog_ref, updated_at = excluded.updated_at`,
      )
      .run(workspaceId, name, version, JSON.stringify(rest), catalogRef ? JSON.stringify(catalogRef) : null, createdAt, updatedAt);
  }

  deleteModelVersion(workspaceId: string, name: string, version: string): void {
    this.#db.prepare("DELETE FROM ml_model_versions WHERE workspace_id = ? AND name = ? AND version = ?").run(workspaceId, name, version);
  }

  deleteWorkspaceMl(workspaceId: string): void {
    for (const table of ["ml_jobs", "ml_model_versions", "ml_model_containers"]) this.#db.prepare(`DELETE FROM ${table} WHERE workspace_id = ?`).run(workspaceId);
  }
}
