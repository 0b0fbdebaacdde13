// Runs llama.cpp's reference tools on the bench model: llama-bench (tg) and a
// llama-server on a loopback port.
import { createServer } from "node:net";
import { join } from "node:path";
import { LOGS_DIR } from "./cache.ts";
import { runToEnd, start } from "./children.ts";
import type { Started } from "./children.ts";

export interface LlamaBenchResult {
  medianTps: number;
  avgTps: number;
  stddevTps: number;
  samplesTps: number[];
  /** -1: auto (llama-bench's default), 0: off, 1: on. */
  flashAttn: unknown;
}

/** `llama-bench -p 0 -n <tokens> -t <threads>`: the tg<tokens> decode rate. */
export async function runLlamaBench(bin: string, modelPath: string, threads: number, tokens: number, reps: number, extra: string[] = []): Promise<LlamaBenchResult> {
  const args = ["-m", modelPath, "-p", "0", "-n", String(tokens), "-t", String(threads), "-r", String(reps), "-o", "json", ...extra];
  const r = await runToEnd(bin, args, { timeoutMs: 10 * 60_000, logFile: join(LOGS_DIR, "llama-bench.log") });
  if (r.code !== 0) throw new Error(`llama-bench failed (${r.code}): ${r.stderr.slice(-2000)}`);
  const rows = JSON.parse(r.stdout) as { n_gen: number; avg_ts: number; stddev_ts: number; samples_ts?: number[]; flash_attn?: unknown }[];
  const tg = rows.find((x) => x.n_gen === tokens);
  if (!tg) throw new Error(`llama-bench printed no tg${tokens} row: ${r.stdout.slice(0, 500)}`);
  const samples = tg.samples_ts ?? [tg.avg_ts];
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const medianTps = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { medianTps, avgTps: tg.avg_ts, stddevTps: tg.stddev_ts, samplesTps: samples, flashAttn: tg.flash_attn };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const address = srv.address();
      const port = typeof address === "object" && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface LlamaServer {
  url: string;
  args: string[];
  stop(): Promise<void>;
}

/** Starts llama-server with `slots` parallel slots of `ctxPerSlot` each and waits for /health. */
export async function startLlamaServer(bin: string, modelPath: string, opts: { threads: number; slots: number; ctxPerSlot: number; extra?: string[] }): Promise<LlamaServer> {
  const port = await freePort();
  const args = [
    "-m", modelPath, "--host", "127.0.0.1", "--port", String(port),
    "-np", String(opts.slots), "-c", String(opts.slots * opts.ctxPerSlot),
    "-t", String(opts.threads), "-tb", String(opts.threads), "--cont-batching",
    ...(opts.extra ?? []),
  ];
  const server: Started = start(bin, args, { logFile: join(LOGS_DIR, "llama-server.log") });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 180_000;
  for (let i = 0; Date.now() < deadline && i < 1000; i++) {
    if (server.child.exitCode !== null) throw new Error(`llama-server exited (${server.child.exitCode}); see ${join(LOGS_DIR, "llama-server.log")}`);
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return { url, args, stop: () => server.stop() };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  await server.stop();
  throw new Error("llama-server did not become healthy within 180 s");
}
