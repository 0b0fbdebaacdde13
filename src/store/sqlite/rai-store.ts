// SQLite persistence of content-filter policies, custom blocklists and their items (migration 15).
import type { SqlDatabase } from "../sql/database.ts";
import type { RaiBlocklistItemRecord, RaiBlocklistRecord, RaiPolicyRecord, RaiStore } from "../../core/ports/rai-store.ts";

interface BlocklistRow {
  account: string;
  name: string;
  description: string;
  tags: string;
  created_at: number;
  updated_at: number;
}
interface ItemRow {
  account: string;
  blocklist: string;
  name: string;
  pattern: string;
  is_regex: number;
  description: string | null;
  created_at: number;
  updated_at: number;
}

const toBlocklist = (r: BlocklistRow): RaiBlocklistRecord => ({ account: r.account, name: r.name, description: r.description, tags: JSON.parse(r.tags), createdAt: r.created_at, updatedAt: r.updated_at });
const toItem = (r: ItemRow): RaiBlocklistItemRecord => ({
  account: r.account,
  blocklist: r.blocklist,
  name: r.name,
  pattern: r.pattern,
  isRegex: r.is_regex === 1,
  ...(r.description ? { description: r.description } : {}),
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export class SqliteRaiStore implements RaiStore {
  #db: SqlDatabase;

  constructor(db: SqlDatabase) {
    this.#db = db;
  }

  #transaction(work: () => void): void {
    this.#db.exec("BEGIN");
    try {
      work();
      this.#db.exec("COMMIT");
    } catch (e) {
      this.#db.exec("ROLLBACK");
      throw e;
    }
  }

  getPolicy(account: string, name: string): RaiPolicyRecord | undefined {
    const r = this.#db.prepare("SELECT body FROM rai_policies WHERE account = ? AND name = ?").get(account, name) as { body: string } | undefined;
    return r && (JSON.parse(r.body) as RaiPolicyRecord);
  }

  listPolicies(account: string): RaiPolicyRecord[] {
    return (this.#db.prepare("SELECT body FROM rai_policies WHERE account = ? ORDER BY created_at, rowid").all(account) as { body: string }[]).map((r) => JSON.parse(r.body) as RaiPolicyRecord);
  }

  putPolicy(p: RaiPolicyRecord): void {
    this.#db
      .prepare("INSERT INTO rai_policies (account, name, body, created_at) VALUES (?, ?, ?, ?) ON CONFLICT(account, name) DO UPDATE SET body = excluded.body")
      .run(p.account, p.name, JSON.stringify(p), p.createdAt);
  }

  deletePolicy(account: string, name: string): void {
    this.#db.prepare("DELETE FROM rai_policies WHERE account = ? AND name = ?").run(account, name);
  }

  getBlocklist(account: string, name: string): RaiBlocklistRecord | undefined {
    const r = this.#db.prepare("SELECT * FROM rai_blocklists WHERE account = ? AND name = ?").get(account, name) as BlocklistRow | undefined;
    return r && toBlocklist(r);
  }

  listBlocklists(account: string): RaiBlocklistRecord[] {
    return (this.#db.prepare("SELECT * FROM rai_blocklists WHERE account = ? ORDER BY created_at, rowid").all(account) as unknown as BlocklistRow[]).map(toBlocklist);
  }

  putBlocklist(b: RaiBlocklistRecord): void {
    this.#db
      .prepare(
        `INSERT INTO rai_blocklists (account, name, description, tags, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(account, name) DO UPDATE SET description = excluded.description, tags = excluded.tags, updated_at = excluded.updated_at`,
      )
      .run(b.account, b.name, b.description, JSON.stringify(b.tags), b.createdAt, b.updatedAt);
  }

  deleteBlocklist(account: string, name: string): void {
    this.#transaction(() => {
      this.#db.prepare("DELETE FROM rai_blocklist_items WHERE account = ? AND blocklist = ?").run(account, name);
      this.#db.prepare("DELETE FROM rai_blocklists WHERE account = ? AND name = ?").run(account, name);
    });
  }

  getItem(account: string, blocklist: string, name: string): RaiBlocklistItemRecord | undefined {
    const r = this.#db.prepare("SELECT * FROM rai_blocklist_items WHERE account = ? AND blocklist = ? AND name = ?").get(account, blocklist, name) as ItemRow | undefined;
    return r && toItem(r);
  }

  listItems(account: string, blocklist: string): RaiBlocklistItemRecord[] {
    return (this.#db.prepare("SELECT * FROM rai_blocklist_items WHERE account = ? AND blocklist = ? ORDER BY created_at, rowid").all(account, blocklist) as unknown as ItemRow[]).map(toItem);
  }

  countItems(account: string, blocklist: string): number {
    return (this.#db.prepare("SELECT COUNT(*) AS n FROM rai_blocklist_items WHERE account = ? AND blocklist = ?").get(account, blocklist) as { n: number }).n;
  }

  putItems(items: RaiBlocklistItemRecord[]): void {
    const insert = this.#db.prepare(
      `INSERT INTO rai_blocklist_items (account, blocklist, name, pattern, is_regex, description, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(account, blocklist, name) DO UPDATE SET pattern = excluded.pattern, is_regex = excluded.is_regex,
         description = COALESCE(excluded.description, rai_blocklist_items.description), updated_at = excluded.updated_at`,
    );
    this.#transaction(() => {
      for (const i of items) insert.run(i.account, i.blocklist, i.name, i.pattern, i.isRegex ? 1 : 0, i.description ?? null, i.createdAt, i.updatedAt);
    });
  }

  deleteItems(account: string, blocklist: string, names: string[]): void {
    const del = this.#db.prepare("DELETE FROM rai_blocklist_items WHERE account = ? AND blocklist = ? AND name = ?");
    this.#transaction(() => {
      for (const n of names) del.run(account, blocklist, n);
    });
  }

  deleteAll(account: string): void {
    this.#transaction(() => {
      for (const table of ["rai_blocklist_items", "rai_blocklists", "rai_policies"]) this.#db.prepare(`DELETE FROM ${table} WHERE account = ?`).run(account);
    });
  }
}
