// The CLI's progress line: plain lines throttled per percent and per key when stderr is not a
// terminal, a redrawn line with a bar on a terminal, and the rate/ETA helpers.
import assert from "node:assert/strict";
import { test } from "node:test";
import { bar, formatEta, ProgressLine, RateMeter } from "../../src/cli/progress.ts";
import { closest } from "../../src/cli/args.ts";

function sink(tty: boolean) {
  const out: string[] = [];
  return { out, sink: { write: (t: string) => void out.push(t), tty, columns: 80 } };
}

test("plain: a line per key change and per whole percent, nothing in between", () => {
  const { out, sink: s } = sink(false);
  let now = 0;
  const p = new ProgressLine(s, { now: () => now });
  p.update({ label: "job: queued", key: "queued" });
  p.update({ label: "job: queued", key: "queued" });
  for (let step = 1; step <= 400; step++) {
    now += 10;
    p.update({ label: "training", fraction: step / 400, detail: `step ${step}/400`, key: "running" });
  }
  assert.equal(out[0], "job: queued\n");
  const training = out.slice(1);
  assert.equal(training.length, 101, "the first step (a new key), then one line per percent");
  assert.equal(training[0], "training    0.3%  step 1/400\n");
  assert.equal(training.at(-1), "training  100.0%  step 400/400\n");
  p.end("done");
  assert.equal(out.at(-1), "done\n");
});

test("plain without a fraction: changed text at most every plainIntervalMs", () => {
  const { out, sink: s } = sink(false);
  let now = 0;
  const p = new ProgressLine(s, { now: () => now, plainIntervalMs: 1000 });
  for (let i = 0; i < 30; i++) {
    now += 100;
    p.update({ label: "loading", detail: String(i), key: "a" });
  }
  assert.deepEqual(out, ["loading  0\n", "loading  10\n", "loading  20\n"]);
});

test("tty: redraws one line with \\r and a bar; log lines go above it; end clears it", () => {
  const { out, sink: s } = sink(true);
  let now = 0;
  const p = new ProgressLine(s, { now: () => now });
  p.update({ label: "training", fraction: 0.5, detail: "step 5/10", key: "running" });
  now += 10;
  p.update({ label: "training", fraction: 0.6, detail: "step 6/10", key: "running" }); // throttled
  now += 200;
  p.update({ label: "training", fraction: 0.7, detail: "step 7/10", key: "running" });
  p.log("Checkpoint created");
  p.end("finished");
  assert.equal(out[0], `\rtraining  [############            ]  50.0%  step 5/10\u001b[K`);
  assert.equal(out[1], `\rtraining  ${bar(0.7)}  70.0%  step 7/10\u001b[K`);
  assert.equal(out[2], "\r\u001b[KCheckpoint created\n");
  assert.equal(out[3], out[1], "redrawn after the log line");
  assert.deepEqual(out.slice(4), ["\r\u001b[K", "finished\n"]);
});

test("RateMeter, formatEta and closest", () => {
  const m = new RateMeter(10_000);
  m.add(0, 0);
  assert.equal(m.rate(), undefined);
  m.add(500, 100);
  m.add(700, 100); // unchanged values are not samples
  m.add(1000, 200);
  assert.equal(m.rate(), 200);
  m.add(1100, 5); // restarted
  assert.equal(m.rate(), undefined);
  assert.equal(formatEta(65), "1:05");
  assert.equal(formatEta(3725), "1:02:05");
  assert.equal(formatEta(undefined), "?");
  assert.equal(formatEta(-1), "?");
  assert.equal(closest("--fil", ["--file", "--purpose"]), "--file");
  assert.equal(closest("uplod", ["upload", "list"]), "upload");
  assert.equal(closest("zzz", ["upload", "list"]), undefined);
});
