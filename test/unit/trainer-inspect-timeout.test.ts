// A dataset inspection that hangs (a worker that never answers) is killed after the
// trainer's inspection timeout and fails with a reason, instead of holding the job forever.
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { LlamaCppTrainer } from "../../src/trainers/llamacpp/trainer.ts";

const dir = mkdtempSync(join(tmpdir(), "ingot-inspect-timeout-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("an inspection still running after inspectTimeoutMs is stopped with a reason", { timeout: 20_000 }, async () => {
  // Stands in for the worker's Node: never writes an inspection, never exits on its own.
  const stuck = join(dir, "stuck-node");
  writeFileSync(stuck, "#!/bin/sh\nexec sleep 60\n");
  chmodSync(stuck, 0o755);
  const trainer = new LlamaCppTrainer({ nodePath: stuck, inspectTimeoutMs: 300 });
  const started = Date.now();
  await assert.rejects(trainer.inspect("/nonexistent/base.gguf", join(dir, "train.jsonl"), 256), /took longer than 0\.3 s.*smaller training file/);
  assert.ok(Date.now() - started < 10_000);
});
