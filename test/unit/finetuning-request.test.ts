// Create-job bodies: OpenAI's fields, method.supervised, Azure ML's names, and the errors.
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseCreateJob } from "../../src/http/openai/fine-tuning-request.ts";
import { caught } from "./caught.ts";

const base = { model: "tiny-chat", training_file: "file-abc" };

test("defaults: every hyperparameter auto, no validation, a generated seed", () => {
  const p = parseCreateJob(base);
  assert.deepEqual(p.requested, { n_epochs: "auto", batch_size: "auto", learning_rate_multiplier: "auto" });
  assert.equal(p.validationFile, null);
  assert.equal(p.validationSplit, 0);
  assert.ok(Number.isInteger(p.seed));
});

test("hyperparameters, method.supervised and Azure ML's names (strings, as seed 004 sends them)", () => {
  assert.deepEqual(parseCreateJob({ ...base, hyperparameters: { n_epochs: 3, batch_size: "auto", learning_rate_multiplier: 0.5 } }).requested, {
    n_epochs: 3,
    batch_size: "auto",
    learning_rate_multiplier: 0.5,
  });
  assert.equal(parseCreateJob({ ...base, method: { type: "supervised", supervised: { hyperparameters: { n_epochs: 7 } } } }).requested.n_epochs, 7);
  const azureMl = parseCreateJob({ ...base, hyperparameters: { per_device_train_batch_size: "1", learning_rate: "0.00002", num_train_epochs: "1" } }).requested;
  assert.equal(azureMl.n_epochs, 1);
  assert.equal(azureMl.batch_size, 1);
  assert.equal(azureMl.learning_rate, 0.00002);
  assert.deepEqual(parseCreateJob({ ...base, hyperparameters: { rank: 4, alpha: 8 } }).requested.rank, 4);
});

test("errors name the parameter and the fix", () => {
  assert.equal(caught(() => parseCreateJob({ training_file: "f" })).param, "model");
  assert.equal(caught(() => parseCreateJob({ model: "m" })).param, "training_file");
  assert.equal(caught(() => parseCreateJob({ ...base, hyperparameters: { n_epochs: 0 } })).param, "hyperparameters.n_epochs");
  assert.equal(caught(() => parseCreateJob({ ...base, hyperparameters: { n_epochs: 51 } })).param, "hyperparameters.n_epochs");
  assert.equal(caught(() => parseCreateJob({ ...base, hyperparameters: { epochs: 3 } })).param, "hyperparameters.epochs");
  assert.match(caught(() => parseCreateJob({ ...base, method: { type: "dpo" } })).message, /not supported.*supervised/);
  assert.equal(caught(() => parseCreateJob({ ...base, suffix: "x".repeat(41) })).param, "suffix");
  assert.equal(caught(() => parseCreateJob({ ...base, suffix: "has space" })).param, "suffix");
  assert.equal(caught(() => parseCreateJob({ ...base, seed: -1 })).param, "seed");
  assert.equal(caught(() => parseCreateJob({ ...base, validation_split: 0.9 })).param, "validation_split");
  assert.equal(caught(() => parseCreateJob({ ...base, validation_file: "file-v", validation_split: 0.1 })).param, "validation_split");
});
