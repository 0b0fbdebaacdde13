// Rate-limit accuracy: how closely a Standard deployment's admitted tokens and requests per
// minute track its limits (capacity × 1,000 TPM, capacity × 6 RPM) when clients ask for more.
// Runs a real Ingot (real tiny-chat model, real HTTP) with a fake clock: requests arrive
// every --interval-ms of simulated time for --minutes simulated minutes; each is answered
// before the clock moves on, so a reply takes no simulated time. A refused request is dropped
// (no retry), so "requested" is the demand and "admitted" what the limiter let through.
//
//   node bench/rate-limit-accuracy.ts [--capacity 5] [--minutes 4] [--interval-ms 1000]
//
// Scenarios (each on its own deployment):
//   bounded   every request sets max_tokens (32–512) and runs to it (no end-of-sequence):
//             the admission charge is prompt estimate + max_tokens, the real use is close.
//   natural   a quarter of the requests set no max_tokens, the rest stop where the model
//             stops: the charges are corrected down (early stops) and up (no max_tokens).
//   small     short prompts, max_tokens 8: the request rate binds, not the tokens.
// "admitted" = the tokens the replies report used (prompt + completion), by minute of
// admission; "charged" = the admission estimates of those requests. The tiny model's
// byte-level tokenizer counts ~1 token per prompt character where the estimate assumes 4,
// so its prompts are under-estimated (real BPE models are near 4 characters per token).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createIngot } from "../src/app.ts";

const { values } = parseArgs({
  options: {
    capacity: { type: "string", default: "5" },
    minutes: { type: "string", default: "4" },
    "interval-ms": { type: "string", default: "1000" },
  },
});
const capacity = Number(values.capacity);
const minutes = Number(values.minutes);
const intervalMs = Number(values["interval-ms"]);
const TPM = capacity * 1000;
const RPM = capacity * 6;
const KEY = "0123456789abcdef0123456789abcdef";
const NO_EOS = { "256": -100, "257": -100, "258": -100 };
const TINY = { format: "Ingot", name: "tiny-chat", version: "1" };

// Deterministic pseudo-random choices, so runs compare.
let seed = 12345;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];

let now = Date.parse("2025-06-01T00:00:00Z");
const dataDir = mkdtempSync(join(tmpdir(), "ingot-ratelimit-bench-"));
const ingot = createIngot({
  dataDir,
  apiKey: KEY,
  threads: 1,
  sequences: 4,
  logLevel: "warn",
  clock: () => now,
  extraDeployments: [
    { name: "bounded", model: TINY, sku: { name: "Standard", capacity } },
    { name: "natural", model: TINY, sku: { name: "Standard", capacity } },
    { name: "small", model: TINY, sku: { name: "Standard", capacity } },
  ],
});
const url = await ingot.app.listen({ port: 0, host: "127.0.0.1" });
await ingot.ready;

interface Minute {
  sent: number;
  admitted: number;
  requestedTokens: number;
  chargedTokens: number;
  admittedTokens: number;
}
interface Admitted {
  at: number;
  tokens: number;
}

async function scenario(deployment: "bounded" | "natural" | "small") {
  const perMinute: Minute[] = Array.from({ length: minutes }, () => ({ sent: 0, admitted: 0, requestedTokens: 0, chargedTokens: 0, admittedTokens: 0 }));
  const log: Admitted[] = [];
  const began = now;
  const wall = performance.now();
  for (let t = 0; t < minutes * 60_000; t += intervalMs) {
    now = began + t;
    const m = perMinute[Math.floor(t / 60_000)];
    const content = deployment === "small" ? "Hi there." : "Tell me something. ".repeat(1 + Math.floor(rand() * 20));
    const maxTokens = deployment === "bounded" ? pick([32, 64, 128, 256, 512]) : deployment === "small" ? 8 : pick([undefined, 32, 128, 256]);
    const body: Record<string, unknown> = { messages: [{ role: "user", content }] };
    if (maxTokens !== undefined) body.max_tokens = maxTokens;
    if (deployment !== "natural") Object.assign(body, { logit_bias: NO_EOS, temperature: 0 });
    // The same rule the limiter charges at admission: characters / 4, rounded up, + max_tokens.
    const estimate = Math.ceil(content.length / 4) + (maxTokens ?? 0);
    m.sent++;
    m.requestedTokens += estimate;
    const res = await fetch(`${url}/openai/deployments/${deployment}/chat/completions?api-version=2024-10-21`, {
      method: "POST",
      headers: { "content-type": "application/json", "api-key": KEY },
      body: JSON.stringify(body),
    });
    const reply = (await res.json()) as { usage?: { total_tokens: number } };
    if (res.status === 429) continue;
    if (res.status !== 200) throw new Error(`unexpected ${res.status}: ${JSON.stringify(reply)}`);
    m.admitted++;
    m.chargedTokens += estimate;
    m.admittedTokens += reply.usage!.total_tokens;
    log.push({ at: t, tokens: reply.usage!.total_tokens });
  }
  // The worst 60 s span of admitted (real) tokens, sliding over admission times.
  let worst = 0;
  for (let i = 0; i < log.length; i++) {
    let sum = 0;
    for (let j = i; j < log.length && log[j].at < log[i].at + 60_000; j++) sum += log[j].tokens;
    worst = Math.max(worst, sum);
  }
  return { perMinute, worst, wallSeconds: (performance.now() - wall) / 1000 };
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
console.log(`Standard capacity ${capacity}: limit ${TPM} tokens/min, ${RPM} requests/min (${capacity} per 10 s); a request every ${intervalMs} ms for ${minutes} simulated minutes\n`);
for (const name of ["bounded", "natural", "small"] as const) {
  const { perMinute, worst, wallSeconds } = await scenario(name);
  console.log(`scenario ${name} (${wallSeconds.toFixed(1)} s wall)`);
  console.log("minute | sent | admitted req (limit) | requested tok | charged tok | admitted tok | admitted/limit");
  for (const [i, m] of perMinute.entries())
    console.log(
      `${String(i + 1).padStart(6)} | ${String(m.sent).padStart(4)} | ${String(m.admitted).padStart(8)} (${RPM})`.padEnd(34) +
        ` | ${String(m.requestedTokens).padStart(13)} | ${String(m.chargedTokens).padStart(11)} | ${String(m.admittedTokens).padStart(12)} | ${pct(m.admittedTokens / TPM).padStart(14)}`,
    );
  const total = perMinute.reduce((a, m) => ({ req: a.req + m.requestedTokens, adm: a.adm + m.admittedTokens, chg: a.chg + m.chargedTokens }), { req: 0, adm: 0, chg: 0 });
  const requests = perMinute.reduce((a, m) => ({ sent: a.sent + m.sent, admitted: a.admitted + m.admitted }), { sent: 0, admitted: 0 });
  console.log(`  requests: sent ${(requests.sent / minutes).toFixed(1)}/min, admitted ${(requests.admitted / minutes).toFixed(1)}/min = ${pct(requests.admitted / minutes / RPM)} of the limit`);
  console.log(
    `  requested ${Math.round(total.req / minutes)} tok/min, admitted ${Math.round(total.adm / minutes)} tok/min = ${pct(total.adm / minutes / TPM)} of the limit ` +
      `(charged at admission ${pct(total.chg / minutes / TPM)}); worst 60 s span ${worst} tok = ${pct(worst / TPM)} of the limit\n`,
  );
}

await ingot.close();
rmSync(dataDir, { recursive: true, force: true });
