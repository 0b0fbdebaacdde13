// Azure ML FineTuning jobs and workspace models over HTTPS. The create replays the PUT that
// Python's `create_finetuning_job(...)` + `jobs.create_or_update` send (arm-machinelearning 2.1.1
// drops fineTuningDetails, reference §7.5); get, list, cancel, delete and the model assets go
// through @azure/arm-machinelearning 2.1.1 unchanged. A real training run of tiny-chat on
// unguessable facts reaches Completed with its model registered as workspace model version 1,
// and the same job shows in the OpenAI-style fine-tuning API of the workspace's backing account.
// Bad inputs are ARM 4xx and leave no job and no file behind.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:https";
import type { Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { AzureMachineLearningWorkspaces } from "@azure/arm-machinelearning";
import { json, startServer, TEST_TLS } from "./harness.ts";
import type { TestServer } from "./harness.ts";
import { POLL, RG, SUB } from "./arm-sdk-client.ts";
import { armFetch, mlPrincipal } from "./ml-principals.ts";
import { FACTS, line } from "../fixtures/codename-facts.ts";

const PROVIDER = "Microsoft.MachineLearningServices";
/** What Python's job operations use for FineTuning (reference §1). */
const PY_API = "2024-01-01-preview";
const OPENAI_API = "2025-04-01-preview";
const WS = "jobs-ws";
/** The minimum a fine-tune file holds (10 examples): the first ten unguessable facts. */
const TRAIN = FACTS.slice(0, 10).map((f) => line(f.question, f.answer)).join("\n") + "\n";
const BAD = [line(FACTS[0].question, FACTS[0].answer), "{not json", ...FACTS.slice(1, 10).map((f) => line(f.question, f.answer))].join("\n") + "\n";

let server: TestServer;
/** Kept across the restart test's second server. */
const dataDir = mkdtempSync(join(tmpdir(), "ingot-ml-jobs-"));
let data: Server;
let dataUrl: string;
let owner: string;
let ml: AzureMachineLearningWorkspaces;
let workspace: { workspaceId: string; location: string; account: string };
let accountKey: string;
let registryModelId: string;
/** The first job's registered model and the fine-tuned model behind it. */
let trained: { uri: string; fineTunedModel: string };

const wsPath = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/${PROVIDER}/workspaces/${WS}`;
const arm = (method: string, path: string, body?: unknown, apiVersion = PY_API) => armFetch(server, owner, method, path, body, apiVersion);
const openai = (path: string) => fetch(`${server.url}/openai${path}${path.includes("?") ? "&" : "?"}api-version=${OPENAI_API}`, { headers: { "api-key": accountKey } });

/** The body `create_finetuning_job` + `jobs.create_or_update` send (reference §7.1), with seed 004's hyperparameter names. */
const jobBody = (over: { details?: Record<string, unknown>; props?: Record<string, unknown> } = {}) => ({
  properties: {
    jobType: "FineTuning",
    displayName: "tiny-chat-display-name-from-sdk",
    experimentName: "tiny-chat-from-sdk",
    tags: { foo_tag: "bar" },
    properties: { my_property: "my_value" },
    fineTuningDetails: {
      modelProvider: "Custom",
      taskType: "chatCompletion",
      model: { jobInputType: "mlflow_model", uri: registryModelId },
      trainingData: { jobInputType: "uri_file", uri: `${dataUrl}/train.jsonl` },
      validationData: { jobInputType: "uri_file", uri: `${dataUrl}/train.jsonl` },
      hyperParameters: { per_device_train_batch_size: "1", learning_rate: "0.002", num_train_epochs: "2" },
      ...over.details,
    },
    outputs: { registered_model: { jobOutputType: "mlflow_model", assetName: "tiny-chat-codenames-ft" } },
    ...over.props,
  },
});

/**
 * As `workspace_ml_client.data.create_or_update(Data(path="./train.jsonl", type="uri_file", …))`
 * does (reference §4): the default datastore, a BlockBlob PUT under LocalUpload/<hash>/, the data
 * version PUT with the short datastore path, then `data.get`, whose full ARM id the job takes.
 */
async function registerData(name: string, content: string): Promise<string> {
  const ds = await json(await arm("GET", `${wsPath}/datastores/workspaceblobstore`, undefined, "2024-07-01-preview"));
  const path = `LocalUpload/${name}-0123456789abcdef/${name}.jsonl`;
  const up = await fetch(`${ds.properties.blobEndpoint}/${ds.properties.containerName}/${path}`, {
    method: "PUT",
    headers: { authorization: `Bearer ${owner}`, "x-ms-blob-type": "BlockBlob", "x-ms-version": "2025-01-05", "content-type": "application/octet-stream" },
    body: content,
  });
  assert.equal(up.status, 201, await up.clone().text());
  const put = await arm("PUT", `${wsPath}/data/${name}/versions/1`, {
    properties: { dataType: "uri_file", dataUri: `azureml://datastores/workspaceblobstore/paths/${path}`, isAnonymous: false, isArchived: false, description: "Training dataset", tags: {}, properties: {} },
  }, "2023-04-01-preview");
  assert.equal(put.status, 201, await put.clone().text());
  return (await json(await arm("GET", `${wsPath}/data/${name}/versions/1`, undefined, "2023-04-01-preview"))).id;
}

async function fineTuneFiles(): Promise<string[]> {
  const list = await json(await openai("/files"));
  return list.data.filter((f: { purpose: string }) => f.purpose === "fine-tune").map((f: { id: string }) => f.id).sort();
}

async function waitForStatus(name: string, done: (s: string) => boolean, timeoutMs = 300_000): Promise<string> {
  for (const deadline = Date.now() + timeoutMs; ; ) {
    const status = (await ml.jobs.get(RG, WS, name)).properties.status ?? "";
    if (done(status)) return status;
    assert.ok(Date.now() < deadline, `job ${name} still ${status} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Starts (or restarts, on the same data) the server and the clients pointed at it. */
async function start(): Promise<void> {
  server = await startServer({ https: true, allowPrivateImportUrls: true, dataDir });
  const sp = mlPrincipal(server, "ml-jobs-owner");
  owner = sp.token;
  ml = sp.client();
}

before(async () => {
  // The training data sits on an https server, as data referenced by URL does (the import is SSRF-checked: loopback allowed for the test).
  data = createServer(TEST_TLS, (req, res) => {
    const files: Record<string, string> = { "/train.jsonl": TRAIN, "/bad.jsonl": BAD };
    const body = files[req.url ?? ""];
    res.writeHead(body ? 200 : 404, { "content-type": "application/jsonl" }).end(body ?? "not found");
  });
  await new Promise<void>((r) => data.listen(0, "127.0.0.1", r));
  dataUrl = `https://127.0.0.1:${(data.address() as AddressInfo).port}`;
  await start();

  const ws = await arm("PUT", wsPath, { location: "local", kind: "Default" }, "2024-07-01-preview");
  assert.equal(ws.status, 201, await ws.clone().text());
  const w = await json(ws);
  const accountId: string = w.properties.associatedAccountResourceId;
  workspace = { workspaceId: w.properties.workspaceId, location: w.location, account: accountId.split("/").pop()! };
  accountKey = (await json(await arm("POST", `${accountId}/listKeys`, undefined, "2024-10-01"))).key1;
  assert.ok(accountKey, "the backing account's key");
  // As the seed does: registry_ml_client.models.get(name, label="latest") through the registry data plane.
  const versions = await json(await arm("GET", `/mferp/managementfrontend/subscriptions/${SUB}/resourceGroups/${RG}/providers/${PROVIDER}/registries/azureml/models/tiny-chat/versions?$orderBy=CreatedAtDesc&$top=1`, undefined, "2021-10-01-dataplanepreview"));
  registryModelId = versions.value[0].id;
  assert.match(registryModelId, /^azureml:\/\/registries\/azureml\/models\/tiny-chat\/versions\//);
});
after(async () => {
  await server?.stop();
  data?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

test("a FineTuning job trains tiny-chat in the backing account: Completed, model registered as version 1, one job in both views", { timeout: 400_000 }, async () => {
  // Seed 004's data assets: the job names them by their ARM ids.
  const training = await registerData("chat_training_small", TRAIN);
  assert.equal(training, `${wsPath}/data/chat_training_small/versions/1`);
  const validation = await registerData("chat_validation_small", TRAIN);
  const put = await arm("PUT", `${wsPath}/jobs/codenames-ft-1`, jobBody({ details: { trainingData: { jobInputType: "uri_file", uri: training }, validationData: { jobInputType: "uri_file", uri: validation } } }));
  assert.equal(put.status, 201, await put.clone().text());
  const created = await json(put);
  assert.equal(created.id, `${wsPath}/jobs/codenames-ft-1`);
  assert.equal(created.name, "codenames-ft-1");
  assert.equal(created.type, `${PROVIDER}/workspaces/jobs`);
  assert.ok(created.systemData.createdAt);
  assert.equal(created.properties.jobType, "FineTuning");
  assert.equal(created.properties.fineTuningDetails.taskType, "chatCompletion", "the body is echoed");
  assert.deepEqual(created.properties.fineTuningDetails.hyperParameters, jobBody().properties.fineTuningDetails.hyperParameters);
  assert.equal(created.properties.fineTuningDetails.trainingData.uri, training);
  assert.deepEqual(created.properties.tags, { foo_tag: "bar" });
  assert.equal(created.properties.properties.my_property, "my_value");
  // The notebook reads created_job.outputs["registered_model"]["name"] from the create response.
  assert.equal(created.properties.outputs.registered_model.assetName, "tiny-chat-codenames-ft");
  assert.ok(["NotStarted", "Queued", "Running"].includes(created.properties.status), created.properties.status);
  const ftJobId: string = created.properties.properties["ingot.fineTuningJobId"];
  assert.match(ftJobId, /^ftjob-/);

  // One job, two views: the backing account's OpenAI-style API lists it.
  const openaiJobs = await json(await openai("/fine_tuning/jobs"));
  const ft = openaiJobs.data.find((j: { id: string }) => j.id === ftJobId);
  assert.ok(ft, `the account lists ${ftJobId}`);
  assert.equal(ft.model, "tiny-chat");
  assert.equal(ft.hyperparameters.n_epochs, 2);

  assert.equal(await waitForStatus("codenames-ft-1", (s) => ["Completed", "Failed", "Canceled"].includes(s)), "Completed");
  const done = await json(await arm("GET", `${wsPath}/jobs/codenames-ft-1`));
  const out = done.properties.outputs.registered_model;
  assert.equal(out.assetName, "tiny-chat-codenames-ft");
  assert.equal(out.assetVersion, "1");
  assert.equal(out.uri, `azureml://locations/${workspace.location}/workspaces/${workspace.workspaceId}/models/tiny-chat-codenames-ft/versions/1`);

  const finished = await json(await openai(`/fine_tuning/jobs/${ftJobId}`));
  assert.equal(finished.status, "succeeded");
  assert.match(finished.fine_tuned_model, /^tiny-chat\.ft-/);
  trained = { uri: out.uri, fineTunedModel: finished.fine_tuned_model };

  // The registered model, through the JS SDK's model assets.
  const version = await ml.modelVersions.get(RG, WS, "tiny-chat-codenames-ft", "1");
  assert.equal(version.properties.jobName, "codenames-ft-1");
  assert.equal(version.properties.modelType, "custom_model");
  assert.equal(version.properties.properties?.["ingot.fineTunedModel"], finished.fine_tuned_model);
  const container = await ml.modelContainers.get(RG, WS, "tiny-chat-codenames-ft");
  assert.equal(container.properties.latestVersion, "1");
  assert.equal(container.properties.nextVersion, "2");
});

test("cancel a second job (202 + Location, polled by the JS SDK to the end); then delete it and its fine-tuning job", { timeout: 120_000 }, async () => {
  const put = await arm("PUT", `${wsPath}/jobs/codenames-ft-2`, jobBody({ details: { hyperParameters: { num_train_epochs: "50" } } }));
  assert.equal(put.status, 201, await put.clone().text());
  const ftJobId = (await json(put)).properties.properties["ingot.fineTuningJobId"];
  const raw = await arm("POST", `${wsPath}/jobs/codenames-ft-2/cancel`);
  assert.equal(raw.status, 202);
  assert.match(raw.headers.get("location") ?? "", /\/jobs\/codenames-ft-2\?api-version=/);
  assert.equal(raw.headers.get("retry-after"), "1");
  await ml.jobs.beginCancelAndWait(RG, WS, "codenames-ft-2", POLL);
  assert.equal((await ml.jobs.get(RG, WS, "codenames-ft-2")).properties.status, "Canceled");
  assert.equal((await json(await openai(`/fine_tuning/jobs/${ftJobId}`))).status, "cancelled");
  const again = await arm("POST", `${wsPath}/jobs/codenames-ft-1/cancel`);
  assert.equal(again.status, 400, "a completed job cannot be canceled");
  assert.match((await json(again)).error.message, /already Completed/);

  const before = await fineTuneFiles();
  await ml.jobs.beginDeleteAndWait(RG, WS, "codenames-ft-2", POLL);
  assert.equal((await arm("GET", `${wsPath}/jobs/codenames-ft-2`)).status, 404);
  assert.equal((await openai(`/fine_tuning/jobs/${ftJobId}`)).status, 404, "the fine-tuning job went with it");
  assert.equal((await fineTuneFiles()).length, before.length - 2, "and the two files it brought in");
});

test("a job may continue training the fine-tuned workspace model", { timeout: 60_000 }, async () => {
  const put = await arm("PUT", `${wsPath}/jobs/continued`, jobBody({ details: { model: { jobInputType: "mlflow_model", uri: trained.uri } } }));
  assert.equal(put.status, 201, await put.clone().text());
  const ftJobId = (await json(put)).properties.properties["ingot.fineTuningJobId"];
  assert.equal((await json(await openai(`/fine_tuning/jobs/${ftJobId}`))).model, trained.fineTunedModel, "the account's job starts from the fine-tuned model");
  await ml.jobs.beginCancelAndWait(RG, WS, "continued", POLL);
  await ml.jobs.beginDeleteAndWait(RG, WS, "continued", POLL);
});

test("list: jobType filter, $skip paging with nextLink, the JS SDK follows it; a PUT may change only tags and names", { timeout: 60_000 }, async () => {
  const long = { hyperParameters: { num_train_epochs: "50" } };
  const put = await arm("PUT", `${wsPath}/jobs/codenames-ft-3`, jobBody({ details: long }));
  assert.equal(put.status, 201);
  await ml.jobs.beginCancelAndWait(RG, WS, "codenames-ft-3", POLL);
  const page1 = await json(await arm("GET", `${wsPath}/jobs?jobType=FineTuning&listViewType=All&$top=1`));
  assert.equal(page1.value.length, 1);
  assert.equal(page1.value[0].name, "codenames-ft-3", "newest first");
  assert.ok(page1.nextLink, "a next page");
  const page2 = await json(await fetch(page1.nextLink, { headers: { authorization: `Bearer ${owner}` } }));
  assert.deepEqual(page2.value.map((j: { name: string }) => j.name), ["codenames-ft-1"]);
  assert.equal(page2.nextLink, undefined);
  const names: string[] = [];
  for await (const j of ml.jobs.list(RG, WS, { jobType: "FineTuning" })) names.push(j.name!);
  assert.deepEqual(names.sort(), ["codenames-ft-1", "codenames-ft-3"]);
  assert.equal((await json(await arm("GET", `${wsPath}/jobs?jobType=Command`))).value.length, 0);

  const retag = await arm("PUT", `${wsPath}/jobs/codenames-ft-3`, jobBody({ details: long, props: { tags: { stage: "done" }, description: "cancelled on purpose" } }));
  assert.equal(retag.status, 200, await retag.clone().text());
  assert.deepEqual((await json(retag)).properties.tags, { stage: "done" });
  const change = await arm("PUT", `${wsPath}/jobs/codenames-ft-3`, jobBody({ details: { hyperParameters: { num_train_epochs: "3" } } }));
  assert.equal(change.status, 400);
  const ce = (await json(change)).error;
  assert.equal(ce.code, "UserError");
  assert.match(ce.message, /may change only its tags.*'fineTuningDetails'/);
});

test("bad inputs are ARM 4xx saying what to change, and leave no job and no file behind", { timeout: 120_000 }, async () => {
  const badAsset = await registerData("chat_training_bad", BAD);
  const filesBefore = await fineTuneFiles();
  const cases: [string, ReturnType<typeof jobBody>, RegExp, string?][] = [
    ["unknown jobType", jobBody({ props: { jobType: "Frobnicate" } }), /Job type 'Frobnicate' is unknown.*FineTuning/, "properties.jobType"],
    ["another job type", jobBody({ props: { jobType: "Command" } }), /'Command' is not run by Ingot/],
    ["untrainable taskType", jobBody({ details: { taskType: "ImageClassification" } }), /cannot be trained by Ingot.*ChatCompletion.*TextCompletion/, "properties.fineTuningDetails.taskType"],
    ["unresolvable model", jobBody({ details: { model: { jobInputType: "mlflow_model", uri: "azureml://registries/azureml/models/no-such-model/versions/1" } } }), /does not resolve.*tiny-chat/, "properties.fineTuningDetails.model.uri"],
    ["model that is no model", jobBody({ details: { model: { uri: "https://example.com/model" } } }), /registry model/],
    ["unresolvable data asset", jobBody({ details: { trainingData: { jobInputType: "uri_file", uri: `${wsPath}/data/no-such-data/versions/1` } } }), /no-such-data/],
    ["data url that is not there", jobBody({ details: { trainingData: { jobInputType: "uri_file", uri: `${dataUrl}/missing.jsonl` } } }), /404/],
    ["invalid dataset", jobBody({ details: { trainingData: { jobInputType: "uri_file", uri: `${dataUrl}/bad.jsonl` } } }), /[Ll]ine 2\b/, "properties.fineTuningDetails.trainingData.uri"],
    ["invalid dataset in a data asset", jobBody({ details: { trainingData: { jobInputType: "uri_file", uri: badAsset } } }), /[Ll]ine 2\b/, "properties.fineTuningDetails.trainingData.uri"],
    ["non-numeric hyperparameter", jobBody({ details: { hyperParameters: { learning_rate: "fast" } } }), /'learning_rate' must be a number/, "properties.fineTuningDetails.hyperParameters.learning_rate"],
    ["no output name", jobBody({ props: { outputs: {} } }), /assetName' is required/],
  ];
  for (const [what, body, message, target] of cases) {
    const res = await arm("PUT", `${wsPath}/jobs/bad-job`, body);
    const e = (await json(res)).error;
    assert.equal(res.status, 400, `${what}: ${JSON.stringify(e)}`);
    assert.equal(e.code, "UserError", what);
    assert.match(e.message, message, what);
    if (target) assert.equal(e.target, target, what);
    assert.ok(Array.isArray(e.details), "ML-plane errors carry details");
    assert.equal((await arm("GET", `${wsPath}/jobs/bad-job`)).status, 404, `${what}: no job`);
  }
  const badName = await arm("PUT", `${wsPath}/jobs/bad.name`, jobBody());
  assert.equal(badName.status, 400);
  assert.match((await json(badName)).error.message, /letters, digits, '_' and '-'/);
  assert.deepEqual(await fineTuneFiles(), filesBefore, "no orphan files in the backing account");
  const reader = mlPrincipal(server, "ml-jobs-reader", "Reader").token;
  const asReader = (method: string, path: string, body?: unknown) => armFetch(server, reader, method, path, body, PY_API);
  assert.equal((await asReader("GET", `${wsPath}/jobs/codenames-ft-1`)).status, 200, "a Reader reads");
  assert.equal((await asReader("PUT", `${wsPath}/jobs/reader-job`, jobBody())).status, 403);
  assert.equal((await asReader("POST", `${wsPath}/jobs/codenames-ft-1/cancel`)).status, 403);
  assert.equal((await asReader("DELETE", `${wsPath}/jobs/codenames-ft-1`)).status, 403);
  const noWs = await arm("PUT", `/subscriptions/${SUB}/resourceGroups/${RG}/providers/${PROVIDER}/workspaces/no-such-ws/jobs/j1`, jobBody());
  assert.equal(noWs.status, 404);
});

test("workspace models through the JS SDK: containers, versions, lists, delete", { timeout: 60_000 }, async () => {
  await ml.modelContainers.createOrUpdate(RG, WS, "my-model", { properties: { description: "hand-registered", tags: { a: "b" } } });
  const v = await ml.modelVersions.createOrUpdate(RG, WS, "my-model", "1", { properties: { modelType: "custom_model", modelUri: "azureml://jobs/codenames-ft-1/outputs/registered_model", description: "from the job" } });
  assert.equal(v.name, "1");
  assert.equal(v.id, `${wsPath}/models/my-model/versions/1`);
  await ml.modelVersions.createOrUpdate(RG, WS, "my-model", "2", { properties: { modelType: "mlflow_model", modelUri: "azureml://datastores/workspaceblobstore/paths/m", flavors: { mlflow: { data: {} } } } });
  const versions: string[] = [];
  for await (const x of ml.modelVersions.list(RG, WS, "my-model")) versions.push(x.name!);
  assert.deepEqual(versions, ["2", "1"]);
  const containers: string[] = [];
  for await (const c of ml.modelContainers.list(RG, WS)) containers.push(c.name!);
  assert.deepEqual(containers.sort(), ["my-model", "tiny-chat-codenames-ft"]);
  assert.equal((await ml.modelContainers.get(RG, WS, "my-model")).properties.nextVersion, "3");
  // A version pointing at a job's output serves that job's fine-tuned model (what serverless endpoints deploy).
  const resolved = (await arm("GET", `${wsPath}/models/my-model/versions/1`));
  assert.equal(resolved.status, 200);
  const immutable = await arm("PUT", `${wsPath}/models/my-model/versions/1`, { properties: { modelUri: "azureml://other" } });
  assert.equal(immutable.status, 400);
  assert.match((await json(immutable)).error.message, /version '3'/);
  await ml.modelVersions.delete(RG, WS, "my-model", "2");
  assert.equal((await arm("GET", `${wsPath}/models/my-model/versions/2`)).status, 404);
  await ml.modelContainers.delete(RG, WS, "my-model");
  assert.equal((await arm("GET", `${wsPath}/models/my-model`)).status, 404);
});

test("a job still validating when Ingot stops completes after the restart and registers its model", { timeout: 300_000 }, async () => {
  const put = await arm("PUT", `${wsPath}/jobs/after-restart`, jobBody({ props: { outputs: { registered_model: { jobOutputType: "mlflow_model", assetName: "restart-model" } } } }));
  assert.equal(put.status, 201, await put.clone().text());
  await server.ingot.close();
  await start();
  assert.equal(await waitForStatus("after-restart", (s) => ["Completed", "Failed", "Canceled"].includes(s)), "Completed");
  const out = (await json(await arm("GET", `${wsPath}/jobs/after-restart`))).properties.outputs.registered_model;
  assert.equal(out.assetVersion, "1");
  assert.equal((await ml.modelVersions.get(RG, WS, "restart-model", "1")).properties.jobName, "after-restart");
});

test("deleting a project removes its jobs from the hub's account: the fine-tuning jobs and their files go", { timeout: 60_000 }, async () => {
  const hubPath = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/${PROVIDER}/workspaces/jobs-hub`;
  const projectPath = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/${PROVIDER}/workspaces/jobs-project`;
  assert.equal((await arm("PUT", hubPath, { location: "local", kind: "Hub" }, "2024-07-01-preview")).status, 201);
  const project = await arm("PUT", projectPath, { location: "local", kind: "Project", properties: { hubResourceId: hubPath } }, "2024-07-01-preview");
  assert.equal(project.status, 201, await project.clone().text());
  const hubAccount: string = (await json(project)).properties.associatedAccountResourceId;
  const hubKey = (await json(await arm("POST", `${hubAccount}/listKeys`, undefined, "2024-10-01"))).key1;
  const hubApi = async (path: string) => json(await fetch(`${server.url}/openai${path}?api-version=${OPENAI_API}`, { headers: { "api-key": hubKey } }));

  const put = await arm("PUT", `${projectPath}/jobs/project-job`, jobBody({ details: { hyperParameters: { num_train_epochs: "50" } } }));
  assert.equal(put.status, 201, await put.clone().text());
  const ftJobId = (await json(put)).properties.properties["ingot.fineTuningJobId"];
  assert.ok((await hubApi("/fine_tuning/jobs")).data.some((j: { id: string }) => j.id === ftJobId), "the project's job runs in its hub's account");
  assert.equal((await hubApi("/files")).data.length, 2);

  assert.equal((await arm("DELETE", projectPath, undefined, "2024-07-01-preview")).status, 200);
  assert.ok(!(await hubApi("/fine_tuning/jobs")).data.some((j: { id: string }) => j.id === ftJobId), "its fine-tuning job went with it");
  for (const deadline = Date.now() + 10_000; (await hubApi("/files")).data.length > 0; ) {
    assert.ok(Date.now() < deadline, "the project's files are deleted");
    await new Promise((r) => setTimeout(r, 100));
  }
});
