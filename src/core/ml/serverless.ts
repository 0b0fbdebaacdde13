// Azure ML serverless endpoints (Models-as-a-Service, reference azure-ml.md §9): a workspace
// deploys one catalog model (a registry id) or one of its fine-tuned models behind its own URL
// and its own two keys. Realised as a DeploymentRecord in the workspace's pseudo-account
// (mlDeploymentAccount), named after the endpoint and owned by it (managedBy), on the one
// reconciler and runner pool, with the serverless limits (200,000 tokens and 1,000 requests a
// minute, seed 004). A fine-tuned model runs as an adapter in its base's runner, as a Cognitive
// Services deployment of it does. The endpoint's provisioningState is its record's: Creating
// until the runner serves, Succeeded, or Failed with the loader's reason.
import { randomBytes } from "node:crypto";
import { errors, IngotError } from "../errors.ts";
import type { CatalogModel } from "../catalog/model.ts";
import { hashKey, newKey } from "../accounts/keys.ts";
import type { DeploymentRecord, ModelRef, ServerlessEndpointStore } from "../ports/index.ts";
import type { DeploymentInput } from "../deployments/service.ts";
import { isFirstPartyModel, parseRegistryModelId } from "./marketplace.ts";
import { FINETUNE_REGIONS_TAG, PUBLIC_REGISTRY } from "./registries.ts";
import type { Registries, RegistryModelVersion } from "./registries.ts";
import { mlDeploymentAccount, ML_PROVIDER, workspaceArmId } from "./workspaces.ts";
import type { WorkspaceRecord } from "./workspaces.ts";

/** Seed 004: "Each deployment has a rate limit of 200,000 tokens per minute and 1,000 API requests per minute." */
export const SERVERLESS_LIMITS = { tokensPerMinute: 200_000, requestsPerMinute: 1_000 } as const;
/** Azure's rule: a letter, then up to 51 letters, digits or hyphens. */
const ENDPOINT_NAME = /^[a-zA-Z][a-zA-Z0-9-]{0,51}$/;
const REGISTRY_ID = /^azureml:\/\/registries\/([^/]+)\/models\/([^/]+)(?:\/(versions|labels)\/([^/]+))?$/i;
const AUTH_MODES = ["Key", "AAD"] as const;
const CONTENT_SAFETY = ["Enabled", "Disabled"] as const;
const KEY_VALUE = /^[\x21-\x7e]{16,128}$/;
const SUFFIX_LETTERS = "abcdefghijklmnopqrstuvwxyz";

export type ServerlessProvisioningState = "Creating" | "Succeeded" | "Failed" | "Updating" | "Deleting";
export type ServerlessEndpointState = "Creating" | "Online" | "CreationFailed" | "Unknown";

export interface ServerlessEndpointRecord {
  /** The workspace's workspaceId GUID. */
  workspaceId: string;
  name: string;
  location: string;
  /** Five lowercase letters: the URL path segment is `<name>-<suffix>`, as Azure's host name is. */
  suffix: string;
  /** `properties.modelSettings.modelId` as the caller sent it; from an offer, the versionless registry id of the model it names. */
  modelId: string;
  /** `properties.offer` (the 2024-01-01-preview form), as sent. */
  offer?: { publisher: string; offerName: string };
  /** The catalog model the endpoint serves. */
  model: ModelRef;
  authMode: (typeof AUTH_MODES)[number];
  contentSafetyStatus: (typeof CONTENT_SAFETY)[number];
  tags: Record<string, string>;
  /** ARM id of the marketplace subscription a third-party model is served under; null for first-party and fine-tuned models. */
  marketplaceSubscriptionId: string | null;
  keys: { primary: string; secondary: string };
  createdAt: number;
  updatedAt: number;
}

/** What `resolveModelId` of the workspace models (ctx.mlModels) returns for a fine-tuned model id. */
export interface ResolvedWorkspaceModel {
  workspace: WorkspaceRecord;
  name: string;
  version: string;
  catalogRef: ModelRef;
}

export interface ServerlessInput {
  location?: unknown;
  sku?: unknown;
  tags?: Record<string, string>;
  properties?: unknown;
}

export interface ServerlessStatus {
  provisioningState: ServerlessProvisioningState;
  endpointState: ServerlessEndpointState;
  /** The loader's reason, when the model failed to load. */
  error?: string;
  progress?: DeploymentRecord["progress"];
}

/** The deployment rules the endpoint uses (DeploymentService). */
export interface ServerlessDeployments {
  get(account: string, name: string): DeploymentRecord | undefined;
  createOrUpdate(account: string, name: string, input: DeploymentInput): unknown;
  delete(account: string, name: string): unknown;
  /** The deployments serving a model, in any account. */
  deploymentsOf(ref: ModelRef): DeploymentRecord[];
}

export interface ServerlessDeps {
  store: ServerlessEndpointStore;
  registries: Registries;
  marketplace: {
    hasMarketplaceSubscription(workspace: WorkspaceRecord, modelId: string): boolean;
    list(workspace: WorkspaceRecord): { name: string; modelId: string }[];
  };
  deployments: ServerlessDeployments;
  catalog: { find(ref: ModelRef): CatalogModel };
  /** Fine-tuned workspace models: `azureml://locations/{loc}/workspaces/{guid}/models/{name}/versions/{v}` and ARM model-version ids. */
  resolveWorkspaceModel(modelId: string): ResolvedWorkspaceModel | undefined;
  /** ARM id of a Cognitive Services account, by name (the account behind a workspace). */
  accountArmId(account: string): string | undefined;
  clock?: () => number;
  newSuffix?: () => string;
}

export const serverlessEndpointArmId = (w: WorkspaceRecord, name: string) => `${workspaceArmId(w)}/serverlessEndpoints/${name}`;
/** The URL path segment of an endpoint: `<name>-<suffix>`. */
export const serverlessPathSegment = (e: Pick<ServerlessEndpointRecord, "name" | "suffix">) => `${e.name}-${e.suffix}`;

const userError = (message: string, target: string | null = null) => errors.armInvalid("UserError", message, target);
const objectOf = (v: unknown): Record<string, unknown> | undefined => (v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);
const sameRef = (a: ModelRef, b: ModelRef) => a.format === b.format && a.name === b.name && a.version === b.version;
const normLocation = (l: string) => l.toLowerCase().replace(/\s+/g, "");

function randomSuffix(): string {
  return [...randomBytes(5)].map((b) => SUFFIX_LETTERS[b % SUFFIX_LETTERS.length]).join("");
}

export function checkServerlessEndpointName(name: string): void {
  if (!ENDPOINT_NAME.test(name))
    throw userError(
      `Serverless endpoint name '${name.slice(0, 64)}' is invalid: start with a letter, then use up to 51 letters, digits or hyphens (-)${name.length > 52 ? ` (this one is ${name.length} characters)` : ""}.`,
      "name",
    );
}

function enumOf<T extends string>(values: readonly T[], value: unknown, field: string): T | undefined {
  if (value === undefined || value === null) return undefined;
  const found = typeof value === "string" ? values.find((v) => v.toLowerCase() === value.toLowerCase()) : undefined;
  if (!found) throw userError(`'${field}' must be one of ${values.map((v) => `'${v}'`).join(", ")}, not ${JSON.stringify(value).slice(0, 64)}.`, field);
  return found;
}

/** What a modelId or offer resolves to. */
interface ResolvedModel {
  model: CatalogModel;
  /** A registry model (catalog) or a fine-tuned workspace model. */
  kind: "registry" | "workspace";
  /** For a registry model: its versionless id (what marketplace subscriptions name). */
  registryId?: string;
  workspaceModel?: ResolvedWorkspaceModel;
}

export class ServerlessService {
  #d: Required<Omit<ServerlessDeps, "clock" | "newSuffix">>;
  #clock: () => number;
  #newSuffix: () => string;

  constructor(deps: ServerlessDeps) {
    this.#d = deps;
    this.#clock = deps.clock ?? Date.now;
    this.#newSuffix = deps.newSuffix ?? randomSuffix;
  }

  list(workspace: WorkspaceRecord): ServerlessEndpointRecord[] {
    return this.#d.store.listEndpoints(workspace.workspaceId);
  }

  get(workspace: WorkspaceRecord, name: string): ServerlessEndpointRecord | undefined {
    return this.#d.store.getEndpoint(workspace.workspaceId, name);
  }

  /** The endpoint, or ARM's 404 naming it. */
  require(workspace: WorkspaceRecord, name: string): ServerlessEndpointRecord {
    const e = this.get(workspace, name);
    if (!e) throw errors.resourceNotFound(`${ML_PROVIDER}/workspaces/${workspace.name}/serverlessEndpoints`, name, workspace.resourceGroup);
    return e;
  }

  /** PUT: creates the endpoint and its deployment, or updates tags, auth mode and content safety of an existing one (its model stays). */
  createOrUpdate(workspace: WorkspaceRecord, name: string, input: ServerlessInput): { endpoint: ServerlessEndpointRecord; created: boolean } {
    checkServerlessEndpointName(name);
    const existing = this.get(workspace, name);
    const taken = existing ? undefined : this.#d.store.findEndpointByName(name);
    if (taken)
      throw userError(`Serverless endpoint name '${name}' is not available: another endpoint uses it (names are unique, as the endpoint's URL carries them). Choose another name.`, "name");
    if (input.location !== undefined && input.location !== null) {
      if (typeof input.location !== "string" || normLocation(input.location) !== normLocation(workspace.location))
        throw userError(
          `'location' ${JSON.stringify(input.location).slice(0, 64)} does not match the workspace's location '${workspace.location}': a serverless endpoint is created where its workspace is. Send "location": "${workspace.location}" or leave it out.`,
          "location",
        );
    }
    this.#checkSku(input.sku);
    const props = objectOf(input.properties);
    if (!props) throw userError(`'properties' is required: send {"modelSettings": {"modelId": "azureml://registries/${PUBLIC_REGISTRY}/models/{name}"}}.`, "properties");
    const authMode = enumOf(AUTH_MODES, props.authMode, "properties.authMode") ?? existing?.authMode ?? "Key";
    const contentSafetyStatus = enumOf(CONTENT_SAFETY, objectOf(props.contentSafety)?.contentSafetyStatus, "properties.contentSafety.contentSafetyStatus") ?? existing?.contentSafetyStatus ?? "Enabled";
    const { modelId, offer, resolved } = this.#resolveInput(props);
    const ref: ModelRef = { format: resolved.model.format, name: resolved.model.name, version: resolved.model.version };
    if (existing && !sameRef(existing.model, ref))
      throw userError(
        `Serverless endpoint '${existing.name}' serves ${existing.model.name} (version ${existing.model.version}); its model cannot change to ${ref.name}. Delete the endpoint and create it again, or create another endpoint for ${ref.name}.`,
        "properties.modelSettings.modelId",
      );
    const other = this.list(workspace).find((e) => e.name.toLowerCase() !== name.toLowerCase() && sameRef(e.model, ref));
    if (other)
      throw userError(
        `Model ${ref.name} (version ${ref.version}) is already deployed in workspace '${workspace.name}' as serverless endpoint '${other.name}': a workspace has one serverless endpoint per model. Use that endpoint, or delete it first.`,
        "properties.modelSettings.modelId",
      );
    const marketplaceSubscriptionId = this.#checkMarketplace(workspace, resolved);
    if (resolved.kind === "workspace") {
      this.#checkRegion(workspace, resolved.model);
      this.#checkNotDeployedElsewhere(workspace, name, ref);
    }

    const account = mlDeploymentAccount(workspace);
    const armId = serverlessEndpointArmId(workspace, existing?.name ?? name);
    const record = this.#d.deployments.get(account, name);
    if (record && record.options?.managedBy?.toLowerCase() !== armId.toLowerCase())
      throw userError(`Serverless endpoint name '${name}' is not available in workspace '${workspace.name}': another resource uses it. Choose another name.`, "name");
    const deployment: DeploymentInput = {
      model: ref,
      sku: { name: this.#skuFor(resolved.model) },
      managedBy: armId,
      limits: { ...SERVERLESS_LIMITS },
      tags: {},
    };
    if (resolved.workspaceModel) {
      const owner = resolved.workspaceModel.workspace.account;
      const id = this.#d.accountArmId(owner);
      if (!id) throw userError(`The account '${owner}' that holds ${resolved.model.name} no longer exists; the model cannot be deployed. Fine-tune it again.`, "properties.modelSettings.modelId");
      deployment.source = { id, account: owner };
    }
    // Validates and writes the deployment first: a refusal leaves nothing behind.
    this.#d.deployments.createOrUpdate(account, name, deployment);
    const now = this.#clock();
    const endpoint: ServerlessEndpointRecord = {
      workspaceId: workspace.workspaceId,
      name: existing?.name ?? name,
      location: existing?.location ?? workspace.location,
      suffix: existing?.suffix ?? this.#newSuffix(),
      modelId,
      ...(offer ? { offer } : {}),
      model: ref,
      authMode,
      contentSafetyStatus,
      tags: input.tags ?? existing?.tags ?? {},
      marketplaceSubscriptionId,
      keys: existing?.keys ?? { primary: newKey(), secondary: newKey() },
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
    };
    try {
      this.#put(endpoint);
    } catch (e) {
      if (!existing) this.#d.deployments.delete(account, name);
      throw e;
    }
    return { endpoint, created: !existing };
  }

  /** PATCH: tags (and a Consumption sku); the model and keys stay. */
  update(workspace: WorkspaceRecord, name: string, patch: { tags?: Record<string, string>; sku?: unknown }): ServerlessEndpointRecord {
    const e = this.require(workspace, name);
    this.#checkSku(patch.sku);
    const updated = { ...e, tags: patch.tags ?? e.tags, updatedAt: this.#clock() };
    this.#put(updated);
    return updated;
  }

  /** Deletes the endpoint and its deployment (the reconciler unloads the model, or detaches the adapter, if nothing else uses it); false when there was none. */
  delete(workspace: WorkspaceRecord, name: string): boolean {
    const e = this.get(workspace, name);
    if (!e) return false;
    const account = mlDeploymentAccount(workspace);
    const record = this.#d.deployments.get(account, e.name);
    if (record && record.options?.managedBy?.toLowerCase() === serverlessEndpointArmId(workspace, e.name).toLowerCase()) this.#d.deployments.delete(account, e.name);
    this.#d.store.deleteEndpoint(workspace.workspaceId, e.name);
    return true;
  }

  /** Every endpoint of a workspace that is being deleted. */
  deleteAll(workspace: WorkspaceRecord): void {
    for (const e of this.list(workspace)) this.delete(workspace, e.name);
  }

  /** `keyType` Primary or Secondary (any case); `keyValue` sets the key, else a new one is generated. */
  regenerateKey(workspace: WorkspaceRecord, name: string, keyType: unknown, keyValue: unknown): ServerlessEndpointRecord {
    const e = this.require(workspace, name);
    const type = enumOf(["Primary", "Secondary"] as const, keyType, "keyType");
    if (!type) throw userError(`'keyType' is required: "Primary" or "Secondary".`, "keyType");
    if (keyValue !== undefined && keyValue !== null && (typeof keyValue !== "string" || !KEY_VALUE.test(keyValue)))
      throw userError("'keyValue' must be 16 to 128 printable characters without spaces; or leave it out to get a generated key.", "keyValue");
    const value = typeof keyValue === "string" ? keyValue : newKey();
    const other = type === "Primary" ? e.keys.secondary : e.keys.primary;
    if (value === other) throw userError(`'keyValue' is the endpoint's other key; the two keys must differ.`, "keyValue");
    if (this.#d.store.endpointForKeyHash(hashKey(value)) && value !== (type === "Primary" ? e.keys.primary : e.keys.secondary))
      throw userError("'keyValue' is not available; leave it out to get a generated key.", "keyValue");
    const updated = { ...e, keys: type === "Primary" ? { ...e.keys, primary: value } : { ...e.keys, secondary: value }, updatedAt: this.#clock() };
    this.#put(updated);
    return updated;
  }

  /** The endpoint at the URL path segment `<name>-<suffix>`, in any workspace. */
  findByPathSegment(segment: string): ServerlessEndpointRecord | undefined {
    const e = segment.length > 6 ? this.#d.store.findEndpointByName(segment.slice(0, -6)) : undefined;
    return e && serverlessPathSegment(e).toLowerCase() === segment.toLowerCase() ? e : undefined;
  }

  /** The endpoint whose key this is; undefined for anything else (account keys included). */
  authenticate(key: string | undefined): ServerlessEndpointRecord | undefined {
    if (!key) return undefined;
    return this.#d.store.endpointForKeyHash(hashKey(key));
  }

  /** The state of the endpoint's model load, from its deployment record. */
  status(workspace: WorkspaceRecord, e: ServerlessEndpointRecord): ServerlessStatus {
    const d = this.#d.deployments.get(mlDeploymentAccount(workspace), e.name);
    if (!d) return { provisioningState: "Failed", endpointState: "CreationFailed", error: "The endpoint's deployment is missing. PUT the endpoint again to recreate it." };
    const progress = d.progress ?? undefined;
    if (d.state === "Succeeded") return { provisioningState: "Succeeded", endpointState: "Online", progress };
    if (d.state === "Failed") return { provisioningState: "Failed", endpointState: "CreationFailed", error: d.error ?? "The model failed to load.", progress };
    return { provisioningState: "Creating", endpointState: "Creating", progress };
  }

  #put(e: ServerlessEndpointRecord): void {
    this.#d.store.putEndpoint(e, { primary: hashKey(e.keys.primary), secondary: hashKey(e.keys.secondary) });
  }

  #checkSku(sku: unknown): void {
    if (sku === undefined || sku === null) return;
    const name = objectOf(sku)?.name;
    if (typeof name !== "string" || name.toLowerCase() !== "consumption")
      throw userError(`'sku.name' must be 'Consumption' for a serverless endpoint (pay per token), not ${JSON.stringify(objectOf(sku)?.name ?? sku).slice(0, 64)}.`, "sku.name");
  }

  /** The SKU of the deployment behind the endpoint: a standard (pay-per-token) one; the limits are the endpoint's own. */
  #skuFor(model: CatalogModel): string {
    const names = model.skus.map((s) => s.name);
    return names.find((n) => n === "GlobalStandard") ?? names.find((n) => n === "Standard") ?? names.find((n) => n !== "DeveloperTier") ?? names[0] ?? "GlobalStandard";
  }

  #resolveInput(props: Record<string, unknown>): { modelId: string; offer?: { publisher: string; offerName: string }; resolved: ResolvedModel } {
    const settings = props.modelSettings;
    const modelId = objectOf(settings)?.modelId;
    if (settings !== undefined && settings !== null && !objectOf(settings))
      throw userError(`'properties.modelSettings' must be an object: {"modelId": "azureml://registries/${PUBLIC_REGISTRY}/models/{name}"}.`, "properties.modelSettings");
    if (modelId !== undefined && modelId !== null) {
      if (typeof modelId !== "string" || !modelId.trim())
        throw userError(`'properties.modelSettings.modelId' must be a model id string, e.g. azureml://registries/${PUBLIC_REGISTRY}/models/tiny-chat.`, "properties.modelSettings.modelId");
      return { modelId: modelId.trim(), resolved: this.#resolveModelId(modelId.trim()) };
    }
    const offer = objectOf(props.offer);
    if (props.offer !== undefined && props.offer !== null) {
      const publisher = offer?.publisher;
      const offerName = offer?.offerName;
      if (typeof publisher !== "string" || !publisher || typeof offerName !== "string" || !offerName)
        throw userError("'properties.offer' needs 'publisher' and 'offerName' strings (or send properties.modelSettings.modelId instead).", "properties.offer");
      // Reference §12.1: accept both bodies, echo modelSettings (the model the offer names).
      const resolved = this.#resolveOffer(publisher, offerName);
      return { modelId: resolved.registryId!, offer: { publisher, offerName }, resolved };
    }
    throw userError(
      `'properties.modelSettings.modelId' is required: the model to serve, e.g. azureml://registries/${PUBLIC_REGISTRY}/models/tiny-chat (a catalog model) or azureml://locations/{location}/workspaces/{workspaceId}/models/{name}/versions/{version} (a fine-tuned model).`,
      "properties.modelSettings.modelId",
    );
  }

  #resolveModelId(modelId: string): ResolvedModel {
    const m = REGISTRY_ID.exec(modelId);
    if (m) {
      const [, registry, name, kind, value] = m;
      let v: RegistryModelVersion;
      try {
        if (kind?.toLowerCase() === "labels" && value.toLowerCase() !== "latest")
          throw userError(`Label '${value}' is not defined for registry models; use 'latest' (…/labels/latest), a version (…/versions/{v}) or the versionless id.`, "properties.modelSettings.modelId");
        // Versioned registry ids are accepted (the Python SDK refuses them client-side; REST callers may send them).
        v = kind?.toLowerCase() === "versions" ? this.#d.registries.version(registry, name, value) : this.#d.registries.versions(registry, name)[0];
      } catch (e) {
        if (e instanceof IngotError && e.kind === "not_found") throw userError(`'properties.modelSettings.modelId' does not resolve: ${e.message}`, "properties.modelSettings.modelId");
        throw e;
      }
      return { model: v.model, kind: "registry", registryId: `azureml://registries/${v.registry}/models/${v.name}` };
    }
    const ft = this.#d.resolveWorkspaceModel(modelId);
    if (ft) {
      let model: CatalogModel;
      try {
        model = this.#d.catalog.find(ft.catalogRef);
      } catch {
        throw userError(`Model '${ft.name}' version ${ft.version} of workspace '${ft.workspace.name}' has no servable weights; fine-tune it again.`, "properties.modelSettings.modelId");
      }
      return { model, kind: "workspace", workspaceModel: ft };
    }
    if (/^azureml:\/\/locations\/[^/]+\/workspaces\/[^/]+\/models\//i.test(modelId) || /\/providers\/Microsoft\.MachineLearningServices\/workspaces\/[^/]+\/models\//i.test(modelId))
      throw userError(
        `Model '${modelId.slice(0, 300)}' was not found: no workspace model has that name and version. Check the workspace GUID (properties.workspaceId), the model name (the fine-tuning job's outputs.registered_model) and the version.`,
        "properties.modelSettings.modelId",
      );
    throw userError(
      `'properties.modelSettings.modelId' '${modelId.slice(0, 300)}' is not a model id. Use azureml://registries/{registry}/models/{name} (or …/labels/latest) for a catalog model, or azureml://locations/{location}/workspaces/{workspaceId}/models/{name}/versions/{version} for a fine-tuned one.`,
      "properties.modelSettings.modelId",
    );
  }

  /** The older body (2024-01-01-preview): an offer name is a model name, or its marketplace plan's offer id. */
  #resolveOffer(publisher: string, offerName: string): ResolvedModel {
    const wanted = offerName.toLowerCase().replace(/-offer$/, "");
    const slug = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "");
    const names = this.#d.registries.modelNames(PUBLIC_REGISTRY);
    const name = names.find((n) => n.toLowerCase() === wanted || slug(n) === wanted);
    if (!name)
      throw userError(`Offer '${offerName}' of publisher '${publisher}' was not found. Name a catalog model as the offer (e.g. ${names.slice(0, 3).join(", ")}), or send properties.modelSettings.modelId.`, "properties.offer.offerName");
    return this.#resolveModelId(`azureml://registries/${PUBLIC_REGISTRY}/models/${name}`);
  }

  /** Third-party catalog models need the workspace's marketplace subscription; returns its ARM id (null when none is needed). */
  #checkMarketplace(workspace: WorkspaceRecord, r: ResolvedModel): string | null {
    if (r.kind !== "registry" || isFirstPartyModel(r.model)) return null;
    const registryId = r.registryId!;
    if (!this.#d.marketplace.hasMarketplaceSubscription(workspace, registryId))
      throw userError(
        `Model ${r.model.name} is a third-party model (${r.model.publisher ?? r.model.format}): workspace '${workspace.name}' needs a marketplace subscription to it before a serverless endpoint can serve it. Create one: PUT ${workspaceArmId(workspace)}/marketplaceSubscriptions/{name} with {"properties": {"modelId": "${registryId}"}}, then retry.`,
        "properties.modelSettings.modelId",
      );
    const s = this.#d.marketplace.list(workspace).find((x) => parseRegistryModelId(x.modelId)?.model === r.model.name);
    return s ? `${workspaceArmId(workspace)}/marketplaceSubscriptions/${s.name}` : null;
  }

  /** Seed 004: "Only one deployment is permitted for a custom model" (said here in ML's terms, before the deployment rules' 409 would). */
  #checkNotDeployedElsewhere(workspace: WorkspaceRecord, name: string, ref: ModelRef): void {
    const mine = serverlessEndpointArmId(workspace, name).toLowerCase();
    const other = this.#d.deployments.deploymentsOf(ref).find((d) => d.options?.managedBy?.toLowerCase() !== mine);
    if (!other) return;
    const where = other.options?.managedBy ? `by ${other.options.managedBy}` : `as deployment '${other.name}' of account '${other.account}'`;
    throw userError(`Only one deployment is permitted for a fine-tuned model: ${ref.name} is already deployed ${where}. Delete that deployment first, or use it.`, "properties.modelSettings.modelId");
  }

  /** A fine-tuned model deploys only where its base model's maas-finetuning-deploy-regions tag allows (seed 004's check, made by the service). */
  #checkRegion(workspace: WorkspaceRecord, model: CatalogModel): void {
    const baseRef = model.baseModel;
    let regions: string[] = [];
    let baseName = baseRef?.name ?? model.name;
    if (baseRef) {
      try {
        const base = this.#d.registries.versions(PUBLIC_REGISTRY, baseRef.name).find((v) => v.version === baseRef.version) ?? this.#d.registries.versions(PUBLIC_REGISTRY, baseRef.name)[0];
        baseName = base.name;
        regions = (base.tags[FINETUNE_REGIONS_TAG] ?? "").split(",").map((r) => r.trim()).filter(Boolean);
      } catch {
        regions = [];
      }
    }
    if (!regions.some((r) => normLocation(r) === normLocation(workspace.location)))
      throw userError(
        `For the model : ${baseName}, the target region: ${workspace.location} is not supported for deployment, the supported regions: ${regions.length ? regions.join(",") : "(none)"}. Create the endpoint in a workspace in one of those regions.`,
        "properties.modelSettings.modelId",
      );
  }
}
