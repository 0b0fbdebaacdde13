// The FileStore port: the table of uploaded files' records. Implemented by
// store/sqlite/file-store.ts (SqliteFileStore).
import type { FilePurpose, FileRecord, FileStatus } from "../files/types.ts";

export interface FileStore {
  insert(record: FileRecord): void;
  get(id: string): FileRecord | undefined;
  /** Changes the given fields; a no-op when the file is gone. */
  update(id: string, patch: Partial<Pick<FileRecord, "bytes" | "status" | "statusDetails" | "format" | "examples" | "sha256">>): void;
  /** An account's files, oldest first (created_at, then id). */
  list(account: string, filter?: { purpose?: FilePurpose }): FileRecord[];
  listByStatus(status: FileStatus): FileRecord[];
  /** Files whose expires_at is at or before `now`. */
  listExpired(now: number): FileRecord[];
  delete(id: string): void;
}
