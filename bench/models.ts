// The benchmark models: random weights with the real shapes of SmolLM2-135M and
// Qwen2.5-0.5B at Q8_0, built deterministically once into the cache and reused.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { buildModel } from "../src/models/builtin/builder.ts";
import { MODELS_DIR } from "./cache.ts";

export const BENCH_SHAPES = ["smollm2-135m", "qwen2.5-0.5b"] as const;
export type BenchShape = (typeof BENCH_SHAPES)[number];

const SEED = 1;
const TYPE = "q8_0";

export function isBenchShape(s: string): s is BenchShape {
  return (BENCH_SHAPES as readonly string[]).includes(s);
}

export function modelPathFor(shape: BenchShape): string {
  return join(MODELS_DIR, `${shape}-seed${SEED}-${TYPE}.gguf`);
}

/** Path of the model file, building it first if the cache does not hold it. */
export async function ensureBenchModel(shape: BenchShape, log: (msg: string) => void): Promise<string> {
  const out = modelPathFor(shape);
  if (existsSync(out)) return out;
  log(`building ${shape} ${TYPE} (random weights, seed ${SEED}) → ${out}`);
  const started = Date.now();
  await buildModel({ shape, seed: SEED, type: TYPE, out, threads: 2 });
  log(`built ${shape} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return out;
}
