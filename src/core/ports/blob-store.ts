// The BlobStore port: a place for file content, written through temporary names. Implemented
// by store/blobs/fs-blob-store.ts (FsBlobStore).

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
  /** Local path of the content under `key` (for a remote store: of its local copy, which may not be there yet). */
  path(key: string): string;
  /** A remote store (shared by replicas): exists() knows only what it has seen; content of a finished write is there. */
  readonly remote?: boolean;
  /** A local file with the content (a remote store downloads it once into its cache); absent: path() is local. */
  localPath?(key: string): Promise<string>;
  /** Removes the content (idempotent). */
  delete(key: string): Promise<void>;
}
