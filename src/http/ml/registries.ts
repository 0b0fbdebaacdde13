// Azure ML registries (read-only catalog views; the rules are in core/ml/registries.ts), on
// the three paths clients use (reference azure-ml.md §6.2):
//   ARM:        /subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.MachineLearningServices/registries[/{reg}[/models[/{name}[/versions[/{v}]]]]]
//   discovery:  /registrymanagement/v1.0/registries/{reg}/discovery  (what Python's MLClient(registry_name=…) calls first)
//   data plane: /mferp/managementfrontend/subscriptions/…/registries/{reg}/models/{name}/versions[/{v}]  (its assets; ids azureml://registries/…)
// Public registries belong to no one: any authenticated caller reads them, and they answer
// under every subscription and resource group (discovery names the default account's).
// Any api-version is accepted: Python's vary by release and group (reference §1).
import type { FastifyInstance, FastifyRequest } from "fastify";
import { DEFAULT_ACCOUNT } from "../../core/accounts/keys.ts";
import { parseCount, parseVersionOrder, Registries } from "../../core/ml/registries.ts";
import type { RegistryModelVersion } from "../../core/ml/registries.ts";
import type { AppContext } from "../context.ts";
import { acceptArmJson, armKit, baseUrlOf } from "../arm/kit.ts";
import type { Query } from "../arm/kit.ts";

export const ML_PROVIDER = "Microsoft.MachineLearningServices";
const REGISTRIES = `/subscriptions/:subscription/resourceGroups/:resourceGroup/providers/${ML_PROVIDER}/registries`;
/** Python appends this to the discovery's primaryRegionResourceProviderUri for registry assets. */
export const MFE_PREFIX = "/mferp/managementfrontend";
export const DISCOVERY = "/registrymanagement/v1.0/registries/:registry/discovery";

type RegistryParams = { subscription: string; resourceGroup: string; registry: string; name: string; version: string };
/** ARM ids (the ARM routes) or azureml:// asset ids (the registry data plane). */
type IdStyle = "arm" | "asset";

const iso = (ms: number) => new Date(ms).toISOString();
const systemData = (ms: number) => ({ createdAt: iso(ms), createdBy: "Ingot", createdByType: "Application", lastModifiedAt: iso(ms), lastModifiedBy: "Ingot", lastModifiedByType: "Application" });
const armRegistryId = (p: { subscription: string; resourceGroup: string }, reg: string) =>
  `/subscriptions/${p.subscription}/resourceGroups/${p.resourceGroup}/providers/${ML_PROVIDER}/registries/${reg}`;
export const assetId = (reg: string, name: string, version: string) => `azureml://registries/${reg}/models/${name}/versions/${version}`;

export function versionBody(v: RegistryModelVersion, style: IdStyle, p: { subscription: string; resourceGroup: string }) {
  const m = v.model;
  return {
    id: style === "asset" ? assetId(v.registry, v.name, v.version) : `${armRegistryId(p, v.registry)}/models/${v.name}/versions/${v.version}`,
    name: v.version,
    type: `${ML_PROVIDER}/registries/models/versions`,
    systemData: systemData(v.createdAt),
    properties: {
      description: m.description ?? null,
      tags: v.tags,
      // Ingot extras, as strings (Azure's asset properties are a string map).
      properties: { format: m.format, contextLength: String(m.contextLength), capabilities: m.capabilities.join(","), ...(m.sizeBytes ? { sizeBytes: String(m.sizeBytes) } : {}) },
      isAnonymous: false,
      isArchived: false,
      modelType: "custom_model",
      flavors: {},
      jobName: null,
      provisioningState: "Succeeded",
    },
  };
}

function containerBody(reg: Registries, registry: string, name: string, style: IdStyle, p: { subscription: string; resourceGroup: string }) {
  const versions = reg.versions(registry, name);
  const latest = versions[0];
  return {
    id: style === "asset" ? `azureml://registries/${latest.registry}/models/${name}` : `${armRegistryId(p, latest.registry)}/models/${name}`,
    name,
    type: `${ML_PROVIDER}/registries/models`,
    systemData: systemData(Math.min(...versions.map((v) => v.createdAt))),
    properties: { description: latest.model.description ?? null, tags: {}, properties: {}, isArchived: false, latestVersion: latest.version, provisioningState: "Succeeded" },
  };
}

function registryBody(reg: Registries, name: string, p: { subscription: string; resourceGroup: string }, request: FastifyRequest) {
  return {
    id: armRegistryId(p, name),
    name,
    type: `${ML_PROVIDER}/registries`,
    location: reg.location,
    tags: {},
    systemData: systemData(Date.UTC(2026, 0, 1)),
    properties: {
      discoveryUrl: `${baseUrlOf(request)}/registrymanagement/v1.0/registries/${name}/discovery`,
      intellectualPropertyPublisher: name,
      mlFlowRegistryUri: "",
      publicNetworkAccess: "Enabled",
      regionDetails: [{ location: reg.location, acrDetails: [], storageAccountDetails: [] }],
      registryPrivateEndpointConnections: [],
      provisioningState: "Succeeded",
    },
  };
}

export function registerMlRegistryRoutes(root: FastifyInstance, ctx: AppContext): void {
  root.register(async (app) => {
    acceptArmJson(app);
    const { route } = armKit(app, ctx);
    const registries = new Registries(ctx.catalog, DEFAULT_ACCOUNT.location);
    const anyVersion = () => {};
    const get = <P>(url: string, handler: (r: { params: P; query: Query; request: FastifyRequest }) => unknown) =>
      route<P>("GET", url, ({ params, query, request }) => handler({ params, query, request }), { checkApiVersion: anyVersion, resourceBody: false });

    const versionList = (p: RegistryParams, query: Query, style: IdStyle) => {
      const order = parseVersionOrder(query.$orderBy ?? query.$orderby);
      const skip = parseCount("$skip", query.$skip) ?? 0;
      const top = parseCount("$top", query.$top);
      const all = registries.versions(p.registry, p.name, order);
      const page = all.slice(skip, top === undefined ? undefined : skip + top);
      return { value: page.map((v) => versionBody(v, style, p)) };
    };

    for (const [prefix, style] of [["", "arm"], [MFE_PREFIX, "asset"]] as const) {
      const base = `${prefix}${REGISTRIES}/:registry`;
      get<RegistryParams>(`${base}/models`, ({ params }) => {
        const name = registries.require(params.registry);
        return { value: registries.modelNames(name).map((m) => containerBody(registries, name, m, style, params)) };
      });
      get<RegistryParams>(`${base}/models/:name`, ({ params }) => containerBody(registries, params.registry, params.name, style, params));
      get<RegistryParams>(`${base}/models/:name/versions`, ({ params, query }) => versionList(params, query, style));
      get<RegistryParams>(`${base}/models/:name/versions/:version`, ({ params }) => versionBody(registries.version(params.registry, params.name, params.version), style, params));
    }

    get<RegistryParams>(REGISTRIES, ({ params, request }) => ({ value: registries.names().map((n) => registryBody(registries, n, params, request)) }));
    get<RegistryParams>(`${REGISTRIES}/:registry`, ({ params, request }) => registryBody(registries, registries.require(params.registry), params, request));

    // The URI must end in "/": Python appends "mferp/managementfrontend" to it.
    get<{ registry: string }>(DISCOVERY, ({ params, request }) => {
      const name = registries.require(params.registry);
      return {
        registryName: name,
        primaryRegion: registries.location,
        regions: [registries.location],
        subscriptionId: DEFAULT_ACCOUNT.subscription,
        resourceGroup: DEFAULT_ACCOUNT.resourceGroup,
        primaryRegionResourceProviderUri: `${baseUrlOf(request)}/`,
      };
    });
  });
}
