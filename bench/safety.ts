// Content-filter classification cost (issue 14): what the embedded classifier and protected
// material detection add to a request, against peers that run in the same process on the same
// input, so the machine's speed cancels out of the ratios:
//   - "JSON" : JSON.parse(JSON.stringify(body)) of the same chat request (what any request costs
//              the server just to read its body once);
//   - "regex": one case-insensitive regular expression of 100 alarming words over the same text
//              (the naive word-list filter).
// Ordinary prompts: chat requests built from a system prompt and user messages of 60–4,000
// characters (the eval sentences embedded in ordinary prose). Times are per request, p50/p99
// over all rounds, after warm-up. Then a 10 MB prompt (read whole, windowed) and protected
// material detection (a 2,000-character completion against 200 registered texts of 5,000 words;
// a 10 MB completion).
//
// Wall times on a shared machine include waiting for a core; the CPU time per request (mean over
// a batch, from process.cpuUsage) does not, and is the figure to compare across machines.
//
//   node bench/safety.ts [--rounds 2000]
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { EmbeddedClassifier } from "../src/core/safety/classifier/index.ts";
import { ProtectedMaterial } from "../src/core/safety/protected-material.ts";

const { values } = parseArgs({ options: { rounds: { type: "string", default: "2000" } } });
const rounds = Number(values.rounds);

const sentences: string[] = readFileSync(fileURLToPath(new URL("../eval/safety/sentences.jsonl", import.meta.url)), "utf8")
  .split("\n").filter((l) => l.trim()).map((l) => (JSON.parse(l) as { text: string }).text);
const prose = "Our team is preparing the quarterly planning document, and we would like a clear summary of the main risks, the open questions for the platform group, and a short list of decisions we still need to make before the review next Tuesday. ";

let seed = 7;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);

interface Request { model: string; messages: { role: string; content: string }[]; max_tokens: number; temperature: number }
function makeRequest(chars: number): Request {
  let user = sentences[Math.floor(rand() * sentences.length)];
  while (user.length < chars) user += " " + (rand() < 0.8 ? prose : sentences[Math.floor(rand() * sentences.length)]);
  return {
    model: "gpt-4o-mini",
    messages: [{ role: "system", content: "You are a helpful assistant for an engineering team." }, { role: "user", content: user.slice(0, chars) }],
    max_tokens: 256,
    temperature: 0.7,
  };
}
const sizes = [60, 250, 1000, 4000];
const requests = Array.from({ length: 400 }, (_, i) => makeRequest(sizes[i % sizes.length]));
const textOf = (r: Request) => r.messages.map((m) => m.content).join("\n");

const classifier = new EmbeddedClassifier();
const WORDS = ["kill", "murder", "stab", "shoot", "bomb", "attack", "torture", "massacre", "behead", "strangle", "suicide", "overdose", "noose", "cut myself", "die", "dead", "blood", "gun", "rifle", "knife", "explosive", "poison", "rape", "porn", "sex", "nude", "naked", "cock", "pussy", "fuck", "horny", "orgasm", "vermin", "subhuman", "exterminate", "deport", "inferior", "parasites", "savages", "terrorist", "hate", "slur", "lynch", "genocide", "ignore previous", "system prompt", "jailbreak", "developer mode", "do anything now", "no restrictions", "hang", "execute", "abort", "weapon", "ammo", "grenade", "kidnap", "hostage", "assault", "slaughter", "maim", "mutilate", "dismember", "arson", "burn", "choke", "drown", "suffocate", "punch", "beat", "hurt", "harm", "threat", "starve", "purge", "thinspo", "razor", "wrist", "jump off", "lethal", "pills", "escort", "strip", "erotic", "xxx", "hentai", "incest", "molest", "grope", "nazi", "heil", "gas the", "race war", "master race", "invaders", "filth", "scum", "cockroaches", "animals", "apes", "plague"];
const regex = new RegExp(`\\b(?:${WORDS.join("|")})\\b`, "gi");
const regexScan = (text: string) => {
  let n = 0;
  regex.lastIndex = 0;
  while (regex.exec(text) !== null) n++;
  return n;
};

function time(fn: () => unknown): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}
const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};

// Warm-up.
for (let r = 0; r < 3; r++) for (const req of requests) {
  classifier.classifySync(textOf(req), { side: "prompt", detectJailbreak: true });
  JSON.parse(JSON.stringify(req));
  regexScan(textOf(req));
}

interface Row { what: string; p50: number; p99: number }
const rows: Row[] = [];
const ratios: { what: string; p50: number; p99: number }[] = [];
const cpuPerRequest: { what: string; ms: number }[] = [];
for (const size of [...sizes, "all"] as const) {
  const subset = size === "all" ? requests : requests.filter((r) => r.messages[1].content.length === size);
  const cls: number[] = [], asyncCls: number[] = [], json: number[] = [], rx: number[] = [];
  // CPU time of the classifier alone over the whole batch: on a shared machine wall times include
  // waiting for a core; this does not.
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < rounds; i++) classifier.classifySync(textOf(subset[i % subset.length]), { side: "prompt", detectJailbreak: true });
  const cpu = process.cpuUsage(cpu0);
  cpuPerRequest.push({ what: size === "all" ? "all sizes" : `${size} chars`, ms: (cpu.user + cpu.system) / 1000 / rounds });
  // Interleave the contenders request by request so drift hits all of them.
  for (let i = 0; i < rounds; i++) {
    const req = subset[i % subset.length];
    json.push(time(() => JSON.parse(JSON.stringify(req))));
    cls.push(time(() => classifier.classifySync(textOf(req), { side: "prompt", detectJailbreak: true })));
    rx.push(time(() => regexScan(textOf(req))));
  }
  // The port's async path (one promise per request), timed end to end.
  for (let i = 0; i < Math.min(rounds, 500); i++) {
    const req = subset[i % subset.length];
    const t0 = process.hrtime.bigint();
    await classifier.classify(textOf(req), { side: "prompt", detectJailbreak: true });
    asyncCls.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const label = size === "all" ? "all sizes" : `${size} chars`;
  rows.push({ what: `classify (sync), ${label}`, p50: quantile(cls, 0.5), p99: quantile(cls, 0.99) });
  rows.push({ what: `classify (async port), ${label}`, p50: quantile(asyncCls, 0.5), p99: quantile(asyncCls, 0.99) });
  rows.push({ what: `JSON parse+stringify, ${label}`, p50: quantile(json, 0.5), p99: quantile(json, 0.99) });
  rows.push({ what: `regex word list, ${label}`, p50: quantile(rx, 0.5), p99: quantile(rx, 0.99) });
  ratios.push({ what: `classify / JSON, ${label}`, p50: quantile(cls, 0.5) / quantile(json, 0.5), p99: quantile(cls, 0.99) / quantile(json, 0.99) });
  ratios.push({ what: `classify / regex, ${label}`, p50: quantile(cls, 0.5) / quantile(rx, 0.5), p99: quantile(cls, 0.99) / quantile(rx, 0.99) });
}

// 10 MB prompt.
let big = "";
while (big.length < 10 * 1024 * 1024) big += rand() < 0.97 ? prose : sentences[Math.floor(rand() * sentences.length)] + " ";
const bigReq = { model: "m", messages: [{ role: "user", content: big }] };
const bigRuns = { classify: [] as number[], cpu: [] as number[], json: [] as number[], regex: [] as number[] };
for (let r = 0; r < 3; r++) {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  await classifier.classify(big, { side: "prompt", detectJailbreak: true });
  const c = process.cpuUsage(c0);
  bigRuns.classify.push(performance.now() - t0);
  bigRuns.cpu.push((c.user + c.system) / 1000);
  bigRuns.json.push(time(() => JSON.parse(JSON.stringify(bigReq))));
  bigRuns.regex.push(time(() => regexScan(big)));
}
const med = (xs: number[]) => quantile(xs, 0.5);

// Protected material.
const words = (n: number) => Array.from({ length: n }, () => "w" + Math.floor(rand() * 20000).toString(36)).join(" ");
const registered = Array.from({ length: 200 }, (_, i) => ({ id: `text-${i}`, text: words(5000) }));
const tIndex = performance.now();
const pm = new ProtectedMaterial(registered);
const indexMs = performance.now() - tIndex;
const completion = prose.repeat(9).slice(0, 2000);
const pmRuns: number[] = [];
const pmJson: number[] = [];
for (let i = 0; i < 2000; i++) {
  pmRuns.push(time(() => pm.detect(completion)));
  pmJson.push(time(() => JSON.parse(JSON.stringify({ choices: [{ message: { content: completion } }] }))));
}
const t10 = performance.now();
pm.detect(big);
const pmBigMs = performance.now() - t10;

const f = (x: number) => (x < 0.1 ? x.toFixed(4) : x < 10 ? x.toFixed(3) : x.toFixed(0));
console.log(`\nEmbedded classifier, per request (${rounds} interleaved rounds per size; ms)`);
console.log("what".padEnd(44), "p50".padStart(9), "p99".padStart(9));
for (const r of rows) console.log(r.what.padEnd(44), f(r.p50).padStart(9), f(r.p99).padStart(9));
console.log("\nclassifier CPU time per request (mean over the batch; ms)");
for (const r of cpuPerRequest) console.log(r.what.padEnd(44), f(r.ms).padStart(9));
console.log("\nratios (classifier over peer)");
for (const r of ratios) console.log(r.what.padEnd(44), r.p50.toFixed(2).padStart(9), r.p99.toFixed(2).padStart(9));
console.log(`\n10 MB prompt (${big.length} chars, median of 3): classify ${f(med(bigRuns.classify))} ms wall, ${f(med(bigRuns.cpu))} ms CPU, JSON parse+stringify ${f(med(bigRuns.json))} ms (ratio ${(med(bigRuns.classify) / med(bigRuns.json)).toFixed(1)}), regex ${f(med(bigRuns.regex))} ms (ratio ${(med(bigRuns.classify) / med(bigRuns.regex)).toFixed(1)})`);
console.log(`\nProtected material: index of 200 texts × 5,000 words built in ${f(indexMs)} ms; 2,000-char completion p50 ${f(quantile(pmRuns, 0.5))} ms, p99 ${f(quantile(pmRuns, 0.99))} ms (JSON of the reply p50 ${f(quantile(pmJson, 0.5))} ms); 10 MB completion ${f(pmBigMs)} ms`);
