// The SQLite store (node:sqlite, WAL). All SQL lives here and in migrations.ts.
import { DatabaseSync } from "node:sqlite";
import type { AccountRecord, DeploymentRecord, Store } from "../../core/ports.ts";
import { MIGRATIONS } from "./migrations.ts";

interface DeploymentRow {
  account: string;
  name: string;
  model_format: string;
  model_name: string;
  model_version: string;
  sku_name: string;
  sku_capacity: number;
  state: DeploymentRecord["state"];
  error: string | null;
  created_at: number;
  updated_at: number;
}

const toDeployment = (r: DeploymentRow): DeploymentRecord => ({
  account: r.account,
  name: r.name,
  model: { format: r.model_format, name: r.model_name, version: r.model_version },
  sku: { name: r.sku_name, capacity: r.sku_capacity },
  state: r.state,
  error: r.error,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export class SqliteStore implements Store {
  #db: DatabaseSync;

  constructor(path: string) {
    this.#db = new DatabaseSync(path);
    this.#db.exec("PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;");
    this.#migrate();
  }

  /** The open database, for sibling stores (identity) that share the file and its migrations. */
  get database(): DatabaseSync {
    return this.#db;
  }

  #migrate(): void {
    this.#db.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)");
    const applied = new Set((this.#db.prepare("SELECT version FROM schema_migrations").all() as { version: number }[]).map((r) => r.version));
    for (const m of MIGRATIONS) {
      if (applied.has(m.version)) continue;
      this.#db.exec("BEGIN");
      try {
        this.#db.exec(m.sql);
        this.#db.prepare("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)").run(m.version, Date.now());
        this.#db.exec("COMMIT");
      } catch (e) {
        this.#db.exec("ROLLBACK");
        throw e;
      }
    }
  }

  getAccount(name: string): AccountRecord | undefined {
    const r = this.#db.prepare("SELECT * FROM accounts WHERE name = ?").get(name) as
      | { name: string; subscription: string; resource_group: string; location: string; created_at: number }
      | undefined;
    return r && { name: r.name, subscription: r.subscription, resourceGroup: r.resource_group, location: r.location, createdAt: r.created_at };
  }

  putAccount(a: AccountRecord): void {
    this.#db
      .prepare(
        `INSERT INTO accounts (name, subscription, resource_group, location, created_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(name) DO UPDATE SET subscription = excluded.subscription, resource_group = excluded.resource_group, location = excluded.location`,
      )
      .run(a.name, a.subscription, a.resourceGroup, a.location, a.createdAt);
  }

  getKeyHashes(account: string): Record<string, string> {
    const rows = this.#db.prepare("SELECT key_name, key_hash FROM account_keys WHERE account = ?").all(account) as { key_name: string; key_hash: string }[];
    return Object.fromEntries(rows.map((r) => [r.key_name, r.key_hash]));
  }

  setKeyHash(account: string, keyName: string, hash: string): void {
    this.#db
      .prepare("INSERT INTO account_keys (account, key_name, key_hash) VALUES (?, ?, ?) ON CONFLICT(account, key_name) DO UPDATE SET key_hash = excluded.key_hash")
      .run(account, keyName, hash);
  }

  accountForKeyHash(hash: string): string | undefined {
    return (this.#db.prepare("SELECT account FROM account_keys WHERE key_hash = ?").get(hash) as { account: string } | undefined)?.account;
  }

  listDeployments(account?: string): DeploymentRecord[] {
    const rows = (account === undefined
      ? this.#db.prepare("SELECT * FROM deployments ORDER BY account, name").all()
      : this.#db.prepare("SELECT * FROM deployments WHERE account = ? ORDER BY name").all(account)) as unknown as DeploymentRow[];
    return rows.map(toDeployment);
  }

  getDeployment(account: string, name: string): DeploymentRecord | undefined {
    const r = this.#db.prepare("SELECT * FROM deployments WHERE account = ? AND name = ?").get(account, name) as DeploymentRow | undefined;
    return r && toDeployment(r);
  }

  putDeployment(d: DeploymentRecord): void {
    this.#db
      .prepare(
        `INSERT INTO deployments (account, name, model_format, model_name, model_version, sku_name, sku_capacity, state, error, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(account, name) DO UPDATE SET model_format = excluded.model_format, model_name = excluded.model_name,
           model_version = excluded.model_version, sku_name = excluded.sku_name, sku_capacity = excluded.sku_capacity,
           state = excluded.state, error = excluded.error, updated_at = excluded.updated_at`,
      )
      .run(d.account, d.name, d.model.format, d.model.name, d.model.version, d.sku.name, d.sku.capacity, d.state, d.error, d.createdAt, d.updatedAt);
  }

  deleteDeployment(account: string, name: string): void {
    this.#db.prepare("DELETE FROM deployments WHERE account = ? AND name = ?").run(account, name);
  }

  close(): void {
    this.#db.close();
  }
}
