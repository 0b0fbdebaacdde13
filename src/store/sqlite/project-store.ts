// SQLite persistence for Foundry projects.
import type { SqlDatabase } from "../sql/database.ts";
import type { ProjectRecord } from "../../core/accounts/projects.ts";
import type { ProjectStore } from "../../core/ports/index.ts";

interface Row {
  account: string;
  name: string;
  display_name: string;
  description: string;
  is_default: number;
  created_at: number;
}

const toRecord = (r: Row): ProjectRecord => ({ account: r.account, name: r.name, displayName: r.display_name, description: r.description, isDefault: r.is_default === 1, createdAt: r.created_at });

export class SqliteProjectStore implements ProjectStore {
  #db: SqlDatabase;

  constructor(db: SqlDatabase) {
    this.#db = db;
  }

  getProject(account: string, name: string): ProjectRecord | undefined {
    const r = this.#db.prepare("SELECT * FROM projects WHERE account = ? AND name = ?").get(account, name) as Row | undefined;
    return r && toRecord(r);
  }

  listProjects(account: string): ProjectRecord[] {
    return (this.#db.prepare("SELECT * FROM projects WHERE account = ? ORDER BY is_default DESC, created_at, name").all(account) as unknown as Row[]).map(toRecord);
  }

  putProject(p: ProjectRecord): void {
    this.#db
      .prepare(
        `INSERT INTO projects (account, name, display_name, description, is_default, created_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(account, name) DO UPDATE SET display_name = excluded.display_name, description = excluded.description`,
      )
      .run(p.account, p.name, p.displayName, p.description, p.isDefault ? 1 : 0, p.createdAt);
  }

  deleteProject(account: string, name: string): void {
    this.#db.prepare("DELETE FROM projects WHERE account = ? AND name = ?").run(account, name);
  }

  deleteProjects(account: string): void {
    this.#db.prepare("DELETE FROM projects WHERE account = ?").run(account);
  }
}
