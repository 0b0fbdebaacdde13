// Fine-tuning outputs (adapters, checkpoints) shared through the blob store (`--blob-store`), so
// a model trained on one replica is served by the others. A job writes under its trainer's
// DATA_DIR/blobs/jobs/<job id>/; the catalog records those absolute paths (`lora:` weights). This
// replica uploads what its jobs wrote (files settled for a moment, and everything when a job
// finishes) as blobs `jobs/<job id>--<relative path>`; a path under another replica's job
// directory resolves to the shared copy, downloaded once into DATA_DIR/blobs/cache/jobs. A
// replica never reads another replica's data dir, even on one machine.
import { createReadStream } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { AzureBlobStore } from "./azure-blob-store.ts";

/** A file changed less than this long ago may still be being written: it waits for the next pass. */
const SETTLE_MS = 2_000;
const JOB_PATH = /[/\\]blobs[/\\]jobs[/\\]([^/\\]+)[/\\](.+)$/;

export class SharedJobFiles {
  #store: AzureBlobStore;
  #root: string;
  #uploaded = new Map<string, number>();
  #log: (msg: string, fields?: Record<string, unknown>) => void;
  #timer: ReturnType<typeof setInterval> | undefined;
  #syncing: Promise<void> | undefined;

  constructor(connectionString: string, dataDir: string, opts: { log?: (msg: string, fields?: Record<string, unknown>) => void } = {}) {
    this.#root = join(dataDir, "blobs", "jobs");
    this.#store = new AzureBlobStore(connectionString, "jobs", join(dataDir, "blobs", "cache", "jobs"), { log: opts.log });
    this.#log = opts.log ?? (() => {});
  }

  /** Uploads settled new or changed files of every job directory every `intervalMs`. */
  start(intervalMs = 5_000): void {
    this.#timer ??= setInterval(() => void this.syncAll(), intervalMs);
    this.#timer.unref();
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.#syncing;
  }

  async syncAll(): Promise<void> {
    if (this.#syncing) return this.#syncing;
    this.#syncing = (async () => {
      let jobs: string[] = [];
      try {
        jobs = await readdir(this.#root);
      } catch {
        return; // no job has run here
      }
      for (const id of jobs) await this.syncUp(id, false);
    })().finally(() => (this.#syncing = undefined));
    return this.#syncing;
  }

  /** Uploads the job's new or changed files (`all`: also those changed just now: the job has finished). */
  async syncUp(jobId: string, all = true): Promise<void> {
    const dir = join(this.#root, jobId);
    let entries;
    try {
      entries = await readdir(dir, { recursive: true, withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (!e.isFile()) continue;
      const path = join(e.parentPath, e.name);
      try {
        const st = await stat(path);
        const key = keyOf(jobId, relative(dir, path));
        if (this.#uploaded.get(key) === st.mtimeMs || (!all && Date.now() - st.mtimeMs < SETTLE_MS)) continue;
        const staged = await this.#store.stage(createReadStream(path));
        await this.#store.commit(staged, key);
        this.#uploaded.set(key, st.mtimeMs);
      } catch (err) {
        this.#log("could not share a fine-tuning output", { job: jobId, path, err: err instanceof Error ? err.message : String(err) });
      }
    }
  }

  /**
   * A local path with the content of `path`: itself unless it lies in another replica's job
   * directory, else the shared copy (downloaded once). When there is no shared copy the path is
   * returned unchanged, and the caller reports it missing as before.
   */
  async resolve(path: string): Promise<string> {
    const m = JOB_PATH.exec(path);
    if (!m || path.startsWith(this.#root + sep)) return path;
    try {
      return await this.#store.localPath(keyOf(m[1], m[2]));
    } catch {
      return path;
    }
  }
}

const keyOf = (jobId: string, rel: string) => `${jobId}--${rel.split(/[/\\]/).join("--")}`;
