// Azure ML FineTuning jobs (issue 13 item 5, reference azure-ml.md §7): the ML view of a
// fine-tuning job of the workspace's backing account. One job, two views: the PUT brings the
// training data into that account's files and creates an ordinary fine-tuning job there
// (JobService, the one trainer), so `/openai/fine_tuning/jobs` of that account lists it too;
// the ML row keeps the echoed body and maps the job's status to Azure ML's. When the job has
// succeeded, its fine-tuned model becomes workspace model `{assetName}` (version 1, or the next
// free one): from the job service's completion hook, at startup for jobs that finished while
// Ingot was down, and on every read, so Completed is never shown before the model exists.
import { errors, IngotError } from "../errors.ts";
import type { CreateJobInput, JobRecord, JobStatus, RequestedHyperparameters } from "../finetuning/types.ts";
import type { FileRecord } from "../files/types.ts";
import type { ModelRef, StagedBlob } from "../ports/index.ts";
import type { MlJobStore } from "../ports/ml-job-store.ts";
import type { MlModelService } from "./models.ts";
import { inView } from "./assets.ts";
import type { ListViewType } from "./assets.ts";
import { workspaceModelUri } from "./models.ts";
import type { Registries } from "./registries.ts";
import type { WorkspaceRecord } from "./workspaces.ts";
import { ML_PROVIDER } from "./workspaces.ts";

/** Azure ML's job-name rule: letters, digits, `_` and `-`, starting with a letter or digit, up to 255. */
const JOB_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_-]{0,254}$/;
const REGISTRY_MODEL = /^azureml:\/\/registries\/([^/]+)\/models\/([^/]+)(?:\/(versions|labels)\/([^/]+))?$/i;
const ARM_REGISTRY_MODEL = /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.MachineLearningServices\/registries\/([^/]+)\/models\/([^/]+)\/versions\/([^/]+)$/i;

/** What Ingot's trainer learns: chat transcripts and prompt/completion pairs. */
export const TRAINABLE_TASKS = ["ChatCompletion", "TextCompletion"] as const;
export type TrainableTask = (typeof TRAINABLE_TASKS)[number];
/** The other task types Azure ML knows (reference §7.1): recognised, and refused by name. */
const OTHER_TASKS = [
  "TextClassification",
  "QuestionAnswering",
  "TextSummarization",
  "TokenClassification",
  "TextTranslation",
  "ImageClassification",
  "ImageInstanceSegmentation",
  "ImageObjectDetection",
  "VideoMultiObjectTracking",
];
export const MODEL_PROVIDERS = ["Custom", "AzureOpenAI"] as const;
export type ModelProvider = (typeof MODEL_PROVIDERS)[number];

/** Azure ML's JobStatus values Ingot reports. */
export type MlJobStatus = "NotStarted" | "Queued" | "Running" | "Paused" | "Completed" | "Failed" | "Canceled";
export const ML_TERMINAL: MlJobStatus[] = ["Completed", "Failed", "Canceled"];

const FIELD = "properties.fineTuningDetails";

export interface MlJobOutput {
  assetName: string;
  assetVersion?: string;
  uri?: string;
}

export interface MlJobRecord {
  workspaceId: string;
  name: string;
  /** The backing account that holds the fine-tuning job and its files. */
  account: string;
  ftJobId: string;
  /** `properties` as the caller sent them (status left out), echoed back. */
  properties: Record<string, unknown>;
  /** Last status seen: what is shown if the fine-tuning job is deleted through the other view. */
  status: MlJobStatus;
  /** Files this job brought into the account (deleted with the job). */
  files: string[];
  output: MlJobOutput;
  error: { code: string; message: string } | null;
  createdAt: number;
  updatedAt: number;
}

/** A FineTuning PUT body, translated (http/ml/jobs.ts) and checked field by field. */
export interface FineTuningJobInput {
  properties: Record<string, unknown>;
  taskType: TrainableTask;
  modelProvider: ModelProvider;
  modelUri: string;
  trainingUri: string;
  validationUri: string | null;
  requested: RequestedHyperparameters;
  seed: number;
  assetName: string;
}

/** What may change on a PUT of an existing job. */
export interface JobUpdate {
  tags?: Record<string, string>;
  description?: string;
  displayName?: string;
  isArchived?: boolean;
}

/** The data-asset resolver's answer (PLAN13 contract; ctx.mlData.resolve). */
export type ResolvedData =
  | { kind: "blob"; filename: string; bytes: number; open(): AsyncIterable<Uint8Array> }
  | { kind: "url"; url: string };

export interface MlJobDeps {
  store: MlJobStore;
  models: MlModelService;
  registries: Registries;
  jobs: {
    create(account: string, input: CreateJobInput): JobRecord;
    /** The job, or undefined when it is gone. */
    find(id: string): JobRecord | undefined;
    cancel(account: string, id: string): JobRecord;
    delete(account: string, id: string): void;
  };
  files: {
    stage(content: AsyncIterable<Uint8Array>): Promise<StagedBlob>;
    create(account: string, input: { purpose: unknown; filename: unknown; staged: StagedBlob }): Promise<FileRecord>;
    import(account: string, input: { purpose: unknown; filename: unknown; contentUrl: unknown }): Promise<FileRecord>;
    get(account: string, id: string): FileRecord | undefined;
    delete(account: string, id: string): Promise<void>;
  };
  resolveData(workspace: WorkspaceRecord, uri: string): Promise<ResolvedData>;
  /** The workspace's backing account (WorkspaceRecord.account). */
  accountOf(workspace: WorkspaceRecord): string;
  workspaceById(workspaceId: string): WorkspaceRecord | undefined;
  /** The account's custom model of that name (a job's fine-tuned model), as a catalog ref. */
  customModel(account: string, name: string): ModelRef | undefined;
  clock?: () => number;
  /** How long a PUT waits for the Files API to validate the data before creating the job anyway (default 60 s). */
  settleMs?: number;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

export function checkJobName(name: string): void {
  if (!JOB_NAME.test(name))
    throw errors.armInvalid("UserError", `Job name '${name.slice(0, 64)}' is invalid: use up to 255 letters, digits, '_' and '-', starting with a letter or digit.`, "name");
}

const squash = (s: string) => s.toLowerCase().replace(/[_\s-]/g, "");

/** `taskType` in any casing, with or without `_` (ChatCompletion, chatCompletion, chat_completion); the untrainable ones are a 400 naming what is. */
export function normalizeTaskType(value: unknown): TrainableTask {
  if (typeof value !== "string" || !value)
    throw errors.armInvalid("UserError", `'${FIELD}.taskType' is required: ${TRAINABLE_TASKS.join(" or ")}.`, `${FIELD}.taskType`);
  const trainable = TRAINABLE_TASKS.find((t) => squash(t) === squash(value));
  if (trainable) return trainable;
  const other = OTHER_TASKS.find((t) => squash(t) === squash(value));
  throw errors.armInvalid(
    "UserError",
    other
      ? `Task type '${value}' (${other}) cannot be trained by Ingot: its trainer fine-tunes language models on chat transcripts (ChatCompletion) or prompt/completion pairs (TextCompletion). Use one of those.`
      : `Task type '${value.slice(0, 64)}' is not a fine-tuning task; Ingot trains ${TRAINABLE_TASKS.join(" and ")}.`,
    `${FIELD}.taskType`,
  );
}

export function normalizeModelProvider(value: unknown): ModelProvider {
  if (value === undefined || value === null || value === "") return "Custom";
  const found = typeof value === "string" ? MODEL_PROVIDERS.find((p) => p.toLowerCase() === value.toLowerCase()) : undefined;
  if (!found) throw errors.armInvalid("UserError", `'${FIELD}.modelProvider' '${String(value).slice(0, 64)}' is not supported; use Custom or AzureOpenAI.`, `${FIELD}.modelProvider`);
  return found;
}

/** A fine-tuning job's status as Azure ML names it. */
export function mlStatusOf(status: JobStatus): MlJobStatus {
  switch (status) {
    case "validating_files":
      return "NotStarted";
    case "queued":
      return "Queued";
    case "running":
      return "Running";
    case "paused":
      return "Paused";
    case "succeeded":
      return "Completed";
    case "failed":
      return "Failed";
    case "cancelled":
      return "Canceled";
  }
}

/** The `suffix` of the fine-tuned model's name: the job name, cut to what the fine-tuning API allows. */
const suffixOf = (name: string) => name.replace(/[^A-Za-z0-9_-]/g, "").slice(0, 40) || null;

const notFound = (w: WorkspaceRecord, name: string) => errors.resourceNotFound(`${ML_PROVIDER}/workspaces/${w.name}/jobs`, name, w.resourceGroup);

const asUserError = (e: unknown, target: string | null): unknown =>
  e instanceof IngotError && (e.kind === "invalid_request" || e.kind === "not_found") ? errors.armInvalid("UserError", e.message, target) : e;

export class MlJobService {
  #d: MlJobDeps;
  #clock: () => number;
  #log: NonNullable<MlJobDeps["log"]>;

  constructor(deps: MlJobDeps) {
    this.#d = deps;
    this.#clock = deps.clock ?? Date.now;
    this.#log = deps.log ?? (() => {});
    deps.models.jobOutputOf = (w, jobName) => {
      const job = this.#d.store.getMlJob(w.workspaceId, jobName);
      const ft = job && this.#d.jobs.find(job.ftJobId);
      return job && ft?.fineTunedModel ? this.#d.customModel(job.account, ft.fineTunedModel) : undefined;
    };
  }

  /** Jobs that finished while Ingot was down get their status and model now. */
  start(): void {
    for (const job of this.#d.store.listMlJobs()) {
      if (ML_TERMINAL.includes(job.status) && (job.status !== "Completed" || job.output.assetVersion)) continue;
      const w = this.#d.workspaceById(job.workspaceId);
      if (w) this.#sync(w, job);
    }
  }

  /** The job service's hook: a fine-tuning job reached an end state. */
  finished(ft: JobRecord): void {
    const job = this.#d.store.findMlJobByFtJobId(ft.id);
    if (!job) return;
    const w = this.#d.workspaceById(job.workspaceId);
    if (w) this.#sync(w, job);
  }

  get(w: WorkspaceRecord, name: string): MlJobRecord {
    const job = this.#d.store.getMlJob(w.workspaceId, name);
    if (!job) throw notFound(w, name);
    return this.#sync(w, job);
  }

  /** Newest first; `jobType` other than FineTuning matches none (Ingot runs no other kind). */
  list(w: WorkspaceRecord, filter: { jobType?: string; view?: ListViewType; tag?: string } = {}): MlJobRecord[] {
    if (filter.jobType && filter.jobType.toLowerCase() !== "finetuning") return [];
    return this.#d.store
      .listMlJobs(w.workspaceId)
      .reverse()
      .map((j) => this.#sync(w, j))
      .filter((j) => inView(filter.view ?? "ActiveOnly", j.properties.isArchived === true))
      .filter((j) => !filter.tag || Object.hasOwn((j.properties.tags as Record<string, string> | undefined) ?? {}, filter.tag));
  }

  /** PUT of an existing job: only tags, description, displayName and isArchived may change. */
  update(w: WorkspaceRecord, name: string, changes: JobUpdate): MlJobRecord {
    const job = this.get(w, name);
    const properties = { ...job.properties };
    if (changes.tags !== undefined) properties.tags = changes.tags;
    if (changes.description !== undefined) properties.description = changes.description;
    if (changes.displayName !== undefined) properties.displayName = changes.displayName;
    if (changes.isArchived !== undefined) properties.isArchived = changes.isArchived;
    const updated = { ...job, properties, updatedAt: this.#clock() };
    this.#d.store.updateMlJob(updated);
    return updated;
  }

  exists(w: WorkspaceRecord, name: string): boolean {
    return this.#d.store.getMlJob(w.workspaceId, name) !== undefined;
  }

  /**
   * PUT of a new job: resolves the model and data, brings the data into the backing account's
   * files and waits for the Files API to validate it (a file with errors is the caller's 400,
   * with its line numbers), then creates the fine-tuning job. Whatever fails, nothing stays.
   */
  async create(w: WorkspaceRecord, name: string, input: FineTuningJobInput): Promise<MlJobRecord> {
    checkJobName(name);
    const account = this.#d.accountOf(w);
    const base = this.#baseModel(w, input.modelUri);
    const training = await this.#resolve(w, input.trainingUri, "trainingData");
    const validation = input.validationUri ? await this.#resolve(w, input.validationUri, "validationData") : null;
    const files: string[] = [];
    let ft: JobRecord | undefined;
    try {
      const trainingFile = await this.#bringIn(account, training, input.trainingUri, "trainingData", input.taskType, files);
      const validationFile = validation ? await this.#bringIn(account, validation, input.validationUri!, "validationData", input.taskType, files) : null;
      try {
        ft = this.#d.jobs.create(account, {
          model: base,
          trainingFile,
          validationFile,
          validationSplit: 0,
          requested: input.requested,
          suffix: suffixOf(name),
          seed: input.seed,
          metadata: { azureml_workspace_id: w.workspaceId, azureml_job: name.slice(0, 500) },
        });
      } catch (e) {
        throw asUserError(e, `${FIELD}.model.uri`);
      }
      const now = this.#clock();
      const job: MlJobRecord = {
        workspaceId: w.workspaceId,
        name,
        account,
        ftJobId: ft.id,
        properties: input.properties,
        status: mlStatusOf(ft.status),
        files,
        output: { assetName: input.assetName },
        error: null,
        createdAt: now,
        updatedAt: now,
      };
      if (!this.#d.store.insertMlJob(job)) throw errors.conflict("UserError", `Job '${name}' was created by another request at the same time; GET it, or choose another name.`);
      return job;
    } catch (e) {
      await this.#undo(account, ft?.id, files);
      throw e;
    }
  }

  /** Cancels a job that has not ended; cancelling a cancelled job again is a no-op. */
  cancel(w: WorkspaceRecord, name: string): MlJobRecord {
    const job = this.get(w, name);
    if (job.status === "Canceled") return job;
    if (ML_TERMINAL.includes(job.status))
      throw errors.armInvalid("UserError", `Job '${job.name}' is already ${job.status}; only jobs that have not finished can be canceled.`, "name");
    try {
      this.#d.jobs.cancel(job.account, job.ftJobId);
    } catch (e) {
      throw asUserError(e, "name");
    }
    return this.#sync(w, job);
  }

  /** Deletes a finished job, its fine-tuning job and the files it brought in; its registered model stays. */
  async delete(w: WorkspaceRecord, name: string): Promise<boolean> {
    const found = this.#d.store.getMlJob(w.workspaceId, name);
    if (!found) return false;
    const job = this.#sync(w, found);
    if (!ML_TERMINAL.includes(job.status))
      throw errors.conflict("UserError", `Job '${job.name}' is ${job.status}. Cancel it (POST …/jobs/${job.name}/cancel) before deleting it.`);
    this.#d.store.deleteMlJob(w.workspaceId, job.name);
    await this.#undo(job.account, job.ftJobId, job.files);
    return true;
  }

  /** The workspace is being deleted: its jobs stop and go, with their fine-tuning jobs and files. */
  deleteAll(w: WorkspaceRecord): void {
    for (const job of this.#d.store.listMlJobs(w.workspaceId)) {
      const ft = this.#d.jobs.find(job.ftJobId);
      if (ft && !["succeeded", "failed", "cancelled"].includes(ft.status)) {
        try {
          this.#d.jobs.cancel(job.account, ft.id);
        } catch (e) {
          this.#log("cancelling the job of a deleted workspace failed", { job: ft.id, error: (e as Error).message });
        }
      }
      this.#undo(job.account, job.ftJobId, job.files).catch(() => {});
    }
    this.#d.store.deleteWorkspaceMl(w.workspaceId);
  }

  // ---- internals ----

  /** Status, error and output from the fine-tuning job; registers the model once the job has succeeded. Synchronous: no two callers interleave. */
  #sync(w: WorkspaceRecord, given: MlJobRecord): MlJobRecord {
    // The stored row, not a copy read earlier: a stale copy would register the model twice.
    const job = this.#d.store.getMlJob(given.workspaceId, given.name) ?? given;
    const ft = this.#d.jobs.find(job.ftJobId);
    if (!ft) return job;
    let status = mlStatusOf(ft.status);
    let error = ft.error ? { code: ft.error.code, message: ft.error.message } : null;
    let output = job.output;
    if (ft.status === "succeeded" && !output.assetVersion) {
      const ref = ft.fineTunedModel ? this.#d.customModel(job.account, ft.fineTunedModel) : undefined;
      if (ref) {
        const v = this.#d.models.registerFineTuned(w, output.assetName, {
          catalogRef: ref,
          baseModel: ft.base.name,
          jobName: job.name,
          description: `Fine-tuned from ${ft.base.name} by job ${job.name}.`,
          modelUri: `azureml://jobs/${job.name}/outputs/registered_model`,
        });
        output = { assetName: output.assetName, assetVersion: v.version, uri: workspaceModelUri(w, v.name, v.version) };
      } else {
        status = "Failed";
        error = { code: "ModelNotFound", message: `The fine-tuned model ${ft.fineTunedModel ?? "(none)"} of this job is no longer in account '${job.account}', so it could not be registered as model '${output.assetName}'.` };
      }
    }
    if (status === job.status && output === job.output && JSON.stringify(error) === JSON.stringify(job.error)) return job;
    const updated: MlJobRecord = { ...job, status, error, output, updatedAt: this.#clock() };
    this.#d.store.updateMlJob(updated);
    return updated;
  }

  /** The catalog name the fine-tuning job takes: a registry model's, or the custom model behind a workspace model (continued training). */
  #baseModel(w: WorkspaceRecord, uri: string): string {
    const target = `${FIELD}.model.uri`;
    if (!uri) throw errors.armInvalid("UserError", `'${target}' is required: a registry model id such as azureml://registries/azureml/models/{name}/versions/{version}, or a workspace model.`, target);
    const reg = REGISTRY_MODEL.exec(uri.trim());
    const armReg = ARM_REGISTRY_MODEL.exec(uri.trim());
    if (reg || armReg) {
      const [registry, name, kind, version] = reg ? [reg[1], reg[2], reg[3]?.toLowerCase(), reg[4]] : [armReg![1], armReg![2], "versions", armReg![3]];
      let found;
      try {
        found = kind === "versions" ? this.#d.registries.version(registry, decodeURIComponent(name), decodeURIComponent(version)) : this.#d.registries.versions(registry, decodeURIComponent(name))[0];
      } catch (e) {
        throw errors.armInvalid("UserError", `'${target}' '${uri.slice(0, 200)}' does not resolve: ${(e as Error).message}`, target);
      }
      if (kind === "labels" && version.toLowerCase() !== "latest")
        throw errors.armInvalid("UserError", `'${target}' names label '${version}'; registry models have only the label 'latest'.`, target);
      if (!found.model.capabilities.includes("fineTune")) {
        const tunable = this.#d.registries.modelNames(found.registry).filter((n) => this.#d.registries.versions(found.registry, n)[0]?.model.capabilities.includes("fineTune"));
        throw errors.armInvalid("UserError", `Model '${found.name}' cannot be fine-tuned by Ingot. Fine-tunable models in registry '${found.registry}': ${tunable.join(", ") || "none"}.`, target);
      }
      return found.name;
    }
    const ws = this.#d.models.resolveModelId(uri);
    if (ws) {
      if (ws.workspace.workspaceId !== w.workspaceId && this.#d.accountOf(ws.workspace) !== this.#d.accountOf(w))
        throw errors.armInvalid("UserError", `'${target}' names a model of workspace '${ws.workspace.name}'; continue training only from a model of this workspace (or of its hub).`, target);
      return ws.catalogRef.name;
    }
    throw errors.armInvalid(
      "UserError",
      `'${target}' '${uri.slice(0, 200)}' does not resolve to a model Ingot can fine-tune. Use a registry model (azureml://registries/azureml/models/{name}/versions/{version} or …/labels/latest) or a fine-tuned model of this workspace (azureml://locations/{location}/workspaces/{workspaceId}/models/{name}/versions/{version}).`,
      target,
    );
  }

  async #resolve(w: WorkspaceRecord, uri: string, field: "trainingData" | "validationData"): Promise<ResolvedData> {
    const target = `${FIELD}.${field}.uri`;
    if (!uri) throw errors.armInvalid("UserError", `'${target}' is required: a data asset id or a datastore path.`, target);
    try {
      return await this.#d.resolveData(w, uri);
    } catch (e) {
      throw asUserError(e, target);
    }
  }

  /** Brings the data into the account's files and waits for its validation; returns the file id. */
  async #bringIn(account: string, data: ResolvedData, uri: string, field: "trainingData" | "validationData", task: TrainableTask, files: string[]): Promise<string> {
    const target = `${FIELD}.${field}.uri`;
    let file: FileRecord;
    try {
      if (data.kind === "blob") {
        const staged = await this.#d.files.stage(data.open());
        file = await this.#d.files.create(account, { purpose: "fine-tune", filename: data.filename, staged });
      } else {
        const filename = decodeURIComponent(new URL(data.url).pathname.split("/").pop() || "") || `${field}.jsonl`;
        file = await this.#d.files.import(account, { purpose: "fine-tune", filename, contentUrl: data.url });
      }
    } catch (e) {
      throw asUserError(e, target);
    }
    files.push(file.id);
    const deadline = Date.now() + (this.#d.settleMs ?? 60_000);
    while (["uploaded", "pending", "running"].includes(file.status) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      file = this.#d.files.get(account, file.id) ?? file;
    }
    if (file.status === "error")
      throw errors.armInvalid("UserError", `The ${field} '${uri.slice(0, 200)}' failed validation: ${file.statusDetails ?? "see the Files API"}. Fix the data asset and register a new version.`, target);
    // Still validating (a large file): the fine-tuning job waits for it, and fails with the same details if it has errors.
    if (file.status === "processed" && file.format) {
      const wanted = task === "ChatCompletion" ? "chat" : "prompt_completion";
      if (file.format !== wanted)
        throw errors.armInvalid(
          "UserError",
          task === "ChatCompletion"
            ? `taskType ChatCompletion needs chat lines ({"messages": [...]}), but the ${field} '${uri.slice(0, 200)}' has prompt/completion lines. Set taskType TextCompletion, or convert the data.`
            : `taskType TextCompletion needs prompt/completion lines ({"prompt": …, "completion": …}), but the ${field} '${uri.slice(0, 200)}' has chat lines. Set taskType ChatCompletion, or convert the data.`,
          target,
        );
    }
    return file.id;
  }

  /** Removes a fine-tuning job (cancelled first if it runs) and files; failures are logged, not thrown. */
  async #undo(account: string, ftJobId: string | undefined, files: string[]): Promise<void> {
    if (ftJobId) {
      const ft = this.#d.jobs.find(ftJobId);
      try {
        if (ft && !["succeeded", "failed", "cancelled"].includes(ft.status)) this.#d.jobs.cancel(account, ftJobId);
        if (ft) this.#d.jobs.delete(account, ftJobId);
      } catch (e) {
        this.#log("removing a fine-tuning job failed", { job: ftJobId, error: (e as Error).message });
      }
    }
    for (const id of files) {
      try {
        if (this.#d.files.get(account, id)) await this.#d.files.delete(account, id);
      } catch (e) {
        this.#log("removing a job's file failed", { file: id, error: (e as Error).message });
      }
    }
  }
}
