// SQLite persistence for the usage history: one row per account, minute, deployment, model
// and status, summed on insert.
import type { SqlDatabase, SqlStatement } from "../sql/database.ts";
import type { UsageBucket, UsageIncrement } from "../../core/usage/types.ts";
import type { UsageStore } from "../../core/ports/index.ts";

export class SqliteUsageStore implements UsageStore {
  #add: SqlStatement;
  #range: SqlStatement;

  constructor(db: SqlDatabase) {
    // Table-qualified: PostgreSQL finds a bare column ambiguous beside excluded.*.
    this.#add = db.prepare(
      `INSERT INTO usage_minutes (account, deployment, model, minute, status, prompt_tokens, completion_tokens, requests) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(account, minute, deployment, model, status) DO UPDATE SET
         prompt_tokens = usage_minutes.prompt_tokens + excluded.prompt_tokens, completion_tokens = usage_minutes.completion_tokens + excluded.completion_tokens,
         requests = usage_minutes.requests + excluded.requests`,
    );
    this.#range = db.prepare(
      "SELECT deployment, model, minute, status, prompt_tokens, completion_tokens, requests FROM usage_minutes WHERE account = ? AND minute >= ? AND minute < ? ORDER BY minute",
    );
  }

  add(i: UsageIncrement): void {
    this.#add.run(i.account, i.deployment, i.model, i.minute, i.status, i.promptTokens, i.completionTokens, i.requests);
  }

  range(account: string, from: number, to: number): UsageBucket[] {
    const rows = this.#range.all(account, from, to) as { deployment: string; model: string; minute: number; status: number; prompt_tokens: number; completion_tokens: number; requests: number }[];
    return rows.map((r) => ({ account, deployment: r.deployment, model: r.model, minute: r.minute, status: r.status, promptTokens: r.prompt_tokens, completionTokens: r.completion_tokens, requests: r.requests }));
  }
}
