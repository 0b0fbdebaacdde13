// The PostgreSQL side of store/postgres/database.ts, in a worker thread: one `pg` client (one
// connection, so BEGIN…COMMIT from the main thread is one transaction), queries run in the
// order they arrive. Each reply is posted on the port, then the shared flag is set and
// notified: the main thread waits on it with Atomics.wait and reads the reply with
// receiveMessageOnPort, which is how a synchronous port gets an asynchronous driver's answer.
import { workerData } from "node:worker_threads";
import type { MessagePort } from "node:worker_threads";
import pg from "pg";

export interface WorkerRequest {
  id: number;
  kind: "connect" | "query" | "exec" | "close";
  text?: string;
  values?: unknown[];
  /** Prepared-statement name (per connection; pg prepares it once). */
  name?: string;
}

export type WorkerReply =
  | { id: number; ok: true; rows: Record<string, unknown>[]; rowCount: number }
  | { id: number; ok: false; message: string; code?: string; unavailable: boolean };

const { url, port, flag, connectTimeoutMs, queryTimeoutMs } = workerData as {
  url: string;
  port: MessagePort;
  flag: SharedArrayBuffer;
  connectTimeoutMs: number;
  queryTimeoutMs: number;
};
const signal = new Int32Array(flag);

// Integers come back as numbers, as node:sqlite gives them (ms timestamps fit a double exactly).
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (v) => Number(v));

let client: pg.Client | undefined;

/** Errors that mean "the server is not there" rather than "this statement is wrong". */
function isUnavailable(e: { code?: string; message?: string }): boolean {
  const code = e.code ?? "";
  if (["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EPIPE", "EAI_AGAIN"].includes(code)) return true;
  // 08: connection exceptions; 57P01-03: admin/crash shutdown, cannot connect now; 53300: too many connections.
  if (/^08/.test(code) || ["57P01", "57P02", "57P03", "53300"].includes(code)) return true;
  return /Connection terminated|connection timeout|timeout expired|Client has encountered a connection error|not queryable|Query read timeout/i.test(e.message ?? "");
}

async function connected(): Promise<pg.Client> {
  if (client) return client;
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: connectTimeoutMs, query_timeout: queryTimeoutMs, keepAlive: true });
  // A lost connection is noticed here (and by the failing query): the next call reconnects.
  c.on("error", () => {
    if (client === c) client = undefined;
  });
  try {
    await c.connect();
  } catch (e) {
    c.end().catch(() => undefined);
    throw e;
  }
  client = c;
  return c;
}

async function handle(req: WorkerRequest): Promise<WorkerReply> {
  try {
    if (req.kind === "close") {
      const c = client;
      client = undefined;
      await c?.end();
      return { id: req.id, ok: true, rows: [], rowCount: 0 };
    }
    const c = await connected();
    if (req.kind === "connect") return { id: req.id, ok: true, rows: [], rowCount: 0 };
    if (req.kind === "exec") {
      await c.query(req.text ?? "");
      return { id: req.id, ok: true, rows: [], rowCount: 0 };
    }
    const r = await c.query({ text: req.text ?? "", values: req.values, name: req.name });
    return { id: req.id, ok: true, rows: r.rows, rowCount: r.rowCount ?? 0 };
  } catch (e) {
    const err = e as { code?: string; message?: string };
    const unavailable = isUnavailable(err);
    if (unavailable && client) {
      const c = client;
      client = undefined;
      c.end().catch(() => undefined);
    }
    return { id: req.id, ok: false, message: err.message ?? String(e), code: err.code, unavailable };
  }
}

let chain = Promise.resolve();
port.on("message", (req: WorkerRequest) => {
  chain = chain.then(async () => {
    const reply = await handle(req);
    port.postMessage(reply);
    Atomics.store(signal, 0, 1);
    Atomics.notify(signal, 0);
    if (req.kind === "close") port.close();
  });
});
