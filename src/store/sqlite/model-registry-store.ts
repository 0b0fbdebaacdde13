// The SQLite ModelRegistry: rows of `registered_models` (migration 2), each holding a catalog
// entry as JSON. Another process (`ingot models add` while the server runs) writes the same
// file; PRAGMA data_version tells this connection when to re-read, so lookups stay cheap.
import type { SqlDatabase } from "../sql/database.ts";
import type { CatalogModel } from "../../core/catalog/model.ts";
import { conflict } from "../../core/catalog/registry.ts";
import type { RegisteredModel, WeightsPin } from "../../core/catalog/registry.ts";
import type { ModelRegistry } from "../../core/ports/index.ts";
import type { ModelRef } from "../../core/ports/index.ts";

/**
 * Trust-on-first-use pins share the table without a migration of their own: format is this
 * reserved value (no catalog format may start with '~'), name is the weights URI, version ''.
 */
const PIN_FORMAT = "~weights-pin";

interface Row {
  format: string;
  name: string;
  version: string;
  account: string | null;
  definition: string;
  created_at: number;
}

export class SqliteModelRegistry implements ModelRegistry {
  #db: SqlDatabase;
  #now: () => number;
  #cache: { version: number; models: RegisteredModel[] } | undefined;
  #localWrites = 0;

  constructor(db: SqlDatabase, now: () => number = Date.now) {
    this.#db = db;
    this.#now = now;
  }

  register(model: CatalogModel, account?: string): RegisteredModel {
    if (model.format.startsWith("~")) throw new Error(`format '${model.format}' is reserved`);
    const createdAt = this.#now();
    try {
      this.#db
        .prepare("INSERT INTO registered_models (format, name, version, account, definition, created_at) VALUES (?, ?, ?, ?, ?, ?)")
        .run(model.format, model.name, model.version, account ?? null, JSON.stringify(model), createdAt);
    } catch (e) {
      if (String((e as Error).message).includes("UNIQUE")) throw conflict(model);
      throw e;
    }
    this.#changed();
    return { model, account: account ?? null, createdAt };
  }

  list(): RegisteredModel[] {
    const version = this.#dataVersion();
    if (this.#cache?.version === version) return this.#cache.models;
    const rows = this.#db.prepare("SELECT * FROM registered_models WHERE format <> ? ORDER BY created_at, format, name, version").all(PIN_FORMAT) as unknown as Row[];
    const models = rows.map(toRegistered);
    this.#cache = { version, models };
    return models;
  }

  get(ref: ModelRef): RegisteredModel | undefined {
    return this.list().find((r) => r.model.format === ref.format && r.model.name === ref.name && r.model.version === ref.version);
  }

  remove(ref: ModelRef): boolean {
    const r = this.#db.prepare("DELETE FROM registered_models WHERE format = ? AND name = ? AND version = ?").run(ref.format, ref.name, ref.version);
    this.#changed();
    return Number(r.changes) > 0;
  }

  pinnedWeights(weights: string): WeightsPin | undefined {
    const row = this.#db.prepare("SELECT definition FROM registered_models WHERE format = ? AND name = ? AND version = ''").get(PIN_FORMAT, weights) as { definition: string } | undefined;
    if (!row) return undefined;
    const pin = JSON.parse(row.definition) as WeightsPin;
    return { sha256: pin.sha256, sizeBytes: pin.sizeBytes };
  }

  pinWeights(weights: string, pin: WeightsPin): void {
    this.#db
      .prepare(
        `INSERT INTO registered_models (format, name, version, account, definition, created_at) VALUES (?, ?, '', NULL, ?, ?)
         ON CONFLICT(format, name, version) DO UPDATE SET definition = excluded.definition`,
      )
      .run(PIN_FORMAT, weights, JSON.stringify({ sha256: pin.sha256, sizeBytes: pin.sizeBytes }), this.#now());
  }

  unpinWeights(weights: string): void {
    this.#db.prepare("DELETE FROM registered_models WHERE format = ? AND name = ? AND version = ''").run(PIN_FORMAT, weights);
  }

  // data_version changes when another connection commits; our own writes bump a local counter.
  // PostgreSQL has no data_version (the PRAGMA is dropped there, no row): the row count and the
  // highest rowid (a sequence there, never reused) change with every insert and delete.
  #dataVersion(): number {
    const v = (this.#db.prepare("PRAGMA data_version").get() as { data_version: number } | undefined)?.data_version;
    if (v !== undefined) return v * 1_000_000 + this.#localWrites;
    const r = this.#db.prepare("SELECT count(*) AS n, coalesce(max(rowid), 0) AS m FROM registered_models").get() as { n: number; m: number };
    return (r.n * 1_000_003 + r.m) * 1_000_000 + this.#localWrites;
  }

  #changed(): void {
    this.#localWrites++;
  }
}

function toRegistered(r: Row): RegisteredModel {
  return { model: JSON.parse(r.definition) as CatalogModel, account: r.account, createdAt: r.created_at };
}
