// LoRA adapters are checked against their base before a runner loads them, and lora: weights
// are valid catalog weights only with a baseModel.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { validateCatalogModel, weightsProblem } from "../../src/core/catalog/validate.ts";
import { ensureBuiltinModel } from "../../src/models/builtin/recipes.ts";
import { f32, str } from "../../src/gguf/format.ts";
import { writeGguf } from "../../src/gguf/writer.ts";
import { adapterProblem } from "../../src/models/adapter-check.ts";
import { writeTestAdapter } from "../fixtures/lora-adapter.ts";

const dir = mkdtempSync(join(tmpdir(), "ingot-adapter-check-"));
let base: string;
before(async () => {
  base = (await ensureBuiltinModel("tiny-chat", dir)).path;
});
after(() => rmSync(dir, { recursive: true, force: true }));

test("an adapter written for tiny-chat fits it", async () => {
  assert.equal(await adapterProblem(await writeTestAdapter(join(dir, "ok.gguf"), { seed: 1 }), base), undefined);
});

test("wrong shapes, a model instead of an adapter, another architecture and garbage are named", async () => {
  const shape = await writeTestAdapter(join(dir, "shape.gguf"), { seed: 1, wrongShape: true });
  assert.match((await adapterProblem(shape, base))!, /blk\.0\.attn_q\.weight\.lora_a \[64, 4\] .* do not fit the base weight \[128, 128\] \(expected \[128, r\] and \[r, 128\]/);
  assert.match((await adapterProblem(base, base))!, /not an adapter \(general\.type is missing/);
  const other = join(dir, "other-arch.gguf");
  await writeGguf(other, { metadata: { "general.architecture": str("qwen2"), "general.type": str("adapter"), "adapter.type": str("lora"), "adapter.lora.alpha": f32(4) }, tensors: [] });
  assert.match((await adapterProblem(other, base))!, /architecture 'qwen2' is not the base model's 'llama'/);
  const garbage = join(dir, "garbage.gguf");
  writeFileSync(garbage, "nope");
  assert.match((await adapterProblem(garbage, base))!, /not a readable GGUF file/);
});

test("lora: weights need an absolute path and a baseModel", () => {
  assert.equal(weightsProblem("lora:/data/a.gguf"), undefined);
  assert.match(weightsProblem("lora:a.gguf")!, /absolute path/);
  const entry = {
    format: "Ingot",
    name: "tiny-chat.ft-abc",
    version: "1",
    capabilities: ["chatCompletion"],
    contextLength: 2048,
    weights: "lora:/data/a.gguf",
    skus: [{ name: "Standard", minCapacity: 1, maxCapacity: 10, defaultCapacity: 1 }],
    lifecycleStatus: "Preview",
    license: "MIT",
    fineTuneJob: "ftjob-abc",
  };
  assert.throws(() => validateCatalogModel(entry, "m"), /m\.baseModel: is required with lora: weights/);
  const ok = validateCatalogModel({ ...entry, baseModel: { format: "Ingot", name: "tiny-chat", version: "1" } }, "m");
  assert.equal(ok.fineTuneJob, "ftjob-abc");
  assert.equal(ok.engine, "llamacpp");
});
