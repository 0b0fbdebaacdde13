// What content filtering adds to a request (issue 14 item 2), measured on a real server with
// the real tiny llama.cpp model, against the same model with every filter off:
//   - "filtered": deployment tiny-filtered, policy Microsoft.DefaultV2 (embedded classifier on
//     prompts and completions, jailbreak, protected material), Default mode;
//   - "off":      deployment tiny-off, a custom policy with every content filter disabled.
// Both run on the same runner (one model): requests alternate so the machine's load hits both.
// Reported per request, p50/p99: the non-streamed request time, and the streamed time to first
// content token (Default mode holds output back until its first segment, at least 60
// characters ending a sentence or 300 characters, has been checked). Then the filter's own time
// in process (prompt check + completion checks of a 600-character answer), without the model.
//
//   node bench/content-filter-latency.ts [--requests 60] [--max-tokens 48]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createIngot } from "../src/app.ts";
import { EmbeddedClassifier } from "../src/core/safety/classifier/index.ts";
import { ContentFilter } from "../src/core/safety/filter.ts";

const { values } = parseArgs({ options: { requests: { type: "string", default: "60" }, "max-tokens": { type: "string", default: "48" } } });
const requests = Number(values.requests);
const maxTokens = Number(values["max-tokens"]);
const TINY = { format: "Ingot", name: "tiny-chat", version: "1" };
const KEY = "0123456789abcdef0123456789abcdef";

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const fmt = (xs: number[]) => `p50 ${pct(xs, 50).toFixed(1)} ms, p99 ${pct(xs, 99).toFixed(1)} ms`;

const dataDir = mkdtempSync(join(tmpdir(), "ingot-bench-cf-"));
const ingot = createIngot({
  dataDir,
  apiKey: KEY,
  threads: 1,
  logLevel: "error",
  extraDeployments: [
    { name: "tiny-filtered", model: TINY, sku: { name: "Standard", capacity: 1000 } },
    { name: "tiny-off", model: TINY, sku: { name: "Standard", capacity: 1000 } },
  ],
});
try {
  const url = await ingot.app.listen({ port: 0, host: "127.0.0.1" });
  await ingot.ready;
  const off = ["Hate", "Sexual", "Violence", "Selfharm"].flatMap((name) => ["Prompt", "Completion"].map((source) => ({ name, source, enabled: false, blocking: false, severityThreshold: "High" })));
  ingot.rai.policies.createOrUpdate("ingot", "all-off", {
    basePolicyName: "Microsoft.DefaultV2",
    mode: "Default",
    contentFilters: [...off, { name: "Jailbreak", source: "Prompt", enabled: false, blocking: false }, { name: "Protected Material Text", source: "Completion", enabled: false, blocking: false }, { name: "Protected Material Code", source: "Completion", enabled: false, blocking: false }],
  });
  ingot.deployments.createOrUpdate("ingot", "tiny-off", { model: TINY, sku: { name: "Standard", capacity: 1000 }, raiPolicyName: "all-off" });
  const body = (deployment: string, stream: boolean) =>
    JSON.stringify({
      messages: [
        { role: "system", content: "You are a helpful assistant for a team planning its next release." },
        { role: "user", content: "Write a short story about a lighthouse keeper who finds a message in a bottle, and what it says." },
      ],
      max_tokens: maxTokens,
      temperature: 0.8,
      seed: 1,
      stream,
      // The tiny model stops early otherwise; a longer answer gives the completion check segments to do.
      logit_bias: { 256: -100, 257: -100, 258: -100 },
      model: deployment,
    });
  const post = (deployment: string, stream: boolean) =>
    fetch(`${url}/openai/deployments/${deployment}/chat/completions?api-version=2024-10-21`, { method: "POST", headers: { "content-type": "application/json", "api-key": KEY }, body: body(deployment, stream) });

  const times: Record<string, number[]> = { "filtered total": [], "off total": [], "filtered ttft": [], "off ttft": [] };
  for (let i = 0; i < 3; i++) for (const d of ["tiny-filtered", "tiny-off"]) await (await post(d, false)).text(); // warm-up
  for (let i = 0; i < requests; i++) {
    for (const [d, label] of [["tiny-filtered", "filtered"], ["tiny-off", "off"]] as const) {
      let t0 = performance.now();
      const r = await post(d, false);
      const j = (await r.json()) as { choices?: unknown[] };
      if (!j.choices) throw new Error(JSON.stringify(j));
      times[`${label} total`].push(performance.now() - t0);
      t0 = performance.now();
      const s = await post(d, true);
      const reader = s.body!.getReader();
      const decoder = new TextDecoder();
      let seen = "";
      let first: number | undefined;
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        seen += decoder.decode(value, { stream: true });
        if (first === undefined && /"delta":\{"content":"[^"]/.test(seen)) first = performance.now() - t0;
      }
      if (first !== undefined) times[`${label} ttft`].push(first);
    }
  }
  console.log(`Server, ${requests} requests each, max_tokens ${maxTokens}, tiny-chat on llama.cpp (1 thread):`);
  for (const [k, v] of Object.entries(times)) console.log(`  ${k.padEnd(15)} ${fmt(v)}  (n=${v.length})`);
  console.log(`  added (p50): non-streamed ${(pct(times["filtered total"], 50) - pct(times["off total"], 50)).toFixed(1)} ms, time to first token ${(pct(times["filtered ttft"], 50) - pct(times["off ttft"], 50)).toFixed(1)} ms`);
} finally {
  await ingot.close();
  rmSync(dataDir, { recursive: true, force: true });
}

// The filter's own time, in process: DefaultV2-like rules, the embedded classifier, no model.
const rules = (side: "prompt" | "completion") => ({
  filters: {
    hate: { enabled: true, blocking: true, threshold: "Medium" as const },
    sexual: { enabled: true, blocking: true, threshold: "Medium" as const },
    violence: { enabled: true, blocking: true, threshold: "Medium" as const },
    self_harm: { enabled: true, blocking: true, threshold: "Medium" as const },
    ...(side === "prompt" ? { jailbreak: { enabled: true, blocking: true } } : {}),
  },
  blocklists: [],
});
const filter = new ContentFilter({
  policies: { effective: () => ({ name: "Microsoft.DefaultV2", mode: "Default", prompt: rules("prompt"), completion: rules("completion") }) },
  classifier: new EmbeddedClassifier(),
  deployments: { get: () => ({ account: "a", name: "d", model: TINY, sku: { name: "Standard", capacity: 1 }, state: "Succeeded", error: null, createdAt: 0, updatedAt: 0 }) },
});
const plan = filter.planFor("a", "d")!;
const answer = "The keeper climbed the stairs at dusk, as he had every evening for thirty years. ".repeat(8).slice(0, 600);
const own: number[] = [];
for (let i = 0; i < 2000; i++) {
  const t0 = performance.now();
  await filter.checkPrompts(plan, [{ text: "Write a short story about a lighthouse keeper and the storm that reached the coast.", context: "You are a helpful assistant." }]);
  for (let at = 0; at < answer.length; at += 120) await filter.checkCompletionSegment(plan, answer.slice(Math.max(0, at - 200), at), answer.slice(at, at + 120), answer.slice(0, at + 120));
  if (i >= 200) own.push(performance.now() - t0);
}
console.log(`Filter in process (prompt check + 5 completion segments of a 600-character answer, embedded classifier): ${fmt(own)}`);
