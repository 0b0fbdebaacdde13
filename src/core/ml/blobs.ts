// The rules of Ingot's blob service: the subset of Azure Blob storage that @azure/storage-blob
// and azure-ai-ml's upload use (reference azure-ml.md §4): containers (create, properties,
// list blobs by prefix), block blobs (put whole, put block + put block list, get with a range,
// properties, metadata, delete) and the conditions clients send (If-Match, If-None-Match).
// Content goes through the BlobStore port (one key per blob or uncommitted block); names,
// properties and metadata through the MlDataStore port. Errors carry Azure Blob's codes and
// statuses (BlobNotFound 404, ConditionNotMet 412, InvalidRange 416, ...): the http layer
// writes them in Blob's XML error shape.
import { createHash, randomUUID } from "node:crypto";
import { IngotError } from "../errors.ts";
import type { ErrorKind } from "../errors.ts";
import type { BlobStore, MlDataStore } from "../ports/index.ts";

/** Azure's limit on one Put Blob is 5000 MiB; Ingot keeps a smaller default (the service's datasets are files of megabytes). */
export const DEFAULT_MAX_BLOB_BYTES = 4 * 1024 ** 3;
const MAX_BLOCK_ID_BYTES = 64;
/** Azure discards uncommitted blocks after a week. */
export const UNCOMMITTED_BLOCK_TTL_MS = 7 * 24 * 60 * 60 * 1000;
const MAX_BLOCKS = 50_000;
const CONTAINER_NAME = /^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$/;
/** Metadata names are C# identifiers (Azure stores them case-insensitively, as sent). */
const METADATA_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export interface BlobContainerRecord {
  account: string;
  name: string;
  metadata: Record<string, string>;
  etag: string;
  createdAt: number;
  updatedAt: number;
}

/** The content headers a blob keeps and returns. */
export interface BlobContentProperties {
  contentType: string;
  contentEncoding: string;
  contentLanguage: string;
  contentDisposition: string;
  cacheControl: string;
  /** Base64, as in Content-MD5; empty when unknown. */
  contentMd5: string;
}

export interface BlobRecord extends BlobContentProperties {
  account: string;
  container: string;
  name: string;
  /** The BlobStore key of the content. */
  key: string;
  size: number;
  metadata: Record<string, string>;
  etag: string;
  createdAt: number;
  updatedAt: number;
}

export interface BlobBlockRecord {
  account: string;
  container: string;
  blob: string;
  /** Base64 block id as the client sent it. */
  blockId: string;
  key: string;
  size: number;
  createdAt: number;
}

export interface BlobConditions {
  ifMatch?: string;
  ifNoneMatch?: string;
  ifModifiedSince?: string;
  ifUnmodifiedSince?: string;
}

export interface ListBlobsResult {
  blobs: BlobRecord[];
  prefixes: string[];
  nextMarker: string;
}

const KIND_OF_STATUS: Record<number, ErrorKind> = { 400: "invalid_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 409: "conflict", 413: "payload_too_large" };

/** An Azure Blob error: its own status (412 and 416 are not among IngotError's kinds) and code. */
export class BlobError extends IngotError {
  readonly #status: number;
  readonly authenticationErrorDetail: string | undefined;
  constructor(status: number, code: string, message: string, opts: { authenticationErrorDetail?: string } = {}) {
    super(KIND_OF_STATUS[status] ?? (status >= 500 ? "internal" : "invalid_request"), code, message);
    this.#status = status;
    this.authenticationErrorDetail = opts.authenticationErrorDetail;
  }
  override get status(): number {
    return this.#status;
  }
}

export const blobErrors = {
  containerNotFound: () => new BlobError(404, "ContainerNotFound", "The specified container does not exist."),
  blobNotFound: () => new BlobError(404, "BlobNotFound", "The specified blob does not exist."),
  containerExists: () => new BlobError(409, "ContainerAlreadyExists", "The specified container already exists."),
  blobExists: () => new BlobError(409, "BlobAlreadyExists", "The specified blob already exists."),
  conditionNotMet: () => new BlobError(412, "ConditionNotMet", "The condition specified using HTTP conditional header(s) is not met."),
  invalidRange: () => new BlobError(416, "InvalidRange", "The range specified is invalid for the current size of the resource."),
  invalidHeader: (name: string, why: string) => new BlobError(400, "InvalidHeaderValue", `The value for one of the HTTP headers is not in the correct format: ${name}: ${why}`),
  invalidQuery: (name: string, why: string) => new BlobError(400, "InvalidQueryParameterValue", `Value for one of the query parameters specified in the request URI is invalid: ${name}: ${why}`),
  invalidBlockList: (why: string) => new BlobError(400, "InvalidBlockList", `The specified block list is invalid: ${why}`),
  tooLarge: (max: number) => new BlobError(413, "RequestBodyTooLarge", `The request body is too large and exceeds the maximum permissible limit (${max} bytes on this Ingot). Upload it in blocks, or as a smaller file.`),
  md5Mismatch: () => new BlobError(400, "Md5Mismatch", "The MD5 value specified in the request did not match with the MD5 value calculated by the server."),
  unsupported: (what: string) => new BlobError(400, "UnsupportedHeader", `Ingot's blob service does not support ${what}. It serves block blobs: Put Blob, Put Block, Put Block List, Get/Head Blob, Set Blob Metadata/Properties, Delete Blob, and containers.`),
};

/** Whether an If-Match / If-None-Match value names the etag (or '*'). */
const etagListMatches = (header: string, etag: string) =>
  header
    .split(",")
    .map((s) => s.trim())
    .some((s) => s === "*" || s === etag || s.replace(/^W\//, "") === etag);

/** Checks conditional headers against the current blob (undefined: there is none). */
export function checkConditions(c: BlobConditions, current: { etag: string; updatedAt: number } | undefined, write: boolean): void {
  if (c.ifMatch !== undefined && (!current || !etagListMatches(c.ifMatch, current.etag))) throw blobErrors.conditionNotMet();
  if (c.ifNoneMatch !== undefined && current && etagListMatches(c.ifNoneMatch, current.etag)) {
    // Create-only writes (If-None-Match: *) of an existing blob are Azure's 409; reads get 304-like 412.
    if (write && c.ifNoneMatch.trim() === "*") throw blobErrors.blobExists();
    throw blobErrors.conditionNotMet();
  }
  const seconds = (ms: number) => Math.floor(ms / 1000);
  if (c.ifModifiedSince !== undefined && current) {
    const t = Date.parse(c.ifModifiedSince);
    if (!Number.isNaN(t) && seconds(current.updatedAt) <= seconds(t)) throw blobErrors.conditionNotMet();
  }
  if (c.ifUnmodifiedSince !== undefined && current) {
    const t = Date.parse(c.ifUnmodifiedSince);
    if (!Number.isNaN(t) && seconds(current.updatedAt) > seconds(t)) throw blobErrors.conditionNotMet();
  }
}

/** `bytes=a-b` / `bytes=a-` (x-ms-range or Range) → inclusive offsets within `size`, or undefined for the whole blob. */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d+)-(\d*)$/.exec(header.trim());
  if (!m) throw blobErrors.invalidHeader("x-ms-range", `'${header.slice(0, 64)}' is not bytes=start-end`);
  const start = Number(m[1]);
  const end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || (m[2] !== "" && Number(m[2]) < start)) {
    // A zero-length blob read from 0 is the whole (empty) blob, as Azure answers it.
    if (size === 0 && start === 0) return undefined;
    throw blobErrors.invalidRange();
  }
  return { start, end };
}

export function checkMetadata(metadata: Record<string, string>): void {
  for (const name of Object.keys(metadata)) if (!METADATA_NAME.test(name)) throw blobErrors.invalidHeader(`x-ms-meta-${name}`, "metadata names must be valid C# identifiers");
}

/** Azure's ETag form: a quoted hex number that changes on each write. */
let etagCounter = 0;
export const newEtag = (now: number) => `"0x${(now * 1000 + (etagCounter++ % 1000)).toString(16).toUpperCase()}"`;

async function* skipTake(source: AsyncIterable<Uint8Array>, start: number, length: number): AsyncIterable<Uint8Array> {
  let offset = 0;
  let left = length;
  for await (const chunk of source) {
    if (left <= 0) break;
    const from = Math.max(0, start - offset);
    offset += chunk.byteLength;
    if (from >= chunk.byteLength) continue;
    const piece = chunk.subarray(from, from + left);
    left -= piece.byteLength;
    yield piece;
  }
}

export class BlobService {
  #store: MlDataStore;
  #content: BlobStore;
  #clock: () => number;
  #maxBytes: number;

  constructor(store: MlDataStore, content: BlobStore, options: { clock?: () => number; maxBlobBytes?: number } = {}) {
    this.#store = store;
    this.#content = content;
    this.#clock = options.clock ?? Date.now;
    this.#maxBytes = options.maxBlobBytes ?? DEFAULT_MAX_BLOB_BYTES;
  }

  /** The storage account of this name on Ingot, or undefined. */
  account(name: string) {
    return this.#store.getStorageAccount(name.toLowerCase());
  }

  /** Makes the container if it is missing (datastores' containers). */
  ensureContainer(account: string, name: string): void {
    if (this.#store.getBlobContainer(account, name)) return;
    const now = this.#clock();
    this.#store.putBlobContainer({ account, name, metadata: {}, etag: newEtag(now), createdAt: now, updatedAt: now });
  }

  createContainer(account: string, name: string, metadata: Record<string, string>): BlobContainerRecord {
    if (!CONTAINER_NAME.test(name))
      throw new BlobError(400, "InvalidResourceName", "The specified resource name contains invalid characters. Container names are 3 to 63 lowercase letters, digits and single hyphens.");
    checkMetadata(metadata);
    if (this.#store.getBlobContainer(account, name)) throw blobErrors.containerExists();
    const now = this.#clock();
    const c: BlobContainerRecord = { account, name, metadata, etag: newEtag(now), createdAt: now, updatedAt: now };
    this.#store.putBlobContainer(c);
    return c;
  }

  container(account: string, name: string): BlobContainerRecord {
    const c = this.#store.getBlobContainer(account, name);
    if (!c) throw blobErrors.containerNotFound();
    return c;
  }

  setContainerMetadata(account: string, name: string, metadata: Record<string, string>): BlobContainerRecord {
    checkMetadata(metadata);
    const now = this.#clock();
    const c = { ...this.container(account, name), metadata, etag: newEtag(now), updatedAt: now };
    this.#store.putBlobContainer(c);
    return c;
  }

  hasContainer(account: string, name: string): boolean {
    return this.#store.getBlobContainer(account, name) !== undefined;
  }

  listContainers(account: string): BlobContainerRecord[] {
    return this.#store.listBlobContainers(account);
  }

  async deleteContainer(account: string, name: string): Promise<void> {
    this.container(account, name);
    await this.#removeKeys(this.#store.deleteBlobContainer(account, name));
  }

  /** Blobs under `prefix` (names after `marker`), folded at `delimiter` into prefixes when one is given. */
  listBlobs(account: string, container: string, opts: { prefix?: string; delimiter?: string; marker?: string; maxResults?: number }): ListBlobsResult {
    this.container(account, container);
    const prefix = opts.prefix ?? "";
    const max = Math.min(Math.max(opts.maxResults ?? 5000, 1), 5000);
    const blobs: BlobRecord[] = [];
    const prefixes: string[] = [];
    let cursor = opts.marker || undefined;
    let last = "";
    for (;;) {
      const batch = this.#store.listBlobs(account, container, prefix, 1000, cursor);
      if (!batch.length) return { blobs, prefixes, nextMarker: "" };
      for (const b of batch) {
        cursor = b.name;
        if (opts.delimiter) {
          const at = b.name.indexOf(opts.delimiter, prefix.length);
          if (at >= 0) {
            const p = b.name.slice(0, at + opts.delimiter.length);
            // Names after a prefix already listed (or continued past) belong to it.
            if (p === last || (opts.marker && opts.marker.endsWith(opts.delimiter) && p === opts.marker)) continue;
            if (blobs.length + prefixes.length >= max) return { blobs, prefixes, nextMarker: last };
            prefixes.push(p);
            last = p;
            continue;
          }
        }
        if (blobs.length + prefixes.length >= max) return { blobs, prefixes, nextMarker: last };
        blobs.push(b);
        last = b.name;
      }
    }
  }

  blob(account: string, container: string, name: string): BlobRecord {
    this.container(account, container);
    const b = this.#store.getBlob(account, container, name);
    if (!b) throw blobErrors.blobNotFound();
    return b;
  }

  /** The blob, if there is one (no error). */
  find(account: string, container: string, name: string): BlobRecord | undefined {
    return this.#store.getBlob(account, container, name);
  }

  /** The blob's content, or the inclusive byte range of it. */
  read(blob: BlobRecord, range?: { start: number; end: number }, signal?: AbortSignal): AsyncIterable<Uint8Array> {
    const all = this.#content.read(blob.key, { signal });
    return range ? skipTake(all, range.start, range.end - range.start + 1) : all;
  }

  /** Put Blob (BlockBlob): the whole content in one request; replaces the blob and its uncommitted blocks. */
  async putBlob(
    account: string,
    container: string,
    name: string,
    content: AsyncIterable<Uint8Array>,
    props: Partial<BlobContentProperties>,
    metadata: Record<string, string>,
    conditions: BlobConditions = {},
  ): Promise<BlobRecord> {
    this.#checkWrite(account, container, name, metadata, conditions);
    const { staged, contentMd5: computedMd5 } = await this.#stage(content, props.contentMd5);
    const blob = await this.#commit(account, container, name, staged, { ...props, contentMd5: computedMd5 }, metadata, conditions);
    // A whole-blob write discards the blob's uncommitted blocks, as Azure's does.
    await this.#removeKeys(this.#store.deleteBlocks(account, container, name));
    return blob;
  }

  /** Put Block: an uncommitted block of a blob, under its base64 id. */
  async putBlock(account: string, container: string, blob: string, blockId: string, content: AsyncIterable<Uint8Array>, expectedMd5?: string): Promise<{ contentMd5: string }> {
    this.#checkBlobName(blob);
    this.container(account, container);
    const raw = Buffer.from(blockId, "base64");
    if (!blockId || raw.byteLength === 0 || raw.byteLength > MAX_BLOCK_ID_BYTES || raw.toString("base64").replace(/=+$/, "") !== blockId.replace(/=+$/, ""))
      throw blobErrors.invalidQuery("blockid", "a block id is base64 of at most 64 bytes");
    const { staged, contentMd5 } = await this.#stage(content, expectedMd5);
    const key = `blk-${randomUUID()}`;
    await this.#content.commit(staged, key);
    const previous = this.#store.listBlocks(account, container, blob).find((b) => b.blockId === blockId);
    this.#store.putBlock({ account, container, blob, blockId, key, size: staged.bytes, createdAt: this.#clock() });
    if (previous) await this.#removeKeys([previous.key]);
    return { contentMd5 };
  }

  /** Put Block List: the blob becomes the listed blocks, in order (Latest/Uncommitted: the staged blocks; Committed: not kept by Ingot). */
  async putBlockList(
    account: string,
    container: string,
    name: string,
    list: { kind: "Latest" | "Uncommitted" | "Committed"; id: string }[],
    props: Partial<BlobContentProperties>,
    metadata: Record<string, string>,
    conditions: BlobConditions = {},
  ): Promise<BlobRecord> {
    this.#checkWrite(account, container, name, metadata, conditions);
    if (list.length > MAX_BLOCKS) throw blobErrors.invalidBlockList(`a blob has at most ${MAX_BLOCKS} blocks`);
    const staged = new Map(this.#store.listBlocks(account, container, name).map((b) => [b.blockId, b]));
    const parts = list.map((item) => {
      const block = item.kind === "Committed" ? undefined : staged.get(item.id);
      if (!block) throw blobErrors.invalidBlockList(`block '${item.id.slice(0, 100)}' (${item.kind}) is not an uncommitted block of this blob: Put Block it first.`);
      return block;
    });
    const content = this.#content;
    const whole = await content.stage(
      (async function* () {
        for (const p of parts) yield* content.read(p.key);
      })(),
    );
    const blob = await this.#commit(account, container, name, whole, props, metadata, conditions);
    await this.#removeKeys(this.#store.deleteBlocks(account, container, name));
    return blob;
  }

  setMetadata(account: string, container: string, name: string, metadata: Record<string, string>, conditions: BlobConditions = {}): BlobRecord {
    checkMetadata(metadata);
    const b = this.blob(account, container, name);
    checkConditions(conditions, b, false);
    const now = this.#clock();
    const updated = { ...b, metadata, etag: newEtag(now), updatedAt: now };
    this.#store.putBlob(updated);
    return updated;
  }

  setProperties(account: string, container: string, name: string, props: Partial<BlobContentProperties>, conditions: BlobConditions = {}): BlobRecord {
    const b = this.blob(account, container, name);
    checkConditions(conditions, b, false);
    const now = this.#clock();
    // Set Blob Properties replaces all content headers: those not sent are cleared (Azure's rule).
    const updated: BlobRecord = {
      ...b,
      contentType: props.contentType ?? "",
      contentEncoding: props.contentEncoding ?? "",
      contentLanguage: props.contentLanguage ?? "",
      contentDisposition: props.contentDisposition ?? "",
      cacheControl: props.cacheControl ?? "",
      contentMd5: props.contentMd5 ?? "",
      etag: newEtag(now),
      updatedAt: now,
    };
    this.#store.putBlob(updated);
    return updated;
  }

  async deleteBlob(account: string, container: string, name: string, conditions: BlobConditions = {}): Promise<void> {
    const b = this.blob(account, container, name);
    checkConditions(conditions, b, false);
    this.#store.deleteBlob(account, container, name);
    await this.#removeKeys([b.key, ...this.#store.deleteBlocks(account, container, name)]);
  }

  /** Removes uncommitted blocks older than Azure keeps them (a week); returns how many went. */
  async sweepStaleBlocks(): Promise<number> {
    let removed = 0;
    for (;;) {
      const keys = this.#store.deleteStaleBlocks(this.#clock() - UNCOMMITTED_BLOCK_TTL_MS, 500);
      await this.#removeKeys(keys);
      removed += keys.length;
      if (keys.length < 500) return removed;
    }
  }

  /** Removes content keys (a workspace's or a container's blobs). */
  async removeContent(keys: string[]): Promise<void> {
    await this.#removeKeys(keys);
  }

  async #commit(
    account: string,
    container: string,
    name: string,
    staged: Awaited<ReturnType<BlobStore["stage"]>>,
    props: Partial<BlobContentProperties>,
    metadata: Record<string, string>,
    conditions: BlobConditions,
  ): Promise<BlobRecord> {
    // The conditions again, now that the content is in: another writer may have come first.
    try {
      this.container(account, container);
      checkConditions(conditions, this.#store.getBlob(account, container, name), true);
    } catch (e) {
      await this.#content.discard(staged);
      throw e;
    }
    const key = `blob-${randomUUID()}`;
    await this.#content.commit(staged, key);
    const previous = this.#store.getBlob(account, container, name);
    const now = this.#clock();
    const blob: BlobRecord = {
      account,
      container,
      name,
      key,
      size: staged.bytes,
      contentType: props.contentType || "application/octet-stream",
      contentEncoding: props.contentEncoding ?? "",
      contentLanguage: props.contentLanguage ?? "",
      contentDisposition: props.contentDisposition ?? "",
      cacheControl: props.cacheControl ?? "",
      contentMd5: props.contentMd5 ?? "",
      metadata,
      etag: newEtag(now),
      createdAt: previous?.createdAt ?? now,
      updatedAt: now,
    };
    this.#store.putBlob(blob);
    if (previous && previous.key !== key) await this.#removeKeys([previous.key]);
    return blob;
  }

  #checkBlobName(name: string): void {
    if (!name || name.length > 1024) throw new BlobError(400, "InvalidResourceName", "The specified resource name length is not within the permissible limits (1 to 1024 characters).");
  }

  /** What a write of a whole blob checks first: its name and metadata, that the container exists, the request's conditions. */
  #checkWrite(account: string, container: string, name: string, metadata: Record<string, string>, conditions: BlobConditions): void {
    this.#checkBlobName(name);
    checkMetadata(metadata);
    this.container(account, container);
    checkConditions(conditions, this.#store.getBlob(account, container, name), true);
  }

  /** Stages uploaded content (within the size limit) and its MD5; a different `expectedMd5` discards it: Md5Mismatch. */
  async #stage(content: AsyncIterable<Uint8Array>, expectedMd5: string | undefined) {
    const md5 = createHash("md5");
    const staged = await this.#content.stage(this.#limited(content, md5));
    const contentMd5 = md5.digest("base64");
    if (expectedMd5 && expectedMd5 !== contentMd5) {
      await this.#content.discard(staged);
      throw blobErrors.md5Mismatch();
    }
    return { staged, contentMd5 };
  }

  async *#limited(content: AsyncIterable<Uint8Array>, md5: ReturnType<typeof createHash>): AsyncIterable<Uint8Array> {
    let bytes = 0;
    for await (const chunk of content) {
      bytes += chunk.byteLength;
      if (bytes > this.#maxBytes) throw blobErrors.tooLarge(this.#maxBytes);
      md5.update(chunk);
      yield chunk;
    }
  }

  async #removeKeys(keys: string[]): Promise<void> {
    for (const key of keys) await this.#content.delete(key);
  }
}
