// The SQLite store (node:sqlite, WAL). All SQL lives here and in migrations.ts. Given an open
// SqlDatabase instead of a path (store/postgres), the same SQL and migrations run on PostgreSQL.
import { DatabaseSync } from "node:sqlite";
import type { SqlDatabase } from "../sql/database.ts";
import type { AccountRecord, DeploymentRecord, OperationRecord, ResourceStore } from "../../core/ports/index.ts";
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
  tags: string;
  options: string;
  progress: string | null;
  last_used_at: number | null;
}

interface AccountRow {
  name: string;
  subscription: string;
  resource_group: string;
  location: string;
  kind: string;
  sku_name: string;
  tags: string;
  properties: string;
  created_at: number;
}

interface OperationRow {
  id: string;
  account: string;
  deployment: string | null;
  kind: OperationRecord["kind"];
  status: OperationRecord["status"];
  error_code: string | null;
  error_message: string | null;
  started_at: number;
  ended_at: number | null;
}

const toAccount = (r: AccountRow): AccountRecord => ({
  name: r.name,
  subscription: r.subscription,
  resourceGroup: r.resource_group,
  location: r.location,
  kind: r.kind,
  skuName: r.sku_name,
  tags: JSON.parse(r.tags),
  properties: JSON.parse(r.properties),
  createdAt: r.created_at,
});

const toOperation = (r: OperationRow): OperationRecord => ({
  id: r.id,
  account: r.account,
  deployment: r.deployment,
  kind: r.kind,
  status: r.status,
  errorCode: r.error_code,
  errorMessage: r.error_message,
  startedAt: r.started_at,
  endedAt: r.ended_at,
});

const toDeployment = (r: DeploymentRow): DeploymentRecord => ({
  account: r.account,
  name: r.name,
  model: { format: r.model_format, name: r.model_name, version: r.model_version },
  sku: { name: r.sku_name, capacity: r.sku_capacity },
  state: r.state,
  error: r.error,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  tags: JSON.parse(r.tags),
  options: JSON.parse(r.options),
  progress: r.progress === null ? null : JSON.parse(r.progress),
  lastUsedAt: r.last_used_at,
});

export class SqliteStore implements ResourceStore {
  #db: SqlDatabase;

  constructor(pathOrDatabase: string | SqlDatabase) {
    if (typeof pathOrDatabase === "string") {
      this.#db = new DatabaseSync(pathOrDatabase);
      this.#db.exec("PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;");
    } else this.#db = pathOrDatabase;
    this.#migrate();
  }

  /** The open database, for sibling stores (identity) that share the file and its migrations. */
  get database(): SqlDatabase {
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
    const r = this.#db.prepare("SELECT * FROM accounts WHERE name = ?").get(name) as AccountRow | undefined;
    return r && toAccount(r);
  }

  listAccounts(filter: { subscription?: string; resourceGroup?: string } = {}): AccountRecord[] {
    // ARM ids compare case-insensitively.
    const rows = this.#db
      .prepare("SELECT * FROM accounts WHERE (? IS NULL OR lower(subscription) = lower(?)) AND (? IS NULL OR lower(resource_group) = lower(?)) ORDER BY name")
      .all(filter.subscription ?? null, filter.subscription ?? null, filter.resourceGroup ?? null, filter.resourceGroup ?? null) as unknown as AccountRow[];
    return rows.map(toAccount);
  }

  putAccount(a: AccountRecord): void {
    this.#db
      .prepare(
        `INSERT INTO accounts (name, subscription, resource_group, location, kind, sku_name, tags, properties, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(name) DO UPDATE SET subscription = excluded.subscription, resource_group = excluded.resource_group, location = excluded.location,
           kind = excluded.kind, sku_name = excluded.sku_name, tags = excluded.tags, properties = excluded.properties`,
      )
      .run(a.name, a.subscription, a.resourceGroup, a.location, a.kind, a.skuName, JSON.stringify(a.tags), JSON.stringify(a.properties), a.createdAt);
  }

  deleteAccount(name: string): void {
    // No foreign key since migration 13 (ML pseudo-accounts hold deployments too): its deployments go here.
    this.#db.prepare("DELETE FROM deployments WHERE account = ?").run(name);
    this.#db.prepare("DELETE FROM accounts WHERE name = ?").run(name);
  }

  getKeys(account: string): Record<string, string> {
    const rows = this.#db.prepare("SELECT key_name, key_value FROM account_keys WHERE account = ? AND key_value IS NOT NULL").all(account) as { key_name: string; key_value: string }[];
    return Object.fromEntries(rows.map((r) => [r.key_name, r.key_value]));
  }

  setKey(account: string, keyName: string, value: string, hash: string): void {
    this.#db
      .prepare(
        `INSERT INTO account_keys (account, key_name, key_hash, key_value) VALUES (?, ?, ?, ?)
         ON CONFLICT(account, key_name) DO UPDATE SET key_hash = excluded.key_hash, key_value = excluded.key_value`,
      )
      .run(account, keyName, hash, value);
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
    // Case-insensitive (migration 7); an exact match first where an old database holds both spellings.
    const r = this.#db
      .prepare("SELECT * FROM deployments WHERE account = ? AND name = ? COLLATE NOCASE ORDER BY name = ? DESC, case_duplicate LIMIT 1")
      .get(account, name, name) as DeploymentRow | undefined;
    return r && toDeployment(r);
  }

  putDeployment(d: DeploymentRecord): void {
    this.#db
      .prepare(
        `INSERT INTO deployments (account, name, model_format, model_name, model_version, sku_name, sku_capacity, state, error, created_at, updated_at, tags, options, progress, last_used_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(account, name) DO UPDATE SET model_format = excluded.model_format, model_name = excluded.model_name,
           model_version = excluded.model_version, sku_name = excluded.sku_name, sku_capacity = excluded.sku_capacity,
           state = excluded.state, error = excluded.error, updated_at = excluded.updated_at, tags = excluded.tags,
           options = excluded.options, progress = excluded.progress, last_used_at = excluded.last_used_at`,
      )
      .run(
        d.account, d.name, d.model.format, d.model.name, d.model.version, d.sku.name, d.sku.capacity, d.state, d.error, d.createdAt, d.updatedAt,
        JSON.stringify(d.tags ?? {}), JSON.stringify(d.options ?? {}), d.progress ? JSON.stringify(d.progress) : null, d.lastUsedAt ?? null,
      );
  }

  touchDeployment(account: string, name: string, at: number): void {
    this.#db.prepare("UPDATE deployments SET last_used_at = ? WHERE account = ? AND name = ?").run(at, account, name);
  }

  getOperation(id: string): OperationRecord | undefined {
    const r = this.#db.prepare("SELECT * FROM operations WHERE id = ?").get(id) as OperationRow | undefined;
    return r && toOperation(r);
  }

  putOperation(o: OperationRecord): void {
    this.#db
      .prepare(
        `INSERT INTO operations (id, account, deployment, kind, status, error_code, error_message, started_at, ended_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(id) DO UPDATE SET status = excluded.status, error_code = excluded.error_code, error_message = excluded.error_message, ended_at = excluded.ended_at`,
      )
      .run(o.id, o.account, o.deployment, o.kind, o.status, o.errorCode, o.errorMessage, o.startedAt, o.endedAt);
  }

  deleteDeployment(account: string, name: string): void {
    this.#db.prepare("DELETE FROM deployments WHERE account = ? AND name = ?").run(account, name);
  }

  close(): void {
    this.#db.close();
  }
}
