// What the files service needs from the outside: a table of records, a place for content,
// and a way to fetch a URL safely. Adapters: store/sqlite/file-store.ts, store/blobs/fs-blob-store.ts,
// lib/url-download.ts (wired in app.ts).
import type { FilePurpose, FileRecord, FileStatus } from "./types.ts";

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

/** Content written to a temporary name, not yet visible under any key. */
export interface StagedBlob {
  readonly bytes: number;
  /** Hex sha256 of the content. */
  readonly sha256: string;
}

export interface BlobStore {
  /** Streams content to a temporary file; on any error the temporary file is removed and the error rethrown. */
  stage(content: AsyncIterable<Uint8Array>): Promise<StagedBlob>;
  /** Renames staged content into place under `key` (atomic: readers see all of it or nothing). */
  commit(staged: StagedBlob, key: string): Promise<void>;
  /** Removes staged content that will not be committed (idempotent). */
  discard(staged: StagedBlob): Promise<void>;
  /** Writes small content under `key` (through a temporary name). */
  put(key: string, content: string | Uint8Array): Promise<StagedBlob>;
  read(key: string, opts?: { signal?: AbortSignal }): AsyncIterable<Uint8Array>;
  exists(key: string): boolean;
  /** Local path of the content under `key`. */
  path(key: string): string;
  /** Removes the content (idempotent). */
  delete(key: string): Promise<void>;
}

export interface Download {
  body: AsyncIterable<Uint8Array>;
  contentLength: number | undefined;
  abort(): void;
}

/**
 * Fetches user-given URLs. `check` refuses what may not be fetched (scheme, loopback/private/
 * metadata addresses) with an Error whose message says why and what to do; the returned opener
 * connects to the address that was checked.
 */
export interface UrlFetcher {
  check(url: string): Promise<() => Promise<Download>>;
}
