// The latency Ingot adds in front of an upstream (issue 16 item 7): the same chat request sent
// straight to a llama-server and through Ingot (deployment on the upstream engine, api-key auth,
// rate limits and usage on, content filters off; a DefaultV2 row shows what filtering adds on
// top), non-streamed (whole reply) and streamed (time to the first content token), p50 and p99
// at 1, 16 and 64 concurrent requests. Direct and Ingot rounds alternate, so load on the
// machine hits both; the client is the same keep-alive node:http client for both, in its own
// process, and Ingot runs in another.
//
//   node bench/gateway-overhead.ts [--requests 400] [--max-tokens 8] [--concurrency 1,16,64] [--filtered] [--upstream llama-server|fake]
// --upstream fake: a server answering a fixed reply at once instead of llama-server, so that no
// model competes with Ingot for the CPU (on a small machine it otherwise dominates at 16 and 64).
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { ensureBuiltinModel } from "../src/models/builtin/recipes.ts";
import { ensureCacheDirs, LOGS_DIR } from "./cache.ts";
import { start } from "./children.ts";
import type { Started } from "./children.ts";
import { ensurePortableLlamaServer } from "./llama-cpp-build.ts";
import { freePort } from "./llama-cpp-tools.ts";

const { values } = parseArgs({
  options: {
    requests: { type: "string", default: "400" },
    "max-tokens": { type: "string", default: "8" },
    concurrency: { type: "string", default: "1,16,64" },
    filtered: { type: "boolean", default: false },
    upstream: { type: "string", default: "llama-server" },
  },
});
const REQUESTS = Number(values.requests);
const MAX_TOKENS = Number(values["max-tokens"]);
const LEVELS = values.concurrency!.split(",").map(Number);

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

// Idle sockets close after 4 s, before llama-server's HTTP library drops them (5 s).
const agent = new Agent({ keepAlive: true, maxSockets: 256, timeout: 4_000 });

/**
 * One request: ms to the whole reply (stream false) or to the first content token (stream true).
 * A kept-alive socket the server closed just before it was reused (llama-server closes each
 * connection after a streamed reply, and idle ones after 5 s) is retried at once on a connection
 * of its own, timed from the retry.
 */
async function timed(url: URL, headers: Record<string, string>, body: string, stream: boolean): Promise<number> {
  try {
    return await timedOnce(url, headers, body, stream, false);
  } catch (e) {
    if ((e as { stale?: boolean }).stale) return timedOnce(url, headers, body, stream, true);
    throw e;
  }
}

function timedOnce(url: URL, headers: Record<string, string>, body: string, stream: boolean, fresh: boolean): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = request(url, { method: "POST", agent: fresh ? false : agent, headers: { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)), ...headers } }, (res) => {
      if (res.statusCode !== 200) {
        let text = "";
        res.on("data", (c) => (text += c));
        res.on("end", () => reject(new Error(`${url} answered ${res.statusCode}: ${text.slice(0, 300)}`)));
        return;
      }
      let first: number | undefined;
      let seen = "";
      res.on("data", (c: Buffer) => {
        if (stream && first === undefined) {
          seen += c.toString("utf8");
          // The first event carrying generated text (not the role-only or prompt-annotation events).
          if (/"content":"[^"]/.test(seen)) first = performance.now() - t0;
        }
      });
      res.on("end", () => (stream ? (first === undefined ? reject(new Error(`${url}: no content in the stream`)) : resolve(first)) : resolve(performance.now() - t0)));
      res.on("error", reject);
    });
    req.on("error", (e: Error & { code?: string }) => reject(Object.assign(e, { stale: req.reusedSocket && e.code === "ECONNRESET" })));
    req.end(body);
  });
}

/** `concurrency` workers, `perWorker` requests each, back to back; every latency. */
async function round(send: () => Promise<number>, concurrency: number, perWorker: number): Promise<number[]> {
  const out: number[] = [];
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = 0; i < perWorker; i++) out.push(await send());
    }),
  );
  return out;
}

ensureCacheDirs();
const children: Started[] = [];
const dataDir = mkdtempSync(join(tmpdir(), "ingot-gateway-"));
try {
  let port: number;
  if (values.upstream === "fake") {
    const fake = start(process.execPath, ["--no-warnings", fileURLToPath(new URL("./fake-upstream.ts", import.meta.url))], { stdio: ["pipe", "pipe", "pipe"], logFile: join(LOGS_DIR, "gateway-fake-upstream.log") });
    children.push(fake);
    port = await new Promise<number>((resolve, reject) => {
      fake.child.stdout!.on("data", (d: Buffer) => {
        const m = /READY (\d+)/.exec(d.toString("utf8"));
        if (m) resolve(Number(m[1]));
      });
      void fake.exited.then((code) => reject(new Error(`the fake upstream exited (${code})`)));
    });
  } else {
    if (values.upstream !== "llama-server") throw new Error("--upstream takes llama-server (default) or fake");
    const built = await ensurePortableLlamaServer((m) => console.error(m));
    const model = await ensureBuiltinModel("tiny-chat", join(dataDir, "models"));
    port = await freePort();
    const maxLevel = Math.max(...LEVELS);
    const llama = start(built.llamaServer, ["-m", model.path, "--host", "127.0.0.1", "--port", String(port), "-c", String(256 * maxLevel), "-np", String(maxLevel), "-t", "1"], {
      logFile: join(LOGS_DIR, "gateway-llama-server.log"),
    });
    children.push(llama);
  }
  const direct = `http://127.0.0.1:${port}`;
  for (const deadline = Date.now() + 60_000; ; ) {
    if (await fetch(`${direct}/health`).then((r) => r.ok, () => false)) break;
    if (Date.now() > deadline) throw new Error("llama-server did not start");
    await new Promise((r) => setTimeout(r, 100));
  }

  const apiKey = randomBytes(16).toString("hex");
  // GATEWAY_NODE_ARGS: extra node flags for the Ingot child, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile it.
  const nodeArgs = (process.env.GATEWAY_NODE_ARGS ?? "").split(" ").filter(Boolean);
  const server = start(process.execPath, [...nodeArgs, "--no-warnings", fileURLToPath(new URL("./gateway-server.ts", import.meta.url)), JSON.stringify({ dataDir: join(dataDir, "ingot"), apiKey, upstream: `${direct}/v1` })], {
    stdio: ["pipe", "pipe", "pipe"],
    logFile: join(LOGS_DIR, "gateway-ingot.log"),
  });
  children.push(server);
  const ingotUrl = await new Promise<string>((resolve, reject) => {
    let out = "";
    server.child.stdout!.on("data", (d: Buffer) => {
      out += d.toString("utf8");
      const m = /READY (\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    void server.exited.then((code) => reject(new Error(`the Ingot child exited (${code}); see ${join(LOGS_DIR, "gateway-ingot.log")}`)));
  });

  const messages = [{ role: "user", content: "Write one short sentence about the sea." }];
  const bodyFor = (model: string | undefined, stream: boolean) => JSON.stringify({ ...(model ? { model } : {}), messages, max_tokens: MAX_TOKENS, temperature: 0, seed: 1, stream });
  const targets = {
    direct: (stream: boolean) => () => timed(new URL(`${direct}/v1/chat/completions`), {}, bodyFor("tiny-chat", stream), stream),
    ingot: (stream: boolean) => () => timed(new URL(`${ingotUrl}/openai/v1/chat/completions`), { "api-key": apiKey }, bodyFor("gw-off", stream), stream),
    filtered: (stream: boolean) => () => timed(new URL(`${ingotUrl}/openai/v1/chat/completions`), { "api-key": apiKey }, bodyFor("gw-default", stream), stream),
  };
  const modes = values.filtered ? (["direct", "ingot", "filtered"] as const) : (["direct", "ingot"] as const);

  // Warm-up: connections, the upstream's caches, Ingot's JIT.
  for (const m of modes) for (const s of [false, true]) await round(targets[m](s), 4, 10);

  const rows: string[] = [];
  for (const concurrency of LEVELS) {
    for (const stream of [false, true]) {
      const lat: Record<string, number[]> = { direct: [], ingot: [], filtered: [] };
      // Alternating rounds of ~50 requests per mode, until each has REQUESTS samples.
      const perWorker = Math.max(1, Math.round(50 / concurrency));
      while (lat.direct.length < REQUESTS) for (const m of modes) lat[m].push(...(await round(targets[m](stream), concurrency, perWorker)));
      const cell = (m: string) => {
        const d50 = pct(lat.direct, 50);
        const d99 = pct(lat.direct, 99);
        const i50 = pct(lat[m], 50);
        const i99 = pct(lat[m], 99);
        return `| ${concurrency} | ${stream ? "TTFT (stream)" : "whole reply"} | ${m === "ingot" ? "auth+limits+usage" : "+ DefaultV2 filter"} | ${d50.toFixed(2)} | ${i50.toFixed(2)} | **${(i50 - d50).toFixed(2)}** | ${d99.toFixed(2)} | ${i99.toFixed(2)} | **${(i99 - d99).toFixed(2)}** | ${lat[m].length} |`;
      };
      for (const m of modes) if (m !== "direct") rows.push(cell(m));
      console.error(rows.at(-1));
    }
  }
  console.log(`\nGateway overhead: Ingot (upstream engine) in front of ${values.upstream === "fake" ? "a fake upstream (fixed 8-token reply, no model)" : "llama-server, tiny-chat"}, max_tokens ${MAX_TOKENS}, ms\n`);
  console.log("| concurrency | measure | Ingot path | direct p50 | Ingot p50 | added p50 | direct p99 | Ingot p99 | added p99 | n |");
  console.log("|---|---|---|---|---|---|---|---|---|---|");
  for (const r of rows) console.log(r);
} finally {
  for (const c of children.reverse()) await c.stop().catch(() => {});
  agent.destroy();
  rmSync(dataDir, { recursive: true, force: true });
}
