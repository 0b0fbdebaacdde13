// SQLite persistence for Azure Machine Learning workspaces.
import type { SqlDatabase } from "../sql/database.ts";
import type { WorkspaceKind, WorkspaceRecord } from "../../core/ml/workspaces.ts";
import type { WorkspaceStore } from "../../core/ports/index.ts";

interface Row {
  subscription: string;
  resource_group: string;
  name: string;
  kind: string;
  location: string;
  workspace_id: string;
  friendly_name: string;
  description: string;
  tags: string;
  hub_resource_id: string | null;
  account: string | null;
  created_at: number;
  updated_at: number;
}

const toRecord = (r: Row): WorkspaceRecord => ({
  subscription: r.subscription,
  resourceGroup: r.resource_group,
  name: r.name,
  kind: r.kind as WorkspaceKind,
  location: r.location,
  workspaceId: r.workspace_id,
  friendlyName: r.friendly_name,
  description: r.description,
  tags: JSON.parse(r.tags) as Record<string, string>,
  ...(r.hub_resource_id ? { hubResourceId: r.hub_resource_id } : {}),
  account: r.account ?? "",
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export class SqliteWorkspaceStore implements WorkspaceStore {
  #db: SqlDatabase;

  constructor(db: SqlDatabase) {
    this.#db = db;
  }

  getWorkspace(subscription: string, resourceGroup: string, name: string): WorkspaceRecord | undefined {
    const r = this.#db.prepare("SELECT * FROM ml_workspaces WHERE subscription = ? AND resource_group = ? AND name = ?").get(subscription, resourceGroup, name) as Row | undefined;
    return r && toRecord(r);
  }

  getWorkspaceById(workspaceId: string): WorkspaceRecord | undefined {
    const r = this.#db.prepare("SELECT * FROM ml_workspaces WHERE workspace_id = ? COLLATE NOCASE").get(workspaceId) as Row | undefined;
    return r && toRecord(r);
  }

  listWorkspaces(subscription: string, resourceGroup?: string): WorkspaceRecord[] {
    const rows =
      resourceGroup === undefined
        ? this.#db.prepare("SELECT * FROM ml_workspaces WHERE subscription = ? ORDER BY created_at, name").all(subscription)
        : this.#db.prepare("SELECT * FROM ml_workspaces WHERE subscription = ? AND resource_group = ? ORDER BY created_at, name").all(subscription, resourceGroup);
    return (rows as unknown as Row[]).map(toRecord);
  }

  putWorkspace(w: WorkspaceRecord): void {
    this.#db
      .prepare(
        `INSERT INTO ml_workspaces (subscription, resource_group, name, kind, location, workspace_id, friendly_name, description, tags, hub_resource_id, account, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(subscription, resource_group, name) DO UPDATE SET friendly_name = excluded.friendly_name, description = excluded.description,
           tags = excluded.tags, account = excluded.account, updated_at = excluded.updated_at`,
      )
      .run(w.subscription, w.resourceGroup, w.name, w.kind, w.location, w.workspaceId, w.friendlyName, w.description, JSON.stringify(w.tags), w.hubResourceId ?? null, w.account, w.createdAt, w.updatedAt);
  }

  deleteWorkspace(subscription: string, resourceGroup: string, name: string): void {
    // Its marketplace subscriptions (migration 9) go with it.
    this.#db
      .prepare("DELETE FROM ml_marketplace_subscriptions WHERE workspace_id IN (SELECT workspace_id FROM ml_workspaces WHERE subscription = ? AND resource_group = ? AND name = ?)")
      .run(subscription, resourceGroup, name);
    this.#db.prepare("DELETE FROM ml_workspaces WHERE subscription = ? AND resource_group = ? AND name = ?").run(subscription, resourceGroup, name);
  }
}
