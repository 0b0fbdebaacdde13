// ARM resource bodies (reference §1.3–1.9): accounts, deployments, models, usages, operations.
import type { UsageService } from "../../core/usage/service.ts";
import type { ProjectRecord } from "../../core/accounts/projects.ts";
import { createHash } from "node:crypto";
import type { CatalogModel } from "../../core/catalog/catalog.ts";
import type { AccountRecord, DeploymentRecord, OperationRecord } from "../../core/ports/index.ts";
import { rateLimitsOf } from "../../core/quotas/policy.ts";

export const PROVIDER = "Microsoft.CognitiveServices";

export const accountId = (a: Pick<AccountRecord, "subscription" | "resourceGroup" | "name">) =>
  `/subscriptions/${a.subscription}/resourceGroups/${a.resourceGroup}/providers/${PROVIDER}/accounts/${a.name}`;

const iso = (ms: number) => new Date(ms).toISOString();
const etag = (...parts: unknown[]) => `"${createHash("sha1").update(JSON.stringify(parts)).digest("hex").slice(0, 32)}"`;

/** Capabilities as ARM reports them: a map of strings. */
function capabilityMap(model: CatalogModel | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of model?.capabilities ?? []) out[c] = "true";
  if (model) {
    out.maxContextToken = String(model.contextLength);
    if (model.capabilities.includes("chatCompletion") || model.capabilities.includes("completion")) out.inference = "true";
  }
  return out;
}

/** Every account serves every surface on this Ingot, so all endpoints share its base URL. */
export function accountBody(a: AccountRecord, baseUrl: string) {
  return {
    id: accountId(a),
    name: a.name,
    type: `${PROVIDER}/accounts`,
    location: a.location,
    kind: a.kind,
    sku: { name: a.skuName },
    tags: a.tags,
    etag: etag(a),
    identity: { type: "None" },
    systemData: { createdAt: iso(a.createdAt), createdByType: "User", lastModifiedAt: iso(a.createdAt), lastModifiedByType: "User" },
    properties: {
      ...a.properties,
      provisioningState: "Succeeded",
      endpoint: `${baseUrl}/`,
      endpoints: {
        "OpenAI Language Model Instance API": `${baseUrl}/`,
        "Azure AI Model Inference API": `${baseUrl}/models`,
        "AI Foundry API": `${baseUrl}/`,
        "Ingot Portal": `${baseUrl}/`,
      },
      customSubDomainName: (a.properties.customSubDomainName as string | undefined) ?? a.name,
      publicNetworkAccess: (a.properties.publicNetworkAccess as string | undefined) ?? "Enabled",
      disableLocalAuth: (a.properties.disableLocalAuth as boolean | undefined) ?? false,
      allowProjectManagement: a.kind === "AIServices",
      dateCreated: iso(a.createdAt),
      capabilities: [{ name: "VirtualNetworks" }, { name: "CustomerManagedKey" }],
    },
  };
}

export function deploymentBody(d: DeploymentRecord, account: AccountRecord, model: CatalogModel | undefined) {
  const limits = rateLimitsOf(d.sku);
  const properties: Record<string, unknown> = {
    provisioningState: d.state,
    model: { format: d.model.format, name: d.model.name, version: d.model.version, ...(d.options?.source ? { source: d.options.source } : {}), ...(limits.callRateLimit ? { callRateLimit: limits.callRateLimit } : {}) },
    capabilities: capabilityMap(model),
    rateLimits: limits.rateLimits,
    ...(limits.callRateLimit ? { callRateLimit: limits.callRateLimit } : {}),
    currentCapacity: d.sku.capacity,
    raiPolicyName: d.options?.raiPolicyName ?? "Microsoft.DefaultV2",
    versionUpgradeOption: d.options?.versionUpgradeOption ?? "OnceNewDefaultVersionAvailable",
    dynamicThrottlingEnabled: false,
    deploymentState: "Running",
    ...(d.options?.routing ? { routing: d.options.routing } : {}),
  };
  // Not an Azure field: download/load progress and the failure reason, for portals and scripts that want more than provisioningState.
  if (d.progress || d.error) properties.provisioningDetails = { ...(d.progress ?? {}), ...(d.error ? { error: d.error } : {}) };
  return {
    id: `${accountId(account)}/deployments/${d.name}`,
    name: d.name,
    type: `${PROVIDER}/accounts/deployments`,
    sku: { name: d.sku.name, capacity: d.sku.capacity },
    tags: d.tags ?? {},
    etag: etag(d.model, d.sku, d.state, d.updatedAt),
    systemData: { createdAt: iso(d.createdAt), createdByType: "User", lastModifiedAt: iso(d.updatedAt), lastModifiedByType: "User" },
    properties,
  };
}

/** Whether the weights are on this machine: `cached`, `partial` (a download was interrupted), `missing`/`not-built` (fetched or built on first deploy), `upstream` (no local weights). */
export interface WeightsState {
  state: "cached" | "partial" | "missing" | "not-built" | "upstream";
  bytes?: number;
}

/** AccountModel (reference §1.7). */
export function modelBody(m: CatalogModel, isDefaultVersion: boolean, weights?: WeightsState) {
  return {
    format: m.format,
    name: m.name,
    version: m.version,
    ...(m.publisher ? { publisher: m.publisher } : {}),
    ...(m.baseModel ? { baseModel: m.baseModel } : {}),
    isDefaultVersion,
    lifecycleStatus: m.lifecycleStatus,
    capabilities: capabilityMap(m),
    ...(m.capabilities.includes("fineTune") ? { finetuneCapabilities: { chatCompletion: "true", maxContextToken: String(m.contextLength) } } : {}),
    maxCapacity: Math.max(0, ...m.skus.map((s) => s.maxCapacity)),
    skus: m.skus.map((s) => ({
      name: s.name,
      usageName: s.usageName,
      capacity: { minimum: s.minCapacity, maximum: s.maxCapacity, step: s.step ?? 1, default: s.defaultCapacity },
      rateLimits: rateLimitsOf({ name: s.name, capacity: s.defaultCapacity }).rateLimits,
    })),
    systemData: { createdAt: "2026-01-01T00:00:00Z", createdByType: "Application", lastModifiedAt: "2026-01-01T00:00:00Z", lastModifiedByType: "Application" },
    // Ingot extras: what a catalog browser needs (license, weights, context).
    ...(m.description ? { description: m.description } : {}),
    license: m.license,
    contextLength: m.contextLength,
    ...(m.sizeBytes ? { weightsSizeBytes: m.sizeBytes } : {}),
    ...(weights ? { weightsStatus: weights.state, weightsCached: weights.state === "cached", ...(weights.state === "partial" && weights.bytes !== undefined ? { weightsDownloadedBytes: weights.bytes } : {}) } : {}),
  };
}

export function usageBody(usageName: string, label: string, current: number, limit: number) {
  return { name: { value: usageName, localizedValue: label }, unit: "Count", currentValue: current, limit, status: current >= limit ? "Blocked" : "Included" };
}

export function operationBody(op: OperationRecord, subscription: string, location: string, percentComplete?: number) {
  return {
    id: `/subscriptions/${subscription}/providers/${PROVIDER}/locations/${location}/operationsStatuses/${op.id}`,
    name: op.id,
    status: op.status,
    startTime: iso(op.startedAt),
    ...(op.endedAt ? { endTime: iso(op.endedAt) } : {}),
    percentComplete: op.status === "InProgress" ? (percentComplete ?? 0) : 100,
    properties: {},
    ...(op.status === "Failed" ? { error: { code: op.errorCode ?? "DeploymentFailed", message: op.errorMessage ?? "The deployment failed." } } : {}),
  };
}

/** Azure Monitor's metrics list reply (Microsoft.Insights/metrics). */
export function metricsBody(resourceId: string, location: string, r: ReturnType<UsageService["query"]>) {
  const isoOf = (ms: number) => new Date(ms).toISOString().replace(/\.000Z$/, "Z");
  return {
    cost: 0,
    timespan: `${isoOf(r.from)}/${isoOf(r.to)}`,
    interval: r.interval,
    value: r.metrics.map((m) => ({
      id: `${resourceId}/providers/Microsoft.Insights/metrics/${m.name}`,
      type: "Microsoft.Insights/metrics",
      name: { value: m.name, localizedValue: m.localizedName },
      displayDescription: m.description,
      unit: "Count",
      timeseries: m.timeseries.map((t) => ({
        metadatavalues: t.dimensions.map((d) => ({ name: { value: d.name, localizedValue: d.name }, value: d.value })),
        data: t.data,
      })),
      errorCode: "Success",
    })),
    namespace: "Microsoft.CognitiveServices/accounts",
    resourceregion: location,
  };
}

/** A Foundry project (accounts/projects). */
export function projectBody(p: ProjectRecord, account: AccountRecord, baseUrl: string) {
  return {
    id: `${accountId(account)}/projects/${p.name}`,
    name: p.name,
    type: "Microsoft.CognitiveServices/accounts/projects",
    location: account.location,
    identity: { type: "SystemAssigned" },
    systemData: { createdAt: iso(p.createdAt), createdByType: "User", lastModifiedAt: iso(p.createdAt), lastModifiedByType: "User" },
    properties: {
      provisioningState: "Succeeded",
      displayName: p.displayName,
      description: p.description,
      isDefault: p.isDefault,
      endpoints: { "AI Foundry API": `${baseUrl}/api/projects/${encodeURIComponent(p.name)}` },
    },
  };
}
