// The memory estimate read from GGUF metadata, and the refusal (with what to do) when a
// model would not fit, before anything is loaded.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { Catalog } from "../../src/core/catalog/catalog.ts";
import { IngotError } from "../../src/core/errors.ts";
import { buildModel } from "../../src/models/builtin/builder.ts";
import { SHAPES } from "../../src/models/builtin/shapes.ts";
import { inspectGguf } from "../../src/models/inspect.ts";
import { checkMemory, estimateFromDimensions, estimateMemory } from "../../src/models/memory.ts";
import type { ModelDimensions } from "../../src/models/memory.ts";
import { LocalModelFiles } from "../../src/models/model-files.ts";

const dir = mkdtempSync(join(tmpdir(), "ingot-memory-"));
const file = join(dir, "tiny.gguf");
before(async () => {
  await buildModel({ shape: "tiny", seed: 3, type: "f32", out: file });
});
after(() => rmSync(dir, { recursive: true, force: true }));

test("a built tiny model: weights are the file, KV cache is f16 K+V per layer, head and cell", async () => {
  const s = SHAPES.tiny;
  const e = await estimateMemory(file, 2048, 8);
  assert.equal(e.weightsBytes, statSync(file).size);
  const headDim = s.embd / s.heads;
  assert.equal(e.kvCacheBytes, s.layers * s.kvHeads * 2 * headDim * 2 * 2048 * 8);
  assert.ok(e.computeBytes > 64 * 1024 * 1024, "compute margin includes the fixed overhead");
  assert.equal(e.totalBytes, e.weightsBytes + e.kvCacheBytes + e.computeBytes);
  assert.equal((await estimateMemory(file, 1024, 8)).kvCacheBytes * 2, e.kvCacheBytes, "KV grows with the context");
  assert.equal((await estimateMemory(file, 2048, 4)).kvCacheBytes * 2, e.kvCacheBytes, "and with the sequences");
});

test("real shapes: Qwen2.5-1.5B's grouped-query KV cache", () => {
  // Qwen/Qwen2.5-1.5B-Instruct config.json: 28 layers, 12 heads, 2 KV heads, hidden 1536.
  const d: ModelDimensions = { architecture: "qwen2", layers: 28, embedding: 1536, heads: 12, kvHeads: 2, keyLength: 128, valueLength: 128, vocab: 151936, trainedContext: 32768 };
  const e = estimateFromDimensions(d, 1_117_320_736, 4096, 8);
  assert.equal(e.kvCacheBytes, 28 * 2 * 256 * 2 * 4096 * 8); // 0.94 GB
  const perLayer = estimateFromDimensions({ ...d, kvHeads: new Array(28).fill(2) }, 1, 4096, 8);
  assert.equal(perLayer.kvCacheBytes, e.kvCacheBytes, "a per-layer KV head array counts the same");
});

test("checkMemory refuses with the numbers and what to do", async () => {
  const e = await estimateMemory(file, 2048, 8);
  assert.doesNotThrow(() => checkMemory(e, e.totalBytes));
  assert.throws(
    () => checkMemory(e, 1024 * 1024, "tiny-chat"),
    (err: unknown) => {
      assert.ok(err instanceof IngotError);
      assert.equal(err.code, "InsufficientMemory");
      assert.match(err.message, /^Not enough memory to load tiny-chat: it needs about \d+\.\d GiB \(weights \d+\.\d GiB, KV cache \d+\.\d GiB for 8 sequences × 2048 tokens, compute buffers \d+\.\d GiB\) and 0\.0 GiB is free\./);
      assert.match(err.message, /Free memory, choose a smaller quantization, or lower --sequences/);
      return true;
    },
  );
});

test("ModelFiles.checkFits refuses before loading when free memory is short", async () => {
  const catalog = new Catalog(Catalog.readDirectory(join(import.meta.dirname, "../../catalog")));
  const tight = new LocalModelFiles(catalog, dir, { availableMemory: () => 10 * 1024 * 1024 });
  await assert.rejects(tight.checkFits(file, 2048, 8, "tiny-chat"), /Not enough memory to load tiny-chat/);
  const roomy = new LocalModelFiles(catalog, dir, { availableMemory: () => 64 * 1024 ** 3 });
  await roomy.checkFits(file, 2048, 8, "tiny-chat");
});

test("inspectGguf reads what `models add` needs", async () => {
  const s = await inspectGguf(file);
  assert.equal(s.architecture, "llama");
  assert.equal(s.trainedContext, SHAPES.tiny.context);
  assert.equal(s.embeddings, false);
  assert.equal(s.hasChatTemplate, true);
  const embed = join(dir, "embed.gguf");
  await buildModel({ shape: "tiny-embed", seed: 3, type: "f32", out: embed });
  assert.equal((await inspectGguf(embed)).embeddings, true, "pooling_type marks an embeddings model");
});
