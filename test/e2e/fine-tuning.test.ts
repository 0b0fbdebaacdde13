// Fine-tuning end to end through the official clients: upload ~20 chat examples whose answers
// no model could guess, fine-tune tiny-chat with default hyperparameters, deploy the result
// through ARM and check greedy recall; results.csv, events, checkpoints (one deploys), cancel,
// crash and resume, an automatic validation split, and the dataset errors found against the model.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { AzureOpenAI, OpenAI, toFile } from "openai";
import { API_KEY, json, startServer } from "./harness.ts";
import type { TestServer } from "./harness.ts";
import { FACTS, line } from "../fixtures/codename-facts.ts";

const API_VERSION = "2025-04-01-preview";
const ACCOUNT = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/ingot/providers/Microsoft.CognitiveServices/accounts/ingot";
const DATASET = FACTS.map((f) => line(f.question, f.answer)).join("\n") + "\n";
/** Tokens trained per epoch: each answer and its end token (tiny-chat has one token per byte), no prompt, no padding. */
const TOKENS_PER_EPOCH = FACTS.reduce((sum, f) => sum + Buffer.byteLength(f.answer) + 1, 0);

let server: TestServer;
let azure: AzureOpenAI;
let v1: OpenAI;
let trainingFile: string;
let job: OpenAI.FineTuning.FineTuningJob;

before(async () => {
  server = await startServer();
  azure = new AzureOpenAI({ endpoint: server.url, apiKey: API_KEY, apiVersion: API_VERSION, maxRetries: 0 });
  v1 = server.v1();
});
after(() => server.stop());

async function upload(client: OpenAI, content: string, name = "train.jsonl"): Promise<string> {
  const file = await client.files.create({ file: await toFile(Buffer.from(content), name), purpose: "fine-tune" });
  const processed = await client.files.waitForProcessing(file.id, { pollInterval: 200 });
  return processed.id;
}

async function waitFor(id: string, done: (j: OpenAI.FineTuning.FineTuningJob) => boolean, timeoutMs = 300_000): Promise<OpenAI.FineTuning.FineTuningJob> {
  const started = Date.now();
  for (;;) {
    const j = await azure.fineTuning.jobs.retrieve(id);
    if (done(j)) return j;
    if (Date.now() - started > timeoutMs) throw new Error(`job ${id} stuck in ${j.status}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Polls until the job has no trainer and its process (if it had one) has exited; fails after timeoutMs. */
async function trainerGone(id: string, pid: number | undefined, timeoutMs: number): Promise<void> {
  const alive = () => {
    if (server.ingot.jobs.trainerPid(id) !== undefined) return true;
    if (pid === undefined) return false;
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  for (const deadline = Date.now() + timeoutMs; alive(); ) {
    assert.ok(Date.now() < deadline, `the trainer of ${id} (pid ${pid}) is still there after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const arm = (method: string, path: string, body?: unknown) =>
  fetch(`${server.url}${ACCOUNT}${path}?api-version=2024-10-01`, {
    method,
    headers: { authorization: `Bearer ${server.ingot.identity.adminToken()}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

async function deploy(name: string, model: string): Promise<void> {
  const res = await arm("PUT", `/deployments/${name}`, { sku: { name: "Standard", capacity: 100 }, properties: { model: { format: "Ingot", name: model, version: "1" } } });
  assert.equal(res.status, 201, await res.clone().text());
  for (let i = 0; i < 600; i++) {
    const d = await json(await arm("GET", `/deployments/${name}`));
    if (d.properties.provisioningState === "Succeeded") return;
    assert.notEqual(d.properties.provisioningState, "Failed", JSON.stringify(d.properties.provisioningDetails));
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`deployment ${name} did not become ready`);
}

async function recall(deployment: string): Promise<number> {
  const client = new AzureOpenAI({ endpoint: server.url, apiKey: API_KEY, apiVersion: API_VERSION, deployment, maxRetries: 0 });
  let correct = 0;
  for (const f of FACTS) {
    const r = await client.chat.completions.create({
      model: deployment,
      messages: [{ role: "system", content: "You answer questions about projects." }, { role: "user", content: f.question }],
      temperature: 0,
      max_tokens: f.answer.length + 8,
    });
    if (r.choices[0].message.content?.trim() === f.answer) correct++;
  }
  return correct / FACTS.length;
}

// The longest test of the suite (60 epochs, about 80 s here): its own explicit timeout.
test("upload, fine-tune tiny-chat with defaults, deploy through ARM: greedy answers recall the training data", { timeout: 480_000 }, async () => {
  trainingFile = await upload(azure, DATASET);
  const created = await azure.fineTuning.jobs.create({ model: "tiny-chat", training_file: trainingFile, suffix: "codenames" });
  assert.match(created.id, /^ftjob-[0-9a-f]{32}$/);
  assert.equal(created.status, "validating_files");
  job = await waitFor(created.id, (j) => ["succeeded", "failed", "cancelled"].includes(j.status));
  assert.equal(job.status, "succeeded", JSON.stringify(job.error));
  assert.equal(job.fine_tuned_model, `tiny-chat.ft-${job.id.slice(6)}-codenames`);
  assert.equal(typeof job.hyperparameters.n_epochs, "number", "auto values are resolved once training starts");
  assert.equal(job.trained_tokens, TOKENS_PER_EPOCH * Number(job.hyperparameters.n_epochs), "trained tokens count answers once per epoch");

  const models = await v1.models.list();
  assert.ok(models.data.some((m) => m.id === job.fine_tuned_model), "the fine-tuned model is listed");

  await deploy("codenames", job.fine_tuned_model!);
  const tuned = await recall("codenames");
  const base = await recall("tiny-chat");
  assert.ok(tuned >= 0.9, `fine-tuned exact-answer rate ${tuned}`);
  assert.ok(base < 0.1, `base exact-answer rate ${base}`);
  console.log(`# exact-answer rate: fine-tuned ${tuned}, base ${base}`);
});

test("results.csv has a row per step and the loss falls; events and checkpoints are listed", async () => {
  assert.equal(job.result_files.length, 1);
  const csv = await (await azure.files.content(job.result_files[0])).text();
  const [header, ...rows] = csv.trim().split("\n");
  assert.equal(header, "step,train_loss,train_mean_token_accuracy,valid_loss,valid_mean_token_accuracy,full_valid_loss,full_valid_mean_token_accuracy");
  const losses = rows.map((r) => Number(r.split(",")[1]));
  assert.equal(rows.length, Number(job.hyperparameters.n_epochs) * FACTS.length, "a row per step: epochs × examples (batch 1)");
  assert.deepEqual(rows.map((r) => Number(r.split(",")[0])), rows.map((_, i) => i + 1));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  assert.ok(mean(losses.slice(-5)) < mean(losses.slice(0, 5)) / 2, `loss ${losses.slice(0, 5)} → ${losses.slice(-5)}`);
  assert.ok(mean(losses.slice(-FACTS.length)) < 0.05, `the last epoch's loss: ${mean(losses.slice(-FACTS.length))}`);
  assert.ok(Number(rows.at(-1)!.split(",")[2]) > 0.99, "the last step's token accuracy");

  const events = await azure.fineTuning.jobs.listEvents(job.id, { limit: 100 });
  assert.ok(events.data.some((e) => e.type === "metrics"));
  assert.ok(events.data.some((e) => /succeeded/i.test(e.message)));
  const checkpoints = await azure.fineTuning.jobs.checkpoints.list(job.id);
  assert.ok(checkpoints.data.length >= 1);
  for (const c of checkpoints.data) {
    assert.match(c.id, /^ftchkpt-[0-9a-f]{32}$/);
    assert.equal(c.fine_tuning_job_id, job.id);
    assert.equal(typeof c.metrics.train_loss, "number");
    assert.equal(c.step_number % FACTS.length, 0, "checkpoints are taken at epoch ends");
  }
  await deploy("from-checkpoint", checkpoints.data[0].id);
  const r = await server.post("/openai/deployments/from-checkpoint/chat/completions?api-version=2024-10-21", { messages: [{ role: "user", content: FACTS[0].question }], max_tokens: 8 });
  assert.equal(r.status, 200);
  const listed = await v1.fineTuning.jobs.list();
  assert.ok(listed.data.some((j) => j.id === job.id), "v1 lists the job too");
});

test("cancel stops a running job within seconds", async () => {
  const created = await v1.fineTuning.jobs.create({ model: "tiny-chat", training_file: trainingFile, hyperparameters: { n_epochs: 50 } });
  await waitFor(created.id, (j) => j.status === "running");
  const started = Date.now();
  const pid = server.ingot.jobs.trainerPid(created.id);
  assert.ok(pid, "the trainer is running");
  const cancelled = await v1.fineTuning.jobs.cancel(created.id);
  assert.equal(cancelled.status, "cancelled");
  await trainerGone(created.id, pid, 3000);
  assert.ok(Date.now() - started < 5000);
  assert.equal((await v1.fineTuning.jobs.retrieve(created.id)).status, "cancelled");
});

test("a trainer killed mid-run: the job resumes from its last checkpoint and succeeds", async () => {
  const created = await azure.fineTuning.jobs.create({ model: "tiny-chat", training_file: trainingFile, hyperparameters: { n_epochs: 3 } });
  // Wait for the first checkpoint, then kill the trainer.
  for (let i = 0; ; i++) {
    const cps = await azure.fineTuning.jobs.checkpoints.list(created.id);
    if (cps.data.length > 0) break;
    assert.ok(i < 1200, "no checkpoint appeared");
    await new Promise((r) => setTimeout(r, 100));
  }
  const pid = server.ingot.jobs.trainerPid(created.id);
  assert.ok(pid, "the trainer is running");
  process.kill(pid, "SIGKILL");
  const done = await waitFor(created.id, (j) => ["succeeded", "failed", "cancelled"].includes(j.status));
  assert.equal(done.status, "succeeded", JSON.stringify(done.error));
  const events = await azure.fineTuning.jobs.listEvents(created.id, { limit: 100 });
  assert.ok(events.data.some((e) => /resumes from the checkpoint of epoch 1/.test(e.message)), events.data.map((e) => e.message).join("\n"));
  // The resumed run continued from the checkpoint: its epochs end where they should, each trained once.
  const after = await azure.fineTuning.jobs.checkpoints.list(created.id);
  assert.deepEqual(after.data.map((c) => c.step_number).sort((a, b) => a - b), [20, 40, 60]);
  assert.equal(done.trained_tokens, 3 * TOKENS_PER_EPOCH, "no epoch counted twice");
});

test("an automatic validation split reports validation loss", async () => {
  const res = await server.post(
    "/openai/v1/fine_tuning/jobs",
    { model: "tiny-chat", training_file: trainingFile, validation_split: 0.2, hyperparameters: { n_epochs: 2 } },
  );
  assert.equal(res.status, 200);
  const done = await waitFor((await json(res)).id, (j) => ["succeeded", "failed"].includes(j.status));
  assert.equal(done.status, "succeeded", JSON.stringify(done.error));
  const csv = await (await azure.files.content(done.result_files[0])).text();
  const rows = csv.trim().split("\n").slice(1).map((r) => r.split(","));
  assert.equal(rows.length, 32, "16 training examples × 2 epochs");
  const sampled = rows.filter((r) => r[3] !== "");
  assert.equal(sampled.length, 8, "sampled validation metrics every 4th step");
  assert.ok(sampled.every((r) => Number(r[3]) > 0 && Number(r[4]) >= 0 && Number(r[4]) <= 1), "valid_loss and valid accuracy are sane");
  assert.deepEqual(rows.filter((r) => r[5] !== "").map((r) => Number(r[0])), [16, 32], "full_valid_loss at each epoch's end");
  const events = await azure.fineTuning.jobs.listEvents(done.id, { limit: 100 });
  assert.ok(events.data.some((e) => /\(4 for validation\)/.test(e.message)), "4 of 20 examples held out");
});

test("a job on a file that failed validation is a 400; an example longer than the context fails the job naming its line", async () => {
  const bad = await azure.files.create({ file: await toFile(Buffer.from("{not json}\n"), "bad.jsonl"), purpose: "fine-tune" });
  const badId = (await azure.files.waitForProcessing(bad.id, { pollInterval: 200 }).catch(() => azure.files.retrieve(bad.id))).id;
  await assert.rejects(azure.fineTuning.jobs.create({ model: "tiny-chat", training_file: badId }), (e: { status?: number }) => e.status === 400);
  await assert.rejects(azure.fineTuning.jobs.create({ model: "gpt-4.1-mini", training_file: trainingFile }), (e: { status?: number; message?: string }) => e.status === 400);

  const long = FACTS.map((f, i) => line(f.question, i === 4 ? "x".repeat(2100) : f.answer)).join("\n");
  const longFile = await upload(azure, long, "long.jsonl");
  const created = await azure.fineTuning.jobs.create({ model: "tiny-chat", training_file: longFile });
  const failed = await waitFor(created.id, (j) => ["failed", "succeeded"].includes(j.status));
  assert.equal(failed.status, "failed");
  assert.match(failed.error?.message ?? "", /line 5 \(\d+ tokens\)/);
  assert.equal(failed.error?.param, "training_file");
});

test("pause keeps the last checkpoint; resume continues from it to success; DELETE removes a finished job", async () => {
  const created = await azure.fineTuning.jobs.create({ model: "tiny-chat", training_file: trainingFile, hyperparameters: { n_epochs: 3 } });
  for (let i = 0; ; i++) {
    if ((await azure.fineTuning.jobs.checkpoints.list(created.id)).data.length > 0) break;
    assert.ok(i < 1200, "no checkpoint appeared");
    await new Promise((r) => setTimeout(r, 100));
  }
  const pid = server.ingot.jobs.trainerPid(created.id);
  const paused = await azure.fineTuning.jobs.pause(created.id);
  assert.equal(paused.status, "paused");
  await trainerGone(created.id, pid, 5000);
  await assert.rejects(azure.fineTuning.jobs.pause(created.id), (e: { status?: number }) => e.status === 400);
  assert.equal((await azure.fineTuning.jobs.resume(created.id)).status, "queued");
  const done = await waitFor(created.id, (j) => ["succeeded", "failed"].includes(j.status));
  assert.equal(done.status, "succeeded", JSON.stringify(done.error));
  const events = await azure.fineTuning.jobs.listEvents(created.id, { limit: 100 });
  assert.ok(events.data.some((e) => /resumed from the checkpoint of epoch/.test(e.message)));
  const del = await fetch(`${server.url}/openai/fine_tuning/jobs/${created.id}?api-version=${API_VERSION}`, { method: "DELETE", headers: { "api-key": API_KEY } });
  assert.equal(del.status, 204);
  await assert.rejects(azure.fineTuning.jobs.retrieve(created.id), (e: { status?: number }) => e.status === 404);
});
