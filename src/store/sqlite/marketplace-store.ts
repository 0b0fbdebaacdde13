// SQLite persistence for Azure ML marketplace subscriptions (migration 9).
import type { SqlDatabase } from "../sql/database.ts";
import type { MarketplacePlan, MarketplaceSubscriptionRecord } from "../../core/ml/marketplace.ts";
import type { MarketplaceSubscriptionStore } from "../../core/ports/index.ts";

interface Row {
  workspace_id: string;
  name: string;
  model_id: string;
  plan: string;
  created_at: number;
  updated_at: number;
}

const toRecord = (r: Row): MarketplaceSubscriptionRecord => ({
  workspaceId: r.workspace_id,
  name: r.name,
  modelId: r.model_id,
  plan: JSON.parse(r.plan) as MarketplacePlan,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export class SqliteMarketplaceSubscriptionStore implements MarketplaceSubscriptionStore {
  #db: SqlDatabase;

  constructor(db: SqlDatabase) {
    this.#db = db;
  }

  getSubscription(workspaceId: string, name: string): MarketplaceSubscriptionRecord | undefined {
    const r = this.#db.prepare("SELECT * FROM ml_marketplace_subscriptions WHERE workspace_id = ? AND name = ?").get(workspaceId, name) as Row | undefined;
    return r && toRecord(r);
  }

  listSubscriptions(workspaceId: string): MarketplaceSubscriptionRecord[] {
    return (this.#db.prepare("SELECT * FROM ml_marketplace_subscriptions WHERE workspace_id = ? ORDER BY created_at, name").all(workspaceId) as unknown as Row[]).map(toRecord);
  }

  putSubscription(s: MarketplaceSubscriptionRecord): void {
    this.#db
      .prepare(
        `INSERT INTO ml_marketplace_subscriptions (workspace_id, name, model_id, plan, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(workspace_id, name) DO UPDATE SET model_id = excluded.model_id, plan = excluded.plan, updated_at = excluded.updated_at`,
      )
      .run(s.workspaceId, s.name, s.modelId, JSON.stringify(s.plan), s.createdAt, s.updatedAt);
  }

  deleteSubscription(workspaceId: string, name: string): void {
    this.#db.prepare("DELETE FROM ml_marketplace_subscriptions WHERE workspace_id = ? AND name = ?").run(workspaceId, name);
  }
}
