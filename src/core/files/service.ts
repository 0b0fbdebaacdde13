// The files service (reference §4.1–4.3): uploads and URL imports land in a temporary blob
// and become a file only once complete; fine-tune files are then validated (validate.ts),
// status `uploaded` → `processed` | `error`. Small files are settled before the reply, large
// ones in the background (clients poll, as `files.waitForProcessing` does).
import { randomBytes } from "node:crypto";
import { IngotError } from "../errors.ts";
import type { BlobStore, FileStore, StagedBlob, UrlFetcher } from "../ports/index.ts";
import type { FilePurpose, FileRecord, FileSource } from "./types.ts";
import { validateDataset } from "./validate.ts";
import { checkBatchFile, problemSummary } from "../batch/validate.ts";

/** Azure's and OpenAI's per-file limit. */
export const DEFAULT_MAX_FILE_BYTES = 512 * 1024 * 1024;
/** Purposes a caller may upload or import; the `*_output` and results files are written by Ingot. */
export const UPLOAD_PURPOSES: FilePurpose[] = ["fine-tune", "assistants", "batch"];
export const DEFAULT_MAX_UPLOADS_PER_ACCOUNT = 8;
const EXPIRY_SECONDS = { min: 3600, max: 30 * 24 * 3600 };

export interface FileServiceOptions {
  maxBytes?: number;
  clock?: () => number;
  /** How long an upload or import reply waits for validation before answering with `uploaded` (default 5 s). */
  inlineWaitMs?: number;
  minExamples?: number;
  log?: (level: "info" | "warn" | "error", msg: string, fields?: Record<string, unknown>) => void;
  /** Uploads one account may stream at once (default 8). */
  maxUploadsPerAccount?: number;
}

export interface ListQuery {
  purpose?: string;
  after?: string;
  limit?: number;
  order?: "asc" | "desc";
}

export interface FileInput {
  purpose: unknown;
  filename: unknown;
  /** `{anchor: "created_at", seconds}`; seconds from 3,600 (1 hour) to 2,592,000 (30 days). */
  expiresAfter?: unknown;
}

const notFound = (id: string) =>
  new IngotError("not_found", "notFound", `File '${id}' was not found in this account. List the account's files with GET /openai/files (or /openai/v1/files).`, { param: "file_id" });

const invalid = (message: string, param: string | null = null) => new IngotError("invalid_request", "invalidPayload", message, { param });

export function formatBytes(n: number): string {
  const mib = 1024 * 1024;
  return n >= mib && n % mib === 0 ? `${n / mib} MB (${n} bytes)` : `${n} bytes`;
}

export const tooLarge = (max: number) =>
  new IngotError(
    "payload_too_large",
    "fileTooLarge",
    `The file is larger than ${formatBytes(max)}, the most one file may hold. Split the dataset into smaller files (or import it from a URL if the limit is the request's).`,
    { param: "file" },
  );

/** Passes the bytes through, throwing `tooLarge` as soon as more than `max` have gone by. */
export async function* capped(content: AsyncIterable<Uint8Array>, max: number): AsyncIterable<Uint8Array> {
  let n = 0;
  for await (const chunk of content) {
    n += chunk.byteLength;
    if (n > max) throw tooLarge(max);
    yield chunk;
  }
}

export class FileService implements FileSource {
  #store: FileStore;
  #blobs: BlobStore;
  #fetcher: UrlFetcher;
  #clock: () => number;
  #inlineWaitMs: number;
  #minExamples: number | undefined;
  #log: NonNullable<FileServiceOptions["log"]>;
  readonly maxBytes: number;
  /** Background work per file id (import, validation), with what stops it. */
  #work = new Map<string, { done: Promise<void>; abort: AbortController }>();
  #closed = false;
  #uploads = new Map<string, number>();
  #maxUploads: number;

  constructor(store: FileStore, blobs: BlobStore, fetcher: UrlFetcher, opts: FileServiceOptions = {}) {
    this.#store = store;
    this.#blobs = blobs;
    this.#fetcher = fetcher;
    this.#clock = opts.clock ?? Date.now;
    this.#inlineWaitMs = opts.inlineWaitMs ?? 5000;
    this.#minExamples = opts.minExamples;
    this.#log = opts.log ?? (() => {});
    this.maxBytes = opts.maxBytes ?? DEFAULT_MAX_FILE_BYTES;
    this.#maxUploads = opts.maxUploadsPerAccount ?? DEFAULT_MAX_UPLOADS_PER_ACCOUNT;
  }

  /**
   * Counts an upload in progress for the account until the returned function is called; past
   * maxUploadsPerAccount at once it is refused (429), so no key holder can fill the disk with
   * parallel temporary files.
   */
  beginUpload(account: string): () => void {
    const now = this.#uploads.get(account) ?? 0;
    if (now >= this.#maxUploads)
      throw new IngotError(
        "rate_limited",
        "tooManyRequests",
        `This account already has ${now} uploads in progress, the most allowed at once. Wait for one to finish, then upload again.`,
        { retryAfterMs: 1000 },
      );
    this.#uploads.set(account, now + 1);
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      const left = (this.#uploads.get(account) ?? 1) - 1;
      if (left > 0) this.#uploads.set(account, left);
      else this.#uploads.delete(account);
    };
  }

  /** Streams an upload's content to a temporary blob, refusing it past maxBytes (nothing is kept then). */
  stage(content: AsyncIterable<Uint8Array>): Promise<StagedBlob> {
    return this.#blobs.stage(capped(content, this.maxBytes));
  }

  discard(staged: StagedBlob): Promise<void> {
    return this.#blobs.discard(staged);
  }

  /** Makes staged content a file of the account; answers once it is validated or inlineWaitMs has passed. */
  async create(account: string, input: FileInput & { staged: StagedBlob }): Promise<FileRecord> {
    let record: FileRecord;
    try {
      record = this.#newRecord(account, input);
      record.bytes = input.staged.bytes;
      record.sha256 = input.staged.sha256;
      await this.#blobs.commit(input.staged, record.id);
    } catch (e) {
      await this.#blobs.discard(input.staged);
      throw e;
    }
    this.#store.insert(record);
    this.#start(record.id, (signal) => this.#validate(record, signal));
    return this.#settled(record.id);
  }

  /**
   * `POST /openai/files/import`: the URL is checked now (a refused URL is a 400); the download and
   * validation then run in the background, and the file shows `uploaded` until they end.
   */
  async import(account: string, input: FileInput & { contentUrl: unknown }): Promise<FileRecord> {
    const record = this.#newRecord(account, input);
    if (input.contentUrl === undefined || input.contentUrl === null || input.contentUrl === "")
      throw invalid("Missing required parameter: 'content_url' (the URL to import from, e.g. an Azure Blob SAS URL).", "content_url");
    if (typeof input.contentUrl !== "string") throw invalid("'content_url' must be a string URL.", "content_url");
    let open: () => Promise<{ body: AsyncIterable<Uint8Array>; contentLength: number | undefined; abort(): void }>;
    try {
      open = await this.#fetcher.check(input.contentUrl);
    } catch (e) {
      throw new IngotError("invalid_request", "fileImportFailed", `Cannot import from content_url: ${(e as Error).message}`, { param: "content_url" });
    }
    this.#store.insert(record);
    this.#start(record.id, async (signal) => {
      let staged: StagedBlob | undefined;
      try {
        const download = await open();
        signal.addEventListener("abort", () => download.abort(), { once: true });
        if (download.contentLength !== undefined && download.contentLength > this.maxBytes) {
          download.abort();
          throw tooLarge(this.maxBytes);
        }
        staged = await this.stage(download.body);
      } catch (e) {
        if (signal.aborted) return;
        const reason = e instanceof IngotError && e.kind === "payload_too_large" ? e.message : (e as Error).message;
        this.#store.update(record.id, { status: "error", statusDetails: `Import failed: ${reason}` });
        return;
      }
      if (signal.aborted || !this.#store.get(record.id)) {
        await this.#blobs.discard(staged);
        return;
      }
      // Size first: a stop between these two leaves a record without content, which resume() fails.
      this.#store.update(record.id, { bytes: staged.bytes, sha256: staged.sha256 });
      await this.#blobs.commit(staged, record.id);
      // Deleted while the content was moving into place: take the content away again.
      if (!this.#store.get(record.id)) return void (await this.#blobs.delete(record.id));
      await this.#validate({ ...record, bytes: staged.bytes }, signal);
    });
    return this.#settled(record.id);
  }

  /** Writes a job's output (results.csv) as a `fine-tune-results` file, or a batch's output or error file (`batch_output`). */
  async putResult(account: string, filename: string, content: string | Uint8Array, purpose: "fine-tune-results" | "batch_output" = "fine-tune-results"): Promise<FileRecord> {
    const record = this.#newRecord(account, { purpose, filename }, [purpose]);
    const staged = await this.#blobs.put(record.id, content);
    const done: FileRecord = { ...record, bytes: staged.bytes, sha256: staged.sha256, status: "processed" };
    this.#store.insert(done);
    return done;
  }

  /** FileSource: the account's file, or undefined (also when it has expired). */
  get(account: string, id: string): FileRecord | undefined {
    const r = this.#store.get(id);
    if (!r || r.account !== account) return undefined;
    if (this.#expired(r)) {
      this.#removeInBackground(r);
      return undefined;
    }
    return r;
  }

  require(account: string, id: string): FileRecord {
    const r = this.get(account, id);
    if (!r) throw notFound(id);
    return r;
  }

  pathOf(id: string): string {
    return this.#blobs.path(id);
  }

  /** A local file with the content (a shared blob store copies it to this replica's disk once). */
  localPathOf(id: string): Promise<string> {
    return this.#blobs.localPath ? this.#blobs.localPath(id) : Promise.resolve(this.#blobs.path(id));
  }

  /** OpenAI's cursor list: `after` an id, newest first unless order is "asc". */
  list(account: string, q: ListQuery = {}): { data: FileRecord[]; hasMore: boolean } {
    if (q.purpose !== undefined && typeof q.purpose !== "string") throw invalid("'purpose' must be a string.", "purpose");
    if (q.order !== undefined && q.order !== "asc" && q.order !== "desc") throw invalid(`'order' must be "asc" or "desc", got '${String(q.order)}'.`, "order");
    const limit = q.limit ?? 10_000;
    if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw invalid(`'limit' must be an integer from 1 to 10000, got '${String(q.limit)}'.`, "limit");
    this.sweepExpired();
    let files = this.#store.list(account, q.purpose ? { purpose: q.purpose as FilePurpose } : undefined);
    if (q.order !== "asc") files = files.reverse();
    if (q.after) {
      const i = files.findIndex((f) => f.id === q.after);
      if (i === -1) throw invalid(`'after' names no file of this list: '${q.after}'. Pass the id of the last file of the previous page.`, "after");
      files = files.slice(i + 1);
    }
    return { data: files.slice(0, limit), hasMore: files.length > limit };
  }

  /** The content, streamed; a file still being imported has none yet (409). */
  content(account: string, id: string): { record: FileRecord; body: AsyncIterable<Uint8Array> } {
    const record = this.require(account, id);
    // On a shared store a processed file's content is there, though this replica may not have seen it written.
    if (!this.#blobs.exists(id) && !(this.#blobs.remote && record.status === "processed")) {
      if (record.status === "uploaded")
        throw new IngotError("conflict", "unexpectedEntityState", `File '${id}' is still being imported; retrieve it until its status is 'processed' or 'error', then ask again.`);
      throw new IngotError("conflict", "unexpectedEntityState", `File '${id}' has no content: ${record.statusDetails ?? "its import failed"}.`);
    }
    return { record, body: this.#blobs.read(id) };
  }

  /** Deletes the file and its content; allowed also for files that jobs used (they keep their own results). */
  async delete(account: string, id: string): Promise<void> {
    const r = this.require(account, id);
    await this.#remove(r);
  }

  /** Removes every file of an account (before the account is deleted). */
  async deleteAll(account: string): Promise<void> {
    for (const f of this.#store.list(account)) await this.#remove(f);
  }

  /** Deletes files whose expires_at has passed. */
  sweepExpired(): void {
    for (const f of this.#store.listExpired(this.#clock())) this.#removeInBackground(f);
  }

  /**
   * At startup: files left `uploaded` by a stop are validated again when their content is
   * complete; imports that had not finished downloading are marked failed (the URL may have expired).
   */
  resume(): void {
    for (const f of this.#store.listByStatus("uploaded")) {
      if (this.#blobs.exists(f.id)) this.#start(f.id, (signal) => this.#validate(f, signal));
      // A shared store: another replica may be importing it right now; it settles the file.
      else if (this.#blobs.remote) continue;
      else this.#store.update(f.id, { status: "error", statusDetails: "Import failed: Ingot stopped before the download finished. Import the file again." });
    }
  }

  /** Resolves when no background work is left (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.#work.size) await Promise.allSettled([...this.#work.values()].map((w) => w.done));
  }

  /** Stops downloads and validations; unfinished files stay `uploaded` and resume at the next start. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const w of this.#work.values()) w.abort.abort();
    await this.idle();
  }

  #newRecord(account: string, input: FileInput, allowed: FilePurpose[] = UPLOAD_PURPOSES): FileRecord {
    if (input.purpose === undefined || input.purpose === null || input.purpose === "")
      throw invalid(`Missing required parameter: 'purpose'. Use one of: ${allowed.join(", ")}.`, "purpose");
    if (typeof input.purpose !== "string" || !allowed.includes(input.purpose as FilePurpose))
      throw invalid(`Invalid purpose ${JSON.stringify(input.purpose)}. Use one of: ${allowed.join(", ")}.`, "purpose");
    if (typeof input.filename !== "string" || !input.filename.trim()) throw invalid("Missing required parameter: 'filename' (a non-empty string).", "filename");
    if (input.filename.length > 255) throw invalid("'filename' is longer than 255 characters.", "filename");
    const now = this.#clock();
    return {
      id: `file-${randomBytes(16).toString("hex")}`,
      account,
      purpose: input.purpose as FilePurpose,
      filename: input.filename,
      bytes: 0,
      status: "uploaded",
      statusDetails: null,
      format: null,
      examples: null,
      createdAt: now,
      sha256: null,
      expiresAt: expiresAt(input.expiresAfter, now),
    };
  }

  #start(id: string, task: (signal: AbortSignal) => Promise<void>): void {
    const abort = new AbortController();
    const done = task(abort.signal)
      .catch((e) => {
        if (abort.signal.aborted || this.#closed) return;
        this.#log("error", "file processing failed", { file: id, err: (e as Error).message });
        this.#store.update(id, { status: "error", statusDetails: `Ingot could not process the file: ${(e as Error).message}` });
      })
      .finally(() => this.#work.delete(id));
    this.#work.set(id, { done, abort });
  }

  /** The record once its background work ends, or as it is after inlineWaitMs. */
  async #settled(id: string): Promise<FileRecord> {
    const work = this.#work.get(id);
    if (work) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([work.done, new Promise<void>((resolve) => (timer = setTimeout(resolve, this.#inlineWaitMs)))]);
      clearTimeout(timer);
    }
    const r = this.#store.get(id);
    if (!r) throw notFound(id);
    return r;
  }

  async #validate(record: FileRecord, signal: AbortSignal): Promise<void> {
    if (record.purpose === "batch") {
      // Batch API input (core/batch/validate.ts): problems with their line numbers in status_details.
      let check;
      try {
        check = await checkBatchFile(this.#blobs.read(record.id, { signal }), { signal });
      } catch (e) {
        if (signal.aborted) return;
        throw e;
      }
      if (signal.aborted) return;
      this.#store.update(record.id, { status: check.errorCount ? "error" : "processed", statusDetails: check.errorCount ? problemSummary(check) : null, examples: check.requests });
      return;
    }
    if (record.purpose !== "fine-tune") {
      this.#store.update(record.id, { status: "processed" });
      return;
    }
    let result;
    try {
      result = await validateDataset(this.#blobs.read(record.id, { signal }), { signal, minExamples: this.#minExamples });
    } catch (e) {
      if (signal.aborted) return;
      throw e;
    }
    this.#store.update(record.id, {
      status: result.ok ? "processed" : "error",
      statusDetails: result.details,
      format: result.format,
      examples: result.examples,
    });
  }

  #expired(r: FileRecord): boolean {
    return r.expiresAt !== null && r.expiresAt !== undefined && r.expiresAt <= this.#clock();
  }

  /** An expired file goes while the caller carries on; a failure to delete its content is logged, not thrown. */
  #removeInBackground(r: FileRecord): void {
    this.#remove(r).catch((e) => this.#log("error", "could not delete an expired file", { file: r.id, err: (e as Error).message }));
  }

  async #remove(r: FileRecord): Promise<void> {
    this.#work.get(r.id)?.abort.abort();
    this.#store.delete(r.id);
    await this.#blobs.delete(r.id);
  }
}

function expiresAt(value: unknown, now: number): number | null {
  if (value === undefined || value === null) return null;
  const v = value as { anchor?: unknown; seconds?: unknown };
  if (typeof value !== "object" || v.anchor !== "created_at")
    throw invalid(`'expires_after' must be {"anchor": "created_at", "seconds": N}.`, "expires_after");
  const seconds = typeof v.seconds === "string" && /^\d+$/.test(v.seconds) ? Number(v.seconds) : v.seconds;
  if (typeof seconds !== "number" || !Number.isInteger(seconds) || seconds < EXPIRY_SECONDS.min || seconds > EXPIRY_SECONDS.max)
    throw invalid(`'expires_after.seconds' must be an integer from ${EXPIRY_SECONDS.min} (1 hour) to ${EXPIRY_SECONDS.max} (30 days).`, "expires_after.seconds");
  return now + seconds * 1000;
}
