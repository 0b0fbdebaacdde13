// Deployments: desired state in the store; the reconciler makes reality match it. This is
// where a deployment PUT/PATCH/DELETE is decided (seed 000 rules, reference §1.4–1.9, §5).
import { randomUUID } from "node:crypto";
import { errors, IngotError } from "../errors.ts";
import type { Catalog, CatalogModel } from "../catalog/catalog.ts";
import type { DeploymentResolver, ResolvedDeployment } from "../ports/index.ts";
import type { DeploymentOptions, DeploymentRecord, ModelRef, OperationRecord, ProvisioningProgress, ResourceStore } from "../ports/index.ts";
import { checkDeploymentName, checkQuota, quotaLabel, resolveSku } from "./rules.ts";

/** The deployments every new account starts with, sized never to throttle local development. */
export const DEFAULT_DEPLOYMENTS: { name: string; model: ModelRef }[] = [
  { name: "tiny-chat", model: { format: "Ingot", name: "tiny-chat", version: "1" } },
  { name: "tiny-embed", model: { format: "Ingot", name: "tiny-embed", version: "1" } },
];
const DEFAULT_SKU = { name: "GlobalStandard", capacity: 1000 };
const DAY_MS = 24 * 3600 * 1000;
/** Last-use timestamps are written at most this often: one row update per request would be wasteful. */
const TOUCH_INTERVAL_MS = 60_000;

/** Loaded models are shared: deployments of one catalog model use one engine slot. */
export const engineKeyOf = (m: ModelRef) => `${m.format}/${m.name}@${m.version}`;

/** A custom model served as a LoRA adapter in its base's runner (rather than as weights of its own). */
export const isAdapterModel = (m: CatalogModel): m is CatalogModel & { baseModel: ModelRef } => m.baseModel !== undefined && m.weights.startsWith("lora:");

/** Where a model runs: its own engine slot, or (an adapter model) its base's slot through the adapter. */
export function engineTargetOf(m: CatalogModel): { key: string; adapter?: string } {
  return isAdapterModel(m) ? { key: engineKeyOf(m.baseModel), adapter: engineKeyOf(m) } : { key: engineKeyOf(m) };
}
/** An online deployment's instance gets a runner of its own; every other deployment keeps the model's shared key. */
export const instanceKeyOf = (key: string, instance: string | undefined) => (instance ? `${key}#${instance}` : key);
/** Where one deployment record runs: its model's target, in its instance's runner. */
export function recordTargetOf(m: CatalogModel, options: DeploymentOptions | undefined): { key: string; adapter?: string } {
  const t = engineTargetOf(m);
  return options?.instance ? { ...t, key: instanceKeyOf(t.key, options.instance) } : t;
}
/** DeveloperTier serves fine-tuned models only, whether a PUT or a PATCH asks for it. */
function checkDeveloperTier(sku: string, model: CatalogModel): void {
  if (sku === "DeveloperTier" && !model.baseModel)
    throw errors.armInvalid("InvalidSkuName", `SKU DeveloperTier serves fine-tuned models only; ${model.name} is a base model. Use ${model.skus.filter((s) => s.name !== "DeveloperTier").map((s) => s.name).join(", ")}.`, "sku.name");
}
export const sameModel = (a: ModelRef, b: ModelRef) => a.format === b.format && a.name === b.name && a.version === b.version;
const label = (m: ModelRef) => `${m.name} (format '${m.format}', version '${m.version}')`;

export interface DeploymentInput {
  model?: { format?: unknown; name?: unknown; version?: unknown };
  sku?: { name?: unknown; capacity?: unknown };
  tags?: Record<string, string>;
  raiPolicyName?: string;
  versionUpgradeOption?: string;
  /** A custom model from another account: its ARM id and name, already authorized by the caller. */
  source?: { id: string; account: string };
  /** The Azure ML resource owning the record (DeploymentOptions.managedBy). */
  managedBy?: string;
  /** Per-minute limits replacing the SKU's (DeploymentOptions.limits). */
  limits?: { tokensPerMinute: number; requestsPerMinute: number };
  /** An Azure ML online deployment's instance, which gets a runner of its own (DeploymentOptions.instance). */
  instance?: string;
  /** properties.routing as sent (model-router deployments only; checked by checkRouting). */
  routing?: unknown;
}

export interface DeploymentPolicy {
  /** Quota units per usage name per account. */
  quotaPerUsage: number;
  /** A fine-tuned deployment with no calls for this long is deleted (Azure: 15 days). */
  idleDeletionMs: number;
  /** DeveloperTier deployments live this long (Azure: 24 hours). */
  developerTierLifetimeMs: number;
}

export const DEFAULT_POLICY: DeploymentPolicy = { quotaPerUsage: 2000, idleDeletionMs: 15 * DAY_MS, developerTierLifetimeMs: DAY_MS };

export interface DeploymentChange {
  deployment: DeploymentRecord;
  created: boolean;
  operation: OperationRecord;
}

export class DeploymentService implements DeploymentResolver {
  #store: ResourceStore;
  #catalog: Catalog;
  #clock: () => number;
  #policy: DeploymentPolicy;
  /** Which account owns a custom model (undefined: a shared catalog model). */
  #ownerOf: (ref: ModelRef) => string | undefined;
  /** Told when desired state changed, so the reconciler acts on it. */
  #onChange: (account: string, name: string, operation: OperationRecord) => void = () => {};

  constructor(store: ResourceStore, catalog: Catalog, opts: { clock?: () => number; policy?: Partial<DeploymentPolicy>; ownerOf?: (ref: ModelRef) => string | undefined } = {}) {
    this.#store = store;
    this.#catalog = catalog;
    this.#clock = opts.clock ?? Date.now;
    this.#policy = { ...DEFAULT_POLICY, ...opts.policy };
    this.#ownerOf = opts.ownerOf ?? (() => undefined);
  }

  get policy(): DeploymentPolicy {
    return this.#policy;
  }

  onChange(listener: (account: string, name: string, operation: OperationRecord) => void): void {
    this.#onChange = listener;
  }

  ensureDefaults(account: string, extra: { name: string; model: ModelRef; sku?: { name: string; capacity: number } }[] = []): void {
    const wanted: { name: string; model: ModelRef; sku?: { name: string; capacity: number } }[] = [...DEFAULT_DEPLOYMENTS, ...extra];
    for (const d of wanted) {
      if (this.#store.getDeployment(account, d.name)) continue;
      const now = this.#clock();
      this.#store.putDeployment({ account, name: d.name, model: d.model, sku: d.sku ?? DEFAULT_SKU, state: "Creating", error: null, createdAt: now, updatedAt: now });
    }
  }

  /** Reads never write: expiry runs on its own timer (sweep), not here. */
  list(account?: string): DeploymentRecord[] {
    return this.#store.listDeployments(account);
  }

  /** Names compare case-insensitively (as ARM's); the record carries the name as first written. */
  get(account: string, name: string): DeploymentRecord | undefined {
    return this.#store.getDeployment(account, name);
  }

  setState(d: DeploymentRecord, state: DeploymentRecord["state"], error: string | null = null, progress?: ProvisioningProgress | null): void {
    const current = this.#store.getDeployment(d.account, d.name);
    // A deployment deleted or replaced while it was provisioning must not be resurrected, nor
    // marked by the outcome of loading a model version a later PUT replaced (a replace keeps createdAt).
    if (!current || current.createdAt !== d.createdAt || !sameModel(current.model, d.model)) return;
    this.#store.putDeployment({ ...current, state, error, progress: progress === undefined ? current.progress : progress, updatedAt: this.#clock() });
  }

  setProgress(d: DeploymentRecord, progress: ProvisioningProgress): void {
    const current = this.#store.getDeployment(d.account, d.name);
    if (!current || current.createdAt !== d.createdAt || !sameModel(current.model, d.model)) return;
    this.#store.putDeployment({ ...current, progress });
  }

  /** ARM PUT: validates against the catalog, SKU offers and quota; writes desired state; provisioning continues asynchronously. */
  createOrUpdate(account: string, name: string, input: DeploymentInput): DeploymentChange {
    checkDeploymentName(name);
    const m = input.model;
    if (!m || typeof m !== "object") throw errors.armInvalid("InvalidResourceProperties", "properties.model is required: give {format, name, version}.", "properties.model");
    for (const field of ["format", "name"] as const)
      if (typeof m[field] !== "string" || !m[field]) throw errors.armInvalid("InvalidResourceProperties", `properties.model.${field} is required and must be a string.`, `properties.model.${field}`);
    if (m.version !== undefined && m.version !== null && typeof m.version !== "string")
      throw errors.armInvalid("InvalidResourceProperties", "properties.model.version must be a string, e.g. \"1\".", "properties.model.version");
    const model = this.#catalog.resolve({ format: m.format as string, name: m.name as string, version: (m.version as string | undefined) ?? undefined });
    const ref: ModelRef = { format: model.format, name: model.name, version: model.version };
    this.#checkDeployable(model, account, input.source);

    const existing = this.#store.getDeployment(account, name);
    // `RACE` after `race` updates `race`: ARM names are case-insensitive and keep the case first written.
    name = existing?.name ?? name;
    if (existing && (existing.model.format !== ref.format || existing.model.name !== ref.name))
      throw errors.conflict(
        "DeploymentModelChangeNotAllowed",
        `Deployment '${name}' serves ${label(existing.model)}; a deployment's model cannot be changed to ${ref.name}. Delete the deployment first, or deploy ${ref.name} under another name.`,
      );
    const { offer, capacity } = resolveSku(label(ref), model.skus, input.sku);
    checkDeveloperTier(offer.name, model);
    if (model.baseModel) {
      // The instances of one online deployment (same managedBy) serve the model together.
      const other = this.#store
        .listDeployments()
        .find((d) => sameModel(d.model, ref) && !(d.account === account && d.name === name) && !(input.managedBy && d.options?.managedBy === input.managedBy));
      if (other)
        throw errors.conflict(
          "CustomModelAlreadyDeployed",
          `Only one deployment is permitted for a custom model: ${ref.name} is already deployed as '${other.name}'${other.account === account ? "" : ` in account '${other.account}'`}. Delete that deployment first.`,
        );
    }
    const used = this.#store
      .listDeployments(account)
      .filter((d) => d.name !== name && this.#usageNameOf(d) === offer.usageName)
      .reduce((sum, d) => sum + d.sku.capacity, 0);
    checkQuota({ usageName: offer.usageName, label: quotaLabel(offer.usageName, offer.name, model.name), requested: capacity, used, limit: this.#policy.quotaPerUsage });

    const routing = this.#checkRouting(account, name, model, input.routing);
    const now = this.#clock();
    const options: DeploymentOptions = {
      raiPolicyName: input.raiPolicyName,
      versionUpgradeOption: input.versionUpgradeOption,
      source: input.source?.id,
      ...(input.managedBy ? { managedBy: input.managedBy } : {}),
      ...(input.limits ? { limits: input.limits } : {}),
      ...(input.instance ? { instance: input.instance } : {}),
      ...(routing ? { routing } : {}),
    };
    // Same model already serving: a replace only changes SKU, tags or options, which take effect at once.
    const unchanged = existing?.state === "Succeeded" && sameModel(existing.model, ref);
    const deployment: DeploymentRecord = {
      account,
      name,
      model: ref,
      sku: { name: offer.name, capacity },
      state: unchanged ? "Succeeded" : "Accepted",
      error: null,
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
      tags: input.tags ?? {},
      options,
      progress: unchanged ? existing.progress : { phase: "queued", percentComplete: 0 },
      lastUsedAt: existing?.lastUsedAt ?? null,
    };
    this.#store.putDeployment(deployment);
    const operation = this.#newOperation(account, name, existing ? "update" : "create", unchanged ? "Succeeded" : "InProgress");
    if (!unchanged) this.#onChange(account, name, operation);
    return { deployment, created: !existing, operation };
  }

  /** Rules on which model may be deployed where (catalog lifecycle, open weights, custom-model ownership). */
  #checkDeployable(model: CatalogModel, account: string, source: DeploymentInput["source"]): void {
    if (model.lifecycleStatus === "Deprecated")
      throw errors.armInvalid("DeploymentModelNotSupported", `Model ${label(model)} is deprecated and can no longer be deployed. Choose a newer version (see GET …/accounts/{account}/models).`, "properties.model.version");
    if ((model.weights === "none" || model.engine === "upstream") && model.engine !== "router" && !model.upstream)
      throw errors.armInvalid(
        "DeploymentModelNotSupported",
        `Model ${model.name} (format '${model.format}') has no open weights: Ingot can serve it only through an upstream endpoint, and none is configured for it. Deploy an open model instead (e.g. format 'Alibaba', name 'Qwen2.5-0.5B-Instruct').`,
        "properties.model",
      );
    const owner = this.#ownerOf(model);
    if (owner === undefined) {
      if (source) throw errors.armInvalid("InvalidResourceProperties", `Model ${model.name} is a catalog model, not a custom model of ${source.id}; remove properties.model.source.`, "properties.model.source");
      return;
    }
    const expected = source?.account ?? account;
    if (owner !== expected)
      throw errors.armInvalid(
        "DeploymentModelNotSupported",
        source
          ? `Custom model ${model.name} does not belong to the source account ${source.id}.`
          : `Custom model ${model.name} belongs to another account. To deploy it here, set properties.model.source to that account's resource id (and send x-ms-authorization-auxiliary with a token for its tenant if it is in another tenant).`,
        "properties.model.name",
      );
  }

  /**
   * properties.routing of a model-router deployment: mode balanced|cost|quality (`accuracy`, an
   * older preview's name, is quality; default balanced); `models`, when given, each served by a
   * chat deployment of this account. Other models take no routing.
   */
  #checkRouting(account: string, name: string, model: CatalogModel, raw: unknown): DeploymentOptions["routing"] {
    if (model.engine !== "router") {
      if (raw !== undefined && raw !== null) throw errors.armInvalid("InvalidResourceProperties", `properties.routing applies to model-router deployments only; ${model.name} is not a router. Remove properties.routing.`, "properties.routing");
      return undefined;
    }
    const r = (raw ?? {}) as { mode?: unknown; models?: unknown };
    if (typeof r !== "object") throw errors.armInvalid("InvalidResourceProperties", "properties.routing must be an object {mode, models?}.", "properties.routing");
    const rawMode = r.mode === undefined || r.mode === null ? "balanced" : typeof r.mode === "string" ? r.mode.toLowerCase() : "";
    const mode = rawMode === "accuracy" ? "quality" : rawMode;
    if (mode !== "balanced" && mode !== "cost" && mode !== "quality")
      throw errors.armInvalid("InvalidResourceProperties", `properties.routing.mode ${JSON.stringify(r.mode)} is not valid: use balanced, cost or quality.`, "properties.routing.mode");
    if (r.models === undefined || r.models === null) return { mode };
    if (!Array.isArray(r.models) || r.models.length === 0) throw errors.armInvalid("InvalidResourceProperties", "properties.routing.models must be a non-empty array of {format, name, version}, or left out to route to every chat deployment.", "properties.routing.models");
    const served = this.#store.listDeployments(account).filter((d) => {
      if (d.name.toLowerCase() === name.toLowerCase()) return false;
      try {
        const m = this.#catalog.find(d.model);
        return m.engine !== "router" && m.capabilities.includes("chatCompletion");
      } catch {
        return false;
      }
    });
    const models: ModelRef[] = [];
    r.models.forEach((entry: unknown, i: number) => {
      const e = (entry ?? {}) as { format?: unknown; name?: unknown; version?: unknown };
      if (typeof e.name !== "string" || !e.name) throw errors.armInvalid("InvalidResourceProperties", `properties.routing.models[${i}].name is required: {format, name, version}.`, `properties.routing.models[${i}]`);
      const hit = served.find((d) => d.model.name === e.name && (typeof e.format !== "string" || d.model.format === e.format) && (typeof e.version !== "string" || d.model.version === e.version));
      if (!hit)
        throw errors.armInvalid(
          "InvalidResourceProperties",
          `properties.routing.models[${i}] (${[e.format, e.name, e.version].filter((x) => typeof x === "string").join("/")}) is served by no chat deployment of this account. Deployed chat models: ${[...new Set(served.map((d) => `${d.model.format}/${d.model.name}/${d.model.version}`))].join(", ") || "none"}. Deploy it first, or list only these.`,
          `properties.routing.models[${i}]`,
        );
      models.push(hit.model);
    });
    return { mode, models };
  }

  #usageNameOf(d: DeploymentRecord): string | undefined {
    try {
      return this.#catalog.find(d.model).skus.find((s) => s.name === d.sku.name)?.usageName;
    } catch {
      return undefined;
    }
  }

  /** ARM PATCH: SKU capacity and tags; rate limits follow at once, nothing reloads. */
  update(account: string, name: string, patch: { sku?: { name?: unknown; capacity?: unknown }; tags?: Record<string, string> }): DeploymentRecord {
    const d = this.#store.getDeployment(account, name);
    if (!d) throw errors.armNotFound(`deployments/${name}`);
    name = d.name;
    let sku = d.sku;
    if (patch.sku) {
      const model = this.#catalog.find(d.model);
      const { offer, capacity } = resolveSku(label(d.model), model.skus, { name: patch.sku.name ?? d.sku.name, capacity: patch.sku.capacity ?? d.sku.capacity });
      checkDeveloperTier(offer.name, model);
      const used = this.#store
        .listDeployments(account)
        .filter((o) => o.name !== name && this.#usageNameOf(o) === offer.usageName)
        .reduce((sum, o) => sum + o.sku.capacity, 0);
      checkQuota({ usageName: offer.usageName, label: quotaLabel(offer.usageName, offer.name, model.name), requested: capacity, used, limit: this.#policy.quotaPerUsage });
      sku = { name: offer.name, capacity };
    }
    const updated = { ...d, sku, tags: patch.tags ?? d.tags, updatedAt: this.#clock() };
    this.#store.putDeployment(updated);
    return updated;
  }

  /** ARM DELETE: the name and quota are free at once; the reconciler unloads the model if nothing else uses it. */
  delete(account: string, name: string): OperationRecord | undefined {
    const d = this.#store.getDeployment(account, name);
    if (!d) return undefined;
    this.#store.deleteDeployment(account, d.name);
    const operation = this.#newOperation(account, d.name, "delete", "InProgress");
    this.#onChange(account, d.name, operation);
    return operation;
  }

  /** The deployments serving this model, in any account. */
  deploymentsOf(ref: ModelRef): DeploymentRecord[] {
    return this.#store.listDeployments().filter((d) => sameModel(d.model, ref));
  }

  /** Deletes an account's custom model; refused while any deployment serves it (reference §5). */
  removeCustomModel(account: string, ref: ModelRef): void {
    const registry = this.#catalog.registry;
    const entry = registry?.get(ref);
    if (!registry || !entry || entry.account !== account) throw new IngotError("not_found", "NotFound", `Custom model ${ref.name} (version ${ref.version}) does not exist in account '${account}'.`);
    const serving = this.deploymentsOf(ref);
    if (serving.length)
      throw errors.conflict(
        "ModelInUse",
        `Custom model ${ref.name} cannot be deleted while it is deployed (${serving.map((d) => `'${d.name}'${d.account === account ? "" : ` in account '${d.account}'`}`).join(", ")}). Delete the deployments first.`,
      );
    registry.remove(ref);
  }

  /** Quota use per usage name for an account: what GET …/usages reports. */
  usage(account: string): Map<string, { current: number; label: string }> {
    const out = new Map<string, { current: number; label: string }>();
    for (const m of this.#catalog.models) {
      // Another account's custom models are not listed: their names are that account's own.
      const owner = this.#ownerOf(m);
      if (owner !== undefined && owner !== account) continue;
      for (const s of m.skus) if (!out.has(s.usageName)) out.set(s.usageName, { current: 0, label: quotaLabel(s.usageName, s.name, m.name) });
    }
    for (const d of this.#store.listDeployments(account)) {
      const u = this.#usageNameOf(d);
      if (!u) continue;
      // A custom model deployed here from its owner's account (properties.model.source) is listed with its use.
      if (!out.has(u)) out.set(u, { current: 0, label: quotaLabel(u, d.sku.name, d.model.name) });
      out.get(u)!.current += d.sku.capacity;
    }
    return out;
  }

  /**
   * Lifecycle rules for fine-tuned deployments (reference §5): DeveloperTier lives 24 hours;
   * others are deleted after a period with no calls. Runs on a timer only (app.ts): reads never delete.
   */
  sweep(): void {
    const now = this.#clock();
    for (const d of this.#store.listDeployments()) {
      let model: CatalogModel;
      try {
        model = this.#catalog.find(d.model);
      } catch {
        continue;
      }
      // An ML endpoint's record lives as long as the endpoint does.
      if (!model.baseModel || d.options?.managedBy) continue;
      const expired =
        d.sku.name === "DeveloperTier" ? now - d.createdAt >= this.#policy.developerTierLifetimeMs : now - Math.max(d.createdAt, d.lastUsedAt ?? 0) >= this.#policy.idleDeletionMs;
      if (expired) this.delete(d.account, d.name);
    }
  }

  getOperation(id: string): OperationRecord | undefined {
    return this.#store.getOperation(id);
  }

  finishOperation(op: OperationRecord, error?: { code: string; message: string }): void {
    this.#store.putOperation({ ...op, status: error ? "Failed" : "Succeeded", errorCode: error?.code ?? null, errorMessage: error?.message ?? null, endedAt: this.#clock() });
  }

  #newOperation(account: string, deployment: string, kind: OperationRecord["kind"], status: OperationRecord["status"]): OperationRecord {
    const now = this.#clock();
    const op: OperationRecord = { id: randomUUID(), account, deployment, kind, status, errorCode: null, errorMessage: null, startedAt: now, endedAt: status === "InProgress" ? null : now };
    this.#store.putOperation(op);
    return op;
  }

  resolve(account: string, name: string): ResolvedDeployment {
    const d = this.#store.getDeployment(account, name);
    if (!d) throw errors.deploymentNotFound();
    if (d.state !== "Succeeded")
      throw errors.unavailable(
        d.state === "Failed"
          ? `Deployment '${d.name}' failed to provision: ${(d.error ?? "unknown error").replace(/\.$/, "")}. Fix the cause and update the deployment (PUT it again)${d.progress?.nextRetryAt ? `; Ingot retries at ${d.progress.nextRetryAt}` : ""}.`
          : `Deployment '${d.name}' is still provisioning (${d.state}${d.progress ? `, ${d.progress.phase} ${Math.round(d.progress.percentComplete)}%` : ""}). Retry in a few seconds.`,
      );
    const now = this.#clock();
    if (now - (d.lastUsedAt ?? 0) >= TOUCH_INTERVAL_MS) this.#store.touchDeployment(account, d.name, now);
    const model = this.#catalog.find(d.model);
    const target = recordTargetOf(model, d.options);
    return {
      account,
      name: d.name,
      sku: d.sku,
      modelName: d.model.name,
      engineKey: target.key,
      adapter: target.adapter,
      capabilities: model.capabilities,
      ...(d.options?.limits ? { limits: d.options.limits } : {}),
      ...(d.options?.routing ? { routing: d.options.routing } : {}),
    };
  }
}
