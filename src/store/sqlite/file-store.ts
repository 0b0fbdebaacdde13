// The SQLite FileStore: rows of `files` (migration 3). Content lives in the blob store; a row
// exists only for content that is complete (or, for an import, is being fetched).
import type { SqlDatabase } from "../sql/database.ts";
import type { FileStore } from "../../core/ports/index.ts";
import type { DatasetFormat, FilePurpose, FileRecord, FileStatus } from "../../core/files/types.ts";

interface Row {
  id: string;
  account: string;
  purpose: FilePurpose;
  filename: string;
  bytes: number;
  status: FileStatus;
  status_details: string | null;
  format: DatasetFormat | null;
  examples: number | null;
  sha256: string | null;
  created_at: number;
  expires_at: number | null;
}

const toRecord = (r: Row): FileRecord => ({
  id: r.id,
  account: r.account,
  purpose: r.purpose,
  filename: r.filename,
  bytes: r.bytes,
  status: r.status,
  statusDetails: r.status_details,
  format: r.format,
  examples: r.examples,
  sha256: r.sha256,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
});

const COLUMNS: Record<string, string> = {
  bytes: "bytes",
  status: "status",
  statusDetails: "status_details",
  format: "format",
  examples: "examples",
  sha256: "sha256",
};

export class SqliteFileStore implements FileStore {
  #db: SqlDatabase;

  constructor(db: SqlDatabase) {
    this.#db = db;
  }

  insert(f: FileRecord): void {
    this.#db
      .prepare(
        `INSERT INTO files (id, account, purpose, filename, bytes, status, status_details, format, examples, sha256, created_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(f.id, f.account, f.purpose, f.filename, f.bytes, f.status, f.statusDetails, f.format, f.examples, f.sha256 ?? null, f.createdAt, f.expiresAt ?? null);
  }

  get(id: string): FileRecord | undefined {
    const r = this.#db.prepare("SELECT * FROM files WHERE id = ?").get(id) as Row | undefined;
    return r && toRecord(r);
  }

  update(id: string, patch: Parameters<FileStore["update"]>[1]): void {
    const entries = Object.entries(patch).filter(([k, v]) => COLUMNS[k] && v !== undefined);
    if (!entries.length) return;
    this.#db
      .prepare(`UPDATE files SET ${entries.map(([k]) => `${COLUMNS[k]} = ?`).join(", ")} WHERE id = ?`)
      .run(...entries.map(([, v]) => v as string | number | null), id);
  }

  list(account: string, filter: { purpose?: FilePurpose } = {}): FileRecord[] {
    const rows = this.#db
      .prepare("SELECT * FROM files WHERE account = ? AND (? IS NULL OR purpose = ?) ORDER BY created_at, rowid")
      .all(account, filter.purpose ?? null, filter.purpose ?? null) as unknown as Row[];
    return rows.map(toRecord);
  }

  listByStatus(status: FileStatus): FileRecord[] {
    return (this.#db.prepare("SELECT * FROM files WHERE status = ? ORDER BY created_at, rowid").all(status) as unknown as Row[]).map(toRecord);
  }

  listExpired(now: number): FileRecord[] {
    return (this.#db.prepare("SELECT * FROM files WHERE expires_at IS NOT NULL AND expires_at <= ?").all(now) as unknown as Row[]).map(toRecord);
  }

  delete(id: string): void {
    this.#db.prepare("DELETE FROM files WHERE id = ?").run(id);
  }
}
