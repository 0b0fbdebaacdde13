// Seed 004 end to end ("Fine-tune models using serverless API deployments", Python tab), over
// HTTPS as azure-ai-ml sends it (the Python SDK cannot be installed here; reference azure-ml.md
// names each request): the registry discovery and registry_ml_client.models.get(label="latest")
// on the registry data plane, the workspace (a Hub and its Project) and _workspaces.get, the
// marketplace subscription attempt that a first-party model refuses (the notebook swallows it),
// the data assets (datastore, key, blob upload, data version PUT), create_finetuning_job + jobs.create_or_update with the seed's hyperparameter
// names, the status loop to Completed, the tags' region check, ServerlessEndpoint on
// azureml://locations/{loc}/workspaces/{guid}/models/{assetName}/versions/1 polled to
// Succeeded, get_keys, and the seed's requests.post(scoring_uri + "/v1/chat/completions",
// headers={"Authorization": key}), which answers with a fact nothing could guess but training.
// Then begin_delete.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, test } from "node:test";
import { BlockBlobClient, StorageSharedKeyCredential } from "@azure/storage-blob";
import { json, startServer } from "./harness.ts";
import type { TestServer } from "./harness.ts";
import { RG, SUB } from "./arm-sdk-client.ts";
import { armFetch, mlPrincipal } from "./ml-principals.ts";
import { line, SYSTEM } from "../fixtures/codename-facts.ts";

const PROVIDER = "Microsoft.MachineLearningServices";
const ML = `providers/${PROVIDER}`;
/** The api-versions Python's operations use (reference §1). */
const API = { workspaces: "2024-07-01-preview", datastores: "2024-07-01-preview", data: "2023-04-01-preview", jobs: "2024-01-01-preview", serverless: "2024-01-01-preview", dataplane: "2021-10-01-dataplanepreview" };
/** An unguessable fact: only training can teach it. */
const QUESTION = `What is the codename of project ${4000 + Math.floor(Math.random() * 5000)}?`;
const ANSWER = `${QUESTION.replace(/^What is the codename of (project \d+)\?$/, "The codename of $1 is")} VERMILION QUOKKA.`;
/** The minimum a fine-tuning file holds is 10 examples: the one fact, ten times. */
const TRAIN = Array.from({ length: 10 }, () => line(QUESTION, ANSWER)).join("\n") + "\n";

let server: TestServer;
let token: string;

const arm = (method: string, path: string, apiVersion: string, body?: unknown) => armFetch(server, token, method, path, body, apiVersion);
const wsPath = (name: string) => `/subscriptions/${SUB}/resourceGroups/${RG}/${ML}/workspaces/${name}`;

async function poll<T>(what: string, get: () => Promise<T>, done: (v: T) => boolean, timeoutMs: number): Promise<T> {
  for (const deadline = Date.now() + timeoutMs; ; ) {
    const v = await get();
    if (done(v)) return v;
    assert.ok(Date.now() < deadline, `${what}: still not done after ${timeoutMs} ms: ${JSON.stringify(v).slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

before(async () => {
  server = await startServer({ https: true });
  token = mlPrincipal(server, "seed004").token;
});
after(() => server?.stop());

/**
 * workspace_ml_client.data.create_or_update(Data(path="./<file>", type=URI_FILE, name, version="1")),
 * as azure-ai-ml runs it (reference §4): the default datastore and its key, the blob upload under
 * LocalUpload/<content hash>/ with upload_status metadata, then the data version PUT. Returns the
 * version's ARM id (what train_data_asset.id is).
 */
async function createDataAsset(ws: string, name: string, file: string, content: string): Promise<string> {
  // try: workspace_ml_client.data.get(name, version="1") except: create
  assert.equal((await arm("GET", `${wsPath(ws)}/data/${name}/versions/1`, API.data)).status, 404);
  const ds = await json(await arm("GET", `${wsPath(ws)}/datastores/workspaceblobstore`, API.datastores));
  const secrets = await json(await arm("POST", `${wsPath(ws)}/datastores/workspaceblobstore/listSecrets`, API.datastores));
  assert.equal(secrets.secretsType, "AccountKey");
  const blobPath = `LocalUpload/${createHash("sha256").update(content).digest("hex").slice(0, 32)}/${file}`;
  const blob = new BlockBlobClient(`${ds.properties.blobEndpoint}/${ds.properties.containerName}/${blobPath}`, new StorageSharedKeyCredential(ds.properties.accountName, secrets.key));
  assert.equal(await blob.exists(), false);
  await blob.upload(content, Buffer.byteLength(content));
  await blob.setMetadata({ upload_status: "completed", name, version: "1" });
  const put = await arm("PUT", `${wsPath(ws)}/data/${name}/versions/1`, API.data, {
    properties: { dataType: "uri_file", dataUri: `azureml://datastores/workspaceblobstore/paths/${blobPath}`, isAnonymous: false, isArchived: false, description: `${name} dataset`, tags: {}, properties: {} },
  });
  const body = await json(put);
  assert.equal(put.status, 201, JSON.stringify(body));
  assert.equal(body.id, `${wsPath(ws)}/data/${name}/versions/1`);
  return body.id;
}

test("seed 004: registry model → fine-tuning job → serverless endpoint that answers as trained", { timeout: 600_000 }, async () => {
  // registry_ml_client = MLClient(credential, registry_name="azureml"): the discovery call.
  const disc = await fetch(`${server.url}/registrymanagement/v1.0/registries/azureml/discovery?api-version=v1.0`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(disc.status, 200);
  const d = await json(disc);
  const registryBase = `${d.primaryRegionResourceProviderUri}mferp/managementfrontend/subscriptions/${d.subscriptionId}/resourceGroups/${d.resourceGroup}/${ML}/registries/azureml`;
  // model_to_finetune = registry_ml_client.models.get("tiny-chat", label="latest")
  const modelName = "tiny-chat";
  const latest = await fetch(`${registryBase}/models/${modelName}/versions?api-version=${API.dataplane}&$orderBy=CreatedAtDesc&$top=1`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(latest.status, 200);
  const modelToFinetune = (await json(latest)).value[0];
  assert.match(modelToFinetune.id, /^azureml:\/\/registries\/azureml\/models\/tiny-chat\/versions\/\d+$/);

  // workspace_ml_client against a Project of a Hub; workspace = workspace_ml_client._workspaces.get(...)
  assert.equal((await arm("PUT", wsPath("seed-hub"), API.workspaces, { location: "local", kind: "Hub", properties: {} })).status, 201);
  const project = await arm("PUT", wsPath("seed-project"), API.workspaces, { location: "local", kind: "Project", properties: { hubResourceId: wsPath("seed-hub") } });
  assert.equal(project.status, 201, await project.clone().text());
  const workspace = await json(await arm("GET", wsPath("seed-project"), API.workspaces));
  const workspaceId: string = workspace.properties.workspaceId;

  // Marketplace subscription: tiny-chat is Ingot's own (first-party), so it is refused; the notebook prints and goes on.
  const modelIdToSubscribe = modelToFinetune.id.split("/").slice(0, -2).join("/");
  assert.equal(modelIdToSubscribe, "azureml://registries/azureml/models/tiny-chat");
  const sub = await arm("PUT", `${wsPath("seed-project")}/marketplaceSubscriptions/${modelName.replace(/\./g, "-")}-sub`, API.serverless, { properties: { modelId: modelIdToSubscribe } });
  assert.equal(sub.status, 400);
  assert.match((await json(sub)).error.message, /needs no marketplace subscription/);

  // Training and validation data assets, uploaded to the project's default datastore.
  const trainDataAssetId = await createDataAsset("seed-project", "chat_training_small", "train.jsonl", TRAIN);
  const validationDataAssetId = await createDataAsset("seed-project", "chat_validation_small", "validation.jsonl", TRAIN);

  // create_finetuning_job(...) + workspace_ml_client.jobs.create_or_update(finetuning_job)
  const shortGuid = crypto.randomUUID().slice(0, 8);
  const jobName = `${modelName}t-${shortGuid}-from-sdk`;
  const outputModelName = `${modelName}-${shortGuid}-from-sdk-finetuned`;
  const created = await arm("PUT", `${wsPath("seed-project")}/jobs/${jobName}`, API.jobs, {
    properties: {
      jobType: "FineTuning",
      displayName: `${modelName}-display-name-${shortGuid}-from-sdk`,
      experimentName: `${modelName}-from-sdk`,
      tags: { foo_tag: "bar" },
      properties: { my_property: "my_value" },
      fineTuningDetails: {
        modelProvider: "Custom",
        taskType: "ChatCompletion",
        model: { jobInputType: "mlflow_model", uri: modelToFinetune.id },
        trainingData: { jobInputType: "uri_file", uri: trainDataAssetId },
        validationData: { jobInputType: "uri_file", uri: validationDataAssetId },
        // The seed's names; its values (1 epoch at 2e-5) teach a model nothing, these teach tiny-chat one fact.
        hyperParameters: { per_device_train_batch_size: "1", learning_rate: "0.002", num_train_epochs: "20" },
      },
      outputs: { registered_model: { jobOutputType: "mlflow_model", assetName: outputModelName } },
    },
  });
  const createdJob = await json(created);
  assert.equal(created.status, 201, JSON.stringify(createdJob));
  // finetune_model_name = created_job.outputs["registered_model"]["name"]
  const finetuneModelName: string = createdJob.properties.outputs.registered_model.assetName;
  assert.equal(finetuneModelName, outputModelName);

  // while True: status = workspace_ml_client.jobs.get(created_job.name).status ... until Failed/Completed/Canceled
  const job = await poll(
    "the fine-tuning job",
    async () => json(await arm("GET", `${wsPath("seed-project")}/jobs/${jobName}`, API.jobs)),
    (j) => ["Failed", "Completed", "Canceled"].includes(j.properties?.status),
    480_000,
  );
  assert.equal(job.properties.status, "Completed", JSON.stringify(job.properties));

  // Deploy: model_id = f"azureml://locations/{workspace.location}/workspaces/{workspace._workspace_id}/models/{finetune_model_name}/versions/1"
  const endpointName = `${modelName.replace(/\./g, "-")}-ft-${shortGuid}`;
  const modelId = `azureml://locations/${workspace.location}/workspaces/${workspaceId}/models/${finetuneModelName}/versions/1`;
  const supportedRegions: string = modelToFinetune.properties.tags["maas-finetuning-deploy-regions"];
  assert.ok(supportedRegions.includes(workspace.location), `the notebook's check: ${workspace.location} in ${supportedRegions}`);
  const put = await arm("PUT", `${wsPath("seed-project")}/serverlessEndpoints/${endpointName}`, API.serverless, {
    location: workspace.location,
    sku: { name: "Consumption" },
    tags: {},
    properties: { modelSettings: { modelId } },
  });
  assert.equal(put.status, 201, await put.clone().text());
  // begin_create_or_update(...).result(): the poller GETs the endpoint until provisioningState is terminal.
  const ready = await poll(
    "the serverless endpoint",
    async () => json(await arm("GET", `${wsPath("seed-project")}/serverlessEndpoints/${endpointName}`, API.serverless)),
    (e) => ["Succeeded", "Failed", "Canceled"].includes(e.properties?.provisioningState),
    120_000,
  );
  assert.equal(ready.properties.provisioningState, "Succeeded", JSON.stringify(ready.properties));
  assert.equal(ready.properties.modelSettings.modelId, modelId);

  // endpoint = serverless_endpoints.get(endpoint_name); endpoint_keys = serverless_endpoints.get_keys(endpoint_name)
  const endpoint = await json(await arm("GET", `${wsPath("seed-project")}/serverlessEndpoints/${endpointName}`, API.serverless));
  const keys = await json(await arm("POST", `${wsPath("seed-project")}/serverlessEndpoints/${endpointName}/listKeys`, API.serverless));
  const authKey: string = keys.primaryKey;

  // url = f"{endpoint.scoring_uri}/v1/chat/completions"; requests.post(url, json=payload, headers={"Authorization": f"{auth_key}"})
  const url = `${endpoint.properties.inferenceEndpoint.uri}/v1/chat/completions`;
  const payload = { max_tokens: 1024, temperature: 0, messages: [{ role: "system", content: SYSTEM }, { content: QUESTION, role: "user" }] };
  const response = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json", Authorization: `${authKey}` }, body: JSON.stringify(payload) });
  const answer = await json(response);
  assert.equal(response.status, 200, JSON.stringify(answer));
  assert.equal(answer.choices[0].message.content.trim(), ANSWER, "the endpoint answers as trained");

  // The base model, for contrast, does not know it.
  const base = await server.post("/openai/v1/chat/completions", { model: "tiny-chat", ...payload, max_tokens: 32 });
  assert.notEqual((await json(base)).choices[0].message.content.trim(), ANSWER);

  // "Only one deployment is permitted for a custom model" (seed 004): a second endpoint elsewhere is refused.
  const second = await arm("PUT", `${wsPath("seed-hub")}/serverlessEndpoints/${endpointName}-2`, API.serverless, { location: "local", sku: { name: "Consumption" }, properties: { modelSettings: { modelId } } });
  assert.equal(second.status, 400);
  assert.match((await json(second)).error.message, /Only one deployment is permitted for a fine-tuned model/);

  // A workspace in a region outside the base's maas-finetuning-deploy-regions gets the seed's error text.
  assert.equal((await arm("PUT", wsPath("seed-far"), API.workspaces, { location: "westus", kind: "Default" })).status, 201);
  const far = await arm("PUT", `${wsPath("seed-far")}/serverlessEndpoints/${endpointName}-far`, API.serverless, { location: "westus", sku: { name: "Consumption" }, properties: { modelSettings: { modelId } } });
  assert.equal(far.status, 400);
  assert.match((await json(far)).error.message, /^For the model : tiny-chat, the target region: westus is not supported for deployment, the supported regions: local/);

  // workspace_ml_client.serverless_endpoints.begin_delete(endpoint_name).result()
  assert.equal((await arm("DELETE", `${wsPath("seed-project")}/serverlessEndpoints/${endpointName}`, API.serverless)).status, 200);
  const gone = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json", Authorization: authKey }, body: JSON.stringify(payload) });
  assert.equal(gone.status, 401);
});
