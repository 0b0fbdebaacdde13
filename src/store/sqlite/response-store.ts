// SQLite persistence of stored Responses API responses (migration 17).
import type { SqlDatabase } from "../sql/database.ts";
import type { ResponseStore, StoredResponse } from "../../core/ports/response-store.ts";

interface Row {
  account: string;
  id: string;
  created_at: number;
  expires_at: number;
  body: string;
  input_items: string;
  conversation: string;
}

const toRecord = (r: Row): StoredResponse => ({
  account: r.account,
  id: r.id,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  body: JSON.parse(r.body),
  inputItems: JSON.parse(r.input_items),
  conversation: JSON.parse(r.conversation),
});

export class SqliteResponseStore implements ResponseStore {
  #db: SqlDatabase;

  constructor(db: SqlDatabase) {
    this.#db = db;
  }

  put(r: StoredResponse): void {
    this.#db
      .prepare(
        `INSERT INTO responses (account, id, created_at, expires_at, body, input_items, conversation) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(account, id) DO UPDATE SET created_at = excluded.created_at, expires_at = excluded.expires_at, body = excluded.body,
           input_items = excluded.input_items, conversation = excluded.conversation`,
      )
      .run(r.account, r.id, r.createdAt, r.expiresAt, JSON.stringify(r.body), JSON.stringify(r.inputItems), JSON.stringify(r.conversation));
  }

  get(account: string, id: string): StoredResponse | undefined {
    const r = this.#db.prepare("SELECT * FROM responses WHERE account = ? AND id = ?").get(account, id) as Row | undefined;
    return r && toRecord(r);
  }

  delete(account: string, id: string): boolean {
    return Number(this.#db.prepare("DELETE FROM responses WHERE account = ? AND id = ?").run(account, id).changes) > 0;
  }

  deleteExpired(now: number): number {
    return Number(this.#db.prepare("DELETE FROM responses WHERE expires_at <= ?").run(now).changes);
  }

  deleteAll(account: string): void {
    this.#db.prepare("DELETE FROM responses WHERE account = ?").run(account);
  }
}
