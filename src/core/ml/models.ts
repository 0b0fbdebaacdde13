// Azure ML workspace models (reference azure-ml.md §6.1): containers and their versions under a
// workspace. A version points at something through modelUri; when that is a fine-tuned model
// Ingot holds (a FineTuning job's output, or another workspace model that is one), the version
// carries `catalogRef`, the custom model of the workspace's backing account that a deployment
// can serve. `resolveModelId` is how serverless endpoints and online deployments find it from
// `azureml://locations/{loc}/workspaces/{guid}/models/{name}/versions/{v}` or an ARM id.
import { errors } from "../errors.ts";
import type { ModelRef } from "../ports/index.ts";
import type { MlJobStore } from "../ports/ml-job-store.ts";
import { checkAssetName, checkAssetVersion, inView, nextVersionOf, optionalBool as bool, optionalString as str, stringMap } from "./assets.ts";
import type { AssetContainerRecord, AssetVersionRecord, ListViewType } from "./assets.ts";
import { ML_PROVIDER } from "./workspaces.ts";
import type { WorkspaceRecord } from "./workspaces.ts";

/** As the SDKs send them, and the spec examples' PascalCase (reference §12.2). */
const MODEL_TYPES = ["custom_model", "mlflow_model", "triton_model"];
const WORKSPACE_MODEL_ID = /^azureml:\/\/locations\/([^/]+)\/workspaces\/([^/]+)\/models\/([^/]+)\/(versions|labels)\/([^/]+)$/i;
const ARM_MODEL_ID = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.MachineLearningServices\/workspaces\/([^/]+)\/models\/([^/]+)\/versions\/([^/]+)$/i;
const JOB_OUTPUT = /^azureml:\/\/jobs\/([^/]+)\/outputs\/([^/]+)(\/.*)?$/i;

export type ModelContainerRecord = AssetContainerRecord;

export interface ModelVersionRecord extends AssetVersionRecord {
  modelType: string;
  modelUri: string | null;
  flavors: Record<string, unknown>;
  jobName: string | null;
  stage: string | null;
  /** The fine-tuned custom model (owned by the workspace's backing account) behind this version, if any. */
  catalogRef: ModelRef | null;
}

/** A version's properties as the wire gave them (unvalidated). */
export interface ModelVersionInput {
  modelType?: unknown;
  modelUri?: unknown;
  flavors?: unknown;
  jobName?: unknown;
  description?: unknown;
  tags?: unknown;
  properties?: unknown;
  isAnonymous?: unknown;
  isArchived?: unknown;
  stage?: unknown;
}

export interface ModelContainerInput {
  description?: unknown;
  tags?: unknown;
  properties?: unknown;
  isArchived?: unknown;
}

export interface ResolvedWorkspaceModel {
  workspace: WorkspaceRecord;
  name: string;
  version: string;
  catalogRef: ModelRef;
}

export interface MlModelDeps {
  store: MlJobStore;
  /** Whether the catalog still holds the custom model (its owner may have deleted it). */
  catalogHas(ref: ModelRef): boolean;
  workspaceById(workspaceId: string): WorkspaceRecord | undefined;
  workspaceByPath(subscription: string, resourceGroup: string, name: string): WorkspaceRecord | undefined;
  clock?: () => number;
}

export const workspaceModelUri = (w: Pick<WorkspaceRecord, "location" | "workspaceId">, name: string, version: string) =>
  `azureml://locations/${w.location}/workspaces/${w.workspaceId}/models/${name}/versions/${version}`;

/** `modelType` in the spelling given, when it names a kind Azure knows (any casing, with or without `_`); absent: custom_model. */
export function checkModelType(value: unknown): string {
  if (value === undefined || value === null || value === "") return "custom_model";
  const norm = (s: string) => s.toLowerCase().replace(/_/g, "");
  if (typeof value === "string" && MODEL_TYPES.some((t) => norm(t) === norm(value))) return value;
  throw errors.armInvalid("UserError", `modelType '${String(value).slice(0, 64)}' is not supported; use one of ${MODEL_TYPES.join(", ")} (CustomModel, MLFlowModel and TritonModel are accepted too).`, "properties.modelType");
}

const byVersion = (a: string, b: string) => a.localeCompare(b, "en", { numeric: true });

export class MlModelService {
  #d: MlModelDeps;
  #clock: () => number;
  /** The fine-tuned model a job of the workspace produced (for modelUri `azureml://jobs/{job}/outputs/…`); set by the jobs service. */
  jobOutputOf: (workspace: WorkspaceRecord, jobName: string) => ModelRef | undefined = () => undefined;

  constructor(deps: MlModelDeps) {
    this.#d = deps;
    this.#clock = deps.clock ?? Date.now;
  }

  // ---- containers ----

  listContainers(w: WorkspaceRecord, view: ListViewType = "ActiveOnly"): ModelContainerRecord[] {
    return this.#d.store.listModelContainers(w.workspaceId).filter((c) => inView(view, c.isArchived));
  }

  requireContainer(w: WorkspaceRecord, name: string): ModelContainerRecord {
    const c = this.#d.store.getModelContainer(w.workspaceId, name);
    if (!c) throw errors.resourceNotFound(`${ML_PROVIDER}/workspaces/${w.name}/models`, name, w.resourceGroup);
    return c;
  }

  putContainer(w: WorkspaceRecord, name: string, input: ModelContainerInput): { container: ModelContainerRecord; created: boolean } {
    checkAssetName(name);
    const existing = this.#d.store.getModelContainer(w.workspaceId, name);
    const now = this.#clock();
    const container: ModelContainerRecord = {
      workspaceId: w.workspaceId,
      name: existing?.name ?? name,
      description: str(input.description, "properties.description") ?? existing?.description ?? "",
      tags: stringMap(input.tags, "properties.tags", "refuse") ?? existing?.tags ?? {},
      properties: stringMap(input.properties, "properties.properties", "refuse") ?? existing?.properties ?? {},
      isArchived: bool(input.isArchived, "properties.isArchived") ?? existing?.isArchived ?? false,
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
    };
    this.#d.store.putModelContainer(container);
    return { container, created: !existing };
  }

  deleteContainer(w: WorkspaceRecord, name: string): boolean {
    if (!this.#d.store.getModelContainer(w.workspaceId, name)) return false;
    this.#d.store.deleteModelContainer(w.workspaceId, name);
    return true;
  }

  /** The newest version by creation (Azure's latestVersion), or undefined. */
  latestVersion(w: WorkspaceRecord, name: string): ModelVersionRecord | undefined {
    return this.#d.store.listModelVersions(w.workspaceId, name).reduce<ModelVersionRecord | undefined>((a, v) => (!a || v.createdAt >= a.createdAt ? v : a), undefined);
  }

  /** One more than the highest integer version; "1" when there is none. */
  nextVersion(w: WorkspaceRecord, name: string): string {
    return nextVersionOf(this.#d.store.listModelVersions(w.workspaceId, name).map((v) => v.version));
  }

  // ---- versions ----

  listVersions(w: WorkspaceRecord, name: string, view: ListViewType = "ActiveOnly"): ModelVersionRecord[] {
    this.requireContainer(w, name);
    return this.#d.store.listModelVersions(w.workspaceId, name).filter((v) => inView(view, v.isArchived)).sort((a, b) => byVersion(b.version, a.version));
  }

  requireVersion(w: WorkspaceRecord, name: string, version: string): ModelVersionRecord {
    const v = this.#d.store.getModelVersion(w.workspaceId, name, version);
    if (!v) throw errors.resourceNotFound(`${ML_PROVIDER}/workspaces/${w.name}/models/${name}/versions`, version, w.resourceGroup);
    return v;
  }

  /** PUT of a version: creates it (and its container if need be); an existing version may change only its description, tags, properties, stage and archived flag. */
  putVersion(w: WorkspaceRecord, name: string, version: string, input: ModelVersionInput): { version: ModelVersionRecord; created: boolean } {
    checkAssetName(name);
    checkAssetVersion(version);
    const modelType = checkModelType(input.modelType);
    const modelUri = str(input.modelUri, "properties.modelUri") ?? null;
    const flavors = input.flavors === undefined || input.flavors === null ? undefined : input.flavors;
    if (flavors !== undefined && (typeof flavors !== "object" || Array.isArray(flavors)))
      throw errors.armInvalid("UserError", "'properties.flavors' must be an object such as {\"mlflow\": {\"data\": {}}}.", "properties.flavors");
    const existing = this.#d.store.getModelVersion(w.workspaceId, name, version);
    if (existing) {
      const changed = (input.modelUri !== undefined && modelUri !== existing.modelUri) || (input.modelType !== undefined && modelType.toLowerCase().replace(/_/g, "") !== existing.modelType.toLowerCase().replace(/_/g, ""));
      if (changed)
        throw errors.armInvalid(
          "UserError",
          `Version '${existing.version}' of model '${existing.name}' exists and its modelUri and modelType cannot change; register the new content as version '${this.nextVersion(w, name)}' instead.`,
          "properties.modelUri",
        );
    }
    const jobName = str(input.jobName, "properties.jobName") ?? existing?.jobName ?? null;
    const now = this.#clock();
    const record: ModelVersionRecord = {
      workspaceId: w.workspaceId,
      name: existing?.name ?? this.#d.store.getModelContainer(w.workspaceId, name)?.name ?? name,
      version: existing?.version ?? version,
      modelType: existing?.modelType ?? modelType,
      modelUri: existing?.modelUri ?? modelUri,
      flavors: (flavors as Record<string, unknown> | undefined) ?? existing?.flavors ?? {},
      jobName,
      description: str(input.description, "properties.description") ?? existing?.description ?? "",
      tags: stringMap(input.tags, "properties.tags", "refuse") ?? existing?.tags ?? {},
      properties: stringMap(input.properties, "properties.properties", "refuse") ?? existing?.properties ?? {},
      isAnonymous: bool(input.isAnonymous, "properties.isAnonymous") ?? existing?.isAnonymous ?? false,
      isArchived: bool(input.isArchived, "properties.isArchived") ?? existing?.isArchived ?? false,
      stage: str(input.stage, "properties.stage") ?? existing?.stage ?? null,
      catalogRef: existing?.catalogRef ?? (modelUri ? this.#catalogRefOf(w, modelUri) : null),
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
    };
    if (!this.#d.store.getModelContainer(w.workspaceId, name)) this.putContainer(w, name, {});
    this.#d.store.putModelVersion(record);
    return { version: record, created: !existing };
  }

  deleteVersion(w: WorkspaceRecord, name: string, version: string): boolean {
    if (!this.#d.store.getModelVersion(w.workspaceId, name, version)) return false;
    this.#d.store.deleteModelVersion(w.workspaceId, name, version);
    return true;
  }

  /** A FineTuning job's output: version 1 of `name`, or the next free version when 1 is taken. */
  registerFineTuned(w: WorkspaceRecord, name: string, output: { catalogRef: ModelRef; baseModel: string; jobName: string; description: string; modelUri: string }): ModelVersionRecord {
    const version = this.#d.store.getModelVersion(w.workspaceId, name, "1") ? this.nextVersion(w, name) : "1";
    const { version: record } = this.putVersion(w, name, version, {
      modelType: "custom_model",
      modelUri: output.modelUri,
      jobName: output.jobName,
      description: output.description,
      properties: { "ingot.baseModel": output.baseModel, "ingot.fineTunedModel": output.catalogRef.name },
    });
    // The job's output is what the version serves, whatever the uri parsing found.
    const withRef = { ...record, catalogRef: output.catalogRef };
    this.#d.store.putModelVersion(withRef);
    return withRef;
  }

  /**
   * A workspace model version by `azureml://locations/{loc}/workspaces/{guid}/models/{name}/versions/{v}`
   * (or `/labels/latest`) or its ARM id, with the fine-tuned custom model behind it; undefined
   * when the id names none, or the version is not a model Ingot can serve.
   */
  resolveModelId(modelId: string): ResolvedWorkspaceModel | undefined {
    const id = modelId.trim();
    let w: WorkspaceRecord | undefined;
    let name: string;
    let version: string;
    let m = WORKSPACE_MODEL_ID.exec(id);
    if (m) {
      w = this.#d.workspaceById(m[2]);
      name = decodeURIComponent(m[3]);
      version = m[4].toLowerCase() === "labels" ? (m[5].toLowerCase() === "latest" ? "" : "\0") : decodeURIComponent(m[5]);
    } else if ((m = ARM_MODEL_ID.exec(id))) {
      w = this.#d.workspaceByPath(m[1], m[2], m[3]);
      name = decodeURIComponent(m[4]);
      version = decodeURIComponent(m[5]);
    } else return undefined;
    if (!w) return undefined;
    const v = version === "" ? this.latestVersion(w, name) : this.#d.store.getModelVersion(w.workspaceId, name, version);
    if (!v?.catalogRef || !this.#d.catalogHas(v.catalogRef)) return undefined;
    return { workspace: w, name: v.name, version: v.version, catalogRef: v.catalogRef };
  }

  /** The servable model behind a modelUri, when Ingot holds one: a job's output or another workspace model. */
  #catalogRefOf(w: WorkspaceRecord, modelUri: string): ModelRef | null {
    const job = JOB_OUTPUT.exec(modelUri.trim());
    if (job) return this.jobOutputOf(w, decodeURIComponent(job[1])) ?? null;
    return this.resolveModelId(modelUri)?.catalogRef ?? null;
  }
}
