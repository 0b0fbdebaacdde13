// Rate-limit accuracy across two replicas: bench/rate-limit-accuracy.ts's scenarios, with the
// requests spread over two Ingot processes that share one Redis (`--redis`), so the figures say
// whether a deployment's limit holds for the whole service, not per replica. Each replica is a
// child process (its own SQLite, its own runners) on one simulated clock: before every request
// the parent sets the time in both and waits for their acknowledgement, so the shared windows
// are exact and a reply takes no simulated time. A refused request is dropped (no retry).
//
//   node bench/rate-limit-accuracy-replicas.ts [--capacity 5] [--minutes 4] [--interval-ms 1000] [--local]
//
// --local runs the replicas without Redis (each its own limiter) for comparison: each admits
// the deployment's full rate, so together they admit about twice the limit.
// Needs Debian's redis-server (test/support/redis-server.ts starts one on a free port).
//
// Figures (2 cores, capacity 5: 5,000 tokens and 30 requests per minute, 5 requests per 10 s;
// admitted tokens are what replies report used, so the tiny model's under-estimated prompts
// show as a few % over; bench/rate-limit-accuracy.ts, one process, for reference):
//   scenario  one process            two replicas, one Redis    two replicas, no Redis (--local)
//   bounded   101.9% tok, 12.8 req   101.9% tok, 12.8 req/min   204.4% tok, 26.8 req/min
//   natural   101.1% tok, 19.0 req   102.0% tok, 19.5 req/min   201.7% tok, 40.5 req/min
//   small     30.0 req/min (100%)    30.0 req/min (100%)        60.0 req/min (200%)
// Most admissions in any 10 s span: 5 with Redis in every scenario (the limit), 10 without.
// The "bounded" and "small" runs are deterministic (temperature 0, no end of sequence), and
// with Redis give the one-process figures exactly; "natural" samples, so its replies differ.
import { fork } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createIngot } from "../src/app.ts";
import { startRedis } from "../test/support/redis-server.ts";

const KEY = "0123456789abcdef0123456789abcdef";
const NO_EOS = { "256": -100, "257": -100, "258": -100 };
const TINY = { format: "Ingot", name: "tiny-chat", version: "1" };
const SCENARIOS = ["bounded", "natural", "small"] as const;
type Scenario = (typeof SCENARIOS)[number];

if (process.argv[2] === "--replica") {
  // Child: one replica on the parent's clock.
  let now = Number(process.env.BENCH_START);
  const capacity = Number(process.env.BENCH_CAPACITY);
  const dataDir = mkdtempSync(join(tmpdir(), "ingot-ratelimit-replica-"));
  const ingot = createIngot({
    dataDir,
    apiKey: KEY,
    threads: 1,
    sequences: 4,
    logLevel: "warn",
    clock: () => now,
    ...(process.env.BENCH_REDIS ? { redisUrl: process.env.BENCH_REDIS } : {}),
    extraDeployments: SCENARIOS.map((name) => ({ name, model: TINY, sku: { name: "Standard", capacity } })),
  });
  const url = await ingot.app.listen({ port: 0, host: "127.0.0.1" });
  await ingot.ready;
  process.on("message", (m: { now?: number; stop?: boolean }) => {
    if (m.stop) {
      void ingot.close().then(() => {
        rmSync(dataDir, { recursive: true, force: true });
        process.exit(0);
      });
      return;
    }
    now = m.now!;
    process.send!({ ack: now });
  });
  process.send!({ url });
} else {
  const { values } = parseArgs({
    options: {
      capacity: { type: "string", default: "5" },
      minutes: { type: "string", default: "4" },
      "interval-ms": { type: "string", default: "1000" },
      local: { type: "boolean", default: false },
    },
  });
  const capacity = Number(values.capacity);
  const minutes = Number(values.minutes);
  const intervalMs = Number(values["interval-ms"]);
  const TPM = capacity * 1000;
  const RPM = capacity * 6;
  let seed = 12345;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
  let now = Date.parse("2025-06-01T00:00:00Z");

  const redis = values.local ? undefined : await startRedis();
  const replicas: { child: ChildProcess; url: string; waiting?: (n: number) => void }[] = [];
  for (let i = 0; i < 2; i++) {
    const child = fork(fileURLToPath(import.meta.url), ["--replica"], {
      env: { ...process.env, BENCH_START: String(now), BENCH_CAPACITY: String(capacity), BENCH_REDIS: redis?.url ?? "" },
      execPath: process.execPath,
    });
    const url = await new Promise<string>((resolve, reject) => {
      child.once("message", (m: { url: string }) => resolve(m.url));
      child.once("exit", (code) => reject(new Error(`replica ${i} exited (${code})`)));
    });
    const r: (typeof replicas)[number] = { child, url };
    child.on("message", (m: { ack?: number }) => m.ack !== undefined && r.waiting?.(m.ack));
    replicas.push(r);
  }
  const setClock = (t: number) =>
    Promise.all(
      replicas.map(
        (r) =>
          new Promise<void>((resolve) => {
            r.waiting = () => resolve();
            r.child.send({ now: t });
          }),
      ),
    );

  interface Minute {
    sent: number;
    admitted: number;
    byReplica: [number, number];
    admittedTokens: number;
  }
  const scenario = async (deployment: Scenario) => {
    const perMinute: Minute[] = Array.from({ length: minutes }, () => ({ sent: 0, admitted: 0, byReplica: [0, 0], admittedTokens: 0 }));
    const log: { at: number; tokens: number }[] = [];
    const requestTimes: number[] = [];
    const began = now;
    const wall = performance.now();
    let i = 0;
    for (let t = 0; t < minutes * 60_000; t += intervalMs, i++) {
      now = began + t;
      await setClock(now);
      const m = perMinute[Math.floor(t / 60_000)];
      const content = deployment === "small" ? "Hi there." : "Tell me something. ".repeat(1 + Math.floor(rand() * 20));
      const maxTokens = deployment === "bounded" ? pick([32, 64, 128, 256, 512]) : deployment === "small" ? 8 : pick([undefined, 32, 128, 256]);
      const body: Record<string, unknown> = { messages: [{ role: "user", content }] };
      if (maxTokens !== undefined) body.max_tokens = maxTokens;
      if (deployment !== "natural") Object.assign(body, { logit_bias: NO_EOS, temperature: 0 });
      const replica = i % 2; // alternate: each replica sees half the demand
      m.sent++;
      const res = await fetch(`${replicas[replica].url}/openai/deployments/${deployment}/chat/completions?api-version=2024-10-21`, {
        method: "POST",
        headers: { "content-type": "application/json", "api-key": KEY },
        body: JSON.stringify(body),
      });
      const reply = (await res.json()) as { usage?: { total_tokens: number } };
      if (res.status === 429) continue;
      if (res.status !== 200) throw new Error(`unexpected ${res.status}: ${JSON.stringify(reply)}`);
      m.admitted++;
      m.byReplica[replica]++;
      m.admittedTokens += reply.usage!.total_tokens;
      log.push({ at: t, tokens: reply.usage!.total_tokens });
      requestTimes.push(t);
    }
    let worstTokens = 0;
    for (let a = 0; a < log.length; a++) {
      let sum = 0;
      for (let b = a; b < log.length && log[b].at < log[a].at + 60_000; b++) sum += log[b].tokens;
      worstTokens = Math.max(worstTokens, sum);
    }
    // The most admissions in any 10 s span (the request limit is capacity per 10 s).
    let worstRequests = 0;
    for (let a = 0; a < requestTimes.length; a++) {
      let n = 0;
      for (let b = a; b < requestTimes.length && requestTimes[b] < requestTimes[a] + 10_000; b++) n++;
      worstRequests = Math.max(worstRequests, n);
    }
    return { perMinute, worstTokens, worstRequests, wallSeconds: (performance.now() - wall) / 1000 };
  };

  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  console.log(
    `Two replicas ${values.local ? "WITHOUT Redis (each limits on its own)" : "sharing one Redis"}; Standard capacity ${capacity}: limit ${TPM} tokens/min, ${RPM} requests/min (${capacity} per 10 s); ` +
      `a request every ${intervalMs} ms, alternating replicas, for ${minutes} simulated minutes\n`,
  );
  for (const name of SCENARIOS) {
    const { perMinute, worstTokens, worstRequests, wallSeconds } = await scenario(name);
    console.log(`scenario ${name} (${wallSeconds.toFixed(1)} s wall)`);
    console.log("minute | sent | admitted req (limit) | by replica a/b | admitted tok | admitted/limit");
    for (const [i, m] of perMinute.entries())
      console.log(
        `${String(i + 1).padStart(6)} | ${String(m.sent).padStart(4)} | ${String(m.admitted).padStart(8)} (${RPM})`.padEnd(34) +
          ` | ${`${m.byReplica[0]}/${m.byReplica[1]}`.padStart(14)} | ${String(m.admittedTokens).padStart(12)} | ${pct(m.admittedTokens / TPM).padStart(14)}`,
      );
    const admitted = perMinute.reduce((a, m) => a + m.admitted, 0);
    const tokens = perMinute.reduce((a, m) => a + m.admittedTokens, 0);
    console.log(
      `  requests: admitted ${(admitted / minutes).toFixed(1)}/min = ${pct(admitted / minutes / RPM)} of the limit; most in any 10 s span ${worstRequests} (limit ${capacity})`,
    );
    console.log(`  tokens: admitted ${Math.round(tokens / minutes)}/min = ${pct(tokens / minutes / TPM)} of the limit; worst 60 s span ${worstTokens} = ${pct(worstTokens / TPM)} of the limit\n`);
  }
  for (const r of replicas) {
    const exited = new Promise((res) => r.child.once("exit", res));
    r.child.send({ stop: true });
    await exited;
  }
  await redis?.close();
}
