// SQLite persistence for Azure ML serverless endpoints and their keys (migration 13).
import type { SqlDatabase } from "../sql/database.ts";
import type { ServerlessEndpointRecord } from "../../core/ml/serverless.ts";
import type { ServerlessEndpointStore, ServerlessKeyHashes } from "../../core/ports/index.ts";

interface Row {
  workspace_id: string;
  name: string;
  location: string;
  suffix: string;
  model_id: string;
  offer: string | null;
  model_format: string;
  model_name: string;
  model_version: string;
  auth_mode: ServerlessEndpointRecord["authMode"];
  content_safety: ServerlessEndpointRecord["contentSafetyStatus"];
  tags: string;
  marketplace_subscription_id: string | null;
  primary_key: string;
  secondary_key: string;
  created_at: number;
  updated_at: number;
}

const toRecord = (r: Row): ServerlessEndpointRecord => ({
  workspaceId: r.workspace_id,
  name: r.name,
  location: r.location,
  suffix: r.suffix,
  modelId: r.model_id,
  ...(r.offer ? { offer: JSON.parse(r.offer) as ServerlessEndpointRecord["offer"] } : {}),
  model: { format: r.model_format, name: r.model_name, version: r.model_version },
  authMode: r.auth_mode,
  contentSafetyStatus: r.content_safety,
  tags: JSON.parse(r.tags) as Record<string, string>,
  marketplaceSubscriptionId: r.marketplace_subscription_id,
  keys: { primary: r.primary_key, secondary: r.secondary_key },
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export class SqliteServerlessEndpointStore implements ServerlessEndpointStore {
  #db: SqlDatabase;

  constructor(db: SqlDatabase) {
    this.#db = db;
  }

  getEndpoint(workspaceId: string, name: string): ServerlessEndpointRecord | undefined {
    const r = this.#db.prepare("SELECT * FROM ml_serverless_endpoints WHERE workspace_id = ? AND name = ?").get(workspaceId, name) as Row | undefined;
    return r && toRecord(r);
  }

  findEndpointByName(name: string): ServerlessEndpointRecord | undefined {
    const r = this.#db.prepare("SELECT * FROM ml_serverless_endpoints WHERE name = ?").get(name) as Row | undefined;
    return r && toRecord(r);
  }

  listEndpoints(workspaceId: string): ServerlessEndpointRecord[] {
    return (this.#db.prepare("SELECT * FROM ml_serverless_endpoints WHERE workspace_id = ? ORDER BY created_at, name").all(workspaceId) as unknown as Row[]).map(toRecord);
  }

  putEndpoint(e: ServerlessEndpointRecord, hashes: ServerlessKeyHashes): void {
    this.#db
      .prepare(
        `INSERT INTO ml_serverless_endpoints (workspace_id, name, location, suffix, model_id, offer, model_format, model_name, model_version, auth_mode, content_safety, tags,
           marketplace_subscription_id, primary_key, primary_hash, secondary_key, secondary_hash, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(name) DO UPDATE SET model_id = excluded.model_id, offer = excluded.offer, auth_mode = excluded.auth_mode, content_safety = excluded.content_safety,
           tags = excluded.tags, marketplace_subscription_id = excluded.marketplace_subscription_id, primary_key = excluded.primary_key, primary_hash = excluded.primary_hash,
           secondary_key = excluded.secondary_key, secondary_hash = excluded.secondary_hash, updated_at = excluded.updated_at`,
      )
      .run(
        e.workspaceId, e.name, e.location, e.suffix, e.modelId, e.offer ? JSON.stringify(e.offer) : null, e.model.format, e.model.name, e.model.version, e.authMode, e.contentSafetyStatus,
        JSON.stringify(e.tags), e.marketplaceSubscriptionId, e.keys.primary, hashes.primary, e.keys.secondary, hashes.secondary, e.createdAt, e.updatedAt,
      );
  }

  deleteEndpoint(workspaceId: string, name: string): void {
    this.#db.prepare("DELETE FROM ml_serverless_endpoints WHERE workspace_id = ? AND name = ?").run(workspaceId, name);
  }

  endpointForKeyHash(hash: string): ServerlessEndpointRecord | undefined {
    const r = this.#db.prepare("SELECT * FROM ml_serverless_endpoints WHERE primary_hash = ? OR secondary_hash = ?").get(hash, hash) as Row | undefined;
    return r && toRecord(r);
  }
}
