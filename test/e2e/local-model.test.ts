// Bring-your-own GGUF: a quantized model file on disk (built by `ingot dev make-model`'s
// builder) deployed through a catalog entry with `file:` weights, answering like the built-ins.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { buildModel } from "../../src/models/builtin/builder.ts";
import { startServer } from "./harness.ts";
import type { TestServer } from "./harness.ts";

const dir = mkdtempSync(join(tmpdir(), "ingot-local-model-"));
let server: TestServer;
before(async () => {
  const file = join(dir, "tiny-q8.gguf");
  await buildModel({ shape: "tiny", seed: 11, type: "q8_0", out: file });
  const model = { format: "Custom", name: "tiny-q8", version: "1" };
  server = await startServer({
    extraModels: [
      {
        ...model,
        capabilities: ["chatCompletion", "completion"],
        contextLength: 1024,
        weights: `file:${file}`,
        skus: [{ name: "GlobalStandard", minCapacity: 1, maxCapacity: 1000, defaultCapacity: 10 }],
        lifecycleStatus: "GenerallyAvailable",
        license: "MIT",
      },
    ],
    extraDeployments: [{ name: "my-q8", model }],
  });
});
after(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test("a local Q8_0 GGUF deploys and answers through AzureOpenAI", async () => {
  const r = await server.azure({ deployment: "my-q8" }).chat.completions.create({ model: "x", messages: [{ role: "user", content: "hi" }], max_tokens: 6, seed: 1 });
  assert.equal(r.model, "tiny-q8");
  assert.ok(r.usage!.completion_tokens >= 1);
  const models = await server.v1().models.list();
  assert.ok(models.data.some((m) => m.id === "tiny-q8" && m.owned_by === "Custom"));
});
