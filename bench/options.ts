// Command-line options of `npm run bench` (node bench/run.ts).
import { availableParallelism } from "node:os";
import { BENCH_SHAPES, isBenchShape } from "./models.ts";
import type { BenchShape } from "./models.ts";

export interface BenchOptions {
  models: BenchShape[];
  threads: number[];
  tokens: number;
  /** Threads for the aggregate (concurrent streams) comparison. */
  aggThreads: number;
  streams: number[];
  /** Repetitions per single-stream figure (median) and per aggregate figure. */
  reps: number;
  aggReps: number;
  skipLlamaCpp: boolean;
  quick: boolean;
  /** Which engine Ingot runs: its own (src), the only one since the experimental copy was merged. */
  engine: "src";
  /** The streaming client (streams.ts): fetch (undici) or node:http. */
  client: "fetch" | "http";
}

export const USAGE = `usage: npm run bench -- [options]
  --models a,b       shapes to run (default ${BENCH_SHAPES.join(",")})
  --threads 1,2      compute threads for the single-stream comparison (default 1,2)
  --tokens N         generated tokens per stream (default 128; 64 with --quick)
  --agg-threads N    threads for the concurrent-streams comparison (default 2, or the most in --threads)
  --streams 1,4,8    concurrent streams (default 1,4,8)
  --reps N           single-stream rounds (llama-bench run + Ingot stream), medians reported (default 7; 1 with --quick);
                     concurrent-stream figures use min(reps, 3)
  --engine E         src (default and only): Ingot as it is, started with createIngot
  --client C         streaming client for Ingot and llama-server: fetch (default) or http
                     (node:http, less CPU per SSE event on the cores being measured)
  --skip-llama-cpp   do not build or run llama-bench / llama-server
  --quick            fewer repetitions and tokens, streams 1,8`;

function list(v: string, name: string, max = 64): number[] {
  const xs = v.split(",").map(Number);
  if (xs.some((x) => !Number.isInteger(x) || x < 1 || x > max)) throw new Error(`${name}: expected a comma-separated list of integers 1..${max}, got '${v}'`);
  return xs;
}

function int(v: string, name: string, max: number): number {
  const x = Number(v);
  if (!Number.isInteger(x) || x < 1 || x > max) throw new Error(`${name}: expected an integer 1..${max}, got '${v}'`);
  return x;
}

export function parseOptions(argv: string[]): BenchOptions {
  const cores = availableParallelism();
  const values = new Map<string, string>();
  const flags = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--help" || a === "-h") {
      console.log(USAGE);
      process.exit(0);
    }
    if (a === "--skip-llama-cpp" || a === "--quick") flags.add(a);
    else if (["--models", "--threads", "--tokens", "--agg-threads", "--streams", "--reps", "--engine", "--client"].includes(a)) {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value\n${USAGE}`);
      values.set(a, v);
    } else if (a.startsWith("--") && a.includes("=")) {
      const [k, v] = [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)];
      argv.splice(i + 1, 0, v);
      argv[i] = k;
      i--;
    } else throw new Error(`unknown argument '${a}'\n${USAGE}`);
  }
  const quick = flags.has("--quick");
  const models = (values.get("--models") ?? BENCH_SHAPES.join(",")).split(",").map((m) => {
    if (!isBenchShape(m)) throw new Error(`--models: unknown shape '${m}' (known: ${BENCH_SHAPES.join(", ")})`);
    return m;
  });
  const threads = list(values.get("--threads") ?? "1,2", "--threads");
  for (const t of threads) if (t > cores) throw new Error(`--threads: ${t} is more than the ${cores} cores here (spinning threads would collapse throughput)`);
  const tokens = int(values.get("--tokens") ?? (quick ? "64" : "128"), "--tokens", 4096);
  if (tokens < 8) throw new Error("--tokens: at least 8");
  const aggThreads = int(values.get("--agg-threads") ?? String(threads.includes(2) ? 2 : Math.max(...threads)), "--agg-threads", 64);
  if (aggThreads > cores) throw new Error(`--agg-threads: ${aggThreads} is more than the ${cores} cores here`);
  const streams = list(values.get("--streams") ?? (quick ? "1,8" : "1,4,8"), "--streams", 8);
  const reps = int(values.get("--reps") ?? (quick ? "1" : "7"), "--reps", 20);
  const engine = values.get("--engine") ?? "src";
  if (engine !== "src") throw new Error(`--engine: only 'src' remains (the experimental engine was merged into src), not '${engine}'`);
  const client = values.get("--client") ?? (process.env.INGOT_BENCH_CLIENT === "http" ? "http" : "fetch");
  if (client !== "fetch" && client !== "http") throw new Error(`--client: fetch or http, not '${client}'`);
  return { models, threads, tokens, aggThreads, streams, reps, aggReps: quick ? 1 : Math.max(1, Math.min(reps, 3)), skipLlamaCpp: flags.has("--skip-llama-cpp"), quick, engine, client };
}
