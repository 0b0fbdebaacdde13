// The built-in models, built on first use into the sha256-addressed models dir.
// A small index file per recipe makes every later call a stat, not a rebuild.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BUILDER_VERSION, buildModel } from './builder.ts';
import type { ModelType } from './builder.ts';
import { SHAPES } from './shapes.ts';
import type { ShapeName } from './shapes.ts';

export interface BuiltinModel {
  name: string;
  kind: 'chat' | 'embeddings';
  shape: ShapeName;
  seed: number;
  type: ModelType;
  contextLength: number;
}

export const BUILTIN_MODELS = {
  'tiny-chat': {
    name: 'tiny-chat', kind: 'chat', shape: 'tiny', seed: 1729, type: 'f32',
    contextLength: SHAPES['tiny'].context,
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

/** Everything that determines the file's bytes; its hash names the index file. */
export function builtinRecipeHash(name: BuiltinModelName): string {
  const m: BuiltinModel = BUILTIN_MODELS[name];
  const recipe = { builder: BUILDER_VERSION, name: m.name, shape: SHAPES[m.shape], seed: m.seed, type: m.type };
  return createHash('sha256').update(JSON.stringify(recipe)).digest('hex').slice(0, 16);
}

// One build per model and directory at a time within this process.
const inFlight = new Map<string, Promise<BuiltModelFile>>();

export function ensureBuiltinModel(name: BuiltinModelName, modelsDir: string): Promise<BuiltModelFile> {
  if (!Object.hasOwn(BUILTIN_MODELS, name)) return Promise.reject(new Error(`unknown built-in model "${name}"`));
  const key = `${modelsDir}\0${name}`;
  let p = inFlight.get(key);
  if (!p) {
    p = ensure(name, modelsDir).finally(() => inFlight.delete(key));
    inFlight.set(key, p);
  }
  return p;
}

async function ensure(name: BuiltinModelName, modelsDir: string): Promise<BuiltModelFile> {
  const indexPath = join(modelsDir, `builtin-${name}-${builtinRecipeHash(name)}.json`);
  const known = await readIndex(indexPath, modelsDir);
  if (known) return known;

  await mkdir(modelsDir, { recursive: true });
  const m = BUILTIN_MODELS[name];
  const tmp = join(modelsDir, `.build-${name}-${randomBytes(6).toString('hex')}.gguf`);
  try {
    const built = await buildModel({ shape: m.shape, seed: m.seed, type: m.type, out: tmp, name: m.name });
    const path = join(modelsDir, `${built.sha256}.gguf`);
    // Concurrent builders (other processes) produce identical bytes, so last rename wins harmlessly.
    await rename(tmp, path);
    const index = JSON.stringify({ name, sha256: built.sha256, bytes: built.bytes }, null, 2) + '\n';
    const indexTmp = `${indexPath}.tmp-${randomBytes(6).toString('hex')}`;
    await writeFile(indexTmp, index);
    await rename(indexTmp, indexPath);
    return { path, sha256: built.sha256, bytes: built.bytes };
  } finally {
    await unlink(tmp).catch(() => {});
  }
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
