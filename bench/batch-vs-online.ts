// What a large Batch API job costs online traffic on the same model (issue 15 item 2): online
// chat latency on a real server (tiny-chat on llama.cpp, one runner shared by a GlobalStandard
// deployment and a GlobalBatch deployment of the same model), measured
//   - "idle":       nothing else running;
//   - "batch":      while a large batch (default 400 lines that generate to max_tokens) runs
//                   on the batch deployment: batch lines fill idle sequences (one kept free),
//                   shrink to an eighth of them while online requests run, and are preempted
//                   while online requests queue (core/batch/scheduling.ts);
//   - "as online":  for comparison, the same background work sent as online requests
//                   (sequences - 1 concurrent streams): what the batch would cost without its
//                   low priority.
// Online requests are sent one at a time (a client waiting for each answer); the phases
// interleave in rounds (a new batch each round, cancelled at its end) so other load on the
// machine hits each phase alike. Reported per phase: p50/p99 of the request time, the ratio to
// idle, and the background lines (batch or online) answered during the phase.
//
//   node bench/batch-vs-online.ts [--requests 40] [--rounds 4] [--batch-lines 400] [--max-tokens 32] [--batch-max-tokens 64] [--threads 2] [--sequences 8]
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createIngot } from "../src/app.ts";

const { values } = parseArgs({
  options: {
    requests: { type: "string", default: "40" },
    "batch-lines": { type: "string", default: "400" },
    "max-tokens": { type: "string", default: "32" },
    "batch-max-tokens": { type: "string", default: "64" },
    threads: { type: "string", default: "2" },
    sequences: { type: "string", default: "8" },
    rounds: { type: "string", default: "4" },
  },
});
const requests = Number(values.requests);
const batchLines = Number(values["batch-lines"]);
const maxTokens = Number(values["max-tokens"]);
const batchMaxTokens = Number(values["batch-max-tokens"]);
const threads = Number(values.threads);
const sequences = Number(values.sequences);
const rounds = Number(values.rounds);
const TINY = { format: "Ingot", name: "tiny-chat", version: "1" };
const KEY = "0123456789abcdef0123456789abcdef";
const NO_EOS = { 256: -100, 257: -100, 258: -100 };

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

const dataDir = mkdtempSync(join(tmpdir(), "ingot-bench-batch-"));
const ingot = createIngot({
  dataDir,
  apiKey: KEY,
  threads,
  sequences,
  logLevel: "error",
  extraDeployments: [
    { name: "tiny-online", model: TINY, sku: { name: "GlobalStandard", capacity: 100_000 } },
    { name: "tiny-batch", model: TINY, sku: { name: "GlobalBatch", capacity: 1_000_000 } },
  ],
});
const headers = { "content-type": "application/json", "api-key": KEY };
try {
  const url = await ingot.app.listen({ port: 0, host: "127.0.0.1" });
  await ingot.ready;
  const chat = (content: string, max: number) =>
    fetch(`${url}/openai/deployments/tiny-online/chat/completions?api-version=2024-10-21`, {
      method: "POST",
      headers,
      body: JSON.stringify({ messages: [{ role: "user", content }], max_tokens: max, logit_bias: NO_EOS, temperature: 0.8 }),
    });
  const online = async (n: number): Promise<number[]> => {
    const times: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      const j = (await (await chat(`Tell me about the lighthouse, part ${i}.`, maxTokens)).json()) as { choices?: unknown[] };
      if (!j.choices) throw new Error(JSON.stringify(j));
      times.push(performance.now() - t0);
    }
    return times;
  };
  const getBatch = async (id: string) => (await (await fetch(`${url}/openai/batches/${id}?api-version=2024-10-21`, { headers })).json()) as { status: string; request_counts: { completed: number; failed: number; total: number } };

  for (let i = 0; i < 3; i++) await online(1); // warm-up

  // The large batch's input, uploaded once; each round creates a batch from it and cancels it.
  const lines = Array.from({ length: batchLines }, (_, i) =>
    JSON.stringify({ custom_id: `b-${i}`, method: "POST", url: "/v1/chat/completions", body: { model: "tiny-batch", messages: [{ role: "user", content: `Write about item ${i}.` }], max_tokens: batchMaxTokens, logit_bias: NO_EOS } }),
  );
  const form = new FormData();
  form.append("purpose", "batch");
  form.append("file", new Blob([lines.join("\n") + "\n"]), "bench.jsonl");
  const file = (await (await fetch(`${url}/openai/files?api-version=2024-10-21`, { method: "POST", headers: { "api-key": KEY }, body: form })).json()) as { id: string; status: string };

  // Phases interleave in rounds, so the machine's drift (other processes) hits each alike.
  const results = [
    { phase: "idle", times: [] as number[], background: 0 },
    { phase: "batch", times: [] as number[], background: 0 },
    { phase: "as online", times: [] as number[], background: 0 },
  ];
  const perRound = Math.ceil(requests / rounds);
  for (let round = 0; round < rounds; round++) {
    results[0].times.push(...(await online(perRound)));

    const batch = (await (await fetch(`${url}/openai/batches?api-version=2024-10-21`, { method: "POST", headers, body: JSON.stringify({ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h" }) })).json()) as { id: string };
    for (const deadline = Date.now() + 60_000; ; ) {
      const b = await getBatch(batch.id);
      if (b.request_counts.completed > 0) break;
      if (Date.now() > deadline) throw new Error(`the batch did not start: ${JSON.stringify(b)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const before = (await getBatch(batch.id)).request_counts.completed;
    results[1].times.push(...(await online(perRound)));
    const after = await getBatch(batch.id);
    if (after.status !== "in_progress") console.warn(`note: the batch was ${after.status} by the end of the phase (use more --batch-lines)`);
    results[1].background += after.request_counts.completed - before;
    await fetch(`${url}/openai/batches/${batch.id}/cancel?api-version=2024-10-21`, { method: "POST", headers });
    for (const deadline = Date.now() + 60_000; (await getBatch(batch.id)).status !== "cancelled" && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 50));

    // The same background work as online requests: sequences - 1 streams that never stop.
    let stop = false;
    let backgroundDone = 0;
    const background = Array.from({ length: Math.max(1, sequences - 1) }, async (_, k) => {
      for (let i = 0; !stop; i++) {
        await (await chat(`Write about item ${k}-${i}.`, batchMaxTokens)).text();
        backgroundDone++;
      }
    });
    await new Promise((r) => setTimeout(r, 500));
    const startedDone = backgroundDone;
    results[2].times.push(...(await online(perRound)));
    results[2].background += backgroundDone - startedDone;
    stop = true;
    await Promise.all(background);
  }

  const idle50 = pct(results[0].times, 50);
  const idle99 = pct(results[0].times, 99);
  console.log(`tiny-chat on llama.cpp, ${threads} thread(s), ${sequences} sequences; ${requests} online requests per phase in ${rounds} interleaved rounds (max_tokens ${maxTokens}, one at a time); load average ${loadavg().map((x) => x.toFixed(1)).join(" ")} on ${cpus().length} CPUs.`);
  console.log(`batch: ${batchLines} lines of max_tokens ${batchMaxTokens} on a GlobalBatch deployment of the same model.`);
  console.log("phase       online p50   p99        p50/idle  p99/idle  background lines answered meanwhile");
  for (const r of results) {
    const p50 = pct(r.times, 50);
    const p99 = pct(r.times, 99);
    console.log(
      `${r.phase.padEnd(10)}  ${p50.toFixed(1).padStart(7)} ms ${p99.toFixed(1).padStart(7)} ms  ${(p50 / idle50).toFixed(2).padStart(6)}x  ${(p99 / idle99).toFixed(2).padStart(7)}x  ${r.phase === "idle" ? "-" : r.background}`,
    );
  }
} finally {
  await ingot.close();
  rmSync(dataDir, { recursive: true, force: true });
}
