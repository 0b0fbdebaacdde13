// The built-in models, built on first use into the sha256-addressed models dir.
// A small index file per recipe makes every later call a stat, not a rebuild.
// tiny-chat is pre-trained (~1 minute), so built files also go to a per-user cache
// (INGOT_CACHE_DIR, else $XDG_CACHE_HOME/ingot or ~/.cache/ingot), keyed by recipe hash,
// and data dirs get a hard link (or a copy) from there: every fresh data dir — each
// e2e test starts one — then costs a link, not a build. A lock file makes concurrent
// builders (other processes) wait for the first instead of building twice.
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { copyFile, link, mkdir, open, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { BUILDER_VERSION, buildModel } from './builder.ts';
import type { ModelType } from './builder.ts';
import { PRETRAIN_VERSION, TINY_CHAT_PRETRAIN, pretrainModel } from './pretrain.ts';
import type { PretrainRecipe } from './pretrain.ts';
import { CORPUS_FILE } from './pretrain-corpus.ts';
import { SHAPES } from './shapes.ts';
import type { ShapeName } from './shapes.ts';

export interface BuiltinModel {
  name: string;
  kind: 'chat' | 'embeddings';
  shape: ShapeName;
  seed: number;
  type: ModelType;
  contextLength: number;
  /** Full fine-tune on the built-in corpus after the random init (chat models). */
  pretrain?: PretrainRecipe;
}

export const BUILTIN_MODELS = {
  'tiny-chat': {
    name: 'tiny-chat', kind: 'chat', shape: 'tiny', seed: 1729, type: 'f32',
    contextLength: SHAPES['tiny'].context, pretrain: TINY_CHAT_PRETRAIN,
  },
  'tiny-embed': {
    name: 'tiny-embed', kind: 'embeddings', shape: 'tiny-embed', seed: 4104, type: 'f32',
    contextLength: SHAPES['tiny-embed'].context,
  },
} as const satisfies Record<string, BuiltinModel>;

export type BuiltinModelName = keyof typeof BUILTIN_MODELS;

export interface BuiltModelFile {
  path: string;
  sha256: string;
  bytes: number;
}

let corpusHash: string | undefined;

/** Everything that determines the file's bytes; its hash names the index file. */
export function builtinRecipeHash(name: BuiltinModelName): string {
  const m: BuiltinModel = BUILTIN_MODELS[name];
  const recipe: Record<string, unknown> = { builder: BUILDER_VERSION, name: m.name, shape: SHAPES[m.shape], seed: m.seed, type: m.type };
  if (m.pretrain) {
    corpusHash ??= createHash('sha256').update(readFileSync(CORPUS_FILE)).digest('hex');
    recipe.pretrain = { version: PRETRAIN_VERSION, ...m.pretrain, corpus: corpusHash };
  }
  return createHash('sha256').update(JSON.stringify(recipe)).digest('hex').slice(0, 16);
}

/** The shared build cache (see the top of this file). */
export function builtinCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.INGOT_CACHE_DIR) return env.INGOT_CACHE_DIR;
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'ingot');
}

// One build per model and directory at a time within this process.
const inFlight = new Map<string, Promise<BuiltModelFile>>();

function once(key: string, fn: () => Promise<BuiltModelFile>): Promise<BuiltModelFile> {
  let p = inFlight.get(key);
  if (!p) {
    p = fn().finally(() => inFlight.delete(key));
    inFlight.set(key, p);
  }
  return p;
}

export function ensureBuiltinModel(name: BuiltinModelName, modelsDir: string): Promise<BuiltModelFile> {
  if (!Object.hasOwn(BUILTIN_MODELS, name)) return Promise.reject(new Error(`unknown built-in model "${name}"`));
  return once(`${modelsDir}\0${name}`, () => ensure(name, modelsDir));
}

async function ensure(name: BuiltinModelName, modelsDir: string): Promise<BuiltModelFile> {
  const hash = builtinRecipeHash(name);
  const indexPath = join(modelsDir, `builtin-${name}-${hash}.json`);
  const known = await readIndex(indexPath, modelsDir);
  if (known) return known;

  await mkdir(modelsDir, { recursive: true });
  let built: BuiltModelFile;
  try {
    built = await once(`cache\0${name}`, () => ensureCached(name, hash));
  } catch (e) {
    // An unwritable cache must not stop a build: build straight into the data dir.
    if ((e as NodeJS.ErrnoException).code !== 'EACCES' && (e as NodeJS.ErrnoException).code !== 'EROFS') throw e;
    built = await build(name, modelsDir);
  }
  const path = join(modelsDir, `${built.sha256}.gguf`);
  if (built.path !== path) await place(built.path, path);
  await writeIndex(indexPath, name, built);
  return { path, sha256: built.sha256, bytes: built.bytes };
}

/** Builds into a temp name in `dir`, then renames to `<sha256>.gguf`. */
async function build(name: BuiltinModelName, dir: string): Promise<BuiltModelFile> {
  await mkdir(dir, { recursive: true });
  const m: BuiltinModel = BUILTIN_MODELS[name];
  const tag = randomBytes(6).toString('hex');
  const tmp = join(dir, `.build-${name}-${tag}.gguf`);
  const trained = join(dir, `.build-${name}-${tag}-trained.gguf`);
  try {
    let out = await buildModel({ shape: m.shape, seed: m.seed, type: m.type, out: tmp, name: m.name });
    if (m.pretrain) out = await pretrainModel(tmp, trained, m.pretrain);
    const path = join(dir, `${out.sha256}.gguf`);
    // Concurrent builders produce identical bytes, so the last rename wins harmlessly.
    await rename(out.path, path);
    return { path, sha256: out.sha256, bytes: out.bytes };
  } finally {
    await unlink(tmp).catch(() => {});
    await unlink(trained).catch(() => {});
  }
}

/** The model in the shared cache, built there (under a lock) when missing. */
async function ensureCached(name: BuiltinModelName, hash: string): Promise<BuiltModelFile> {
  const dir = join(builtinCacheDir(), 'builtin');
  await mkdir(dir, { recursive: true });
  const indexPath = join(dir, `builtin-${name}-${hash}.json`);
  const lockPath = join(dir, `builtin-${name}-${hash}.lock`);
  for (;;) {
    const known = await readIndex(indexPath, dir);
    if (known) return known;
    const lock = await tryLock(lockPath);
    if (lock) {
      try {
        const again = await readIndex(indexPath, dir);
        if (again) return again;
        const built = await build(name, dir);
        await writeIndex(indexPath, name, built);
        return built;
      } finally {
        await lock.release();
      }
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

// A build takes about a minute; a lock much older than that was left by a dead builder.
const STALE_LOCK_MS = 10 * 60_000;

async function tryLock(path: string): Promise<{ release(): Promise<void> } | undefined> {
  try {
    const fh = await open(path, 'wx');
    await fh.writeFile(`${process.pid}\n`);
    await fh.close();
    return { release: () => unlink(path).catch(() => {}) };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    try {
      const st = await stat(path);
      const pid = Number((await readFile(path, 'utf8')).trim());
      if (Date.now() - st.mtimeMs > STALE_LOCK_MS || (pid > 0 && !alive(pid))) await unlink(path).catch(() => {});
    } catch {
      // gone meanwhile: try again
    }
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A hard link from the cache (same file system), else a copy under a temp name. */
async function place(from: string, to: string): Promise<void> {
  const tmp = `${to}.tmp-${randomBytes(6).toString('hex')}`;
  try {
    await link(from, tmp);
  } catch {
    await copyFile(from, tmp);
  }
  await rename(tmp, to);
}

async function writeIndex(indexPath: string, name: string, built: BuiltModelFile): Promise<void> {
  const index = JSON.stringify({ name, sha256: built.sha256, bytes: built.bytes }, null, 2) + '\n';
  const tmp = `${indexPath}.tmp-${randomBytes(6).toString('hex')}`;
  await writeFile(tmp, index);
  await rename(tmp, indexPath);
}

// A stale or damaged index (file gone, size changed) just means: build again.
async function readIndex(indexPath: string, modelsDir: string): Promise<BuiltModelFile | undefined> {
  try {
    const idx = JSON.parse(await readFile(indexPath, 'utf8')) as { sha256?: unknown; bytes?: unknown };
    if (typeof idx.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(idx.sha256) || typeof idx.bytes !== 'number') return undefined;
    const path = join(modelsDir, `${idx.sha256}.gguf`);
    const st = await stat(path);
    return st.size === idx.bytes ? { path, sha256: idx.sha256, bytes: idx.bytes } : undefined;
  } catch {
    return undefined;
  }
}
