// A short soak at twice a deployment's capacity: `ingot up` as a child process, a
// GlobalStandard deployment of capacity 100 (100 requests per 10 s), and an open-loop load of
// 20 requests a second (chat, streamed chat, completions) for about a minute. Every reply is a
// 200 or a 429 with retry-after; none hangs; the server's and the runners' resident memory
// stay flat (sampled under the same load after a warm-up, then at the end). Meanwhile 20 slow
// clients that never finish their headers hold connections open: the server must cut them
// (its header timeout) and keep serving the others.
// RELIABILITY_SOAK_SECONDS changes the measured part (default 45).
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { ACCOUNT_PATH, adminToken, ARM_VERSION, freePort, quantile, rssBytes, runnersOf, send, startChildServer, stopChildServer, until } from "./lib.ts";
import type { ChildServer } from "./lib.ts";

const API_KEY = "0123456789abcdef0123456789abcdef";
const CAPACITY = 100;
/** GlobalStandard: capacity N allows N requests per 10 s (6 RPM per unit). */
const ALLOWED_PER_SECOND = CAPACITY / 10;
const RATE = 2 * ALLOWED_PER_SECOND;
const WARMUP_S = 10;
const SOAK_S = Number(process.env.RELIABILITY_SOAK_SECONDS ?? 45);
const MB = 1024 * 1024;

const dataDir = mkdtempSync(join(tmpdir(), "ingot-soak-"));
let server: ChildServer | undefined;
after(async () => {
  if (server) await stopChildServer(server);
  rmSync(dataDir, { recursive: true, force: true });
});

test(`a soak at twice a deployment's capacity: only 200s and 429s with retry-after, flat memory`, { timeout: 300_000 }, async () => {
  const port = await freePort();
  server = await startChildServer({ dataDir, port, apiKey: API_KEY });
  const s = server;
  const token = adminToken(dataDir, s.url);
  const put = await send(s.url, { method: "PUT", path: `${ACCOUNT_PATH}/deployments/soak?api-version=${ARM_VERSION}`, headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify({ sku: { name: "GlobalStandard", capacity: CAPACITY }, properties: { model: { format: "Ingot", name: "tiny-chat", version: "1" } } }) }, 30_000);
  assert.ok(put.status === 200 || put.status === 201, put.body.toString());
  await until("the soak deployment to succeed", async () => {
    const r = await send(s.url, { method: "GET", path: `${ACCOUNT_PATH}/deployments/soak?api-version=${ARM_VERSION}`, headers: { authorization: `Bearer ${token}` } }, 10_000);
    return JSON.parse(r.body.toString()).properties?.provisioningState === "Succeeded" ? true : undefined;
  }, 120_000);

  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const byStatus = new Map<string, number>();
  const problems: string[] = [];
  const latencies: number[] = [];
  const inflight = new Set<Promise<void>>();
  const bodies = [
    { path: `/openai/deployments/soak/chat/completions?api-version=2024-10-21`, body: { messages: [{ role: "user", content: "Say hi." }], max_tokens: 2 } },
    { path: `/openai/deployments/soak/chat/completions?api-version=2024-10-21`, body: { messages: [{ role: "user", content: "Count." }], max_tokens: 2, stream: true } },
    { path: `/openai/deployments/soak/completions?api-version=2024-10-21`, body: { prompt: "Once upon a time", max_tokens: 2 } },
  ];
  let n = 0;
  const fire = () => {
    const b = bodies[n++ % bodies.length];
    const p = send(s.url, { method: "POST", path: b.path, headers: { "api-key": API_KEY, "content-type": "application/json" }, body: JSON.stringify(b.body) }, 20_000, agent).then(
      (r) => {
        byStatus.set(String(r.status), (byStatus.get(String(r.status)) ?? 0) + 1);
        latencies.push(r.ms);
        if (r.status === 429) {
          const after = Number(r.headers["retry-after"]);
          if (!(after >= 1) || !r.headers["retry-after-ms"]) problems.push(`429 without retry-after: ${JSON.stringify(r.headers)}`);
          const e = JSON.parse(r.body.toString()).error;
          if (typeof e?.code !== "string" || typeof e?.message !== "string") problems.push(`429 without an Azure error body: ${r.body.toString().slice(0, 200)}`);
        } else if (r.status !== 200) problems.push(`status ${r.status}: ${r.body.toString().slice(0, 300)}`);
      },
      (e: Error) => {
        byStatus.set("error", (byStatus.get("error") ?? 0) + 1);
        problems.push(`no reply: ${e.message}`);
      },
    );
    const tracked = p.finally(() => inflight.delete(tracked));
    inflight.add(tracked);
  };

  // The runners (tiny-chat's serves the soak; tiny-embed's idles), summed.
  const runnersRss = () => runnersOf(s.pid).reduce((sum, r) => sum + rssBytes(r.pid), 0);
  const samples: { t: number; server: number; runner: number }[] = [];
  const sample = (t: number) => samples.push({ t, server: rssBytes(s.pid), runner: runnersRss() });
  // Slow clients: headers begun and never finished.
  const slow = Array.from({ length: 20 }, () => {
    const socket = connect(s.port, "127.0.0.1");
    const opened = performance.now();
    const state = { closedAfterMs: -1 };
    socket.on("connect", () => socket.write("POST /openai/v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\napi-key: " + API_KEY + "\r\n"));
    socket.on("data", () => undefined);
    socket.on("error", () => undefined);
    socket.on("close", () => (state.closedAfterMs = performance.now() - opened));
    return { socket, state };
  });
  // Open loop: requests go out on schedule whether or not earlier ones have answered.
  const started = performance.now();
  const total = WARMUP_S + SOAK_S;
  let sent = 0;
  let nextSample = WARMUP_S;
  while ((performance.now() - started) / 1000 < total) {
    const elapsed = (performance.now() - started) / 1000;
    while (sent < elapsed * RATE) {
      fire();
      sent++;
    }
    if (elapsed >= nextSample) {
      sample(elapsed);
      nextSample += 3;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  await Promise.all(inflight);
  sample((performance.now() - started) / 1000);
  agent.destroy();

  const slowOpen = slow.filter((c) => c.state.closedAfterMs < 0).length;
  const slowCut = slow.filter((c) => c.state.closedAfterMs >= 0).map((c) => c.state.closedAfterMs / 1000);
  for (const c of slow) c.socket.destroy();
  const first = samples.slice(0, 3);
  const last = samples.slice(-3);
  const mean = (xs: typeof samples, k: "server" | "runner") => xs.reduce((a, x) => a + x[k], 0) / xs.length;
  const growth = { server: mean(last, "server") - mean(first, "server"), runner: mean(last, "runner") - mean(first, "runner") };
  const ok = byStatus.get("200") ?? 0;
  const limited = byStatus.get("429") ?? 0;
  const statusLine = [...byStatus.entries()].map(([k, v]) => `${k}:${v}`).join(" ");
  console.log(
    `# soak: ${sent} requests in ${total} s at ${RATE}/s against capacity ${CAPACITY} (${ALLOWED_PER_SECOND}/s); by status ${statusLine}; served ${(ok / total).toFixed(1)}/s; latency p50 ${quantile(latencies, 0.5).toFixed(0)} ms, p99 ${quantile(latencies, 0.99).toFixed(0)} ms, max ${Math.max(...latencies).toFixed(0)} ms; RSS server ${(mean(first, "server") / MB).toFixed(0)} → ${(mean(last, "server") / MB).toFixed(0)} MB, runners ${(mean(first, "runner") / MB).toFixed(0)} → ${(mean(last, "runner") / MB).toFixed(0)} MB; slow clients cut after ${slowCut.length ? `${Math.min(...slowCut).toFixed(0)}–${Math.max(...slowCut).toFixed(0)} s` : "never"}, ${slowOpen} still open`,
  );
  for (const p of problems.slice(0, 10)) console.log(`# soak problem: ${p}`);
  assert.deepEqual(problems, [], `${problems.length} replies were neither 200 nor a well-formed 429`);
  assert.equal(slowOpen, 0, `${slowOpen} of 20 connections that never finished their headers were still open after ${total} s (no header timeout?)`);
  assert.ok(limited > sent * 0.25, `about half the requests are over capacity: ${limited} 429s of ${sent}`);
  assert.ok(ok >= ALLOWED_PER_SECOND * total * 0.7, `the deployment keeps serving at its capacity: ${ok} 200s`);
  // Flat: under the same load, at most 40 MB or 20% more than after the warm-up.
  for (const k of ["server", "runner"] as const) {
    const bound = Math.max(40 * MB, 0.2 * mean(first, k));
    assert.ok(growth[k] <= bound, `${k} RSS grew ${(growth[k] / MB).toFixed(1)} MB during the soak (bound ${(bound / MB).toFixed(0)} MB): ${samples.map((x) => (x[k] / MB).toFixed(0)).join(", ")}`);
  }
});
