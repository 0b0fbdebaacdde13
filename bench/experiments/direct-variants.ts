// Experiment: node-llama-cpp direct decode under the settings Ingot's runner uses, one
// knob at a time. node bench/experiments/direct-variants.ts <shape> <threads> [tokens] [reps] [label prefixes]
import { fileURLToPath } from "node:url";
import { runToEnd } from "../children.ts";
import type { DirectOptions } from "../direct-llama.ts";
import { modelPathFor } from "../models.ts";
import type { BenchShape } from "../models.ts";
import { median } from "../streams.ts";

const ENTRY = fileURLToPath(new URL("../direct-llama.ts", import.meta.url));
const [shape = "smollm2-135m", threadsArg = "1", tokensArg = "128", repsArg = "5"] = process.argv.slice(2);
const base: DirectOptions = {
  modelPath: modelPathFor(shape as BenchShape),
  threads: Number(threadsArg),
  tokens: Number(tokensArg),
  prompt: "The quick brown fox jumps over the lazy dog. ",
  reps: Number(repsArg),
  contextSize: 1024,
};
const only = process.argv[6]?.split(",");
const allVariants: [string, Partial<DirectOptions>][] = [
  ["plain (threads: N, 1 sequence)", {}],
  ["8 sequences", { sequences: 8 }],
  ["threads {ideal, min}", { threadsAsIdealMin: true }],
  ["evaluateWithMetadata", { withMetadata: true }],
  ["flashAttention", { flashAttention: true }],
  ["as Ingot's runner (8 seq, {ideal,min}, metadata)", { sequences: 8, threadsAsIdealMin: true, withMetadata: true }],
  ["plain again", {}],
];
const variants = only ? allVariants.filter(([label]) => only.some((o) => label.startsWith(o))) : allVariants;
for (const [label, v] of variants) {
  const r = await runToEnd(process.execPath, ["--no-warnings", ENTRY, JSON.stringify({ ...base, ...v })], { timeoutMs: 300_000 });
  const m = /RESULT (.+)/.exec(r.stdout);
  if (!m) throw new Error(r.stderr);
  const rates = (JSON.parse(m[1]) as { rates: number[] }).rates;
  console.log(`${label.padEnd(52)} ${median(rates).toFixed(1).padStart(7)} tok/s  [${rates.map((x) => x.toFixed(0)).join(" ")}]`);
}
