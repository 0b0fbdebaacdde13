// SQLite persistence for Azure ML managed online endpoints and deployments (migration 14).
// The records are kept whole as JSON beside the columns that key and order them.
import type { SqlDatabase } from "../sql/database.ts";
import type { OnlineDeploymentRecord, OnlineEndpointRecord } from "../../core/ml/online.ts";
import type { OnlineEndpointStore } from "../../core/ports/index.ts";

export class SqliteOnlineEndpointStore implements OnlineEndpointStore {
  #db: SqlDatabase;

  constructor(db: SqlDatabase) {
    this.#db = db;
  }

  getEndpoint(name: string): OnlineEndpointRecord | undefined {
    const r = this.#db.prepare("SELECT body FROM ml_online_endpoints WHERE name = ?").get(name) as { body: string } | undefined;
    return r && (JSON.parse(r.body) as OnlineEndpointRecord);
  }

  listEndpoints(workspaceId: string): OnlineEndpointRecord[] {
    const rows = this.#db.prepare("SELECT body FROM ml_online_endpoints WHERE workspace_id = ? ORDER BY created_at, name").all(workspaceId) as unknown as { body: string }[];
    return rows.map((r) => JSON.parse(r.body) as OnlineEndpointRecord);
  }

  putEndpoint(e: OnlineEndpointRecord): void {
    this.#db
      .prepare(
        `INSERT INTO ml_online_endpoints (name, workspace_id, body, created_at) VALUES (?, ?, ?, ?)
         ON CONFLICT(name) DO UPDATE SET body = excluded.body`,
      )
      .run(e.name, e.workspaceId, JSON.stringify(e), e.createdAt);
  }

  deleteEndpoint(name: string): void {
    this.#db.prepare("DELETE FROM ml_online_deployments WHERE endpoint = ?").run(name);
    this.#db.prepare("DELETE FROM ml_online_endpoints WHERE name = ?").run(name);
  }

  getDeployment(endpoint: string, name: string): OnlineDeploymentRecord | undefined {
    const r = this.#db.prepare("SELECT body FROM ml_online_deployments WHERE endpoint = ? AND name = ?").get(endpoint, name) as { body: string } | undefined;
    return r && (JSON.parse(r.body) as OnlineDeploymentRecord);
  }

  listDeployments(endpoint: string): OnlineDeploymentRecord[] {
    const rows = this.#db.prepare("SELECT body FROM ml_online_deployments WHERE endpoint = ? ORDER BY created_at, name").all(endpoint) as unknown as { body: string }[];
    return rows.map((r) => JSON.parse(r.body) as OnlineDeploymentRecord);
  }

  putDeployment(d: OnlineDeploymentRecord): void {
    this.#db
      .prepare(
        `INSERT INTO ml_online_deployments (endpoint, name, body, created_at) VALUES (?, ?, ?, ?)
         ON CONFLICT(endpoint, name) DO UPDATE SET body = excluded.body`,
      )
      .run(d.endpoint, d.name, JSON.stringify(d), d.createdAt);
  }

  deleteDeployment(endpoint: string, name: string): void {
    this.#db.prepare("DELETE FROM ml_online_deployments WHERE endpoint = ? AND name = ?").run(endpoint, name);
  }
}
