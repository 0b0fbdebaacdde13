// Opens the state store: SQLite in the data dir (the default), or PostgreSQL when a database
// URL is given (`ingot up --database postgres://…` / INGOT_DATABASE_URL). Both run the one
// migration list (store/sqlite/migrations.ts), on PostgreSQL through store/sql/dialect.ts.
import type { UsageStore } from "../../core/ports/usage-store.ts";
import type { UsageIncrement } from "../../core/usage/types.ts";
import { isIngotError } from "../../core/errors.ts";
import { PgDatabase } from "../postgres/database.ts";
import type { PgDatabaseOptions } from "../postgres/database.ts";
import { SqliteStore } from "../sqlite/store.ts";
import type { SqlDatabase } from "./database.ts";

/** Replicas starting together migrate one at a time (a session advisory lock; the key is arbitrary but fixed). */
const MIGRATION_LOCK = 7_316_001;

const unavailable = (e: unknown) => isIngotError(e) && e.kind === "unavailable";

/** The resource store on PostgreSQL: marking a deployment used is best effort while the database is away. */
class PgResourceStore extends SqliteStore {
  override touchDeployment(account: string, name: string, at: number): void {
    try {
      super.touchDeployment(account, name, at);
    } catch (e) {
      // Only the idle-deletion clock: a later use writes it again. Inference goes on.
      if (!unavailable(e)) throw e;
    }
  }
}

/**
 * /readyz details: on PostgreSQL whether this replica reaches the database (a replica that lost
 * it stays ready: it serves what it can and answers 503 to writes). Nothing on SQLite.
 */
export function databaseHealth(db: SqlDatabase): { database?: ReturnType<PgDatabase["health"]> } {
  return db instanceof PgDatabase ? { database: db.health() } : {};
}

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

/**
 * The store on PostgreSQL at `url`, migrated. Throws DatabaseUnreachableError when the server
 * does not answer (the caller prints it and exits), an Error for a URL that is not postgres://.
 */
export function openPostgresStore(url: string, opts: PgDatabaseOptions = {}): SqliteStore {
  if (!isPostgresUrl(url)) throw new Error(`The database URL must start with postgres:// or postgresql:// (got '${url.split(":")[0]}:…'). SQLite needs no URL: leave --database out.`);
  const db = new PgDatabase(url, opts);
  try {
    db.prepare("SELECT pg_advisory_lock(?)").get(MIGRATION_LOCK);
    try {
      // COLLATE NOCASE in the migrations and the stores' SQL: case-insensitive, as SQLite's NOCASE.
      db.exec("CREATE COLLATION IF NOT EXISTS nocase (provider = icu, locale = 'und-u-ks-level2', deterministic = false)");
      return new PgResourceStore(db);
    } finally {
      db.prepare("SELECT pg_advisory_unlock(?)").get(MIGRATION_LOCK);
    }
  } catch (e) {
    db.close();
    throw e;
  }
}

/**
 * Usage counters that survive a database outage: increments that cannot be written are kept
 * (merged per minute, deployment, model and status) and written with the next one that can,
 * so an inference served while the database was away is still counted. On SQLite nothing is
 * ever unavailable and this is a pass-through.
 */
export class ResilientUsageStore implements UsageStore {
  #inner: UsageStore;
  #pending = new Map<string, UsageIncrement>();
  static readonly MAX_PENDING = 100_000;

  constructor(inner: UsageStore) {
    this.#inner = inner;
  }

  add(increment: UsageIncrement): void {
    try {
      this.#flush();
      this.#inner.add(increment);
    } catch (e) {
      if (!unavailable(e)) throw e;
      const key = [increment.account, increment.deployment, increment.model, increment.minute, increment.status].join("\u0000");
      const p = this.#pending.get(key);
      if (p) this.#pending.set(key, { ...p, promptTokens: p.promptTokens + increment.promptTokens, completionTokens: p.completionTokens + increment.completionTokens, requests: p.requests + increment.requests });
      else if (this.#pending.size < ResilientUsageStore.MAX_PENDING) this.#pending.set(key, increment);
    }
  }

  #flush(): void {
    for (const [key, p] of this.#pending) {
      this.#inner.add(p);
      this.#pending.delete(key);
    }
  }

  range(account: string, from: number, to: number) {
    return this.#inner.range(account, from, to);
  }
}

let guarded = false;

/**
 * With PostgreSQL, a timer's synchronous store call (sweeps, the reconciler's loop, job polling)
 * can meet the database away; Node would end the process on that throw. The 503 error is
 * logged instead and the timer runs again on its next turn; anything else still ends the
 * process as Node's default does (stack on stderr, exit code 1).
 */
export function survivesDatabaseOutages(log: (msg: string, fields: Record<string, unknown>) => void): void {
  if (guarded) return;
  guarded = true;
  process.on("uncaughtException", (e) => {
    if (unavailable(e)) {
      log("a background task could not reach the database; it runs again on its next turn", { err: (e as Error).message });
      return;
    }
    process.stderr.write(`${(e as Error)?.stack ?? String(e)}\n`);
    process.exit(1);
  });
}
