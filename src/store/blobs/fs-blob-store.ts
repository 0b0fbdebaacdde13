// Content on the local disk: `<root>/<key>`, written under `<root>/.tmp/` and renamed into place,
// so a reader sees a complete file or none. The temporary file is fsynced before the rename.
import { createHash, randomUUID } from "node:crypto";
import { createReadStream, createWriteStream, existsSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import type { BlobStore, StagedBlob } from "../../core/ports/index.ts";

const KEY = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;
/** Temporary files older than this at startup were left by a crash (not a live upload of another process). */
const STALE_MS = 60 * 60 * 1000;

export class FsBlobStore implements BlobStore {
  #root: string;
  #tmp: string;
  #staged = new WeakMap<StagedBlob, string>();

  constructor(root: string) {
    this.#root = root;
    this.#tmp = join(root, ".tmp");
    mkdirSync(this.#tmp, { recursive: true });
    const now = Date.now();
    for (const name of readdirSync(this.#tmp)) {
      const p = join(this.#tmp, name);
      try {
        if (now - statSync(p).mtimeMs > STALE_MS) rmSync(p, { force: true });
      } catch {
        // Gone meanwhile.
      }
    }
  }

  async stage(content: AsyncIterable<Uint8Array>): Promise<StagedBlob> {
    const tmp = join(this.#tmp, randomUUID());
    const hash = createHash("sha256");
    let bytes = 0;
    try {
      await pipeline(
        content,
        async function* (source: AsyncIterable<Uint8Array>) {
          for await (const chunk of source) {
            hash.update(chunk);
            bytes += chunk.byteLength;
            yield chunk;
          }
        },
        createWriteStream(tmp, { flags: "wx", flush: true }),
      );
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
    const staged: StagedBlob = { bytes, sha256: hash.digest("hex") };
    this.#staged.set(staged, tmp);
    return staged;
  }

  async commit(staged: StagedBlob, key: string): Promise<void> {
    await rename(this.stagedFile(staged), this.path(key));
    this.#staged.delete(staged);
  }

  /** The temporary file holding staged content (a subclass uploads it elsewhere before commit renames it). */
  protected stagedFile(staged: StagedBlob): string {
    const tmp = this.#staged.get(staged);
    if (!tmp) throw new Error("commit of content that was not staged here, or was already committed or discarded");
    return tmp;
  }

  async discard(staged: StagedBlob): Promise<void> {
    const tmp = this.#staged.get(staged);
    if (!tmp) return;
    this.#staged.delete(staged);
    await rm(tmp, { force: true });
  }

  async put(key: string, content: string | Uint8Array): Promise<StagedBlob> {
    const bytes = typeof content === "string" ? Buffer.from(content) : content;
    const staged = await this.stage((async function* () {
      yield bytes;
    })());
    await this.commit(staged, key);
    return staged;
  }

  read(key: string, opts: { signal?: AbortSignal } = {}): AsyncIterable<Uint8Array> {
    return createReadStream(this.path(key), { highWaterMark: 1024 * 1024, signal: opts.signal });
  }

  exists(key: string): boolean {
    return existsSync(this.path(key));
  }

  path(key: string): string {
    if (!KEY.test(key)) throw new Error(`invalid blob key '${key}'`);
    return join(this.#root, key);
  }

  async delete(key: string): Promise<void> {
    await rm(this.path(key), { force: true });
  }
}
