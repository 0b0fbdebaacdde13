// Experiment: decode rate seen at Ingot's engine layer, without HTTP: the runner child
// process driven through RunnerClient (IPC only), single stream and N concurrent streams.
// node bench/experiments/runner-ipc.ts <shape> <threads> [tokens] [streams,...]
// INGOT_STREAM_INTERVAL_MS: the runner's stream interval (default 0: a message per token).
import { performance } from "node:perf_hooks";
import { RunnerClient } from "../../src/engines/llamacpp/runner-client.ts";
import type { FromRunner } from "../../src/engines/llamacpp/protocol.ts";
import { modelPathFor } from "../models.ts";
import type { BenchShape } from "../models.ts";
import { median } from "../streams.ts";

const [shape = "smollm2-135m", threadsArg = "1", tokensArg = "128", streamsArg = "1,1,1,8,8"] = process.argv.slice(2);
const tokens = Number(tokensArg);
const client = new RunnerClient({ modelPath: modelPathFor(shape as BenchShape), threads: Number(threadsArg), sequences: 8, contextLength: 1024, embeddings: false, streamIntervalMs: Number(process.env.INGOT_STREAM_INTERVAL_MS ?? 0) }, () => {});
await client.start();

function generate(i: number): Promise<{ first: number; last: number; sent: number; ended: number; count: number }> {
  return new Promise((resolve, reject) => {
    const sent = performance.now();
    let first = 0;
    let last = 0;
    const req = client.request(
      (id) => ({
        type: "generate", id, prompt: { kind: "text", text: `Stream ${i}: The quick brown fox jumps over the lazy dog. ` },
        maxTokens: tokens, stop: [], logprobs: null,
        sampling: { temperature: 0, topP: 1, presencePenalty: 0, frequencyPenalty: 0, logitBias: [] },
      }),
      {
        onMessage: (m: FromRunner) => {
          const now = performance.now();
          if (m.type === "text") {
            if (!first) first = now;
            last = now;
          } else if (m.type === "done") {
            req.done();
            resolve({ first, last, sent, ended: now, count: m.completionTokens });
          } else if (m.type === "error") reject(new Error(m.message));
        },
        onDeath: reject,
      },
    );
  });
}

for (const streams of streamsArg.split(",").map(Number)) {
  const rs = await Promise.all(Array.from({ length: streams }, (_, i) => generate(i)));
  const total = rs.reduce((s, r) => s + r.count, 0);
  const wall = Math.max(...rs.map((r) => r.ended)) - Math.min(...rs.map((r) => r.sent));
  const perStream = median(rs.map((r) => ((r.count - 1) * 1000) / (r.last - r.first)));
  console.log(`${streams} stream(s): aggregate ${((total * 1000) / wall).toFixed(1)} tok/s, per-stream decode ${perStream.toFixed(1)} tok/s`);
}
await client.stop();
