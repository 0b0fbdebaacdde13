// Azure ML managed online endpoints and deployments (managed compute, issue 13 item 8;
// reference azure-ml.md §10). An endpoint has its own keys (or tokens) and a traffic split over
// its deployments; a deployment runs `sku.capacity` instances of one model. Each instance is one
// deployment record `<endpoint>--<deployment>--<i>` in the workspace's pseudo-account
// (mlDeploymentAccount), with its name as `instance` in its options so that it gets a runner
// process of its own (engine key `<model>#<record name>`), as a managed instance is a machine of
// its own: not shared with other deployments of the model. The reconciler loads and unloads those runners; this service
// only writes the records, and reads their states and operations back.
//
// Requests: the traffic weights choose a deployment (smooth weighted round robin: deterministic,
// exact over each cycle of 100 requests) unless the caller pins one; within a deployment, the
// instance with the fewest requests in flight serves (ties: round robin).
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { errors, IngotError } from "../errors.ts";
import type { CatalogModel } from "../catalog/catalog.ts";
import type { DeploymentInput } from "../deployments/service.ts";
import type { DeploymentRecord, ModelRef, OnlineEndpointStore, OperationRecord } from "../ports/index.ts";
import type { Registries } from "./registries.ts";
import { ML_PROVIDER, mlDeploymentAccount, workspaceArmId } from "./workspaces.ts";
import type { WorkspaceRecord } from "./workspaces.ts";
import { checkEndpointName, checkOnlineDeploymentName, checkTraffic, DEFAULT_MAX_INSTANCES, instancePlan, instanceRecordName, invalid, leastOutstanding, suggest, WeightedRoundRobin } from "./online-rules.ts";

export { checkEndpointName, checkOnlineDeploymentName, checkTraffic, DEFAULT_MAX_INSTANCES, instancePlan, instanceRecordName, leastOutstanding, WeightedRoundRobin } from "./online-rules.ts";

export const AUTH_MODES = ["Key", "AMLToken", "AADToken"] as const;
export type AuthMode = (typeof AUTH_MODES)[number];

/** Tokens of AMLToken endpoints last this long (Azure: about an hour); refresh after half. */
const TOKEN_LIFETIME_MS = 3600_000;
/**
 * Managed compute has no token-per-minute quota: the instances are the limit. The records get
 * limits far above what a local runner can serve, so the rate limiter never decides.
 */
const UNLIMITED = { tokensPerMinute: 1_000_000_000, requestsPerMinute: 10_000_000 };

export interface OnlineEndpointRecord {
  workspaceId: string;
  name: string;
  location: string;
  authMode: AuthMode;
  description: string;
  tags: Record<string, string>;
  /** Percent per deployment (names as the deployments spell them). */
  traffic: Record<string, number>;
  publicNetworkAccess: string;
  identityType: string;
  kind?: string;
  primaryKey: string;
  secondaryKey: string;
  /** Signs AMLToken tokens; replaced (invalidating them) when the primary key is regenerated. */
  tokenSecret: string;
  createdAt: number;
  updatedAt: number;
}

export type OnlineDeploymentState = "Creating" | "Updating" | "Scaling";

export interface OnlineDeploymentRecord {
  workspaceId: string;
  endpoint: string;
  name: string;
  location: string;
  tags: Record<string, string>;
  kind?: string;
  sku: { name: string; tier?: string; capacity: number };
  /** properties.model as written. */
  modelId: string;
  /** The catalog model its instances serve. */
  model: ModelRef;
  /** A fine-tuned workspace model: the account it belongs to (DeploymentInput.source). */
  source?: { id: string; account: string };
  instanceType: string;
  /** Other properties, echoed as given (requestSettings, probes, environment variables, …). */
  echo: Record<string, unknown>;
  /** What the last write asked for; the instances' states say whether it is done. */
  state: OnlineDeploymentState;
  createdAt: number;
  updatedAt: number;
}

/** The deployment records service as this one uses it (DeploymentService). */
export interface InstanceRecords {
  createOrUpdate(account: string, name: string, input: DeploymentInput): { deployment: DeploymentRecord; operation: OperationRecord };
  delete(account: string, name: string): OperationRecord | undefined;
  get(account: string, name: string): DeploymentRecord | undefined;
  getOperation(id: string): OperationRecord | undefined;
}

/** A fine-tuned workspace model, as the workspace models service resolves it (PLAN13 contract). */
export interface WorkspaceModelResolver {
  resolveModelId(modelId: string): { workspace: WorkspaceRecord; name: string; version: string; catalogRef: ModelRef } | undefined;
}

export interface OnlineOperation {
  id: string;
  workspaceId: string;
  kind: "create" | "update" | "delete";
  endpoint: string;
  deployment?: string;
  /** The instance records' operations this one waits for. */
  recordOperations: string[];
  startedAt: number;
}

export type OnlineOperationStatus = { status: "InProgress" | "Succeeded" } | { status: "Failed"; error: { code: string; message: string } };

export interface EndpointInput {
  location?: string;
  tags?: Record<string, string>;
  kind?: string;
  identityType?: string;
  properties: Record<string, unknown>;
}

export interface DeploymentInputBody {
  location?: string;
  tags?: Record<string, string>;
  kind?: string;
  sku?: Record<string, unknown>;
  properties: Record<string, unknown>;
}


export const onlineEndpointArmId = (w: WorkspaceRecord, endpoint: string) => `${workspaceArmId(w)}/onlineEndpoints/${endpoint}`;
export const onlineDeploymentArmId = (w: WorkspaceRecord, endpoint: string, deployment: string) => `${onlineEndpointArmId(w, endpoint)}/deployments/${deployment}`;

const newKey = () => randomBytes(24).toString("base64url");

export class OnlineEndpointService {
  #store: OnlineEndpointStore;
  #records: InstanceRecords;
  #registries: Registries;
  #findModel: (ref: ModelRef) => CatalogModel;
  #workspaceModels: () => WorkspaceModelResolver | undefined;
  #workspaceById: (guid: string) => WorkspaceRecord | undefined;
  #clock: () => number;
  #maxInstances: number;
  #ops = new Map<string, OnlineOperation>();
  #traffic = new Map<string, WeightedRoundRobin>();
  #inFlight = new Map<string, number>();
  #lastInstance = new Map<string, number>();

  constructor(deps: {
    store: OnlineEndpointStore;
    records: InstanceRecords;
    registries: Registries;
    findModel: (ref: ModelRef) => CatalogModel;
    /** The workspace models service (helper JOBS), when there is one. */
    workspaceModels?: () => WorkspaceModelResolver | undefined;
    workspaceById: (guid: string) => WorkspaceRecord | undefined;
    clock?: () => number;
    maxInstances?: number;
  }) {
    this.#store = deps.store;
    this.#records = deps.records;
    this.#registries = deps.registries;
    this.#findModel = deps.findModel;
    this.#workspaceModels = deps.workspaceModels ?? (() => undefined);
    this.#workspaceById = deps.workspaceById;
    this.#clock = deps.clock ?? Date.now;
    this.#maxInstances = deps.maxInstances ?? DEFAULT_MAX_INSTANCES;
  }

  get maxInstances(): number {
    return this.#maxInstances;
  }

  // ---- endpoints ----

  listEndpoints(w: WorkspaceRecord): OnlineEndpointRecord[] {
    return this.#store.listEndpoints(w.workspaceId);
  }

  requireEndpoint(w: WorkspaceRecord, name: string): OnlineEndpointRecord {
    const e = this.#store.getEndpoint(name);
    if (!e || e.workspaceId !== w.workspaceId) throw errors.resourceNotFound(`${ML_PROVIDER}/workspaces/${w.name}/onlineEndpoints`, name, w.resourceGroup);
    return e;
  }

  /** The endpoint serving `/online/<name>/…`, in whichever workspace it is. */
  endpointByName(name: string): { endpoint: OnlineEndpointRecord; workspace: WorkspaceRecord } | undefined {
    const endpoint = this.#store.getEndpoint(name);
    const workspace = endpoint && this.#workspaceById(endpoint.workspaceId);
    return endpoint && workspace ? { endpoint, workspace } : undefined;
  }

  /** PUT: creates the endpoint (its name must be free in every workspace) or replaces its settings. */
  createOrUpdateEndpoint(w: WorkspaceRecord, name: string, input: EndpointInput): { endpoint: OnlineEndpointRecord; created: boolean; operation: OnlineOperation } {
    checkEndpointName(name);
    const existing = this.#store.getEndpoint(name);
    if (existing && existing.workspaceId !== w.workspaceId) {
      const other = this.#workspaceById(existing.workspaceId);
      throw errors.conflict(
        "UserError",
        `Online endpoint name '${name}' is already taken${other ? ` (by workspace '${other.name}')` : ""}: endpoint names are unique across workspaces, because the scoring URL is global. Choose another name.`,
      );
    }
    const p = input.properties;
    const authMode = this.#authMode(p.authMode, existing?.authMode);
    const now = this.#clock();
    const endpoint: OnlineEndpointRecord = {
      workspaceId: w.workspaceId,
      name: existing?.name ?? name,
      location: input.location ?? existing?.location ?? w.location,
      authMode,
      description: typeof p.description === "string" ? p.description : (existing?.description ?? ""),
      tags: input.tags ?? existing?.tags ?? {},
      traffic: checkTraffic(p.traffic ?? existing?.traffic, this.#deploymentNames(existing?.name ?? name, !!existing), name),
      publicNetworkAccess: typeof p.publicNetworkAccess === "string" ? p.publicNetworkAccess : (existing?.publicNetworkAccess ?? "Enabled"),
      identityType: input.identityType ?? existing?.identityType ?? "SystemAssigned",
      ...(input.kind ?? existing?.kind ? { kind: input.kind ?? existing?.kind } : {}),
      primaryKey: existing?.primaryKey ?? newKey(),
      secondaryKey: existing?.secondaryKey ?? newKey(),
      tokenSecret: existing?.tokenSecret ?? newKey(),
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
    };
    this.#store.putEndpoint(endpoint);
    return { endpoint, created: !existing, operation: this.#newOperation(w, existing ? "update" : "create", endpoint.name, undefined, []) };
  }

  /** PATCH: tags, traffic, description, authMode. */
  updateEndpoint(w: WorkspaceRecord, name: string, patch: { tags?: Record<string, string>; properties?: Record<string, unknown> }): { endpoint: OnlineEndpointRecord; operation: OnlineOperation } {
    const existing = this.requireEndpoint(w, name);
    const p = patch.properties ?? {};
    const endpoint: OnlineEndpointRecord = {
      ...existing,
      tags: patch.tags ?? existing.tags,
      authMode: this.#authMode(p.authMode, existing.authMode),
      description: typeof p.description === "string" ? p.description : existing.description,
      traffic: p.traffic === undefined ? existing.traffic : checkTraffic(p.traffic, this.#deploymentNames(existing.name, true), existing.name),
      updatedAt: this.#clock(),
    };
    this.#store.putEndpoint(endpoint);
    return { endpoint, operation: this.#newOperation(w, "update", endpoint.name, undefined, []) };
  }

  /** DELETE: the endpoint, its deployments and their instances (their runners stop). */
  deleteEndpoint(w: WorkspaceRecord, name: string): OnlineOperation | undefined {
    const e = this.#store.getEndpoint(name);
    if (!e || e.workspaceId !== w.workspaceId) return undefined;
    const recordOps: string[] = [];
    for (const d of this.#store.listDeployments(e.name)) recordOps.push(...this.#removeInstances(w, d, d.sku.capacity, 0));
    this.#store.deleteEndpoint(e.name);
    this.#traffic.delete(e.name.toLowerCase());
    return this.#newOperation(w, "delete", e.name, undefined, recordOps);
  }

  /** Removes every endpoint of a workspace (workspace delete). */
  deleteAll(w: WorkspaceRecord): void {
    for (const e of this.listEndpoints(w)) this.deleteEndpoint(w, e.name);
  }

  keys(w: WorkspaceRecord, name: string): { primaryKey: string; secondaryKey: string } {
    const e = this.requireEndpoint(w, name);
    if (e.authMode !== "Key")
      throw invalid(`Endpoint '${e.name}' uses authMode ${e.authMode}, so it has no keys to list: get a token with POST …/token, or set properties.authMode to Key.`, "authMode");
    return { primaryKey: e.primaryKey, secondaryKey: e.secondaryKey };
  }

  regenerateKeys(w: WorkspaceRecord, name: string, body: Record<string, unknown> | undefined): OnlineOperation {
    const e = this.requireEndpoint(w, name);
    const keyType = typeof body?.keyType === "string" ? body.keyType : undefined;
    const which = keyType?.toLowerCase();
    if (which !== "primary" && which !== "secondary") throw invalid(`'keyType' must be Primary or Secondary, got ${JSON.stringify(body?.keyType ?? null)}.`, "keyType");
    const value = body?.keyValue;
    if (value !== undefined && value !== null && (typeof value !== "string" || value.length < 16))
      throw invalid("'keyValue' must be a string of at least 16 characters, or absent to let Ingot generate the key.", "keyValue");
    const key = typeof value === "string" ? value : newKey();
    const updated = which === "primary" ? { ...e, primaryKey: key, tokenSecret: newKey() } : { ...e, secondaryKey: key };
    this.#store.putEndpoint({ ...updated, updatedAt: this.#clock() });
    return this.#newOperation(w, "update", e.name, undefined, []);
  }

  /** An AMLToken: the endpoint, its workspace and expiry, signed with the endpoint's secret. */
  token(w: WorkspaceRecord, name: string): { accessToken: string; expiryTimeUtc: number; refreshAfterTimeUtc: number; tokenType: string } {
    const e = this.requireEndpoint(w, name);
    if (e.authMode !== "AMLToken")
      throw invalid(`Endpoint '${e.name}' uses authMode ${e.authMode}, so it issues no tokens: ${e.authMode === "Key" ? "list its keys with POST …/listKeys" : "send an Entra ID (Ingot) bearer token"}, or set properties.authMode to AMLToken.`, "authMode");
    const now = this.#clock();
    const expiry = now + TOKEN_LIFETIME_MS;
    const payload = Buffer.from(JSON.stringify({ ep: e.name.toLowerCase(), ws: e.workspaceId, exp: expiry })).toString("base64url");
    const sig = createHmac("sha256", e.tokenSecret).update(payload).digest("base64url");
    // Azure's token body gives the times in seconds since the epoch.
    return { accessToken: `${payload}.${sig}`, expiryTimeUtc: Math.floor(expiry / 1000), refreshAfterTimeUtc: Math.floor((now + TOKEN_LIFETIME_MS / 2) / 1000), tokenType: "Bearer" };
  }

  /** Whether `credential` (the bearer value) opens the endpoint, per its authMode. Account keys never do. */
  authenticate(e: OnlineEndpointRecord, credential: string | undefined): boolean {
    if (!credential) return false;
    if (e.authMode === "Key") return same(credential, e.primaryKey) || same(credential, e.secondaryKey);
    if (e.authMode === "AMLToken") {
      const [payload, sig] = credential.split(".");
      if (!payload || !sig || !same(sig, createHmac("sha256", e.tokenSecret).update(payload).digest("base64url"))) return false;
      try {
        const t = JSON.parse(Buffer.from(payload, "base64url").toString()) as { ep?: string; ws?: string; exp?: number };
        return t.ep === e.name.toLowerCase() && t.ws === e.workspaceId && typeof t.exp === "number" && t.exp > this.#clock();
      } catch {
        return false;
      }
    }
    return false;
  }

  // ---- deployments ----

  listDeployments(w: WorkspaceRecord, endpoint: string): OnlineDeploymentRecord[] {
    const e = this.requireEndpoint(w, endpoint);
    return this.#store.listDeployments(e.name);
  }

  requireDeployment(w: WorkspaceRecord, endpoint: string, name: string): OnlineDeploymentRecord {
    const e = this.requireEndpoint(w, endpoint);
    const d = this.#store.getDeployment(e.name, name);
    if (!d) throw errors.resourceNotFound(`${ML_PROVIDER}/workspaces/${w.name}/onlineEndpoints/${e.name}/deployments`, name, w.resourceGroup);
    return d;
  }

  /** PUT: validates, writes the deployment and one record per instance; the runners load asynchronously (the operation says when). */
  createOrUpdateDeployment(w: WorkspaceRecord, endpointName: string, name: string, input: DeploymentInputBody): { deployment: OnlineDeploymentRecord; created: boolean; operation: OnlineOperation } {
    const e = this.requireEndpoint(w, endpointName);
    checkOnlineDeploymentName(e.name, name);
    const existing = this.#store.getDeployment(e.name, name);
    const p = input.properties;
    const computeType = p.endpointComputeType;
    if (computeType !== undefined && computeType !== null && (typeof computeType !== "string" || computeType.toLowerCase() !== "managed"))
      throw invalid(`'properties.endpointComputeType' ${JSON.stringify(computeType)} is not supported: Ingot runs managed online deployments only ("Managed").`, "properties.endpointComputeType");
    const modelId = p.model ?? existing?.modelId;
    const resolved = this.#resolveModel(w, modelId);
    const capacity = this.#capacity(input.sku?.capacity ?? existing?.sku.capacity ?? 1);
    const now = this.#clock();
    const { model: _m, endpointComputeType: _c, instanceType: _i, provisioningState: _s, ...echo } = p;
    const deployment: OnlineDeploymentRecord = {
      workspaceId: w.workspaceId,
      endpoint: e.name,
      name: existing?.name ?? name,
      location: input.location ?? existing?.location ?? e.location,
      tags: input.tags ?? existing?.tags ?? {},
      ...(input.kind ?? existing?.kind ? { kind: input.kind ?? existing?.kind } : {}),
      sku: { name: typeof input.sku?.name === "string" ? input.sku.name : (existing?.sku.name ?? "Default"), ...(typeof input.sku?.tier === "string" ? { tier: input.sku.tier } : {}), capacity },
      modelId: resolved.modelId,
      model: resolved.ref,
      ...(resolved.source ? { source: resolved.source } : {}),
      instanceType: typeof p.instanceType === "string" ? p.instanceType : (existing?.instanceType ?? "Standard_DS3_v2"),
      echo: existing ? { ...existing.echo, ...echo } : echo,
      state: !existing ? "Creating" : existing.sku.capacity !== capacity && sameRef(existing.model, resolved.ref) ? "Scaling" : "Updating",
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
    };
    // Records first: a model another rule refuses (quota, lifecycle, ownership) leaves nothing behind.
    const recordOps = this.#applyInstances(w, existing, deployment);
    this.#store.putDeployment(deployment);
    return { deployment, created: !existing, operation: this.#newOperation(w, existing ? "update" : "create", e.name, deployment.name, recordOps) };
  }

  /** PATCH: tags and sku.capacity (scale). */
  updateDeployment(w: WorkspaceRecord, endpoint: string, name: string, patch: { tags?: Record<string, string>; sku?: Record<string, unknown> }): { deployment: OnlineDeploymentRecord; operation: OnlineOperation } {
    const existing = this.requireDeployment(w, endpoint, name);
    const capacity = patch.sku?.capacity === undefined ? existing.sku.capacity : this.#capacity(patch.sku.capacity);
    const deployment: OnlineDeploymentRecord = {
      ...existing,
      tags: patch.tags ?? existing.tags,
      sku: { ...existing.sku, capacity },
      state: capacity !== existing.sku.capacity ? "Scaling" : existing.state,
      updatedAt: this.#clock(),
    };
    const recordOps = capacity === existing.sku.capacity ? [] : this.#applyInstances(w, existing, deployment);
    this.#store.putDeployment(deployment);
    return { deployment, operation: this.#newOperation(w, "update", existing.endpoint, existing.name, recordOps) };
  }

  /** DELETE: refused while the deployment has traffic (as Azure does); its runners stop. */
  deleteDeployment(w: WorkspaceRecord, endpoint: string, name: string): OnlineOperation | undefined {
    const e = this.requireEndpoint(w, endpoint);
    const d = this.#store.getDeployment(e.name, name);
    if (!d) return undefined;
    const share = e.traffic[d.name] ?? 0;
    if (share > 0)
      throw invalid(
        `Deployment '${d.name}' still receives ${share}% of endpoint '${e.name}''s traffic and cannot be deleted. Move its traffic to other deployments first (PATCH the endpoint's properties.traffic, e.g. ${JSON.stringify(suggest(Object.fromEntries(Object.entries(e.traffic).filter(([k]) => k !== d.name))))}).`,
        "properties.traffic",
      );
    const recordOps = this.#removeInstances(w, d, d.sku.capacity, 0);
    this.#store.deleteDeployment(e.name, d.name);
    if (d.name in e.traffic) {
      const { [d.name]: _gone, ...traffic } = e.traffic;
      this.#store.putEndpoint({ ...e, traffic, updatedAt: this.#clock() });
    }
    return this.#newOperation(w, "delete", e.name, d.name, recordOps);
  }

  /** The instance records of a deployment, in order. */
  instances(w: WorkspaceRecord, d: OnlineDeploymentRecord): { name: string; record: DeploymentRecord | undefined }[] {
    const account = mlDeploymentAccount(w);
    return Array.from({ length: d.sku.capacity }, (_, i) => {
      const name = instanceRecordName(d.endpoint, d.name, i);
      return { name, record: this.#records.get(account, name) };
    });
  }

  /** provisioningState: the last write's state until every instance serves; Failed (with the reason) when one failed. */
  provisioningState(w: WorkspaceRecord, d: OnlineDeploymentRecord): { state: string; error?: string } {
    const records = this.instances(w, d).map((x) => x.record);
    const failed = records.find((r) => r?.state === "Failed");
    if (failed) return { state: "Failed", error: failed.error ?? "an instance failed to start" };
    if (records.every((r) => r?.state === "Succeeded")) return { state: "Succeeded" };
    return { state: d.state };
  }

  // ---- operations ----

  getOperation(id: string): OnlineOperation | undefined {
    return this.#ops.get(id);
  }

  /**
   * InProgress until every instance record's operation has ended and (a deployment's create or
   * update) every instance serves; Failed with the first failure's reason.
   */
  operationStatus(op: OnlineOperation): OnlineOperationStatus {
    let running = false;
    for (const id of op.recordOperations) {
      const r = this.#records.getOperation(id);
      if (!r || r.status === "Succeeded" || r.status === "Canceled") continue;
      if (r.status === "Failed" && op.kind !== "delete") return { status: "Failed", error: { code: r.errorCode ?? "DeploymentFailed", message: r.errorMessage ?? "An instance failed to start." } };
      if (r.status === "InProgress") running = true;
    }
    if (running) return { status: "InProgress" };
    // A PUT that changed nothing still waits for instances an earlier write is loading.
    const w = op.deployment && op.kind !== "delete" ? this.#workspaceById(op.workspaceId) : undefined;
    const d = w && op.deployment ? this.#store.getDeployment(op.endpoint, op.deployment) : undefined;
    if (w && d) {
      const state = this.provisioningState(w, d);
      if (state.state === "Failed") return { status: "Failed", error: { code: "DeploymentFailed", message: state.error ?? "An instance failed to start." } };
      if (state.state !== "Succeeded") return { status: "InProgress" };
    }
    return { status: "Succeeded" };
  }

  // ---- scoring ----

  /**
   * Chooses the deployment (the pinned one, else by traffic) and the instance that serves a
   * request; `release` must be called when the request ends.
   */
  route(w: WorkspaceRecord, e: OnlineEndpointRecord, pinned: string | undefined): { deployment: string; account: string; record: string; release(): void } {
    const deployments = this.#store.listDeployments(e.name);
    let chosen: OnlineDeploymentRecord | undefined;
    if (pinned !== undefined && pinned !== "") {
      chosen = deployments.find((d) => d.name.toLowerCase() === pinned.toLowerCase());
      if (!chosen)
        throw new IngotError(
          "not_found",
          "DeploymentNotFound",
          `Endpoint '${e.name}' has no deployment '${pinned.slice(0, 64)}' (header azureml-model-deployment)${deployments.length ? `; its deployments are ${deployments.map((d) => `'${d.name}'`).join(", ")}` : ""}.`,
        );
    } else {
      let rr = this.#traffic.get(e.name.toLowerCase());
      if (!rr) this.#traffic.set(e.name.toLowerCase(), (rr = new WeightedRoundRobin()));
      const name = rr.pick(e.traffic);
      chosen = name === undefined ? undefined : deployments.find((d) => d.name === name);
      if (!chosen)
        throw new IngotError(
          "not_found",
          "NoTrafficDeployment",
          `Endpoint '${e.name}' sends no traffic to any deployment. Set the endpoint's properties.traffic (e.g. {"${deployments[0]?.name ?? "blue"}": 100}), or name a deployment in the azureml-model-deployment header.`,
        );
    }
    const account = mlDeploymentAccount(w);
    const all = this.instances(w, chosen);
    // Serving instances first; none serving yet: any (the generation service says why it cannot answer).
    const serving = all.filter((x) => x.record?.state === "Succeeded").map((x) => x.name);
    const candidates = serving.length ? serving : all.map((x) => x.name);
    const key = `${e.name}\n${chosen.name}`.toLowerCase();
    const i = leastOutstanding(candidates, (n) => this.#inFlight.get(n.toLowerCase()) ?? 0, this.#lastInstance.get(key) ?? -1);
    this.#lastInstance.set(key, i);
    const record = candidates[i];
    const id = record.toLowerCase();
    this.#inFlight.set(id, (this.#inFlight.get(id) ?? 0) + 1);
    let released = false;
    return {
      deployment: chosen.name,
      account,
      record,
      release: () => {
        if (released) return;
        released = true;
        const n = (this.#inFlight.get(id) ?? 1) - 1;
        if (n <= 0) this.#inFlight.delete(id);
        else this.#inFlight.set(id, n);
      },
    };
  }

  // ---- internals ----

  #authMode(value: unknown, fallback: AuthMode | undefined): AuthMode {
    if (value === undefined || value === null) return fallback ?? "Key";
    const found = AUTH_MODES.find((m) => typeof value === "string" && m.toLowerCase() === value.toLowerCase());
    if (!found) throw invalid(`'properties.authMode' ${JSON.stringify(value).slice(0, 64)} is not supported; use one of ${AUTH_MODES.join(", ")}.`, "properties.authMode");
    return found;
  }

  #deploymentNames(endpoint: string, exists: boolean): string[] {
    return exists ? this.#store.listDeployments(endpoint).map((d) => d.name) : [];
  }

  #capacity(value: unknown): number {
    if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > this.#maxInstances)
      throw invalid(
        `'sku.capacity' is the number of instances: a whole number from 1 to ${this.#maxInstances} on this Ingot (each instance is a runner process of the whole model, and must also fit in free memory when it starts); got ${JSON.stringify(value)}.`,
        "sku.capacity",
      );
    return value;
  }

  /** properties.model → the catalog model: a registry model id, or a fine-tuned model of this workspace. */
  #resolveModel(w: WorkspaceRecord, modelId: unknown): { ref: ModelRef; modelId: string; source?: { id: string; account: string } } {
    if (typeof modelId !== "string" || !modelId)
      throw invalid(
        "'properties.model' is required: a registry model id such as azureml://registries/azureml/models/tiny-chat/versions/1 (or …/labels/latest), or a model of this workspace (azureml://locations/{location}/workspaces/{workspaceId}/models/{name}/versions/{version}).",
        "properties.model",
      );
    const reg = /^azureml:\/\/registries\/([^/]+)\/models\/([^/]+)(?:\/versions\/([^/]+)|\/labels\/([^/]+))?\/?$/i.exec(modelId.trim());
    if (reg) {
      const [, registry, name, version, label] = reg;
      if (label !== undefined && label.toLowerCase() !== "latest")
        throw invalid(`Label '${label}' in 'properties.model' is not supported: use labels/latest or versions/{version}.`, "properties.model");
      try {
        const v = version === undefined ? this.#registries.versions(registry, name)[0] : this.#registries.version(registry, name, version);
        return { ref: { format: v.model.format, name: v.model.name, version: v.model.version }, modelId: `azureml://registries/${v.registry}/models/${v.name}/versions/${v.version}` };
      } catch (e) {
        if (e instanceof IngotError && e.status === 404) throw invalid(`'properties.model' ${modelId} does not resolve: ${e.message}`, "properties.model");
        throw e;
      }
    }
    const found = this.#workspaceModels()?.resolveModelId(modelId.trim());
    if (found) {
      if (found.workspace.workspaceId !== w.workspaceId)
        throw invalid(`Model '${found.name}' version ${found.version} belongs to workspace '${found.workspace.name}', not '${w.name}'. Deploy it from an endpoint of its own workspace.`, "properties.model");
      const source = { id: `/subscriptions/${w.subscription}/resourceGroups/${w.resourceGroup}/providers/Microsoft.CognitiveServices/accounts/${w.account}`, account: w.account };
      return { ref: found.catalogRef, modelId: modelId.trim(), source };
    }
    throw invalid(
      `'properties.model' ${modelId.slice(0, 200)} does not resolve to a model Ingot can run. Use a registry model id (azureml://registries/azureml/models/{name}/versions/{version} or …/labels/latest; GET /mferp/managementfrontend/…/registries/azureml/models lists them) or a fine-tuned model of this workspace (azureml://locations/{location}/workspaces/${w.workspaceId}/models/{name}/versions/{version}).`,
      "properties.model",
    );
  }

  /** Brings the instance records from `before` to `after` (model, capacity); returns the record operations to wait for. */
  #applyInstances(w: WorkspaceRecord, before: OnlineDeploymentRecord | undefined, after: OnlineDeploymentRecord): string[] {
    const account = mlDeploymentAccount(w);
    const ops: string[] = [];
    // Another model (not only another version): the old instances go first, since a record's model family cannot change.
    const replaced = before && (before.model.format !== after.model.format || before.model.name !== after.model.name);
    if (replaced) ops.push(...this.#removeInstances(w, before, before.sku.capacity, 0));
    const from = replaced ? 0 : (before?.sku.capacity ?? 0);
    const plan = instancePlan(after.endpoint, after.name, from, after.sku.capacity);
    const model = this.#findModel(after.model);
    const offer = model.skus.find((s) => s.name !== "DeveloperTier") ?? model.skus[0];
    if (!offer) throw invalid(`Model ${model.name} offers no deployment SKU, so Ingot cannot run it.`, "properties.model");
    const created: string[] = [];
    try {
      for (const name of [...plan.keep, ...plan.add]) {
        const existing = this.#records.get(account, name);
        // Same model and instance already there: nothing to do (a PUT that only changes settings).
        if (existing && existing.state !== "Failed" && sameRef(existing.model, after.model) && existing.options?.instance === name.toLowerCase()) continue;
        const { operation } = this.#records.createOrUpdate(account, name, {
          model: { ...after.model },
          sku: { name: offer.name, capacity: offer.minCapacity },
          ...(after.source ? { source: after.source } : {}),
          managedBy: onlineDeploymentArmId(w, after.endpoint, after.name),
          limits: UNLIMITED,
          instance: name.toLowerCase(),
        });
        if (!existing) created.push(name);
        ops.push(operation.id);
      }
    } catch (e) {
      // Nothing half-created stays: the records this call added go again.
      for (const name of created) this.#records.delete(account, name);
      throw e;
    }
    if (!replaced && before) ops.push(...this.#removeInstances(w, after, before.sku.capacity, after.sku.capacity));
    return ops;
  }

  /** Deletes instance records `to`..`from-1`; returns their deletion operations. */
  #removeInstances(w: WorkspaceRecord, d: OnlineDeploymentRecord, from: number, to: number): string[] {
    const account = mlDeploymentAccount(w);
    const ops: string[] = [];
    for (const name of instancePlan(d.endpoint, d.name, from, to).remove) {
      const op = this.#records.delete(account, name);
      if (op) ops.push(op.id);
      this.#inFlight.delete(name.toLowerCase());
    }
    return ops;
  }

  #newOperation(w: WorkspaceRecord, kind: OnlineOperation["kind"], endpoint: string, deployment: string | undefined, recordOperations: string[]): OnlineOperation {
    const op: OnlineOperation = { id: crypto.randomUUID(), workspaceId: w.workspaceId, kind, endpoint, ...(deployment ? { deployment } : {}), recordOperations, startedAt: this.#clock() };
    this.#ops.set(op.id, op);
    // Operations are polled for seconds to minutes; the oldest go once there are many.
    if (this.#ops.size > 1000) this.#ops.delete(this.#ops.keys().next().value!);
    return op;
  }
}

const sameRef = (a: ModelRef, b: ModelRef) => a.format === b.format && a.name === b.name && a.version === b.version;

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
