// Rules of Azure ML FineTuning jobs and workspace models: taskType normalisation, the status
// mapping, string hyperparameters, job-name rules, what a PUT on an existing job may change,
// and the service over fakes of the fine-tuning jobs and files: a create leaves nothing behind
// when it fails, a succeeded job registers its model once (version 1, or the next free one),
// and resolveModelId finds the fine-tuned model behind a workspace model id.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Catalog } from "../../src/core/catalog/catalog.ts";
import type { CatalogModelInput } from "../../src/core/catalog/model.ts";
import { errors } from "../../src/core/errors.ts";
import type { FileRecord } from "../../src/core/files/types.ts";
import type { CreateJobInput, JobRecord, JobStatus } from "../../src/core/finetuning/types.ts";
import { checkJobName, mlStatusOf, MlJobService, normalizeTaskType } from "../../src/core/ml/jobs.ts";
import type { FineTuningJobInput, MlJobDeps } from "../../src/core/ml/jobs.ts";
import { MlModelService, workspaceModelUri } from "../../src/core/ml/models.ts";
import { Registries } from "../../src/core/ml/registries.ts";
import type { StagedBlob } from "../../src/core/ports/index.ts";
import { checkJobType, jobUpdateOf, parseFineTuningJob, parseMlHyperparameters } from "../../src/http/ml/jobs.ts";
import { SqliteMlJobStore } from "../../src/store/sqlite/ml-job-store.ts";
import { mlBed } from "./ml-bed.ts";
import { caught, rejection } from "./caught.ts";

const SKUS = [{ name: "Standard", minCapacity: 1, maxCapacity: 10, defaultCapacity: 1 }];
const model = (format: string, name: string, capabilities: string[]): CatalogModelInput =>
  ({ format, name, version: "1", capabilities, contextLength: 256, weights: `builtin:${name}`, skus: SKUS, lifecycleStatus: "GenerallyAvailable", license: "MIT" }) as CatalogModelInput;
const catalog = new Catalog([model("Ingot", "tiny-chat", ["chatCompletion", "fineTune"]), model("Ingot", "tiny-embed", ["embeddings"])]);

/** The body `create_finetuning_job(...)` + `jobs.create_or_update` send (reference §7.1, seed 004's values). */
const seedBody = (over: Record<string, unknown> = {}) => ({
  properties: {
    jobType: "FineTuning",
    displayName: "tiny-display",
    experimentName: "tiny-from-sdk",
    tags: { foo_tag: "bar" },
    properties: { my_property: "my_value" },
    fineTuningDetails: {
      modelProvider: "Custom",
      taskType: "ChatCompletion",
      model: { jobInputType: "mlflow_model", uri: "azureml://registries/azureml/models/tiny-chat/versions/1" },
      trainingData: { jobInputType: "uri_file", uri: "azureml:train:1" },
      validationData: { jobInputType: "uri_file", uri: "azureml:valid:1" },
      hyperParameters: { per_device_train_batch_size: "1", learning_rate: "0.00002", num_train_epochs: "1" },
    },
    outputs: { registered_model: { jobOutputType: "mlflow_model", assetName: "tiny-finetuned" } },
    ...over,
  },
});

test("taskType: any casing, with or without '_'; other Azure tasks and unknown ones are 400s naming what Ingot trains", () => {
  for (const t of ["ChatCompletion", "chatCompletion", "chat_completion", "CHAT_COMPLETION", "chat-completion"]) assert.equal(normalizeTaskType(t), "ChatCompletion", t);
  for (const t of ["TextCompletion", "text_completion", "textcompletion"]) assert.equal(normalizeTaskType(t), "TextCompletion", t);
  const other = caught(() => normalizeTaskType("text_classification"));
  assert.equal(other.code, "UserError");
  assert.equal(other.param, "properties.fineTuningDetails.taskType");
  assert.match(other.message, /TextClassification/);
  assert.match(other.message, /ChatCompletion/);
  assert.match(caught(() => normalizeTaskType("Banana")).message, /ChatCompletion and TextCompletion/);
  assert.match(caught(() => normalizeTaskType(undefined)).message, /required/);
});

test("statuses map to Azure ML's", () => {
  const map: Record<JobStatus, string> = {
    validating_files: "NotStarted",
    queued: "Queued",
    running: "Running",
    paused: "Paused",
    succeeded: "Completed",
    failed: "Failed",
    cancelled: "Canceled",
  };
  for (const [from, to] of Object.entries(map)) assert.equal(mlStatusOf(from as JobStatus), to);
});

test("string hyperparameters: seed 004's names; a non-numeric, unknown or out-of-range value is a 400 naming it as sent", () => {
  const { requested } = parseMlHyperparameters({ per_device_train_batch_size: "1", learning_rate: "0.00002", num_train_epochs: "3" });
  assert.deepEqual(requested, { n_epochs: 3, batch_size: 1, learning_rate_multiplier: "auto", learning_rate: 0.00002 });
  assert.deepEqual(parseMlHyperparameters(undefined).requested, { n_epochs: "auto", batch_size: "auto", learning_rate_multiplier: "auto" });
  assert.equal(parseMlHyperparameters({ n_epochs: 2 }).requested.n_epochs, 2, "numbers and OpenAI's names pass too");
  const nan = caught(() => parseMlHyperparameters({ learning_rate: "fast" }));
  assert.equal(nan.code, "UserError");
  assert.equal(nan.param, "properties.fineTuningDetails.hyperParameters.learning_rate");
  assert.match(nan.message, /'learning_rate' must be a number.*"fast"/);
  const unknown = caught(() => parseMlHyperparameters({ warmup_ratio: "0.1" }));
  assert.match(unknown.message, /'warmup_ratio' is not supported.*num_train_epochs/);
  const range = caught(() => parseMlHyperparameters({ num_train_epochs: "0" }));
  assert.equal(range.param, "properties.fineTuningDetails.hyperParameters.num_train_epochs");
  assert.match(range.message, /'num_train_epochs'/);
  assert.match(caught(() => parseMlHyperparameters(["1"])).message, /object of string values/);
});

test("job names: letters, digits, '_' and '-', up to 255, starting with a letter or digit", () => {
  for (const ok of ["a", "tiny-chatt-1a2b3c4d-from-sdk", "Job_1", "x".repeat(255)]) checkJobName(ok);
  for (const bad of ["-x", "_x", "a b", "a.b", "x".repeat(256), "a/b"]) assert.equal(caught(() => checkJobName(bad)).code, "UserError", bad);
});

test("the seed's body parses; unknown jobType, other job types and a missing output name are 400s", () => {
  const input = parseFineTuningJob(seedBody());
  assert.equal(input.taskType, "ChatCompletion");
  assert.equal(input.modelProvider, "Custom");
  assert.equal(input.modelUri, "azureml://registries/azureml/models/tiny-chat/versions/1");
  assert.equal(input.trainingUri, "azureml:train:1");
  assert.equal(input.validationUri, "azureml:valid:1");
  assert.equal(input.assetName, "tiny-finetuned");
  assert.equal(input.requested.n_epochs, 1);
  assert.equal(parseFineTuningJob(seedBody({ jobType: "finetuning", status: "Running" })).properties.status, undefined, "status is read-only");
  assert.match(caught(() => checkJobType("Frobnicate")).message, /unknown.*FineTuning/);
  assert.match(caught(() => checkJobType("command")).message, /'Command' is not run by Ingot.*FineTuning/);
  assert.equal(caught(() => parseFineTuningJob({ properties: { jobType: "Banana" } })).param, "properties.jobType");
  const noOut = caught(() => parseFineTuningJob(seedBody({ outputs: {} })));
  assert.equal(noOut.param, "properties.outputs.registered_model.assetName");
  assert.match(caught(() => parseFineTuningJob(seedBody({ fineTuningDetails: { ...seedBody().properties.fineTuningDetails, modelProvider: "OpenSource" } }))).message, /Custom or AzureOpenAI/);
  assert.match(caught(() => parseFineTuningJob(seedBody({ fineTuningDetails: { ...seedBody().properties.fineTuningDetails, trainingData: undefined } }))).message, /trainingData' is required/);
});

test("a PUT on an existing job may change tags, description, displayName and isArchived only", () => {
  const existing = { name: "j1", properties: parseFineTuningJob(seedBody()).properties } as Parameters<typeof jobUpdateOf>[0];
  const update = jobUpdateOf(existing, seedBody({ tags: { a: "b" }, description: "new", status: "Running" }));
  assert.deepEqual(update.tags, { a: "b" });
  assert.equal(update.description, "new");
  const changed = caught(() => jobUpdateOf(existing, seedBody({ fineTuningDetails: { ...seedBody().properties.fineTuningDetails, hyperParameters: { num_train_epochs: "9" } } })));
  assert.equal(changed.code, "UserError");
  assert.match(changed.message, /may change only its tags.*'fineTuningDetails'/);
  // A body read back from GET (outputs with version and uri filled in) is not a change.
  const readBack = seedBody({ outputs: { registered_model: { jobOutputType: "mlflow_model", assetName: "tiny-finetuned", assetVersion: "1", uri: "azureml://x" } } });
  jobUpdateOf(existing, readBack);
});

// ---- the service over fakes ----

const bed = mlBed("ingot-ml-jobs-");
let n = 0;

function setup() {
  const { store, clock, workspaces } = bed.fresh();
  n++;
  const ws = workspaces.createOrUpdate("sub", "rg", "ws1", {}).workspace;
  const mlStore = new SqliteMlJobStore(store.database);
  const models = new MlModelService({
    store: mlStore,
    catalogHas: (ref) => ref.name.startsWith("tiny-chat.ft-"),
    workspaceById: (id) => workspaces.getByWorkspaceId(id),
    workspaceByPath: (s, g, name) => workspaces.get(s, g, name),
    clock,
  });
  const ftJobs = new Map<string, JobRecord>();
  const files = new Map<string, FileRecord>();
  const created: CreateJobInput[] = [];
  let failCreate = false;
  const deps: MlJobDeps = {
    store: mlStore,
    models,
    registries: new Registries(catalog, "local"),
    jobs: {
      create(account, input) {
        if (failCreate) throw errors.invalid("Model 'tiny-chat' cannot be fine-tuned here.", "model", "invalid_model");
        created.push(input);
        const job = { id: `ftjob-${ftJobs.size + 1}`, account, status: "validating_files", base: { format: "Ingot", name: "tiny-chat", version: "1" }, fineTunedModel: null, error: null } as unknown as JobRecord;
        ftJobs.set(job.id, job);
        return job;
      },
      find: (id) => ftJobs.get(id),
      cancel(_account, id) {
        const j = { ...ftJobs.get(id)!, status: "cancelled" as const };
        ftJobs.set(id, j);
        return j;
      },
      delete: (_account, id) => void ftJobs.delete(id),
    },
    files: {
      async stage(content) {
        let text = "";
        for await (const c of content) text += Buffer.from(c).toString();
        return { text } as unknown as StagedBlob;
      },
      async create(account, input) {
        const text = (input.staged as unknown as { text: string }).text;
        const bad = text.includes("BAD");
        const f = { id: `file-${files.size + 1}-${n}`, account, purpose: "fine-tune", filename: String(input.filename), bytes: text.length, status: bad ? "error" : "processed", statusDetails: bad ? "Line 2: not valid JSON." : null, format: text.includes("prompt") ? "prompt_completion" : "chat", examples: 10, createdAt: 0 } as FileRecord;
        files.set(f.id, f);
        return f;
      },
      import: () => Promise.reject(new Error("no imports here")),
      get: (_account, id) => files.get(id),
      delete: async (_account, id) => void files.delete(id),
    },
    async resolveData(_w, uri) {
      const content: Record<string, string> = { "azureml:train:1": '{"messages":[]}\n', "azureml:valid:1": '{"messages":[]}\n', "azureml:bad:1": 'ok\nBAD\n', "azureml:prompts:1": '{"prompt":"a","completion":"b"}\n' };
      if (!(uri in content)) throw errors.armInvalid("UserError", `The data reference '${uri}' does not resolve: no such data asset.`, "dataUri");
      return { kind: "blob", filename: "train.jsonl", bytes: content[uri].length, open: async function* () { yield Buffer.from(content[uri]); } };
    },
    accountOf: (w) => w.account,
    workspaceById: (id) => workspaces.getByWorkspaceId(id),
    customModel: (_account, name) => (name.startsWith("tiny-chat.ft-") ? { format: "Ingot", name, version: "1" } : undefined),
    clock,
  };
  const svc = new MlJobService(deps);
  const input = (over: Partial<FineTuningJobInput> = {}): FineTuningJobInput => ({ ...parseFineTuningJob(seedBody()), ...over });
  const succeed = (id: string, model: string) => ftJobs.set(id, { ...ftJobs.get(id)!, status: "succeeded", fineTunedModel: model });
  return { svc, models, ws, ftJobs, files, created, input, succeed, failCreate: () => (failCreate = true), workspaces };
}

test("create runs one fine-tuning job in the workspace's account with the data brought into its files", async () => {
  const { svc, ws, ftJobs, files, created, input } = setup();
  const job = await svc.create(ws, "job-1", input());
  assert.equal(job.account, ws.account);
  assert.equal(job.status, "NotStarted");
  assert.equal(ftJobs.size, 1);
  assert.equal(files.size, 2, "training and validation files");
  assert.equal(created[0].model, "tiny-chat");
  assert.equal(created[0].trainingFile, job.files[0]);
  assert.equal(created[0].validationFile, job.files[1]);
  assert.equal(created[0].requested.n_epochs, 1);
  assert.equal(created[0].suffix, "job-1");
  assert.equal(svc.get(ws, "JOB-1").ftJobId, job.ftJobId, "names are case-insensitive");
});

test("a failed create leaves nothing: bad data (with line numbers), unresolvable data or model, untrainable model, the job service's refusal", async () => {
  const { svc, ws, ftJobs, files, input, failCreate } = setup();
  const bad = await rejection(svc.create(ws, "j", input({ trainingUri: "azureml:bad:1" })));
  assert.equal(bad.code, "UserError");
  assert.equal(bad.param, "properties.fineTuningDetails.trainingData.uri");
  assert.match(bad.message, /Line 2: not valid JSON/);
  const badValid = await rejection(svc.create(ws, "j", input({ validationUri: "azureml:bad:1" })));
  assert.equal(badValid.param, "properties.fineTuningDetails.validationData.uri");
  const missing = await rejection(svc.create(ws, "j", input({ trainingUri: "azureml:nothing:1" })));
  assert.match(missing.message, /does not resolve/);
  const wrongShape = await rejection(svc.create(ws, "j", input({ trainingUri: "azureml:prompts:1" })));
  assert.match(wrongShape.message, /taskType ChatCompletion needs chat lines.*TextCompletion/);
  const noModel = await rejection(svc.create(ws, "j", input({ modelUri: "azureml://registries/azureml/models/no-such/versions/1" })));
  assert.match(noModel.message, /does not resolve.*tiny-chat/);
  const embed = await rejection(svc.create(ws, "j", input({ modelUri: "azureml://registries/azureml/models/tiny-embed/labels/latest" })));
  assert.match(embed.message, /'tiny-embed' cannot be fine-tuned.*tiny-chat/);
  const junk = await rejection(svc.create(ws, "j", input({ modelUri: "hf://tiny" })));
  assert.match(junk.message, /registry model/);
  failCreate();
  const refused = await rejection(svc.create(ws, "j", input()));
  assert.equal(refused.code, "UserError", "the job service's error, in ARM's words");
  assert.equal(ftJobs.size, 0);
  assert.equal(files.size, 0, "no orphan files");
  assert.equal(svc.exists(ws, "j"), false, "no ML job row");
});

test("a succeeded job shows Completed only with its model registered: version 1, then the next free version; once", async () => {
  const { svc, models, ws, input, succeed } = setup();
  const a = await svc.create(ws, "job-a", input());
  const b = await svc.create(ws, "job-b", input());
  assert.equal(svc.get(ws, "job-a").output.assetVersion, undefined);
  succeed(a.ftJobId, "tiny-chat.ft-a");
  const done = svc.get(ws, "job-a");
  assert.equal(done.status, "Completed");
  assert.equal(done.output.assetVersion, "1");
  assert.equal(done.output.uri, workspaceModelUri(ws, "tiny-finetuned", "1"));
  svc.get(ws, "job-a");
  svc.list(ws);
  assert.deepEqual(models.listVersions(ws, "tiny-finetuned").map((v) => v.version), ["1"], "registered once");
  succeed(b.ftJobId, "tiny-chat.ft-b");
  svc.finished({ id: b.ftJobId } as JobRecord);
  assert.equal(svc.get(ws, "job-b").output.assetVersion, "2", "version 1 was taken");
  const v2 = models.requireVersion(ws, "tiny-finetuned", "2");
  assert.equal(v2.jobName, "job-b");
  assert.deepEqual(v2.catalogRef, { format: "Ingot", name: "tiny-chat.ft-b", version: "1" });
  // The fine-tuned model resolves for deployments, by either id form.
  const byUri = models.resolveModelId(workspaceModelUri(ws, "tiny-finetuned", "1"));
  assert.equal(byUri?.catalogRef.name, "tiny-chat.ft-a");
  assert.equal(byUri?.workspace.workspaceId, ws.workspaceId);
  const byArm = models.resolveModelId(`/subscriptions/sub/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws1/models/tiny-finetuned/versions/2`);
  assert.equal(byArm?.catalogRef.name, "tiny-chat.ft-b");
  assert.equal(models.resolveModelId(`azureml://locations/local/workspaces/${ws.workspaceId}/models/tiny-finetuned/labels/latest`)?.version, "2");
  assert.equal(models.resolveModelId(workspaceModelUri(ws, "tiny-finetuned", "3")), undefined);
  assert.equal(models.resolveModelId(workspaceModelUri({ ...ws, workspaceId: "00000000-0000-0000-0000-000000000000" }, "tiny-finetuned", "1")), undefined);
  // A version registered by hand from a job's output serves that job's model.
  models.putVersion(ws, "by-hand", "1", { modelUri: "azureml://jobs/job-b/outputs/registered_model" });
  assert.equal(models.resolveModelId(workspaceModelUri(ws, "by-hand", "1"))?.catalogRef.name, "tiny-chat.ft-b");
  // Continued training from the workspace model: the job service gets the custom model's name.
  const c = await svc.create(ws, "job-c", input({ modelUri: workspaceModelUri(ws, "tiny-finetuned", "1") }));
  assert.ok(c);
});

test("a job that succeeded while nothing was listening gets its model at the next start", async () => {
  const { svc, ws, input, succeed, models } = setup();
  const a = await svc.create(ws, "job-a", input());
  succeed(a.ftJobId, "tiny-chat.ft-a");
  assert.equal(models.listContainers(ws).length, 0, "not yet: no read, no hook");
  svc.start();
  assert.equal(models.requireVersion(ws, "tiny-finetuned", "1").catalogRef?.name, "tiny-chat.ft-a");
});

test("cancel, then delete; a running job cannot be deleted; the workspace's deletion takes jobs, models and files", async () => {
  const { svc, models, ws, ftJobs, files, input, succeed } = setup();
  const a = await svc.create(ws, "job-a", input());
  assert.equal((await rejection(svc.delete(ws, "job-a"))).kind, "conflict");
  assert.equal(svc.cancel(ws, "job-a").status, "Canceled");
  assert.equal(svc.cancel(ws, "job-a").status, "Canceled", "again: no-op");
  assert.equal(await svc.delete(ws, "job-a"), true);
  assert.equal(ftJobs.has(a.ftJobId), false);
  assert.equal(files.size, 0);
  assert.equal(await svc.delete(ws, "job-a"), false);
  const b = await svc.create(ws, "job-b", input());
  succeed(b.ftJobId, "tiny-chat.ft-b");
  assert.match(caught(() => svc.cancel(ws, "job-b")).message, /already Completed/);
  svc.deleteAll(ws);
  assert.equal(svc.list(ws, { view: "All" }).length, 0);
  assert.equal(models.listContainers(ws, "All").length, 0);
  await new Promise((r) => setImmediate(r));
  assert.equal(ftJobs.size, 0);
});

test("workspace models: versions, latestVersion/nextVersion, archived views, immutable content", () => {
  const { models, ws } = setup();
  assert.equal(models.putVersion(ws, "m", "1", { modelType: "CustomModel", modelUri: "azureml://datastores/workspaceblobstore/paths/m" }).created, true);
  models.putVersion(ws, "m", "3", { modelType: "mlflow_model", flavors: { mlflow: { data: {} } } });
  assert.equal(models.nextVersion(ws, "m"), "4");
  assert.equal(models.latestVersion(ws, "m")?.version, "3");
  assert.equal(models.putVersion(ws, "m", "1", { description: "d", isArchived: true }).created, false);
  assert.deepEqual(models.listVersions(ws, "m").map((v) => v.version), ["3"]);
  assert.deepEqual(models.listVersions(ws, "m", "ArchivedOnly").map((v) => v.version), ["1"]);
  assert.match(caught(() => models.putVersion(ws, "m", "1", { modelUri: "azureml://other" })).message, /cannot change.*version '4'/);
  assert.match(caught(() => models.putVersion(ws, "m", "5", { modelType: "onnx" })).message, /custom_model, mlflow_model, triton_model/);
  assert.equal(caught(() => models.putVersion(ws, "bad name", "1", {})).code, "UserError");
  assert.equal(models.resolveModelId(workspaceModelUri(ws, "m", "1")), undefined, "not a model Ingot can serve");
  assert.equal(models.deleteVersion(ws, "m", "1"), true);
  assert.equal(models.deleteContainer(ws, "M"), true);
  assert.equal(models.listContainers(ws).length, 0);
});
