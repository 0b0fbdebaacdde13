// Where the benchmark keeps what it builds once and reuses: random-weight models, the
// llama.cpp build, logs and the last run's JSON summary (outside the repository).
import { mkdirSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

export const CACHE_DIR = process.env.INGOT_BENCH_CACHE ?? join(homedir(), ".cache", "ingot-bench");
export const MODELS_DIR = join(CACHE_DIR, "models");
export const LOGS_DIR = join(CACHE_DIR, "logs");
export const LAST_RUN_JSON = join(CACHE_DIR, "last-run.json");

export function ensureCacheDirs(): void {
  for (const dir of [CACHE_DIR, MODELS_DIR, LOGS_DIR]) mkdirSync(dir, { recursive: true });
}
