// The libllama workarounds of TrainingSession, in this process (koffi only: node-llama-cpp
// is not loaded here). A random-weight tiny model keeps every step ~50 ms.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeLoraAdapter } from '../../src/gguf/adapter.ts';
import { buildModel } from '../../src/models/builtin/builder.ts';
import { readGguf } from '../../src/gguf/reader.ts';
import { loadLibllama } from '../../src/native/libllama.ts';
import { initialAdapter } from '../../src/trainers/llamacpp/lora.ts';
import { TrainingSession } from '../../src/trainers/llamacpp/session.ts';
import type { SessionOptions, WindowInput } from '../../src/trainers/llamacpp/session.ts';

let dir: string;
let model: string;
let adapter: string;
const sessions: TrainingSession[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ingot-session-'));
  model = (await buildModel({ shape: 'tiny', seed: 11, type: 'f32', out: join(dir, 'm.gguf') })).path;
  adapter = join(dir, 'lora.gguf');
  await writeLoraAdapter(adapter, initialAdapter(await readGguf(model), 8, 16, 5));
});
after(async () => {
  for (const s of sessions) s.close();
  await rm(dir, { recursive: true, force: true });
});

function open(opts: Partial<SessionOptions> = {}): TrainingSession {
  const s = new TrainingSession(loadLibllama(), { modelPath: model, window: 256, threads: 1, mode: 'full', ...opts });
  sessions.push(s);
  return s;
}

/** Bytes of `text`, next-byte labels; positions from `trainFrom` on are trained. */
function win(text: string, trainFrom = 0): WindowInput {
  const b = Buffer.from(text);
  const w = { tokens: new Int32Array(256).fill(256), labels: new Int32Array(256).fill(256), mask: new Uint8Array(256) };
  for (let i = 0; i + 1 < b.length; i++) {
    w.tokens[i] = b[i];
    w.labels[i] = b[i + 1];
    w.mask[i] = i + 1 >= trainFrom ? 1 : 0;
  }
  return w;
}

const SENTENCES = ['The quick brown fox jumps over the lazy dog.', 'A journey of a thousand miles begins with one step.', 'All that glitters is not gold, they say.', 'Knowledge is power, and power corrupts.'];

test('gradient accumulators must be zeroed after each step: without it the loss stalls', () => {
  const run = (noGradZero: boolean) => {
    const s = open({ noGradZero });
    s.setAdam({ lr: 1e-3 });
    let loss = 0;
    for (let e = 0; e < 12; e++) {
      loss = 0;
      for (const t of SENTENCES) loss += s.step(win(t)).loss / SENTENCES.length;
    }
    return loss;
  };
  const zeroed = run(false);
  const stale = run(true);
  assert.ok(zeroed < 1.6 && stale > 2.4, `loss after 12 epochs: zeroed ${zeroed}, not zeroed ${stale}`);
});

test('the loss mask: a fully masked window changes nothing; masked positions do not learn', () => {
  const s = open();
  const w = win('Hello there, general Kenobi!');
  const before = s.evaluate(w);
  s.setAdam({ lr: 5e-3 });
  s.step({ ...w, mask: new Uint8Array(256) });
  const same = s.evaluate(w);
  assert.equal(same.loss, before.loss, 'no trained position: no update at all');
  // Train only the second half of a text: its loss falls, the masked first half's does not.
  const text = 'zqxv jkwp fhgt ymlb: the answer is forty-two.';
  const half = win(text, 22);
  const start = s.evaluate(half);
  for (let i = 0; i < 25; i++) s.step(half);
  const end = s.evaluate(half);
  assert.ok(end.loss < start.loss / 3, `trained part ${start.loss} → ${end.loss}`);
  assert.ok(end.maskedLoss > start.maskedLoss - 0.2, `masked part ${start.maskedLoss} → ${end.maskedLoss}`);
  assert.equal(end.tokens, text.length - 22);
});

test('a batch of two copies of a window takes the same step as the window alone', () => {
  const a = open();
  const b = open();
  for (const s of [a, b]) s.setAdam({ lr: 2e-3 });
  const w = win('Batching sums gradients; the mask makes it a mean over trained tokens.');
  for (let i = 0; i < 3; i++) {
    const ma = a.step(w);
    const mb = b.step([w, w]);
    assert.ok(Math.abs(ma.loss - mb.loss) < 1e-3, `step ${i}: ${ma.loss} vs ${mb.loss}`);
  }
  assert.equal(a.steps, 3);
  assert.equal(b.steps, 3);
});

test('LoRA: the adapter tensors are found in the graph and trained; the step count and node count are sane', () => {
  const s = open({ mode: 'lora', adapterPath: adapter });
  assert.equal(s.loraTensors.size, 2 * (4 * 5 + 1), 'q, o, gate, up, down per block, and output');
  const b0 = s.readLora('output.weight.lora_b');
  assert.ok(b0.every((x) => x === 0));
  s.setAdam({ lr: 2e-3 });
  const w = win('LoRA learns this sentence.');
  const first = s.step(w);
  for (let i = 0; i < 20; i++) s.step(w);
  const last = s.evaluate(w);
  assert.ok(last.loss < first.loss / 2, `${first.loss} → ${last.loss}`);
  assert.ok(s.readLora('output.weight.lora_b').some((x) => x !== 0));
  assert.ok(s.lastNodeCount > 100 && s.lastNodeCount < 1024, `${s.lastNodeCount} nodes`);
  assert.ok(s.viewCount < 64, `native views are reused (${s.viewCount})`);
});
