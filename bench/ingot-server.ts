// Child-process entry: one Ingot on a loopback port, started through its composition root
// (createIngot) with the bench model as an extra catalog entry and deployment.
// argv[2]: JSON IngotServerOptions. Prints `READY <url>` once the bench deployment answers.
// Exits when stdin closes (the benchmark went away) or on SIGTERM.
import { createIngot } from "../src/app.ts";
import { BENCH_DEPLOYMENT, benchCatalogModel, benchModelRef } from "./catalog-entry.ts";

export interface IngotServerOptions {
  dataDir: string;
  apiKey: string;
  threads: number;
  sequences: number;
  logLevel: string;
  modelPath: string;
  /** Context window per sequence. */
  contextLength: number;
  /** Which engine Ingot runs; only its own ("src") since the experimental copy was merged. */
  engine: "src";
}

const options = JSON.parse(process.argv[2]) as IngotServerOptions;

async function create() {
  return createIngot({
    dataDir: options.dataDir,
    apiKey: options.apiKey,
    threads: options.threads,
    sequences: options.sequences,
    // Experiments (bench/experiments/abab.ts "ingot:INGOT_STREAM_INTERVAL_MS=0") compare intervals; unset: Ingot's default.
    ...(process.env.INGOT_STREAM_INTERVAL_MS ? { streamIntervalMs: Number(process.env.INGOT_STREAM_INTERVAL_MS) } : {}),
    logLevel: options.logLevel,
    extraModels: [benchCatalogModel(options.modelPath, options.contextLength)],
    extraDeployments: [{ name: BENCH_DEPLOYMENT, model: benchModelRef() }],
  });
}

const ingot = await create();
let closing = false;
async function shutdown(code: number): Promise<void> {
  if (closing) return;
  closing = true;
  const force = setTimeout(() => process.exit(code), 5000);
  force.unref();
  await ingot.close().catch(() => {});
  process.exit(code);
}
process.on("SIGTERM", () => void shutdown(0));
process.on("SIGINT", () => void shutdown(0));
process.stdin.on("end", () => void shutdown(0));
process.stdin.on("error", () => void shutdown(0));
process.stdin.resume();

try {
  const url = await ingot.app.listen({ port: 0, host: "127.0.0.1" });
  await ingot.ready;
  // Reconciliation records a failed deployment instead of throwing: ask it once.
  const res = await fetch(`${url}/openai/v1/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", "api-key": options.apiKey },
    body: JSON.stringify({ model: BENCH_DEPLOYMENT, prompt: "hi", max_tokens: 1 }),
    signal: AbortSignal.timeout(60_000),
  });
  if (!res.ok) throw new Error(`the bench deployment does not answer: HTTP ${res.status} ${await res.text()}`);
  process.stdout.write(`READY ${url}\n`);
} catch (e) {
  process.stderr.write(`ingot-server: ${e instanceof Error ? e.stack : String(e)}\n`);
  await shutdown(1);
}
