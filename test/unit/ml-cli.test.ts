// `ingot ml`: az ml's YAML files → the Azure ML REST bodies (reference azure-ml.md §7.1, §9.1,
// §10), errors that name the line and key, --set, input references, and the flag parsing.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CliError } from "../../src/cli/errors.ts";
import { seed004SampleYaml } from "../fixtures/seed004-sample.ts";
import { parse, scopeOf, WORKSPACE_OPTIONS } from "../../src/cli/commands/ml-common.ts";
import { fineTuningJobIdOf, streamProgress } from "../../src/cli/commands/ml-job.ts";
import { ProgressLine } from "../../src/cli/progress.ts";
import {
  applySets,
  assetVersionId,
  classifyInput,
  durationMs,
  jobEntity,
  jobRequestFromYaml,
  loadYamlFile,
  onlineDeploymentEntity,
  onlineDeploymentRequestFromYaml,
  onlineEndpointEntity,
  onlineEndpointRequestFromYaml,
  parseTraffic,
  serverlessEntity,
  serverlessRequestFromYaml,
  YamlFileError,
} from "../../src/cli/commands/ml-yaml.ts";

// Seed 004's "Sample CLI", as printed there.
const SAMPLE = seed004SampleYaml();

const load = (text: string) => loadYamlFile(text, "job.yaml");

/** The message of the YamlFileError `fn` throws. */
function yamlError(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof YamlFileError, `expected a YamlFileError, got ${(e as Error).message}`);
    assert.equal(e.exitCode, 2);
    return e.message;
  }
  assert.fail("no error");
}

test("seed 004's Sample CLI becomes the REST body create_finetuning_job sends (§7.1)", () => {
  const r = jobRequestFromYaml(load(SAMPLE));
  assert.equal(r.name, "Phi-3-mini-4k-instruct-with-amlcompute");
  assert.deepEqual(r.body, {
    properties: {
      jobType: "FineTuning",
      displayName: "Phi-3-mini-4k-instruct-display-name",
      experimentName: "Phi-3-mini-4k-instruct-finetuning-experiment",
      tags: { foo_tag: "bar" },
      properties: { my_property: "my_value" },
      fineTuningDetails: {
        modelProvider: "Custom",
        taskType: "ChatCompletion",
        model: { jobInputType: "mlflow_model", uri: "azureml://registries/azureml/models/Phi-3-mini-4k-instruct/versions/14" },
        trainingData: { jobInputType: "uri_file", uri: "train.jsonl" },
        validationData: { jobInputType: "uri_file", uri: "validation.jsonl" },
        hyperParameters: { num_train_epochs: "1", per_device_train_batch_size: "1", learning_rate: "0.00002" },
      },
      outputs: { registered_model: { jobOutputType: "mlflow_model", assetName: "Phi-3-mini-4k-instruct-finetuned-model" } },
    },
  });
  assert.deepEqual(
    r.inputs.map((i) => [i.field, i.path, i.where]),
    [
      ["trainingData", "train.jsonl", "job.yaml line 11, key 'training_data'"],
      ["validationData", "validation.jsonl", "job.yaml line 12, key 'validation_data'"],
    ],
  );
});

test("--name wins over the file; unquoted numbers become strings; task and provider in any casing", () => {
  const text = SAMPLE.replace('num_train_epochs: "1"', "num_train_epochs: 3").replace("task: chat_completion", "task: TextCompletion").replace("model_provider: custom", "model_provider: Custom");
  const r = jobRequestFromYaml(load(text), { name: "other-name" });
  assert.equal(r.name, "other-name");
  const ft = r.body.properties.fineTuningDetails;
  assert.equal(ft.hyperParameters.num_train_epochs, "3");
  assert.equal(ft.taskType, "TextCompletion");
  assert.equal(ft.modelProvider, "Custom");
  // model as a plain string, validation_data left out, no name at all
  const minimal = jobRequestFromYaml(
    load("type: finetuning\ntask: chat_completion\nmodel: azureml://registries/azureml/models/tiny-chat\ntraining_data: azureml:train:1\noutputs:\n  registered_model:\n    name: m\n"),
  );
  assert.equal(minimal.name, undefined);
  assert.deepEqual(minimal.body.properties.fineTuningDetails.model, { jobInputType: "mlflow_model", uri: "azureml://registries/azureml/models/tiny-chat" });
  assert.equal(minimal.body.properties.fineTuningDetails.modelProvider, "Custom", "az ml's default provider");
  assert.equal("validationData" in minimal.body.properties.fineTuningDetails, false);
});

test("YAML errors name the file, the line and the key, and say what to write", () => {
  assert.match(yamlError(() => jobRequestFromYaml(load(SAMPLE.replace("display_name:", "dispaly_name:")))), /^job\.yaml line 5, key 'dispaly_name': unknown key 'dispaly_name'\. Did you mean 'display_name'\?/);
  assert.match(yamlError(() => jobRequestFromYaml(load(SAMPLE.replace("type: finetuning", "type: command")))), /^job\.yaml line 1, key 'type': .*write 'type: finetuning'/);
  assert.match(yamlError(() => jobRequestFromYaml(load(SAMPLE.replace("task: chat_completion", "task: chat")))), /^job\.yaml line 6, key 'task': 'chat' is not a fine-tuning task; use chat_completion or text_completion/);
  assert.match(yamlError(() => jobRequestFromYaml(load(SAMPLE.replace("training_data: train.jsonl\n", "")))), /^job\.yaml line 1, key 'training_data': missing; add it, e\.g\. training_data: train\.jsonl\./);
  assert.match(
    yamlError(() => jobRequestFromYaml(load(SAMPLE.replace('learning_rate: "0.00002"', "learning_rate:\n    value: 1")))),
    /^job\.yaml line 18, key 'hyperparameters\.learning_rate': .*must be a single value/,
  );
  assert.match(yamlError(() => jobRequestFromYaml(load(SAMPLE.replace("    type: mlflow_model \n", "    type: pickle\n")))), /line 26, key 'outputs\.registered_model\.type': 'pickle' is not a model type/);
  assert.match(yamlError(() => jobRequestFromYaml(load(SAMPLE.replace("  type: uri_file", "  type: csv")))), /line 14, key 'validation_data\.type'/);
  assert.match(yamlError(() => jobRequestFromYaml(load(SAMPLE.replace('    name: "Phi-3-mini-4k-instruct-finetuned-model"\n', "")))), /line 24, key 'outputs\.registered_model\.name': missing; add it, e\.g\. outputs: \{registered_model: \{name: my-finetuned-model\}\}/);
  assert.match(yamlError(() => jobRequestFromYaml(load(SAMPLE), { name: "bad name!" })), /^--name: 'bad name!' is not a valid job name/);
  // Syntax errors and duplicate keys, from the parser, with their line.
  assert.match(yamlError(() => load("type: finetuning\nmodel:\n  path: [a, b\ntask: x\n")), /^job\.yaml line \d, column \d+: /);
  assert.match(yamlError(() => load("type: finetuning\ntask: a\ntask: b\n")), /^job\.yaml line 3, column 1: Map keys must be unique/);
  assert.match(yamlError(() => load("- a\n- b\n")), /^job\.yaml line 1: the file must be a YAML mapping/);
  assert.match(yamlError(() => load("")), /not empty|empty/);
});

test("--set sets dotted keys before the file is read; a bad --set says how to write it", () => {
  const f = load(SAMPLE);
  applySets(f.value, ["hyperparameters.num_train_epochs=4", "display_name=renamed", "outputs.registered_model.name=from-set", "compute=local"]);
  const r = jobRequestFromYaml(f);
  assert.equal(r.body.properties.fineTuningDetails.hyperParameters.num_train_epochs, "4");
  assert.equal(r.body.properties.displayName, "renamed");
  assert.equal(r.body.properties.outputs.registered_model.assetName, "from-set");
  assert.equal(r.body.properties.computeId, "local");
  assert.match(yamlError(() => applySets({}, ["no-equals"])), /write key=value/);
  assert.match(yamlError(() => applySets({ task: "x" }, ["task.sub=1"])), /'task' holds a single value/);
});

test("input references: local paths, az ml's shorthands, URIs and ARM ids", () => {
  assert.deepEqual(classifyInput("train.jsonl"), { kind: "local", path: "train.jsonl" });
  assert.deepEqual(classifyInput("./data/train.jsonl"), { kind: "local", path: "./data/train.jsonl" });
  assert.deepEqual(classifyInput("file:train.jsonl"), { kind: "local", path: "train.jsonl" });
  assert.deepEqual(classifyInput("azureml:chat_training_small:1"), { kind: "version", name: "chat_training_small", version: "1" });
  assert.deepEqual(classifyInput("azureml:chat_training_small@latest"), { kind: "latest", name: "chat_training_small" });
  assert.equal(classifyInput("azureml:bad/name"), undefined);
  for (const uri of ["azureml://datastores/workspaceblobstore/paths/x/train.jsonl", "https://host/blob/train.jsonl", "/subscriptions/s/resourceGroups/g/providers/Microsoft.MachineLearningServices/workspaces/w/data/d/versions/1"])
    assert.deepEqual(classifyInput(uri), { kind: "uri", uri });
  assert.equal(
    assetVersionId({ subscription: "s", resourceGroup: "g", workspace: "w" }, "data", "train", "2"),
    "/subscriptions/s/resourceGroups/g/providers/Microsoft.MachineLearningServices/workspaces/w/data/train/versions/2",
  );
});

test("a job as az ml prints it, from the REST body", () => {
  const rest = {
    id: "/subscriptions/s/resourceGroups/g/providers/Microsoft.MachineLearningServices/workspaces/w/jobs/j1",
    name: "j1",
    type: "Microsoft.MachineLearningServices/workspaces/jobs",
    systemData: { createdAt: "2026-01-01T00:00:00Z", createdBy: "me", createdByType: "User" },
    properties: {
      ...jobRequestFromYaml(load(SAMPLE)).body.properties,
      status: "Running",
      properties: { my_property: "my_value", "ingot.fineTuningJobId": "ftjob-0123abcd" },
    },
  };
  const e = jobEntity(rest) as any;
  assert.equal(e.name, "j1");
  assert.equal(e.type, "finetuning");
  assert.equal(e.task, "chat_completion");
  assert.equal(e.model_provider, "custom");
  assert.equal(e.status, "Running");
  assert.deepEqual(e.training_data, { path: "train.jsonl", type: "uri_file" });
  assert.deepEqual(e.outputs, { registered_model: { name: "Phi-3-mini-4k-instruct-finetuned-model", type: "mlflow_model" } });
  assert.equal(e.creation_context.created_at, "2026-01-01T00:00:00Z");
  assert.equal(fineTuningJobIdOf(rest), "ftjob-0123abcd");
  assert.equal(fineTuningJobIdOf({ properties: {} }), undefined);
});

test("serverless endpoint YAML (name, model_id) and the flags that override it", () => {
  const r = serverlessRequestFromYaml(loadYamlFile("name: phi-ft\nmodel_id: azureml://registries/azureml/models/tiny-chat\ncontent_safety:\n  content_safety_status: disabled\n", "ep.yaml"));
  assert.equal(r.name, "phi-ft");
  assert.deepEqual(r.body, {
    sku: { name: "Consumption" },
    tags: {},
    properties: { modelSettings: { modelId: "azureml://registries/azureml/models/tiny-chat" }, contentSafety: { contentSafetyStatus: "Disabled" } },
  });
  const flags = serverlessRequestFromYaml({ value: {}, where: (k) => `--${k.join(".")}` }, { name: "x-ep", modelId: "azureml://m" });
  assert.equal(flags.name, "x-ep");
  assert.equal(flags.body.properties.modelSettings.modelId, "azureml://m");
  assert.match(yamlError(() => serverlessRequestFromYaml(loadYamlFile("name: 1bad\nmodel_id: m\n", "ep.yaml"))), /^ep\.yaml line 1, key 'name': '1bad' is not a valid endpoint name/);
  assert.match(yamlError(() => serverlessRequestFromYaml(loadYamlFile("name: ok\n", "ep.yaml"))), /key 'model_id': missing; add it/);
  const shown = serverlessEntity({
    name: "phi-ft",
    location: "local",
    properties: { modelSettings: { modelId: "m" }, authMode: "Key", inferenceEndpoint: { uri: "https://h/serverless/phi-ft-abcde", headers: {} }, provisioningState: "Succeeded" },
  });
  assert.deepEqual(shown, { name: "phi-ft", location: "local", model_id: "m", scoring_uri: "https://h/serverless/phi-ft-abcde", headers: {}, auth_mode: "key", provisioning_state: "Succeeded" });
});

test("online endpoint and deployment YAML → REST (§10), traffic, and back", () => {
  const ep = onlineEndpointRequestFromYaml(loadYamlFile("name: my-ep\nauth_mode: aml_token\ntraffic:\n  blue: 70\n  green: 30\n", "ep.yaml"));
  assert.deepEqual(ep.body, { identity: { type: "SystemAssigned" }, tags: {}, properties: { authMode: "AMLToken", traffic: { blue: 70, green: 30 } } });
  assert.equal(onlineEndpointRequestFromYaml(loadYamlFile("name: e2\n", "ep.yaml")).body.properties.authMode, "Key");
  assert.match(yamlError(() => onlineEndpointRequestFromYaml(loadYamlFile("name: e\nauth_mode: password\n", "ep.yaml"))), /line 2, key 'auth_mode'.*key, aml_token or aad_token/);
  assert.match(yamlError(() => onlineEndpointRequestFromYaml(loadYamlFile("name: e\ntraffic:\n  blue: lots\n", "ep.yaml"))), /line 3, key 'traffic\.blue'.*integer/);
  const back = onlineEndpointEntity({ name: "my-ep", properties: { authMode: "AMLToken", traffic: { blue: 70 }, scoringUri: "https://h/online/my-ep/score", provisioningState: "Succeeded" } });
  assert.equal(back.auth_mode, "aml_token");
  assert.equal(back.scoring_uri, "https://h/online/my-ep/score");

  assert.deepEqual(parseTraffic("blue=70 green=30"), { blue: 70, green: 30 });
  assert.deepEqual(parseTraffic("blue=100,green=0"), { blue: 100, green: 0 });
  assert.match(yamlError(() => parseTraffic("blue:70")), /not deployment=percent/);
  assert.match(yamlError(() => parseTraffic("blue=170")), /not deployment=percent/);

  const d = onlineDeploymentRequestFromYaml(
    loadYamlFile(
      "name: blue\nendpoint_name: my-ep\nmodel: azureml:my-ft:1\ninstance_type: Standard_NC24ads_A100_v4\ninstance_count: 2\nrequest_settings:\n  request_timeout_ms: 90000\n  max_concurrent_requests_per_instance: 1\n",
      "blue.yaml",
    ),
  );
  assert.equal(d.name, "blue");
  assert.equal(d.endpointName, "my-ep");
  assert.deepEqual(d.model, { path: "azureml:my-ft:1", where: "blue.yaml line 3, key 'model'" });
  assert.deepEqual(d.body, {
    sku: { name: "Default", capacity: 2 },
    tags: {},
    properties: {
      endpointComputeType: "Managed",
      model: "azureml:my-ft:1",
      instanceType: "Standard_NC24ads_A100_v4",
      requestSettings: { requestTimeout: "PT90S", maxConcurrentRequestsPerInstance: 1 },
      scaleSettings: { scaleType: "Default" },
    },
  });
  const overridden = onlineDeploymentRequestFromYaml(loadYamlFile("name: blue\nmodel: {path: azureml://registries/azureml/models/tiny-chat/versions/1}\n", "d.yaml"), { name: "green", endpointName: "ep2" });
  assert.equal(overridden.name, "green");
  assert.equal(overridden.endpointName, "ep2");
  assert.equal(overridden.body.sku.capacity, 1, "one instance unless told");
  assert.match(yamlError(() => onlineDeploymentRequestFromYaml(loadYamlFile("name: b\nendpoint_name: e\nmodel: m\ninstance_count: 0\n", "d.yaml"))), /line 4, key 'instance_count': .*at least 1; got '0'/);
  assert.match(yamlError(() => onlineDeploymentRequestFromYaml(loadYamlFile("name: b\nmodel: m\n", "d.yaml"))), /key 'endpoint_name': missing; add it, e\.g\. endpoint_name: my-endpoint \(or --endpoint-name\)/);
  const shown = onlineDeploymentEntity({
    id: "/subscriptions/s/resourceGroups/g/providers/Microsoft.MachineLearningServices/workspaces/w/onlineEndpoints/my-ep/deployments/blue",
    name: "blue",
    sku: { capacity: 2 },
    properties: { model: "m", endpointComputeType: "Managed", requestSettings: { requestTimeout: "PT1M30S" }, provisioningState: "Succeeded" },
  });
  assert.equal(shown.endpoint_name, "my-ep");
  assert.equal(shown.instance_count, 2);
  assert.deepEqual(shown.request_settings, { request_timeout_ms: 90000 });
  assert.equal(durationMs("PT0.5S"), 500);
});

test("flags: az ml's long and short forms, -w required, -o yaml allowed, unknown flags and outputs are usage errors", () => {
  const options = { ...WORKSPACE_OPTIONS, file: { type: "string", short: "f" }, name: { type: "string", short: "n" }, set: { type: "string", multiple: true } } as const;
  const p = parse("ingot ml job create", ["-f", "job.yaml", "-g", "rg1", "-w", "ws1", "-n", "j", "--set", "a=1", "--set", "b=2", "-o", "yaml", "--subscription", "sub1"], options);
  assert.equal(p.v.file, "job.yaml");
  assert.equal(p.v.name, "j");
  assert.deepEqual(p.v.set, ["a=1", "b=2"]);
  assert.equal(p.output, "yaml");
  assert.deepEqual(scopeOf(p), { subscription: "sub1", resourceGroup: "rg1", workspace: "ws1" });
  const long = parse("ingot ml job create", ["--file", "job.yaml", "--resource-group", "rg1", "--workspace-name", "ws1"], options);
  assert.deepEqual(scopeOf(long), { subscription: "00000000-0000-0000-0000-000000000000", resourceGroup: "rg1", workspace: "ws1" });
  const usage = (fn: () => unknown, pattern: RegExp) => {
    try {
      fn();
    } catch (e) {
      assert.ok(e instanceof CliError);
      assert.equal(e.exitCode, 2);
      assert.match(e.message, pattern);
      return;
    }
    assert.fail("no error");
  };
  usage(() => scopeOf(parse("ingot ml job show", ["-g", "rg"], options)), /--workspace-name \(-w\) is required/);
  usage(() => parse("ingot ml job show", ["--workspace", "w"], options), /unknown option '--workspace'\. Did you mean '--workspace-name'\?/);
  usage(() => parse("ingot ml job show", ["-w", "w", "-o", "xml"], options), /--output must be json, yaml, table or tsv/);
  assert.equal(parse("ingot ml job show", ["--help"], options).help, true);
});

test("job stream's progress: the status until it trains, then step, epoch, loss and ETA; a plain line per change", () => {
  assert.deepEqual(streamProgress("j", "Queued", undefined, undefined), { label: "j: Queued", key: "Queued" });
  assert.deepEqual(streamProgress("j", "Running", undefined, undefined), { label: "j: Running", key: "Running" });
  const u = streamProgress("j", "Running", { step: 5, total_steps: 20, epoch: 1, train_loss: 1.23456 }, 0.5);
  assert.equal(u.label, "j: training");
  assert.equal(u.fraction, 0.25);
  assert.equal(u.detail, "step 5/20  epoch 1  loss 1.2346  ETA 0:30");
  assert.match(streamProgress("j", "Running", { step: 1, total_steps: 2, epoch: 1 }, undefined).detail!, /loss \?  ETA \?/);
  assert.deepEqual(streamProgress("j", "Completed", { step: 2, total_steps: 2, epoch: 1, train_loss: 1 }, 1), { label: "j: Completed", key: "Completed" });
  // Off a terminal, as in the e2e: one line per status and per percent of training.
  let out = "";
  const bar = new ProgressLine({ write: (t) => (out += t), tty: false }, { now: () => 0 });
  for (const p of [streamProgress("j", "Queued", undefined, undefined), u, streamProgress("j", "Running", { step: 10, total_steps: 20, epoch: 1, train_loss: 1.1 }, 0.5)]) bar.update(p);
  assert.deepEqual(out.trim().split("\n"), ["j: Queued", "j: training   25.0%  step 5/20  epoch 1  loss 1.2346  ETA 0:30", "j: training   50.0%  step 10/20  epoch 1  loss 1.1000  ETA 0:20"]);
});
