// Locates the libllama/libggml shared libraries that node-llama-cpp ships as
// prebuilt binaries (@node-llama-cpp/<platform>-<arch>[-gpu]/bins/<dir>/).
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export interface LlamaLibPaths {
  dir: string;
  llama: string;
  ggml: string;
}

const require = createRequire(import.meta.url);

function libFile(dir: string, stem: string): string | undefined {
  // e.g. libllama.v0.5.0.so, libllama.so, libllama.dylib, llama.dll
  return readdirSync(dir).find((f) => {
    const base = f.replace(/^lib/, '');
    return (base.startsWith(`${stem}.`) || base === `${stem}.dll`) && /\.(so|dylib|dll)$/.test(f);
  });
}

function probe(dir: string): LlamaLibPaths | undefined {
  if (!existsSync(dir)) return undefined;
  const llama = libFile(dir, 'llama');
  const ggml = libFile(dir, 'ggml');
  return llama && ggml ? { dir, llama: join(dir, llama), ggml: join(dir, ggml) } : undefined;
}

/** The CPU build first (no GPU runtime needed), then any other variant for this platform. */
export function findLlamaLibs(): LlamaLibPaths {
  const override = process.env.INGOT_LLAMA_LIB_DIR;
  if (override) {
    const found = probe(override);
    if (!found) throw new Error(`INGOT_LLAMA_LIB_DIR=${override} holds no libllama/libggml`);
    return found;
  }
  const plat = `${process.platform}-${process.arch}`;
  const suffixes = ['', '-vulkan', '-cuda', '-cuda-ext', '-metal'];
  for (const suffix of suffixes) {
    let pkgDir: string;
    try {
      // The packages export only dist/index.js (not package.json): resolve that, go up.
      pkgDir = dirname(dirname(require.resolve(`@node-llama-cpp/${plat}${suffix}`)));
    } catch {
      continue;
    }
    const bins = join(pkgDir, 'bins');
    if (!existsSync(bins)) continue;
    for (const sub of readdirSync(bins)) {
      const found = probe(join(bins, sub));
      if (found) return found;
    }
  }
  throw new Error(`no prebuilt libllama found for ${plat} under @node-llama-cpp/*; set INGOT_LLAMA_LIB_DIR`);
}
