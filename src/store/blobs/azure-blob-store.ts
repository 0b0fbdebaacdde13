// Content in Azure Blob Storage (`--blob-store` with a connection string; Azurite in tests), so
// every replica sees what one wrote: blob `<prefix>/<key>` in one container ("ingot" unless the
// connection string names another with `Container=`). Writes stage to a local temporary file
// (hashed as it streams), and commit uploads it as one block blob (a blob appears whole or not
// at all) before keeping it in a local cache. Reads stream from the cache when present, else from
// Azure. Code that needs a file on disk (the trainer reads datasets by path; llama.cpp loads
// weights and adapters by path) asks `localPath`, which downloads to the cache once.
//
// exists() must answer synchronously (the port predates remote stores): it knows the local cache,
// this process's own writes and deletes, and the container's listing taken at start and refreshed
// in the background; FileService treats a processed file's content as present on a remote store.
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { BlobServiceClient } from "@azure/storage-blob";
import type { ContainerClient } from "@azure/storage-blob";
import type { StagedBlob } from "../../core/ports/index.ts";
import { FsBlobStore } from "./fs-blob-store.ts";

/** Uploads of large files go in blocks of this size, this many at once. */
const BLOCK_BYTES = 8 * 1024 * 1024;
const PARALLEL_BLOCKS = 4;
/** The background listing of the container runs at most this often. */
const RELIST_MS = 1000;

/** A connection string's `Container=` (not an Azure key: Ingot's own), and the string without it. */
export function parseBlobConnection(connectionString: string): { connectionString: string; container: string } {
  let container = "ingot";
  const parts = connectionString
    .split(";")
    .filter((p) => p.trim() !== "")
    .filter((p) => {
      const [k, ...v] = p.split("=");
      if (k.trim().toLowerCase() !== "container") return true;
      container = v.join("=").trim();
      return false;
    });
  return { connectionString: parts.join(";"), container };
}

/** Whether a `--blob-store` value is an Azure Storage connection string (rather than nothing). */
export function isBlobConnectionString(value: string): boolean {
  return /(^|;)\s*(BlobEndpoint|AccountName|UseDevelopmentStorage)\s*=/i.test(value);
}

/** The local cache is an FsBlobStore (staging, renames, stale temporary files); this adds the container. */
export class AzureBlobStore extends FsBlobStore {
  readonly remote = true;
  #container: ContainerClient;
  #prefix: string;
  #tmp: string;
  #created: Promise<unknown> | undefined;
  /** Keys known to be in the container (listing, own writes); removed on delete. */
  #known = new Set<string>();
  #listing: Promise<void> | undefined;
  #listedAt = 0;
  #log: (msg: string, fields?: Record<string, unknown>) => void;

  /** `prefix`: this store's folder in the container (files, ml, …); `cacheDir`: local copies. */
  constructor(connectionString: string, prefix: string, cacheDir: string, opts: { log?: (msg: string, fields?: Record<string, unknown>) => void } = {}) {
    super(cacheDir);
    const parsed = parseBlobConnection(connectionString);
    this.#container = BlobServiceClient.fromConnectionString(parsed.connectionString).getContainerClient(parsed.container);
    this.#prefix = prefix.replace(/\/+$/, "");
    this.#tmp = join(cacheDir, ".tmp");
    this.#log = opts.log ?? (() => {});
    void this.refresh();
  }

  /** Reads the container's listing of this prefix into what exists() knows (at start, and when asked about an unknown key). */
  refresh(): Promise<void> {
    this.#listing ??= (async () => {
      try {
        const seen = new Set<string>();
        for await (const b of this.#container.listBlobsFlat({ prefix: `${this.#prefix}/` })) seen.add(b.name.slice(this.#prefix.length + 1));
        for (const k of seen) this.#known.add(k);
      } catch (e) {
        const code = (e as { statusCode?: number }).statusCode;
        if (code !== 404) this.#log("could not list the blob container", { err: e instanceof Error ? e.message : String(e) });
      } finally {
        this.#listedAt = Date.now();
        this.#listing = undefined;
      }
    })();
    return this.#listing;
  }

  override async commit(staged: StagedBlob, key: string): Promise<void> {
    const tmp = this.stagedFile(staged);
    await this.#ensureContainer();
    // One block blob, its block list committed last: other replicas see all of it or nothing.
    await this.#blob(key).uploadFile(tmp, { blockSize: BLOCK_BYTES, concurrency: PARALLEL_BLOCKS });
    this.#known.add(key);
    await super.commit(staged, key);
  }

  override   read(key: string, opts: { signal?: AbortSignal } = {}): AsyncIterable<Uint8Array> {
    if (existsSync(this.path(key))) return super.read(key, opts);
    const blob = this.#blob(key);
    return (async function* () {
      const res = await blob.download(0, undefined, { abortSignal: opts.signal });
      const body = res.readableStreamBody;
      if (!body) return;
      for await (const chunk of body as AsyncIterable<Uint8Array>) yield chunk;
    })();
  }

  override exists(key: string): boolean {
    if (this.#known.has(key) || super.exists(key)) return true;
    // Written by another replica since the last listing? The next ask knows.
    if (Date.now() - this.#listedAt > RELIST_MS) void this.refresh();
    return false;
  }

  /** A local file with the content of `key`, downloaded once from the container when not cached. */
  async localPath(key: string): Promise<string> {
    const local = this.path(key);
    if (existsSync(local)) return local;
    const tmp = join(this.#tmp, randomUUID());
    try {
      await this.#blob(key).downloadToFile(tmp);
      await rename(tmp, local);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
    return local;
  }

  override async delete(key: string): Promise<void> {
    this.#known.delete(key);
    await super.delete(key);
    await this.#blob(key).deleteIfExists();
  }

  #blob(key: string) {
    return this.#container.getBlockBlobClient(`${this.#prefix}/${key}`);
  }

  #ensureContainer(): Promise<unknown> {
    this.#created ??= this.#container.createIfNotExists().catch((e: unknown) => {
      this.#created = undefined;
      throw e;
    });
    return this.#created;
  }
}
