// SQLite persistence of Batch API jobs and their lines (migration 19). Plain SQL that
// PostgreSQL also accepts (no INSERT OR REPLACE, no SQLite-only functions).
import type { SqlDatabase } from "../sql/database.ts";
import type { BatchCounts, BatchLine, BatchLineInput, BatchRecord, BatchStatus, BatchUsage, LineStatus } from "../../core/batch/types.ts";
import type { BatchPatch, BatchStore } from "../../core/ports/batch-store.ts";

interface Row {
  id: string;
  account: string;
  deployment: string;
  model: string;
  endpoint: string;
  input_file_id: string;
  completion_window: string;
  status: string;
  errors: string | null;
  output_file_id: string | null;
  error_file_id: string | null;
  created_at: number;
  in_progress_at: number | null;
  expires_at: number;
  finalizing_at: number | null;
  completed_at: number | null;
  failed_at: number | null;
  expired_at: number | null;
  cancelling_at: number | null;
  cancelled_at: number | null;
  metadata: string | null;
  total: number;
  enqueued_tokens: number;
}

const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

const toRecord = (r: Row): BatchRecord => ({
  id: r.id,
  account: r.account,
  deployment: r.deployment,
  model: r.model,
  endpoint: r.endpoint,
  inputFileId: r.input_file_id,
  completionWindow: r.completion_window,
  status: r.status as BatchStatus,
  errors: r.errors === null ? null : JSON.parse(r.errors),
  outputFileId: r.output_file_id,
  errorFileId: r.error_file_id,
  createdAt: Number(r.created_at),
  inProgressAt: num(r.in_progress_at),
  expiresAt: Number(r.expires_at),
  finalizingAt: num(r.finalizing_at),
  completedAt: num(r.completed_at),
  failedAt: num(r.failed_at),
  expiredAt: num(r.expired_at),
  cancellingAt: num(r.cancelling_at),
  cancelledAt: num(r.cancelled_at),
  metadata: r.metadata === null ? null : JSON.parse(r.metadata),
  total: Number(r.total),
  enqueuedTokens: Number(r.enqueued_tokens),
});

const COLUMNS: Record<keyof BatchPatch, string> = {
  status: "status",
  errors: "errors",
  outputFileId: "output_file_id",
  errorFileId: "error_file_id",
  inProgressAt: "in_progress_at",
  finalizingAt: "finalizing_at",
  completedAt: "completed_at",
  failedAt: "failed_at",
  expiredAt: "expired_at",
  cancellingAt: "cancelling_at",
  cancelledAt: "cancelled_at",
};

const placeholders = (n: number) => Array.from({ length: n }, () => "?").join(", ");

export class SqliteBatchStore implements BatchStore {
  #db: SqlDatabase;

  constructor(db: SqlDatabase) {
    this.#db = db;
  }

  insert(b: BatchRecord, lines: BatchLineInput[]): void {
    this.#db.exec("BEGIN");
    try {
      this.#db
        .prepare(
          `INSERT INTO batches (id, account, deployment, model, endpoint, input_file_id, completion_window, status, errors, output_file_id, error_file_id,
             created_at, in_progress_at, expires_at, finalizing_at, completed_at, failed_at, expired_at, cancelling_at, cancelled_at, metadata, total, enqueued_tokens)
           VALUES (${placeholders(23)})`,
        )
        .run(
          b.id, b.account, b.deployment, b.model, b.endpoint, b.inputFileId, b.completionWindow, b.status, b.errors === null ? null : JSON.stringify(b.errors),
          b.outputFileId, b.errorFileId, b.createdAt, b.inProgressAt, b.expiresAt, b.finalizingAt, b.completedAt, b.failedAt, b.expiredAt, b.cancellingAt,
          b.cancelledAt, b.metadata === null ? null : JSON.stringify(b.metadata), b.total, b.enqueuedTokens,
        );
      const line = this.#db.prepare("INSERT INTO batch_lines (batch_id, line, custom_id, request, status) VALUES (?, ?, ?, ?, 'pending')");
      for (const l of lines) line.run(b.id, l.line, l.customId, JSON.stringify(l.body));
      this.#db.exec("COMMIT");
    } catch (e) {
      this.#db.exec("ROLLBACK");
      throw e;
    }
  }

  get(id: string): BatchRecord | undefined {
    const r = this.#db.prepare("SELECT * FROM batches WHERE id = ?").get(id) as Row | undefined;
    return r && toRecord(r);
  }

  list(account: string): BatchRecord[] {
    return (this.#db.prepare("SELECT * FROM batches WHERE account = ? ORDER BY created_at DESC, id DESC").all(account) as unknown as Row[]).map(toRecord);
  }

  listByStatus(statuses: readonly BatchStatus[]): BatchRecord[] {
    if (!statuses.length) return [];
    return (this.#db.prepare(`SELECT * FROM batches WHERE status IN (${placeholders(statuses.length)}) ORDER BY created_at, id`).all(...statuses) as unknown as Row[]).map(toRecord);
  }

  update(id: string, patch: BatchPatch): void {
    const keys = Object.keys(patch) as (keyof BatchPatch)[];
    if (!keys.length) return;
    const values = keys.map((k) => (k === "errors" ? (patch.errors ? JSON.stringify(patch.errors) : null) : (patch[k] as string | number | null)));
    this.#db.prepare(`UPDATE batches SET ${keys.map((k) => `${COLUMNS[k]} = ?`).join(", ")} WHERE id = ?`).run(...values, id);
  }

  pendingLines(id: string, limit: number, exclude: ReadonlySet<number>): BatchLine[] {
    const rows = this.#db
      .prepare("SELECT line, custom_id, request FROM batch_lines WHERE batch_id = ? AND status = 'pending' ORDER BY line LIMIT ?")
      .all(id, limit + exclude.size) as { line: number; custom_id: string; request: string }[];
    return rows
      .filter((r) => !exclude.has(Number(r.line)))
      .slice(0, limit)
      .map((r) => ({ line: Number(r.line), customId: r.custom_id, body: JSON.parse(r.request), status: "pending" as const }));
  }

  finishLine(id: string, line: number, status: Exclude<LineStatus, "pending">, result: string, usage: BatchUsage | undefined, at: number): boolean {
    const changed = this.#db
      .prepare(
        "UPDATE batch_lines SET status = ?, result = ?, prompt_tokens = ?, completion_tokens = ?, cached_tokens = ?, finished_at = ? WHERE batch_id = ? AND line = ? AND status = 'pending'",
      )
      .run(status, result, usage?.promptTokens ?? 0, usage?.completionTokens ?? 0, usage?.cachedTokens ?? 0, at, id, line).changes;
    return Number(changed) > 0;
  }

  counts(id: string): BatchCounts {
    const rows = this.#db
      .prepare(
        "SELECT status, COUNT(*) AS n, SUM(prompt_tokens) AS p, SUM(completion_tokens) AS c, SUM(cached_tokens) AS k FROM batch_lines WHERE batch_id = ? GROUP BY status",
      )
      .all(id) as { status: string; n: number; p: number | null; c: number | null; k: number | null }[];
    const out: BatchCounts = { total: 0, completed: 0, failed: 0, usage: { promptTokens: 0, completionTokens: 0, cachedTokens: 0 } };
    for (const r of rows) {
      const n = Number(r.n);
      out.total += n;
      if (r.status === "succeeded") out.completed += n;
      if (r.status === "failed") out.failed += n;
      out.usage.promptTokens += Number(r.p ?? 0);
      out.usage.completionTokens += Number(r.c ?? 0);
      out.usage.cachedTokens += Number(r.k ?? 0);
    }
    return out;
  }

  results(id: string, status: Exclude<LineStatus, "pending">): string[] {
    return (this.#db.prepare("SELECT result FROM batch_lines WHERE batch_id = ? AND status = ? ORDER BY line").all(id, status) as { result: string }[]).map((r) => r.result);
  }

  enqueuedTokens(account: string, model: string, statuses: readonly BatchStatus[]): number {
    if (!statuses.length) return 0;
    const r = this.#db
      .prepare(`SELECT SUM(enqueued_tokens) AS n FROM batches WHERE account = ? AND model = ? AND status IN (${placeholders(statuses.length)})`)
      .get(account, model, ...statuses) as { n: number | null } | undefined;
    return Number(r?.n ?? 0);
  }

  deleteAll(account: string): void {
    this.#db.exec("BEGIN");
    try {
      this.#db.prepare("DELETE FROM batch_lines WHERE batch_id IN (SELECT id FROM batches WHERE account = ?)").run(account);
      this.#db.prepare("DELETE FROM batches WHERE account = ?").run(account);
      this.#db.exec("COMMIT");
    } catch (e) {
      this.#db.exec("ROLLBACK");
      throw e;
    }
  }
}
