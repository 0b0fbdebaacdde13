// Resumable, verified downloads of model weights. Bytes stream into `<dir>/<name>.part`
// while their sha256 is computed (a resumed part is hashed from disk first); an
// interrupted transfer keeps the part and resumes with `Range`; a server that answers 200
// to a Range request restarts from zero. The part is renamed to `<sha256>.gguf` only once
// its size and sha256 check out, so a model file is visible only when complete.
import { createHash } from "node:crypto";
import type { Hash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, open, readFile, rename, stat, statfs, truncate, unlink } from "node:fs/promises";
import { join } from "node:path";
import { IngotError } from "../core/errors.ts";
import type { WeightsProgress } from "../core/ports/index.ts";

export interface DownloadRequest {
  url: string;
  dir: string;
  /** Basename of the partial file, e.g. `<sha256>.part`. */
  partName: string;
  expectedSha256?: string;
  expectedSize?: number;
  /** Extra request headers (Authorization for HF_TOKEN). */
  headers?: Record<string, string>;
  /** Names the model in messages, e.g. "Qwen2.5-0.5B-Instruct". */
  label: string;
  /** A sentence naming the download base URL and how to change it. */
  baseHint: string;
  /** Appended to a checksum mismatch message: where the expected sha256 came from and what to do. */
  mismatchHint?: string;
  onProgress?: (p: WeightsProgress) => void;
  /** Called once the lock is held: another process may have finished the same download meanwhile. */
  existing?: () => Promise<DownloadResult | undefined>;
  fetch?: typeof fetch;
  /** Tries in all, for network failures and 5xx/429 answers (default 4). */
  attempts?: number;
  retryDelayMs?: number;
  /** Abort a transfer that receives nothing for this long (default 60 s). */
  stallMs?: number;
  progressIntervalMs?: number;
}

export interface DownloadResult {
  path: string;
  sha256: string;
  sizeBytes: number;
}

/** A failure worth another try (network, 5xx, connection closed early); the part is kept. */
class Retry {
  readonly error: IngotError;
  constructor(error: IngotError) {
    this.error = error;
  }
}

const failed = (message: string) => new IngotError("unavailable", "ModelDownloadFailed", message);

export async function downloadVerified(req: DownloadRequest): Promise<DownloadResult> {
  await mkdir(req.dir, { recursive: true });
  const part = join(req.dir, req.partName);
  const release = await acquireLock(`${part}.lock`, req);
  try {
    const done = await req.existing?.();
    if (done) return done;
    const attempts = req.attempts ?? 4;
    for (let attempt = 1; ; attempt++) {
      try {
        return await attemptOnce(req, part);
      } catch (e) {
        if (!(e instanceof Retry)) throw e;
        if (attempt >= attempts) throw e.error;
        await sleep((req.retryDelayMs ?? 1000) * attempt);
      }
    }
  } finally {
    await release();
  }
}

async function attemptOnce(req: DownloadRequest, part: string): Promise<DownloadResult> {
  let offset = (await sizeOf(part)) ?? 0;
  if (req.expectedSize !== undefined && offset > req.expectedSize) {
    await truncate(part, 0);
    offset = 0;
  }
  const complete = req.expectedSize !== undefined && offset === req.expectedSize && offset > 0;
  const hash = complete ? await hashFile(part, offset) : await transfer(req, part, offset);
  return place(req, part, hash);
}

/** One HTTP request from `offset`; resolves with the hash of the whole part once the body ends. */
async function transfer(req: DownloadRequest, part: string, offset: number): Promise<Hash> {
  const doFetch = req.fetch ?? fetch;
  const headers: Record<string, string> = { "accept-encoding": "identity", "user-agent": "ingot", ...(req.headers ?? {}) };
  if (offset > 0) headers.range = `bytes=${offset}-`;
  const ac = new AbortController();
  const stallMs = req.stallMs ?? 60_000;
  let timer = setTimeout(() => ac.abort(), stallMs);
  const kick = () => {
    clearTimeout(timer);
    timer = setTimeout(() => ac.abort(), stallMs);
  };
  const origin = safeOrigin(req.url);
  try {
    let res: Response;
    try {
      res = await doFetch(req.url, { headers, signal: ac.signal, redirect: "follow" });
    } catch (e) {
      throw new Retry(
        failed(`Could not reach ${origin} to download the weights of ${req.label} (${causeOf(e, ac)}). ${req.baseHint} Check the network or point HF_ENDPOINT at a reachable mirror; a partial download is kept and resumes on the next try.`),
      );
    }

    if (res.status === 416 && offset > 0) {
      // Range Not Satisfiable: the part is already as long as the file (or longer, if the file changed).
      const total = parseContentRange(res.headers.get("content-range"))?.total;
      await res.body?.cancel();
      if (total === offset) return hashFile(part, offset);
      await truncate(part, 0);
      throw new Retry(failed(`The partial download of ${req.label} did not match the file at ${req.url}; it was discarded and the download restarts.`));
    }
    if (res.status !== 200 && res.status !== 206) {
      await res.body?.cancel().catch(() => {});
      const err = httpError(req, res.status);
      if (res.status >= 500 || res.status === 429 || res.status === 408) throw new Retry(err);
      throw err;
    }

    let start = 0;
    let total: number | undefined;
    const length = Number(res.headers.get("content-length") ?? NaN);
    if (res.status === 206) {
      const range = parseContentRange(res.headers.get("content-range"));
      if (range?.start !== offset) {
        // A range we did not ask for: start over rather than splice bytes from two places.
        await res.body?.cancel();
        await truncate(part, 0).catch(() => {});
        throw new Retry(failed(`The server answered a different range than requested for ${req.label} (${res.headers.get("content-range")}); the download restarts.`));
      }
      start = offset;
      total = range.total ?? (Number.isFinite(length) ? start + length : undefined);
    } else {
      // 200: the server ignored Range (or there was no part); whatever we had is replaced.
      total = Number.isFinite(length) ? length : undefined;
    }
    total ??= req.expectedSize;
    if (req.expectedSize !== undefined && total !== undefined && total !== req.expectedSize) {
      await res.body?.cancel();
      await unlink(part).catch(() => {});
      throw new IngotError(
        "unavailable",
        "ModelChecksumMismatch",
        `The weights of ${req.label} at ${req.url} are ${total} bytes, but ${req.expectedSize} were expected. ${req.baseHint} ${req.mismatchHint ?? "Fix the mirror or the catalog entry."}`,
      );
    }
    if (total !== undefined) await checkDiskSpace(req, total - start);

    const hash = start > 0 ? await hashFile(part, start) : createHash("sha256");
    if (start === 0) await truncate(part, 0).catch(() => {});
    const fh = await open(part, start > 0 ? "a" : "w");
    let bytes = start;
    const every = req.progressIntervalMs ?? 200;
    let lastReport = 0;
    const report = (force: boolean) => {
      const now = Date.now();
      if (!force && now - lastReport < every) return;
      lastReport = now;
      req.onProgress?.({ phase: "downloading", bytes, totalBytes: total });
    };
    report(true);
    try {
      if (!res.body) throw new Error("empty response body");
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        kick();
        await fh.write(chunk);
        hash.update(chunk);
        bytes += chunk.byteLength;
        report(false);
      }
    } catch (e) {
      throw new Retry(
        failed(`The download of ${req.label} from ${origin} was interrupted at ${bytes} of ${total ?? "?"} bytes (${causeOf(e, ac)}). ${req.baseHint} The partial file is kept; retry to resume.`),
      );
    } finally {
      await fh.close();
    }
    report(true);
    if (total !== undefined && bytes < total)
      throw new Retry(failed(`The connection closed after ${bytes} of ${total} bytes of ${req.label}. The partial file is kept; retry to resume.`));
    return hash;
  } finally {
    clearTimeout(timer);
  }
}

/** Checks size and sha256, then renames the part into place as `<sha256>.gguf`. */
async function place(req: DownloadRequest, part: string, hash: Hash): Promise<DownloadResult> {
  const sizeBytes = (await stat(part)).size;
  req.onProgress?.({ phase: "verifying", bytes: sizeBytes, totalBytes: sizeBytes });
  const sha256 = hash.digest("hex");
  if (req.expectedSize !== undefined && sizeBytes !== req.expectedSize) {
    await unlink(part).catch(() => {});
    throw new IngotError(
      "unavailable",
      "ModelChecksumMismatch",
      `The downloaded weights of ${req.label} are ${sizeBytes} bytes, but ${req.expectedSize} were expected (${req.url}). The file was deleted. ${req.mismatchHint ?? "Fix the mirror or the catalog entry."}`,
    );
  }
  if (req.expectedSha256 !== undefined && sha256 !== req.expectedSha256) {
    await unlink(part).catch(() => {});
    throw new IngotError(
      "unavailable",
      "ModelChecksumMismatch",
      `The downloaded weights of ${req.label} do not match: expected sha256 ${req.expectedSha256}, got ${sha256} (${req.url}). The file was deleted. ${req.baseHint} ${req.mismatchHint ?? "If the mirror serves a different file, fix the mirror; otherwise the catalog entry is wrong."}`,
    );
  }
  const path = join(req.dir, `${sha256}.gguf`);
  await rename(part, path);
  return { path, sha256, sizeBytes };
}

function httpError(req: DownloadRequest, status: number): IngotError {
  const what = `Could not download the weights of ${req.label}: ${req.url} answered HTTP ${status}.`;
  if (status === 401 || status === 403)
    return failed(`${what} The repository is gated or private: set HF_TOKEN to a token that has access (accept the model's license on its page first). ${req.baseHint}`);
  if (status === 404)
    return failed(`${what} ${req.baseHint} Make sure the mirror serves this repository, revision and file (or fix the catalog entry's weights URI).`);
  if (status === 429) return failed(`${what} The server is rate limiting downloads; retry later, or use a mirror via HF_ENDPOINT.`);
  return failed(`${what} ${req.baseHint} Retry later, or point HF_ENDPOINT at a mirror.`);
}

async function checkDiskSpace(req: DownloadRequest, needed: number): Promise<void> {
  let free: number;
  try {
    const s = await statfs(req.dir);
    free = Number(s.bavail) * Number(s.bsize);
  } catch {
    return; // no statfs here: the write itself will fail with ENOSPC
  }
  if (free < needed)
    throw new IngotError(
      "unavailable",
      "InsufficientStorage",
      `Not enough disk space to download ${req.label}: it needs ${gib(needed)} more and ${gib(free)} is free in ${req.dir}. Free space there, or start Ingot with a --data-dir on a larger disk.`,
    );
}

export function parseContentRange(v: string | null): { start: number; end: number; total: number | undefined } | { start: undefined; end: undefined; total: number } | undefined {
  if (!v) return undefined;
  const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(v.trim());
  if (m) return { start: Number(m[1]), end: Number(m[2]), total: m[3] === "*" ? undefined : Number(m[3]) };
  const u = /^bytes \*\/(\d+)$/.exec(v.trim());
  return u ? { start: undefined, end: undefined, total: Number(u[1]) } : undefined;
}

/** sha256 state after the first `length` bytes of a file (to continue a resumed part). */
async function hashFile(path: string, length: number): Promise<Hash> {
  const hash = createHash("sha256");
  if (length === 0) return hash;
  for await (const chunk of createReadStream(path, { start: 0, end: length - 1, highWaterMark: 8 << 20 })) hash.update(chunk as Buffer);
  return hash;
}

/** The file's size, or undefined when it does not exist. */
export async function sizeOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch {
    return undefined;
  }
}

// One download per part across processes (the server and `ingot models pull` may race):
// a lock file holding the owner's pid; a dead owner's lock is taken over.
const heldHere = new Set<string>();

async function acquireLock(lock: string, req: DownloadRequest): Promise<() => Promise<void>> {
  for (;;) {
    try {
      const fh = await open(lock, "wx");
      await fh.writeFile(String(process.pid));
      await fh.close();
      heldHere.add(lock);
      return async () => {
        heldHere.delete(lock);
        await unlink(lock).catch(() => {});
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    const pid = Number((await readFile(lock, "utf8").catch(() => "")).trim());
    const live = pid > 0 && (pid === process.pid ? heldHere.has(lock) : alive(pid));
    if (!live) {
      await unlink(lock).catch(() => {});
      continue;
    }
    req.onProgress?.({ phase: "downloading", bytes: (await sizeOf(lock.slice(0, -".lock".length))) ?? 0, totalBytes: req.expectedSize });
    await sleep(500);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

function causeOf(e: unknown, ac: AbortController): string {
  if (ac.signal.aborted) return "no data received for too long";
  const err = e as { cause?: { code?: string; message?: string }; message?: string };
  return err.cause?.code ?? err.cause?.message ?? err.message ?? String(e);
}

function safeOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const gib = (n: number) => `${(n / 1024 ** 3).toFixed(1)} GiB`;
