// SqlDatabase on PostgreSQL, synchronous like node:sqlite: each call posts the (translated)
// statement to a worker thread that owns one `pg` connection and waits for the answer with
// Atomics.wait. Why `pg` (node-postgres): pure JavaScript (no libpq to build), the most used
// Node driver, named prepared statements per connection, and it runs unchanged in a worker;
// `postgres` (porsager) is as good a driver but pipelines over a pool, which fights the
// one-connection-one-transaction model the synchronous stores need.
//
// Faults. At open, a server that does not answer within the connect timeout is a
// DatabaseUnreachableError (the CLI prints it and exits). While running, a lost server makes
// writes fail with an Azure-shaped 503 ServiceUnavailable and a retry-after; reads are served
// from the last result this process saw for the same statement and parameters when it has one
// (stale, but what a replica that lost its database can honestly offer), else the same 503.
// After a failure, calls fail at once for a short back-off instead of blocking the event loop
// on a connect per call; then the next call reconnects, so everything comes back by itself.
import { createHash } from "node:crypto";
import { MessageChannel, receiveMessageOnPort, Worker } from "node:worker_threads";
import type { MessagePort } from "node:worker_threads";
import type { StatementResultingChanges } from "node:sqlite";
import { IngotError } from "../../core/errors.ts";
import type { SqlDatabase, SqlRow, SqlStatement, SqlValue } from "../sql/database.ts";
import { toPostgres } from "../sql/dialect.ts";
import type { WorkerReply, WorkerRequest } from "./worker.ts";

/** The database did not answer when Ingot started. */
export class DatabaseUnreachableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DatabaseUnreachableError";
  }
}

/** retry-after of the 503 while the database is away. */
export const DATABASE_RETRY_AFTER_MS = 5_000;

export const databaseUnavailable = (detail: string) =>
  new IngotError(
    "unavailable",
    "ServiceUnavailable",
    `The service is temporarily unavailable: its database cannot be reached (${detail}). Retry after the time in the retry-after header; nothing was changed.`,
    { retryAfterMs: DATABASE_RETRY_AFTER_MS },
  );

export interface PgDatabaseOptions {
  /** How long connecting may take (default 5 s). */
  connectTimeoutMs?: number;
  /** How long one statement may take (default 10 s; the event loop waits that long at most). */
  queryTimeoutMs?: number;
  /** After a lost-server failure, calls fail at once for this long before reconnecting (default 1 s, doubling per failed try up to 8 s). */
  backoffMs?: number;
  /** Results kept for reads while the server is away (default 5000 statements). */
  staleReadEntries?: number;
  /** Told when the server goes away and when it comes back. */
  onAvailability?: (available: boolean, detail: string) => void;
}

/** Where the URL points, without its password, for messages. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}${u.port ? `:${u.port}` : ""}${u.pathname}`;
  } catch {
    return "(unparsable URL)";
  }
}

const isRead = (text: string) => /^\s*(SELECT|WITH)\b/i.test(text);

export class PgDatabase implements SqlDatabase {
  readonly url: string;
  #worker: Worker;
  #port: MessagePort;
  #signal: Int32Array;
  #next = 1;
  #opts: Required<Omit<PgDatabaseOptions, "onAvailability">> & Pick<PgDatabaseOptions, "onAvailability">;
  #downUntil = 0;
  #down: string | undefined;
  #failures = 0;
  #downSince = 0;
  #stale = new Map<string, SqlRow[]>();
  #closed = false;

  /** Connects (synchronously); a DatabaseUnreachableError when the server does not answer. */
  constructor(url: string, opts: PgDatabaseOptions = {}) {
    this.url = url;
    this.#opts = { connectTimeoutMs: 5_000, queryTimeoutMs: 10_000, backoffMs: 1_000, staleReadEntries: 5_000, ...opts };
    const flag = new SharedArrayBuffer(4);
    this.#signal = new Int32Array(flag);
    const { port1, port2 } = new MessageChannel();
    this.#port = port1;
    this.#worker = new Worker(new URL("./worker.ts", import.meta.url), {
      workerData: { url, port: port2, flag, connectTimeoutMs: this.#opts.connectTimeoutMs, queryTimeoutMs: this.#opts.queryTimeoutMs },
      transferList: [port2],
    });
    // The worker must not keep the process alive on its own (close() ends it anyway).
    this.#worker.unref();
    this.#port.unref();
    const r = this.#call({ kind: "connect" }, this.#opts.connectTimeoutMs + 5_000);
    if (!r.ok) {
      void this.#worker.terminate();
      throw new DatabaseUnreachableError(
        `Cannot connect to PostgreSQL at ${describeUrl(url)}: ${r.message}. Check --database (or INGOT_DATABASE_URL) and that the server is running and reachable.`,
      );
    }
  }

  #call(req: Omit<WorkerRequest, "id">, timeoutMs: number): WorkerReply {
    const id = this.#next++;
    Atomics.store(this.#signal, 0, 0);
    this.#port.postMessage({ ...req, id });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      // Replies to calls that timed out earlier arrive first: skip them.
      for (let m = receiveMessageOnPort(this.#port); m; m = receiveMessageOnPort(this.#port)) {
        const reply = m.message as WorkerReply;
        if (reply.id === id) return reply;
      }
      const left = deadline - Date.now();
      if (left <= 0) return { id, ok: false, message: `no answer within ${timeoutMs} ms`, unavailable: true };
      Atomics.wait(this.#signal, 0, 0, left);
      Atomics.store(this.#signal, 0, 0);
    }
  }

  /** Runs one request; a lost server becomes the 503 (and the back-off), other errors are thrown as they are. */
  #run(req: Omit<WorkerRequest, "id">): Extract<WorkerReply, { ok: true }> {
    if (this.#closed) throw new Error("The database is closed.");
    if (this.#down !== undefined && Date.now() < this.#downUntil) throw databaseUnavailable(this.#down);
    const r = this.#call(req, this.#opts.queryTimeoutMs + 5_000);
    if (r.ok) {
      if (this.#down !== undefined) {
        const was = this.#down;
        this.#down = undefined;
        this.#failures = 0;
        this.#opts.onAvailability?.(true, was);
      }
      return r;
    }
    if (r.unavailable) {
      if (this.#down === undefined) {
        this.#downSince = Date.now();
        this.#opts.onAvailability?.(false, r.message);
      }
      this.#down = r.message;
      // Each try may block the event loop up to the connect timeout (a server that drops packets): back off.
      this.#downUntil = Date.now() + Math.min(8 * this.#opts.backoffMs, this.#opts.backoffMs * 2 ** this.#failures++);
      throw databaseUnavailable(r.message);
    }
    // The stores recognise constraint failures by SQLite's wording (e.g. "UNIQUE" → 409).
    const sqliteWords: Record<string, string> = { "23505": "UNIQUE constraint failed", "23503": "FOREIGN KEY constraint failed", "23502": "NOT NULL constraint failed", "23514": "CHECK constraint failed" };
    const words = r.code ? sqliteWords[r.code] : undefined;
    throw Object.assign(new Error(words ? `${words} (PostgreSQL: ${r.message})` : `PostgreSQL: ${r.message}`), { code: r.code });
  }

  /** Whether the last call reached the server. */
  get available(): boolean {
    return this.#down === undefined;
  }

  /** For /readyz: where the database is and whether this process reaches it (since when not, and why). */
  health(): { engine: "postgresql"; at: string; state: "up" | "down"; since?: string; error?: string } {
    const at = describeUrl(this.url);
    return this.#down === undefined
      ? { engine: "postgresql", at, state: "up" }
      : { engine: "postgresql", at, state: "down", since: new Date(this.#downSince).toISOString(), error: this.#down };
  }

  /** Reads: served fresh, else (server away) from the last result for the same statement and parameters. */
  #query(sql: string, params: SqlValue[]): SqlRow[] {
    const t = toPostgres(sql);
    if (params.length !== t.params) throw new RangeError(`The statement has ${t.params} parameters; ${params.length} were given.`);
    const values = params.map((v) => (typeof v === "bigint" ? v.toString() : v));
    if (t.text.trim() === "") return []; // a PRAGMA: nothing on PostgreSQL
    const read = isRead(t.text);
    const key = read ? `${t.text}\u0000${JSON.stringify(values, (_, v) => (v instanceof Uint8Array ? Buffer.from(v).toString("base64") : v))}` : "";
    try {
      const r = this.#run({ kind: "query", text: t.text, values, name: `s${createHash("sha1").update(t.text).digest("hex").slice(0, 20)}` });
      const rows = r.rows as SqlRow[];
      if (read) {
        this.#stale.delete(key);
        if (rows.length <= 1000) {
          this.#stale.set(key, rows);
          if (this.#stale.size > this.#opts.staleReadEntries) this.#stale.delete(this.#stale.keys().next().value as string);
        }
      }
      (rows as SqlRow[] & { changes?: number }).changes = r.rowCount;
      return rows;
    } catch (e) {
      const cached = read && e instanceof IngotError && e.kind === "unavailable" ? this.#stale.get(key) : undefined;
      if (cached) return cached;
      throw e;
    }
  }

  prepare(sql: string): SqlStatement {
    return {
      get: (...params) => this.#query(sql, params)[0],
      all: (...params) => this.#query(sql, params),
      run: (...params): StatementResultingChanges => {
        const rows = this.#query(sql, params) as SqlRow[] & { changes?: number };
        return { changes: rows.changes ?? 0, lastInsertRowid: 0 };
      },
    };
  }

  exec(sql: string): void {
    const text = toPostgres(sql).text;
    if (text.trim() === "") return;
    this.#run({ kind: "exec", text });
  }

  close(): void {
    if (this.#closed) return;
    this.#call({ kind: "close" }, 5_000);
    this.#closed = true;
    void this.#worker.terminate();
  }
}
