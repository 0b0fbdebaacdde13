// `ingot ml …` through the real binary against a TLS server: seed 004's Sample CLI YAML (only
// the model path and the names changed) with local training and validation files, which the CLI
// uploads to the workspace's datastore as az ml does; job show/list/cancel/stream to Completed
// on tiny-chat; YAML errors naming the line; serverless endpoints of the fine-tuned model;
// managed online endpoints and deployments.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import { seed004SampleYaml } from "../fixtures/seed004-sample.ts";
import { json, startServer } from "./harness.ts";
import type { TestServer } from "./harness.ts";
import { RG, SUB } from "./arm-sdk-client.ts";
import { armFetch, mlPrincipal } from "./ml-principals.ts";
import { FACTS, line } from "../fixtures/codename-facts.ts";

const BIN = fileURLToPath(new URL("../../bin/ingot.mjs", import.meta.url));
const PROVIDER = "Microsoft.MachineLearningServices";
const WS = "cli-ml-ws";
const wsPath = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/${PROVIDER}/workspaces/${WS}`;
const JOB = "tiny-chat-cli-ft";
const MODEL = "tiny-chat-cli-finetuned-model";

let server: TestServer;
let dir: string;
let owner: string;
let registryModelId: string;
let workspace: { workspaceId: string; location: string };

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** The CLI against the test server, signed in through its data dir (asynchronous: the server lives in this process). */
function ingot(...args: string[]): Promise<Run> {
  const env = { ...process.env };
  for (const k of ["AZURE_OPENAI_API_KEY", "INGOT_API_KEY", "INGOT_ENDPOINT", "INGOT_TOKEN"]) delete env[k];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args, "--endpoint", server.url, "--data-dir", server.dataDir], { env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c) => (stdout += c));
    child.stderr.on("data", (c) => (stderr += c));
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

const ok = (r: Run) => {
  assert.equal(r.status, 0, `exit ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
};
const ws = ["-g", RG, "-w", WS];

const arm = (method: string, path: string, body?: unknown, apiVersion = "2024-01-01-preview") => armFetch(server, owner, method, path, body, apiVersion);

/** Seed 004's "Sample CLI" YAML as printed there, with only the model path and the names changed. */
const sampleYaml = (model: string) => seed004SampleYaml({ name: JOB, experiment: "tiny-chat-finetuning-experiment", display: "tiny-chat-display-name", path: model, output: MODEL });

const TRAIN = FACTS.slice(0, 10).map((f) => line(f.question, f.answer)).join("\n") + "\n";
const VALIDATION = FACTS.slice(10, 20).map((f) => line(f.question, f.answer)).join("\n") + "\n";

before(async () => {
  server = await startServer({ https: true });
  owner = mlPrincipal(server, "cli-ml-owner").token;
  const put = await arm("PUT", wsPath, { location: "local", kind: "Default" }, "2024-07-01-preview");
  assert.equal(put.status, 201, await put.clone().text());
  const w = await json(put);
  workspace = { workspaceId: w.properties.workspaceId, location: w.location };
  const versions = await json(
    await arm("GET", `/mferp/managementfrontend/subscriptions/${SUB}/resourceGroups/${RG}/providers/${PROVIDER}/registries/azureml/models/tiny-chat/versions?$orderBy=CreatedAtDesc&$top=1`, undefined, "2021-10-01-dataplanepreview"),
  );
  registryModelId = versions.value[0].id;
  dir = mkdtempSync(join(tmpdir(), "ingot-cli-ml-"));
  writeFileSync(join(dir, "job.yaml"), sampleYaml(registryModelId));
  writeFileSync(join(dir, "train.jsonl"), TRAIN);
  writeFileSync(join(dir, "validation.jsonl"), VALIDATION);
});
after(async () => {
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test("ml job create -f <seed's Sample CLI>: local files uploaded to workspaceblobstore, the job created from the YAML", { timeout: 120_000 }, async () => {
  // Run from another folder: local paths are relative to the YAML file, not to the shell.
  const r = ok(await ingot("ml", "job", "create", "--file", join(dir, "job.yaml"), "--resource-group", RG, "--workspace-name", WS));
  const job = JSON.parse(r.stdout);
  assert.equal(job.name, JOB);
  assert.equal(job.type, "finetuning");
  assert.equal(job.task, "chat_completion");
  assert.equal(job.model_provider, "custom");
  assert.equal(job.display_name, "tiny-chat-display-name");
  assert.equal(job.experiment_name, "tiny-chat-finetuning-experiment");
  assert.deepEqual(job.model, { path: registryModelId, type: "mlflow_model" });
  assert.deepEqual(job.hyperparameters, { num_train_epochs: "1", per_device_train_batch_size: "1", learning_rate: "0.00002" });
  assert.equal(job.outputs.registered_model.name, MODEL);
  assert.equal(job.tags.foo_tag, "bar");
  assert.equal(job.properties.my_property, "my_value");
  assert.match(job.training_data.path, /^azureml:\/\/datastores\/workspaceblobstore\/paths\/LocalUpload\/[0-9a-f]{32}\/train\.jsonl$/);
  assert.match(job.validation_data.path, /^azureml:\/\/datastores\/workspaceblobstore\/paths\/LocalUpload\/[0-9a-f]{32}\/validation\.jsonl$/);
  assert.match(r.stderr, /Uploading train\.jsonl .* to workspaceblobstore\/LocalUpload\//);
  assert.match(r.stderr, /Uploading validation\.jsonl/);

  // The uploaded blob is in the workspace's container, marked as az ml marks it.
  const ds = await json(await arm("GET", `${wsPath}/datastores/workspaceblobstore`));
  const blobPath = job.training_data.path.replace("azureml://datastores/workspaceblobstore/paths/", "");
  const blob = await fetch(`${ds.properties.blobEndpoint}/${ds.properties.containerName}/${blobPath}`, { headers: { authorization: `Bearer ${owner}`, "x-ms-version": "2023-11-03" } });
  assert.equal(blob.status, 200, await blob.clone().text());
  assert.equal(blob.headers.get("x-ms-meta-upload_status"), "completed");
  assert.equal(await blob.text(), TRAIN);
});

test("a second job with --name and --set reuses the uploaded files; cancel; stream of a canceled job exits 1", { timeout: 120_000 }, async () => {
  const r = ok(await ingot("ml", "job", "create", "-f", join(dir, "job.yaml"), ...ws, "-n", "to-cancel", "--set", "hyperparameters.num_train_epochs=2", "--set", "outputs.registered_model.name=never-registered", "-o", "yaml"));
  assert.match(r.stdout, /^name: to-cancel$/m, "YAML output");
  assert.match(r.stdout, /num_train_epochs: "2"/);
  assert.match(r.stderr, /train\.jsonl: already uploaded to workspaceblobstore/);
  assert.doesNotMatch(r.stderr, /Uploading/);
  const canceled = ok(await ingot("ml", "job", "cancel", "-n", "to-cancel", ...ws));
  assert.ok(["Canceled", "CancelRequested"].includes(JSON.parse(canceled.stdout).status), canceled.stdout);
  const s = await ingot("ml", "job", "stream", "-n", "to-cancel", ...ws);
  assert.equal(s.status, 1, s.stderr);
  assert.match(s.stderr, /to-cancel: Canceled/);
});

test("azureml:name@latest becomes the data asset's latest version id (a GET of the container); the job is created from it", { timeout: 120_000 }, async () => {
  const ds = await json(await arm("GET", `${wsPath}/datastores/workspaceblobstore`));
  assert.ok(ds.properties.containerName);
  const shown = JSON.parse(ok(await ingot("ml", "job", "show", "-n", JOB, ...ws)).stdout);
  for (const v of ["1", "2"]) {
    const put = await arm("PUT", `${wsPath}/data/cli-train/versions/${v}`, { properties: { dataType: "uri_file", dataUri: shown.training_data.path } }, "2023-04-01-preview");
    assert.ok([200, 201].includes(put.status), await put.clone().text());
  }
  const r = ok(await ingot("ml", "job", "create", "-f", join(dir, "job.yaml"), ...ws, "--name", "from-asset", "--set", "training_data=azureml:cli-train@latest", "--set", "validation_data.path=azureml:cli-train:1"));
  const job = JSON.parse(r.stdout);
  assert.equal(job.training_data.path, `${wsPath}/data/cli-train/versions/2`);
  assert.equal(job.validation_data.path, `${wsPath}/data/cli-train/versions/1`);
  assert.doesNotMatch(r.stderr, /Uploading/, "nothing local to upload");
  ok(await ingot("ml", "job", "cancel", "--name", "from-asset", ...ws));
});

test("ml job show and list (JSON and table)", { timeout: 60_000 }, async () => {
  const show = JSON.parse(ok(await ingot("ml", "job", "show", "-n", JOB, ...ws)).stdout);
  assert.equal(show.name, JOB);
  assert.ok(["NotStarted", "Queued", "Running", "Completed"].includes(show.status), show.status);
  const table = ok(await ingot("ml", "job", "list", ...ws, "-o", "table")).stdout.trim().split("\n");
  assert.match(table[0], /^Name\s+Type\s+Task\s+Status\s+RegisteredModel\s+Created$/);
  assert.ok(table.some((l) => l.startsWith(`${JOB} `) && l.includes("finetuning") && l.includes(MODEL)), table.join("\n"));
  assert.ok(table.some((l) => l.startsWith("to-cancel ") && l.includes("Canceled")), table.join("\n"));
  assert.equal(JSON.parse(ok(await ingot("ml", "job", "list", ...ws)).stdout).length, 3);
});

test("ml job stream follows the job to Completed with status, loss and the registered model", { timeout: 400_000 }, async () => {
  const r = ok(await ingot("ml", "job", "stream", "-n", JOB, ...ws));
  assert.match(r.stderr, new RegExp(`${JOB}: Completed`));
  assert.match(r.stderr, /loss \d+\.\d{4}/, "the training loss, from the backing account's job events");
  assert.match(r.stderr, new RegExp(`registered model ${MODEL} version 1`));
  const job = JSON.parse(r.stdout);
  assert.equal(job.status, "Completed");
  assert.equal(job.outputs.registered_model.version, "1");
});

test("a bad YAML file or path is exit 2 naming the line and key; nothing is created", { timeout: 60_000 }, async () => {
  const bad = join(dir, "bad.yaml");
  writeFileSync(bad, sampleYaml(registryModelId).replace('name: "tiny-chat-cli-ft"', 'name: "bad-job"').replace("hyperparameters:", "hyperparamters:"));
  const r = await ingot("ml", "job", "create", "-f", bad, ...ws);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /bad\.yaml line 15, key 'hyperparamters': unknown key 'hyperparamters'\. Did you mean 'hyperparameters'\?/);
  const missing = join(dir, "missing.yaml");
  writeFileSync(missing, sampleYaml(registryModelId).replace('name: "tiny-chat-cli-ft"', 'name: "bad-job"').replace("training_data: train.jsonl", "training_data: ./nowhere/train.jsonl"));
  const m = await ingot("ml", "job", "create", "-f", missing, ...ws);
  assert.equal(m.status, 2, m.stderr);
  assert.match(m.stderr, /missing\.yaml line 11, key 'training_data': no file at '.*nowhere\/train\.jsonl'/);
  const service = await ingot("ml", "job", "create", "-f", missing, ...ws, "--set", "training_data=azureml:no-such-data:1");
  assert.equal(service.status, 1, service.stderr);
  assert.match(service.stderr, /\(UserError\)/, "the server's ARM error, as az prints it");
  const names = JSON.parse(ok(await ingot("ml", "job", "list", ...ws)).stdout).map((j: { name: string }) => j.name);
  assert.ok(!names.includes("bad-job"), names.join(", "));
  const usage = await ingot("ml", "job", "show", "-n", JOB, "-g", RG);
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /--workspace-name \(-w\) is required/);
});

test("ml serverless-endpoint create for the fine-tuned model, get-credentials, the endpoint answers with its key, regenerate-keys, delete", { timeout: 300_000 }, async () => {
  const modelId = `azureml://locations/${workspace.location}/workspaces/${workspace.workspaceId}/models/${MODEL}/versions/1`;
  const yamlPath = join(dir, "serverless.yaml");
  writeFileSync(yamlPath, `name: cli-ft-endpoint\nmodel_id: ${modelId}\n`);
  const created = JSON.parse(ok(await ingot("ml", "serverless-endpoint", "create", "-f", yamlPath, ...ws)).stdout);
  assert.equal(created.name, "cli-ft-endpoint");
  assert.equal(created.model_id, modelId);
  assert.equal(created.provisioning_state, "Succeeded");
  assert.match(created.scoring_uri, /^https:\/\/.*\/serverless\/cli-ft-endpoint-[a-z]{5}$/);
  const keys = JSON.parse(ok(await ingot("ml", "serverless-endpoint", "get-credentials", "-n", "cli-ft-endpoint", ...ws)).stdout);
  assert.ok(keys.primaryKey && keys.secondaryKey);
  const res = await fetch(`${created.scoring_uri}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: keys.primaryKey, "content-type": "application/json" },
    body: JSON.stringify({ messages: [{ role: "user", content: FACTS[0].question }], max_tokens: 8, temperature: 0 }),
  });
  assert.equal(res.status, 200, await res.clone().text());
  assert.ok((await json(res)).choices[0].message);
  const rotated = JSON.parse(ok(await ingot("ml", "serverless-endpoint", "regenerate-keys", "-n", "cli-ft-endpoint", ...ws, "--key-type", "primary")).stdout);
  assert.notEqual(rotated.primaryKey, keys.primaryKey);
  assert.equal(rotated.secondaryKey, keys.secondaryKey);
  const stale = await fetch(`${created.scoring_uri}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: keys.primaryKey, "content-type": "application/json" },
    body: JSON.stringify({ messages: [{ role: "user", content: "hi" }], max_tokens: 2 }),
  });
  assert.equal(stale.status, 401, "the replaced key opens nothing");
  const table = ok(await ingot("ml", "serverless-endpoint", "list", ...ws, "-o", "table")).stdout;
  assert.match(table, /^cli-ft-endpoint\s+azureml:\/\/locations\//m);
  ok(await ingot("ml", "serverless-endpoint", "delete", "-n", "cli-ft-endpoint", ...ws, "--yes"));
  const gone = await ingot("ml", "serverless-endpoint", "show", "-n", "cli-ft-endpoint", ...ws);
  assert.equal(gone.status, 1);
  assert.match(gone.stderr, /NotFound|ResourceNotFound/);
  const old = await fetch(`${created.scoring_uri}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: keys.primaryKey, "content-type": "application/json" },
    body: JSON.stringify({ messages: [{ role: "user", content: "hi" }], max_tokens: 2 }),
  });
  assert.ok(old.status >= 400 && old.status < 500, `deleted endpoint answered ${old.status}`);

  // The flags alone (no file), as az ml serverless-endpoint create --name … --model-id … would take them.
  const byFlags = JSON.parse(ok(await ingot("ml", "serverless-endpoint", "create", "--name", "cli-ft-flags", "--model-id", modelId, ...ws, "-o", "json")).stdout);
  assert.equal(byFlags.model_id, modelId);
  assert.equal(byFlags.provisioning_state, "Succeeded");
  ok(await ingot("ml", "serverless-endpoint", "delete", "--name", "cli-ft-flags", ...ws));
  const missing = await ingot("ml", "serverless-endpoint", "create", "--name", "no-model", ...ws);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /--model-id is required/);
});

test("ml online-endpoint and online-deployment: create with --all-traffic, show, invoke, keys, logs, scale, traffic, delete", { timeout: 300_000 }, async () => {
  const epName = `cli-ep-${workspace.workspaceId.slice(0, 6)}`;
  const created = JSON.parse(ok(await ingot("ml", "online-endpoint", "create", "-n", epName, ...ws)).stdout);
  assert.equal(created.name, epName);
  assert.equal(created.auth_mode, "key");
  assert.match(created.scoring_uri, new RegExp(`/online/${epName}/score$`));
  const blue = join(dir, "blue.yaml");
  writeFileSync(blue, `name: blue\nendpoint_name: ${epName}\nmodel: ${registryModelId}\ninstance_type: Standard_NC24ads_A100_v4\ninstance_count: 1\n`);
  const d = JSON.parse(ok(await ingot("ml", "online-deployment", "create", "-f", blue, ...ws, "--all-traffic")).stdout);
  assert.equal(d.name, "blue");
  assert.equal(d.endpoint_name, epName);
  assert.equal(d.instance_count, 1);
  assert.equal(d.provisioning_state, "Succeeded");
  const shown = JSON.parse(ok(await ingot("ml", "online-endpoint", "show", "-n", epName, ...ws)).stdout);
  assert.deepEqual(shown.traffic, { blue: 100 });
  const listed = ok(await ingot("ml", "online-deployment", "list", "-e", epName, ...ws, "-o", "table")).stdout;
  assert.match(listed, /^blue\s+/m);

  const request = join(dir, "request.json");
  writeFileSync(request, JSON.stringify({ messages: [{ role: "user", content: "Say hi" }], max_tokens: 4 }));
  const answer = JSON.parse(ok(await ingot("ml", "online-endpoint", "invoke", "-n", epName, "--request-file", request, ...ws)).stdout);
  assert.ok(answer.choices[0].message, JSON.stringify(answer));
  const keys = JSON.parse(ok(await ingot("ml", "online-endpoint", "get-credentials", "-n", epName, ...ws)).stdout);
  assert.ok(keys.primaryKey);
  const rotated = JSON.parse(ok(await ingot("ml", "online-endpoint", "regenerate-keys", "-n", epName, ...ws, "--key-type", "secondary")).stdout);
  assert.equal(rotated.primaryKey, keys.primaryKey);
  assert.notEqual(rotated.secondaryKey, keys.secondaryKey);
  const logs = ok(await ingot("ml", "online-deployment", "get-logs", "-n", "blue", "-e", epName, ...ws, "--lines", "20"));
  assert.ok(logs.stdout.trim().length > 0, "the runner's log");

  const scaled = JSON.parse(ok(await ingot("ml", "online-deployment", "update", "-n", "blue", "-e", epName, ...ws, "--set", "instance_count=2")).stdout);
  assert.equal(scaled.instance_count, 2);
  assert.equal(scaled.provisioning_state, "Succeeded");
  assert.equal(scaled.model, registryModelId, "the rest of the deployment is kept");

  const badTraffic = await ingot("ml", "online-endpoint", "update", "-n", epName, ...ws, "--traffic", "blue=70");
  assert.equal(badTraffic.status, 1, badTraffic.stderr);
  assert.match(badTraffic.stderr, /100/);
  const updated = JSON.parse(ok(await ingot("ml", "online-endpoint", "update", "-n", epName, ...ws, "--traffic", "blue=100")).stdout);
  assert.deepEqual(updated.traffic, { blue: 100 });

  ok(await ingot("ml", "online-endpoint", "delete", "-n", epName, ...ws, "--yes"));
  const gone = await ingot("ml", "online-endpoint", "show", "-n", epName, ...ws);
  assert.equal(gone.status, 1);
});
