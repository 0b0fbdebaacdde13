// SQLite persistence for Foundry projects' connections and datasets (migration 18).
import type { SqlDatabase } from "../sql/database.ts";
import type { ConnectionRecord } from "../../core/projects/connections.ts";
import type { DatasetVersionRecord } from "../../core/projects/datasets.ts";
import type { ProjectDataStore } from "../../core/ports/project-data-store.ts";

type Row = Record<string, unknown>;
const str = (v: unknown) => String(v);
const json = <T>(v: unknown): T => JSON.parse(String(v)) as T;

const toConnection = (r: Row): ConnectionRecord => ({
  account: str(r.account),
  project: str(r.project),
  name: str(r.name),
  category: str(r.category) as ConnectionRecord["category"],
  target: str(r.target),
  credentials: json(r.credentials),
  metadata: json(r.metadata),
  isDefault: false,
  createdAt: Number(r.created_at),
});

const toDataset = (r: Row): DatasetVersionRecord => ({
  account: str(r.account),
  project: str(r.project),
  name: str(r.name),
  version: str(r.version),
  type: str(r.type) as DatasetVersionRecord["type"],
  dataUri: str(r.data_uri),
  connectionName: r.connection_name === null ? null : str(r.connection_name),
  description: r.description === null ? null : str(r.description),
  tags: json(r.tags),
  createdAt: Number(r.created_at),
  updatedAt: Number(r.updated_at),
});

export class SqliteProjectDataStore implements ProjectDataStore {
  #db: SqlDatabase;

  constructor(db: SqlDatabase) {
    this.#db = db;
  }

  listConnections(account: string, project: string): ConnectionRecord[] {
    return (this.#db.prepare("SELECT * FROM project_connections WHERE account = ? AND project = ? ORDER BY created_at, name").all(account, project) as Row[]).map(toConnection);
  }

  putConnection(c: ConnectionRecord): void {
    this.#db
      .prepare(
        `INSERT INTO project_connections (account, project, name, category, target, credentials, metadata, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(account, project, name) DO UPDATE SET category = excluded.category, target = excluded.target, credentials = excluded.credentials, metadata = excluded.metadata`,
      )
      .run(c.account, c.project, c.name, c.category, c.target, JSON.stringify(c.credentials), JSON.stringify(c.metadata), c.createdAt);
  }

  deleteConnection(account: string, project: string, name: string): boolean {
    return Number(this.#db.prepare("DELETE FROM project_connections WHERE account = ? AND project = ? AND name = ?").run(account, project, name).changes) > 0;
  }

  listDatasetVersions(account: string, project: string, name?: string): DatasetVersionRecord[] {
    const rows =
      name === undefined
        ? this.#db.prepare("SELECT * FROM project_datasets WHERE account = ? AND project = ? ORDER BY name, created_at").all(account, project)
        : this.#db.prepare("SELECT * FROM project_datasets WHERE account = ? AND project = ? AND name = ? ORDER BY created_at").all(account, project, name);
    return (rows as Row[]).map(toDataset);
  }

  putDatasetVersion(d: DatasetVersionRecord): void {
    this.#db
      .prepare(
        `INSERT INTO project_datasets (account, project, name, version, type, data_uri, connection_name, description, tags, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(account, project, name, version) DO UPDATE SET connection_name = excluded.connection_name, description = excluded.description, tags = excluded.tags, updated_at = excluded.updated_at`,
      )
      .run(d.account, d.project, d.name, d.version, d.type, d.dataUri, d.connectionName, d.description, JSON.stringify(d.tags), d.createdAt, d.updatedAt);
  }

  deleteDatasetVersion(account: string, project: string, name: string, version: string): boolean {
    return Number(this.#db.prepare("DELETE FROM project_datasets WHERE account = ? AND project = ? AND name = ? AND version = ?").run(account, project, name, version).changes) > 0;
  }
}
