// The embedded classifier's evaluation (issue 14 item 3a): `npm run eval:safety`.
//
// sentences.jsonl: labelled sentences written for Ingot (not taken from any data set). Each has a
// severity 0–7 per harm category, whether it is a jailbreak, and `benign` (the sentences written
// to be harmless while using alarming words: computing, photos, cooking, sports, games, history,
// medicine, fiction, news, idioms, support for people at risk). `split`, in the order written:
//   dev       what the lexicons and rules were first tuned on;
//   test      held out for the first measurement; its mistakes were then read and fixed;
//   holdout   written after that, measured once, then its mistakes were read and fixed too;
//   holdout3  written before that last round of changes and never tuned on: the figures for
//             text the classifier was not shaped by (README).
//
//   node eval/safety/run.ts [--errors SPLIT|all] [--split dev|test|holdout|holdout3|all]
//
// Prints per split: per category precision and recall when filtering at Medium (severity ≥ 4,
// Azure's default threshold) and at Low (≥ 2); the false-positive rate on the benign sentences
// (any category at or above the threshold, or a jailbreak reported); jailbreak precision and
// recall; the per-text classification time (p50/p99).
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { EmbeddedClassifier } from "../../src/core/safety/classifier/index.ts";
import { HARM_CATEGORIES, type HarmCategory } from "../../src/core/ports/content-classifier.ts";

interface Item {
  id: string;
  split: "dev" | "test" | "holdout" | "holdout3";
  topic: string;
  benign: boolean;
  text: string;
  labels: Record<HarmCategory, number>;
  jailbreak: boolean;
}

interface Scored extends Item {
  predicted: Record<HarmCategory, number>;
  predictedJailbreak: boolean;
  micros: number;
}

const { values } = parseArgs({ options: { errors: { type: "string" }, split: { type: "string", default: "all" } } });
const file = fileURLToPath(new URL("./sentences.jsonl", import.meta.url));
const items: Item[] = readFileSync(file, "utf8").split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l) as Item);

const classifier = new EmbeddedClassifier();
// Warm up (JIT) so latency is the steady state a server sees.
for (let r = 0; r < 3; r++) for (const it of items) classifier.classifySync(it.text, { side: "prompt", detectJailbreak: true });

const scored: Scored[] = items.map((it) => {
  const reps = 20;
  let result = classifier.classifySync(it.text, { side: "prompt", detectJailbreak: true });
  const t0 = process.hrtime.bigint();
  for (let r = 0; r < reps; r++) result = classifier.classifySync(it.text, { side: "prompt", detectJailbreak: true });
  const micros = Number(process.hrtime.bigint() - t0) / 1000 / reps;
  return { ...it, predicted: result.harm, predictedJailbreak: result.jailbreak === true, micros };
});

const pct = (n: number, d: number) => (d === 0 ? "   n/a" : `${((100 * n) / d).toFixed(1).padStart(5)}%`);
const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};

function report(name: string, set: Scored[]): void {
  const benign = set.filter((s) => s.benign);
  console.log(`\n== ${name}: ${set.length} sentences (${benign.length} benign with alarming words, ${set.length - benign.length} harmful or jailbreak)`);
  console.log("category    | Medium (≥4): precision  recall  (tp/fp/fn) | Low (≥2): precision  recall  (tp/fp/fn)");
  for (const cat of HARM_CATEGORIES) {
    const cols = [4, 2].map((t) => {
      let tp = 0, fp = 0, fn = 0;
      for (const s of set) {
        const want = s.labels[cat] >= t;
        const got = s.predicted[cat] >= t;
        if (want && got) tp++;
        else if (got) fp++;
        else if (want) fn++;
      }
      return `${pct(tp, tp + fp)}  ${pct(tp, tp + fn)}  (${tp}/${fp}/${fn})`;
    });
    console.log(`${cat.padEnd(11)} | ${cols[0].padEnd(40)} | ${cols[1]}`);
  }
  for (const t of [4, 2]) {
    const flagged = benign.filter((s) => s.predictedJailbreak || HARM_CATEGORIES.some((c) => s.predicted[c] >= t && s.labels[c] < t));
    console.log(`false-positive rate on the benign sentences at ${t === 4 ? "Medium" : "Low"}: ${pct(flagged.length, benign.length)} (${flagged.length}/${benign.length})`);
  }
  let tp = 0, fp = 0, fn = 0;
  for (const s of set) {
    if (s.jailbreak && s.predictedJailbreak) tp++;
    else if (s.predictedJailbreak) fp++;
    else if (s.jailbreak) fn++;
  }
  console.log(`jailbreak: precision ${pct(tp, tp + fp)}  recall ${pct(tp, tp + fn)}  (${tp}/${fp}/${fn})`);
  const micros = set.map((s) => s.micros);
  console.log(`time per text: p50 ${(quantile(micros, 0.5) / 1000).toFixed(3)} ms, p99 ${(quantile(micros, 0.99) / 1000).toFixed(3)} ms (mean length ${Math.round(set.reduce((a, s) => a + s.text.length, 0) / set.length)} chars)`);
}

const splits = values.split === "all" ? ["dev", "test", "holdout", "holdout3"] : [values.split];
const titles: Record<string, string> = {
  dev: "dev (tuned on)",
  test: "test (held out for the first run, then tuned on)",
  holdout: "holdout (held out for the second run, then tuned on)",
  holdout3: "holdout3 (never tuned on)",
};
for (const sp of splits) report(titles[sp] ?? sp, scored.filter((s) => s.split === sp));
if (values.split === "all") report("all", scored);

if (values.errors) {
  console.log(`\nmistakes (${values.errors}): expected → predicted`);
  for (const s of scored) {
    if (values.errors !== "all" && s.split !== values.errors) continue;
    const diffs: string[] = [];
    for (const c of HARM_CATEGORIES) {
      const a = s.labels[c], b = s.predicted[c];
      if ((a >= 4) !== (b >= 4) || (a >= 2) !== (b >= 2)) diffs.push(`${c} ${a}→${b}`);
    }
    if (s.jailbreak !== s.predictedJailbreak) diffs.push(`jailbreak ${s.jailbreak}→${s.predictedJailbreak}`);
    if (diffs.length) console.log(`${s.id.padEnd(14)} ${diffs.join(", ").padEnd(40)} ${s.text}`);
  }
}
