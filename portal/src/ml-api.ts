// The Azure ML plane as the portal calls it (reference azure-ml.md §3, §6, §8–§10): workspaces,
// the azureml registry's models, a workspace's fine-tuned models, serverless endpoints,
// marketplace subscriptions and managed online endpoints/deployments. All through arm() with
// the session's token; the ML routes take any dated api-version.
import { arm } from "./api.ts";
import type { Session } from "./api.ts";

export const ML_PROVIDER = "Microsoft.MachineLearningServices";
/** Workspaces, workspace models, online endpoints (the stable version the JS SDK's successors use). */
export const ML_API_VERSION = "2024-10-01";
/** Serverless endpoints and marketplace subscriptions: Python's azure-ai-ml sends this one. */
export const SERVERLESS_API_VERSION = "2024-01-01-preview";
export const REGISTRY = "azureml";

export interface MlWorkspace {
  id: string;
  name: string;
  location: string;
  kind: "Default" | "Hub" | "Project" | string;
  properties: { workspaceId: string; friendlyName?: string; hubResourceId?: string; associatedAccountResourceId?: string };
}

/** The workspace the ML pages work in: remembered per browser tab, as the session is. */
export interface WorkspaceRef {
  subscription: string;
  resourceGroup: string;
  name: string;
}

const WS_KEY = "ingot.mlWorkspace";

export function loadWorkspaceRef(): WorkspaceRef | null {
  try {
    const raw = sessionStorage.getItem(WS_KEY);
    return raw ? (JSON.parse(raw) as WorkspaceRef) : null;
  } catch {
    return null;
  }
}

export function saveWorkspaceRef(ref: WorkspaceRef | null): void {
  if (ref) sessionStorage.setItem(WS_KEY, JSON.stringify(ref));
  else sessionStorage.removeItem(WS_KEY);
}

/** `{subscription, resourceGroup, name}` of an ARM workspace id. */
export function refOf(w: Pick<MlWorkspace, "id" | "name">): WorkspaceRef {
  const parts = w.id.split("/");
  return { subscription: parts[2], resourceGroup: parts[4], name: w.name };
}

const enc = encodeURIComponent;
export const workspacePath = (r: WorkspaceRef) => `/subscriptions/${enc(r.subscription)}/resourceGroups/${enc(r.resourceGroup)}/providers/${ML_PROVIDER}/workspaces/${enc(r.name)}`;

export const listWorkspaces = async (s: Session): Promise<MlWorkspace[]> =>
  (await arm(s, "GET", `/subscriptions/${enc(s.subscription)}/providers/${ML_PROVIDER}/workspaces`, undefined, ML_API_VERSION)).value;

export function createWorkspace(s: Session, r: WorkspaceRef, kind: string, hubResourceId?: string): Promise<MlWorkspace> {
  return arm(s, "PUT", workspacePath(r), { kind, identity: { type: "SystemAssigned" }, properties: { friendlyName: r.name, ...(hubResourceId ? { hubResourceId } : {}) } }, ML_API_VERSION);
}

// ---- models: the azureml registry (data plane Python uses) and the workspace's own ----

export interface RegistryModel {
  name: string;
  properties: { description?: string | null; latestVersion?: string };
}

export interface RegistryModelVersion {
  id: string;
  name: string;
  properties: { description?: string | null; tags?: Record<string, string>; properties?: Record<string, string> };
}

const registryBase = (s: Session) => `/mferp/managementfrontend/subscriptions/${enc(s.subscription)}/resourceGroups/${enc(s.resourceGroup)}/providers/${ML_PROVIDER}/registries/${REGISTRY}`;

export const listRegistryModels = async (s: Session): Promise<RegistryModel[]> => (await arm(s, "GET", `${registryBase(s)}/models`, undefined, ML_API_VERSION)).value;
export const listRegistryVersions = async (s: Session, model: string): Promise<RegistryModelVersion[]> =>
  (await arm(s, "GET", `${registryBase(s)}/models/${enc(model)}/versions?$orderBy=CreatedAtDesc`, undefined, ML_API_VERSION)).value;

/** What a serverless endpoint names: the versionless registry id (the SDK refuses versioned ones). */
export const registryModelId = (name: string, version?: string) => `azureml://registries/${REGISTRY}/models/${name}${version ? `/versions/${version}` : ""}`;

export interface WorkspaceModel {
  name: string;
  properties: { description?: string | null; latestVersion?: string };
}

export interface WorkspaceModelVersion {
  id: string;
  name: string;
  properties: { description?: string | null; jobName?: string | null; modelUri?: string };
}

export const listWorkspaceModels = async (s: Session, r: WorkspaceRef): Promise<WorkspaceModel[]> => (await arm(s, "GET", `${workspacePath(r)}/models`, undefined, ML_API_VERSION)).value;
export const listWorkspaceModelVersions = async (s: Session, r: WorkspaceRef, name: string): Promise<WorkspaceModelVersion[]> =>
  (await arm(s, "GET", `${workspacePath(r)}/models/${enc(name)}/versions`, undefined, ML_API_VERSION)).value;

/** A fine-tuned model's id as create_finetuning_job's output and the seed's notebook spell it. */
export const workspaceModelId = (w: MlWorkspace, name: string, version: string) => `azureml://locations/${w.location}/workspaces/${w.properties.workspaceId}/models/${name}/versions/${version}`;

// ---- serverless endpoints (§9) and marketplace subscriptions (§8) ----

export interface ServerlessEndpoint {
  id: string;
  name: string;
  location: string;
  systemData?: { createdAt?: string };
  properties: {
    modelSettings?: { modelId: string };
    authMode: string;
    inferenceEndpoint?: { uri: string };
    provisioningState: string;
    endpointState?: string;
    marketplaceSubscriptionId?: string | null;
    contentSafety?: { contentSafetyStatus?: string };
    /** Ingot's field: load progress and the failure reason. */
    provisioningDetails?: { phase?: string; percentComplete?: number; bytes?: number; totalBytes?: number; error?: string };
  };
}

export const serverlessPath = (r: WorkspaceRef, name?: string) => `${workspacePath(r)}/serverlessEndpoints${name === undefined ? "" : `/${enc(name)}`}`;
export const listServerless = async (s: Session, r: WorkspaceRef): Promise<ServerlessEndpoint[]> => (await arm(s, "GET", serverlessPath(r), undefined, SERVERLESS_API_VERSION)).value;
export const getServerless = (s: Session, r: WorkspaceRef, name: string): Promise<ServerlessEndpoint> => arm(s, "GET", serverlessPath(r, name), undefined, SERVERLESS_API_VERSION);

export function createServerless(s: Session, r: WorkspaceRef, name: string, modelId: string): Promise<ServerlessEndpoint> {
  return arm(s, "PUT", serverlessPath(r, name), { sku: { name: "Consumption" }, tags: {}, properties: { modelSettings: { modelId }, authMode: "Key" } }, SERVERLESS_API_VERSION);
}

export interface EndpointKeys {
  primaryKey: string;
  secondaryKey: string;
}

/** The 400 a third-party model answers without the workspace's marketplace subscription (core/ml/serverless.ts). */
export const needsMarketplaceSubscription = (e: unknown) => {
  const err = e as { status?: number; message?: string };
  return err?.status === 400 && /marketplace subscription/i.test(err.message ?? "");
};

/** A marketplace subscription name from a model name: letters, digits and hyphens. */
export const subscriptionNameFor = (model: string) => `${model.replace(/[^A-Za-z0-9-]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 40) || "model"}-sub`;

export function subscribeMarketplace(s: Session, r: WorkspaceRef, name: string, modelId: string): Promise<unknown> {
  return arm(s, "PUT", `${workspacePath(r)}/marketplaceSubscriptions/${enc(name)}`, { properties: { modelId } }, SERVERLESS_API_VERSION);
}

// ---- managed online endpoints and deployments (§10) ----

export interface OnlineEndpoint {
  id: string;
  name: string;
  location: string;
  systemData?: { createdAt?: string };
  properties: { authMode: string; scoringUri?: string; swaggerUri?: string; traffic?: Record<string, number>; provisioningState: string; description?: string };
}

export interface OnlineDeployment {
  id: string;
  name: string;
  sku?: { name?: string; capacity?: number };
  systemData?: { createdAt?: string };
  properties: { model?: string; instanceType?: string; provisioningState: string; endpointComputeType?: string };
}

export const onlinePath = (r: WorkspaceRef, endpoint?: string) => `${workspacePath(r)}/onlineEndpoints${endpoint === undefined ? "" : `/${enc(endpoint)}`}`;
export const deploymentPath = (r: WorkspaceRef, endpoint: string, deployment?: string) => `${onlinePath(r, endpoint)}/deployments${deployment === undefined ? "" : `/${enc(deployment)}`}`;

export const listOnline = async (s: Session, r: WorkspaceRef): Promise<OnlineEndpoint[]> => (await arm(s, "GET", onlinePath(r), undefined, ML_API_VERSION)).value;
export const getOnline = (s: Session, r: WorkspaceRef, name: string): Promise<OnlineEndpoint> => arm(s, "GET", onlinePath(r, name), undefined, ML_API_VERSION);
export const listOnlineDeployments = async (s: Session, r: WorkspaceRef, endpoint: string): Promise<OnlineDeployment[]> =>
  (await arm(s, "GET", deploymentPath(r, endpoint), undefined, ML_API_VERSION)).value;

/** Provisioning states after which nothing changes by itself. */
export const isTerminal = (state: string | undefined) => state === "Succeeded" || state === "Failed" || state === "Canceled";

/** A model id shortened for a table: the registry or workspace model's name and version. */
export function shortModel(modelId: string | undefined): string {
  if (!modelId) return "—";
  const m = /models\/([^/]+)(?:\/(?:versions|labels)\/([^/]+))?\/?$/.exec(modelId);
  return m ? `${m[1]}${m[2] ? ` v${m[2]}` : ""}` : modelId;
}

/** A traffic split in words: "blue 90% · green 10%". */
export function trafficText(t: Record<string, number> | undefined): string {
  const entries = Object.entries(t ?? {}).filter(([, v]) => v > 0);
  return entries.length ? entries.map(([k, v]) => `${k} ${v}%`).join(" · ") : "No traffic";
}
