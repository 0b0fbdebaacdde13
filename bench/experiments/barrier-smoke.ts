// Experiment: the engine's batching loop under awkward traffic, to check it never stalls
// (written for the former step barrier, which the lockstep loop in runner/lane.ts replaced):
// more streams than sequences, max_tokens 1..64, stop strings, streams aborted mid-way, a
// chat request, non-streamed requests. Every request has a deadline.
// node bench/experiments/barrier-smoke.ts [shape]
import { startIngot } from "../ingot-process.ts";
import { decodeTps, streamOnce } from "../streams.ts";
import { modelPathFor } from "../models.ts";
import type { BenchShape } from "../models.ts";

const shape = (process.argv[2] ?? "smollm2-135m") as BenchShape;
const ingot = await startIngot({ modelPath: modelPathFor(shape), threads: 2, sequences: 8, contextLength: 1024, engine: "src" });
const headers = { "content-type": "application/json", "api-key": ingot.apiKey };
async function completion(i: number, body: Record<string, unknown>, abortAfterMs?: number): Promise<string> {
  const ctl = new AbortController();
  const deadline = setTimeout(() => ctl.abort(new Error("deadline")), 60_000);
  if (abortAfterMs !== undefined) setTimeout(() => ctl.abort(new Error("client abort")), abortAfterMs);
  const t0 = performance.now();
  try {
    const res = await fetch(`${ingot.url}/openai/v1/completions`, { method: "POST", headers, signal: ctl.signal, body: JSON.stringify({ model: ingot.deployment, prompt: `Request ${i}: hello`, temperature: 0, ...body }) });
    const text = await res.text();
    return `#${i} ${res.status} ${(performance.now() - t0).toFixed(0)} ms ${text.length} bytes`;
  } catch (e) {
    return `#${i} ${(e as Error).message === "deadline" ? "STALLED (deadline)" : "aborted as planned"} after ${(performance.now() - t0).toFixed(0)} ms`;
  } finally {
    clearTimeout(deadline);
  }
}
try {
  const jobs: Promise<string>[] = [];
  for (let i = 0; i < 14; i++) {
    const maxTokens = [1, 2, 5, 17, 64][i % 5];
    const abort = i === 3 || i === 9 ? 150 : undefined;
    jobs.push(completion(i, { max_tokens: maxTokens, stream: i % 2 === 0, stop: i === 4 ? [" a"] : undefined, ...(i === 5 ? { temperature: 0.8, seed: 3 } : {}) }, abort));
  }
  jobs.push(
    fetch(`${ingot.url}/openai/v1/chat/completions`, { method: "POST", headers, signal: AbortSignal.timeout(60_000), body: JSON.stringify({ model: ingot.deployment, messages: [{ role: "user", content: "hi" }], max_tokens: 20, stream: true }) }).then(
      async (r) => `chat ${r.status} ${(await r.text()).length} bytes`,
    ),
  );
  for (const line of await Promise.all(jobs)) console.log(line);
  // After the storm, a single stream must still run at full speed (no participant left behind).
  const target = { kind: "ingot" as const, url: ingot.url, apiKey: ingot.apiKey, deployment: ingot.deployment };
  for (let i = 0; i < 3; i++) {
    const t = await streamOnce(target, "The quick brown fox jumps over the lazy dog. ", 64, 60_000);
    console.log(`single stream after: ${decodeTps(t).toFixed(1)} tok/s decode, TTFT ${(t.first - t.sent).toFixed(0)} ms`);
  }
} finally {
  await ingot.stop();
}
