// Azure ML managed online endpoints and deployments over ARM (reference azure-ml.md §10):
// ~/workspaces/{ws}/onlineEndpoints[/{ep}[/listKeys|token|regenerateKeys|deployments[/{d}[/getLogs|skus]]]].
// Provisioning is a real long-running operation (§2.1): PUT answers 201 (create) or 200 with
// Azure-AsyncOperation, whose status stays InProgress until every instance's runner serves
// (or Failed with the runner's reason); PATCH and DELETE answer 202 with Location, which answers
// 202 until the change is done (a deletion: until the runners have stopped), then 200.
// The operation URLs are Ingot's own (onlineOperationsStatus, onlineOperationResults): the
// SDKs follow whatever the headers say.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { errors, IngotError } from "../../core/errors.ts";
import type { OnlineDeploymentRecord, OnlineEndpointRecord, OnlineOperation } from "../../core/ml/online.ts";
import { onlineDeploymentArmId, onlineEndpointArmId } from "../../core/ml/online.ts";
import { ML_PROVIDER, workspaceArmId } from "../../core/ml/workspaces.ts";
import type { WorkspaceRecord } from "../../core/ml/workspaces.ts";
import { recordTargetOf } from "../../core/deployments/service.ts";
import type { AppContext } from "../context.ts";
import { acceptArmJson, armKit, baseUrlOf, objectOf, RETRY_AFTER_SECONDS } from "../arm/kit.ts";
import { workspaceAccess, WORKSPACE_ROUTE as WORKSPACE } from "./kit.ts";
import { checkMlApiVersion } from "./workspaces.ts";

const SUB = "/subscriptions/:subscription";
const ENDPOINT = `${WORKSPACE}/onlineEndpoints/:endpoint`;
const DEPLOYMENT = `${ENDPOINT}/deployments/:deployment`;
const OPERATIONS = `${SUB}/providers/${ML_PROVIDER}/locations/:location`;
const ENDPOINT_TYPE = `${ML_PROVIDER}/workspaces/onlineEndpoints`;
const DEPLOYMENT_TYPE = `${ENDPOINT_TYPE}/deployments`;
const iso = (ms: number) => new Date(ms).toISOString();
const systemData = (r: { createdAt: number; updatedAt: number }) => ({ createdAt: iso(r.createdAt), createdByType: "User", lastModifiedAt: iso(r.updatedAt), lastModifiedByType: "User" });

/** Where the endpoint is scored: path-based on Ingot's own host (no per-endpoint DNS here). */
export const scoringUriOf = (baseUrl: string, endpoint: string) => `${baseUrl}/online/${endpoint}/score`;

export function onlineEndpointBody(w: WorkspaceRecord, e: OnlineEndpointRecord, baseUrl: string) {
  return {
    id: onlineEndpointArmId(w, e.name),
    name: e.name,
    type: ENDPOINT_TYPE,
    location: e.location,
    tags: e.tags,
    ...(e.kind ? { kind: e.kind } : {}),
    identity: { type: e.identityType },
    systemData: systemData(e),
    properties: {
      authMode: e.authMode,
      description: e.description,
      traffic: e.traffic,
      mirrorTraffic: {},
      publicNetworkAccess: e.publicNetworkAccess,
      scoringUri: scoringUriOf(baseUrl, e.name),
      swaggerUri: `${baseUrl}/online/${e.name}/swagger.json`,
      provisioningState: "Succeeded",
    },
  };
}

export function onlineDeploymentBody(w: WorkspaceRecord, d: OnlineDeploymentRecord, state: { state: string; error?: string }) {
  return {
    id: onlineDeploymentArmId(w, d.endpoint, d.name),
    name: d.name,
    type: DEPLOYMENT_TYPE,
    location: d.location,
    tags: d.tags,
    ...(d.kind ? { kind: d.kind } : {}),
    sku: d.sku,
    systemData: systemData(d),
    properties: {
      ...d.echo,
      endpointComputeType: "Managed",
      model: d.modelId,
      instanceType: d.instanceType,
      provisioningState: state.state,
      // Ingot's own field: why the last provisioning failed (Azure shows it in the operation only).
      ...(state.error ? { provisioningError: state.error } : {}),
    },
  };
}

export function registerMlOnlineRoutes(root: FastifyInstance, ctx: AppContext): void {
  root.register(async (app) => {
    acceptArmJson(app);
    const { route, authorize } = armKit(app, ctx);
    const opts = { checkApiVersion: checkMlApiVersion };
    type Caller = Parameters<typeof authorize>[0];
    const workspace = workspaceAccess(ctx, authorize, ENDPOINT_TYPE);
    const deploymentJson = (w: WorkspaceRecord, d: OnlineDeploymentRecord) => onlineDeploymentBody(w, d, ctx.online.provisioningState(w, d));

    const operationUrls = (request: FastifyRequest, w: WorkspaceRecord, op: OnlineOperation, apiVersion: string | undefined) => {
      const base = `${baseUrlOf(request)}/subscriptions/${w.subscription}/providers/${ML_PROVIDER}/locations/${w.location}`;
      const v = `?api-version=${encodeURIComponent(apiVersion ?? "2022-10-01")}`;
      return { status: `${base}/onlineOperationsStatus/${op.id}${v}`, result: `${base}/onlineOperationResults/${op.id}${v}` };
    };
    /** PUT: the status URL to poll (the SDK then GETs the resource). */
    const asyncHeaders = (request: FastifyRequest, w: WorkspaceRecord, op: OnlineOperation, apiVersion: string | undefined) => ({
      "azure-asyncoperation": operationUrls(request, w, op, apiVersion).status,
      "retry-after": RETRY_AFTER_SECONDS,
    });
    /** PATCH, DELETE: the result URL, 202 until done. */
    const locationHeaders = (request: FastifyRequest, w: WorkspaceRecord, op: OnlineOperation, apiVersion: string | undefined) => ({
      location: operationUrls(request, w, op, apiVersion).result,
      "retry-after": RETRY_AFTER_SECONDS,
    });

    // ---- endpoints ----

    route("GET", `${WORKSPACE}/onlineEndpoints`, ({ principal, params, request }) => {
      const w = workspace(principal, params, "read", "read");
      return { value: ctx.online.listEndpoints(w).map((e) => onlineEndpointBody(w, e, baseUrlOf(request))) };
    }, opts);

    route("GET", ENDPOINT, ({ principal, params, request }) => {
      const w = workspace(principal, params, "read", "read");
      return onlineEndpointBody(w, ctx.online.requireEndpoint(w, params.endpoint), baseUrlOf(request));
    }, opts);

    route("PUT", ENDPOINT, ({ principal, params, body, query, request, reply }) => {
      const w = workspace(principal, params, "accountWrite", "write");
      const { endpoint, created, operation } = ctx.online.createOrUpdateEndpoint(w, params.endpoint, {
        location: typeof body?.location === "string" ? body.location : undefined,
        tags: body?.tags as Record<string, string> | undefined,
        kind: typeof body?.kind === "string" ? body.kind : undefined,
        identityType: typeof objectOf(body?.identity)?.type === "string" ? (objectOf(body?.identity)!.type as string) : undefined,
        properties: objectOf(body?.properties) ?? {},
      });
      reply.code(created ? 201 : 200).headers(asyncHeaders(request, w, operation, query["api-version"]));
      return onlineEndpointBody(w, endpoint, baseUrlOf(request));
    }, opts);

    route("PATCH", ENDPOINT, ({ principal, params, body, query, request, reply }) => {
      const w = workspace(principal, params, "accountWrite", "write");
      const { endpoint, operation } = ctx.online.updateEndpoint(w, params.endpoint, { tags: body?.tags as Record<string, string> | undefined, properties: objectOf(body?.properties) });
      reply.code(202).headers(locationHeaders(request, w, operation, query["api-version"]));
      return onlineEndpointBody(w, endpoint, baseUrlOf(request));
    }, opts);

    route("DELETE", ENDPOINT, ({ principal, params, query, request, reply }) => {
      const w = workspace(principal, params, "accountWrite", "delete");
      const operation = ctx.online.deleteEndpoint(w, params.endpoint);
      if (!operation) return reply.code(204).send();
      return reply.code(202).headers(locationHeaders(request, w, operation, query["api-version"])).send();
    }, opts);

    route("POST", `${ENDPOINT}/listKeys`, ({ principal, params }) => ctx.online.keys(workspace(principal, params, "listKeys", "listKeys/action"), params.endpoint), opts);

    route("POST", `${ENDPOINT}/token`, ({ principal, params }) => ctx.online.token(workspace(principal, params, "listKeys", "token/action"), params.endpoint), opts);

    route("POST", `${ENDPOINT}/regenerateKeys`, ({ principal, params, body, reply }) => {
      const w = workspace(principal, params, "listKeys", "regenerateKeys/action");
      ctx.online.regenerateKeys(w, params.endpoint, body);
      // Done at once: 200 with no async headers is a finished operation to both SDKs (§2.1).
      return reply.code(200).send();
    }, opts);

    // ---- deployments ----

    route("GET", `${ENDPOINT}/deployments`, ({ principal, params }) => {
      const w = workspace(principal, params, "read", "deployments/read");
      return { value: ctx.online.listDeployments(w, params.endpoint).map((d) => deploymentJson(w, d)) };
    }, opts);

    route("GET", DEPLOYMENT, ({ principal, params }) => {
      const w = workspace(principal, params, "read", "deployments/read");
      return deploymentJson(w, ctx.online.requireDeployment(w, params.endpoint, params.deployment));
    }, opts);

    route("PUT", DEPLOYMENT, ({ principal, params, body, query, request, reply }) => {
      const w = workspace(principal, params, "accountWrite", "deployments/write");
      const { deployment, created, operation } = ctx.online.createOrUpdateDeployment(w, params.endpoint, params.deployment, {
        location: typeof body?.location === "string" ? body.location : undefined,
        tags: body?.tags as Record<string, string> | undefined,
        kind: typeof body?.kind === "string" ? body.kind : undefined,
        sku: objectOf(body?.sku),
        properties: objectOf(body?.properties) ?? {},
      });
      reply.code(created ? 201 : 200).headers(asyncHeaders(request, w, operation, query["api-version"]));
      return deploymentJson(w, deployment);
    }, opts);

    route("PATCH", DEPLOYMENT, ({ principal, params, body, query, request, reply }) => {
      const w = workspace(principal, params, "accountWrite", "deployments/write");
      const { deployment, operation } = ctx.online.updateDeployment(w, params.endpoint, params.deployment, { tags: body?.tags as Record<string, string> | undefined, sku: objectOf(body?.sku) });
      reply.code(202).headers(locationHeaders(request, w, operation, query["api-version"]));
      return deploymentJson(w, deployment);
    }, opts);

    route("DELETE", DEPLOYMENT, ({ principal, params, query, request, reply }) => {
      const w = workspace(principal, params, "accountWrite", "deployments/delete");
      const operation = ctx.online.deleteDeployment(w, params.endpoint, params.deployment);
      if (!operation) return reply.code(204).send();
      return reply.code(202).headers(locationHeaders(request, w, operation, query["api-version"])).send();
    }, opts);

    route("POST", `${DEPLOYMENT}/getLogs`, ({ principal, params, body }) => {
      const w = workspace(principal, params, "read", "deployments/getLogs/action");
      const d = ctx.online.requireDeployment(w, params.endpoint, params.deployment);
      const containerType = body?.containerType ?? "InferenceServer";
      if (typeof containerType !== "string" || !["inferenceserver", "storageinitializer"].includes(containerType.toLowerCase()))
        throw errors.armInvalid("UserError", `'containerType' must be InferenceServer or StorageInitializer, got ${JSON.stringify(containerType).slice(0, 64)}.`, "containerType");
      const tail = body?.tail;
      if (tail !== undefined && tail !== null && (typeof tail !== "number" || !Number.isInteger(tail) || tail < 0))
        throw errors.armInvalid("UserError", `'tail' must be a whole number of lines (0 or more), got ${JSON.stringify(tail)}.`, "tail");
      if (containerType.toLowerCase() === "storageinitializer")
        return { content: `Model ${d.modelId} is served from Ingot's local model cache; there is no storage initializer.\n` };
      // One section per instance: each is its own runner process.
      const parts = ctx.online.instances(w, d).map(({ name, record }, i) => {
        let key: string | undefined;
        try {
          key = record ? recordTargetOf(ctx.catalog.find(record.model), record.options).key : undefined;
        } catch {
          key = undefined;
        }
        const text = key === undefined ? undefined : ctx.engine.logs?.(key, typeof tail === "number" ? tail : undefined);
        return `=== instance ${i} (${name}, ${record?.state ?? "missing"}) ===\n${text ?? "(no runner output yet)\n"}`;
      });
      return { content: parts.join("") };
    }, opts);

    route("GET", `${DEPLOYMENT}/skus`, ({ principal, params }) => {
      const w = workspace(principal, params, "read", "deployments/skus/read");
      const d = ctx.online.requireDeployment(w, params.endpoint, params.deployment);
      return {
        value: [
          {
            resourceType: DEPLOYMENT_TYPE,
            sku: { name: d.sku.name, tier: d.sku.tier ?? "Standard" },
            capacity: { minimum: 1, maximum: ctx.online.maxInstances, default: 1, scaleType: "Manual" },
          },
        ],
      };
    }, opts);

    // ---- operations ----

    const operationOf = (principal: Caller, id: string) => {
      const op = ctx.online.getOperation(id);
      const w = op && ctx.workspaces.getByWorkspaceId(op.workspaceId);
      if (!op || !w) throw errors.armNotFound(`operations/${id}`);
      authorize(principal, workspaceArmId(w), "read", `${ENDPOINT_TYPE}/read`);
      return { op, w };
    };

    route("GET", `${OPERATIONS}/onlineOperationsStatus/:operation`, ({ principal, params }) => {
      const { op } = operationOf(principal, params.operation);
      const s = ctx.online.operationStatus(op);
      return { id: params.operation, name: params.operation, status: s.status, startTime: iso(op.startedAt), ...(s.status === "Failed" ? { error: s.error } : {}) };
    }, opts);

    route("GET", `${OPERATIONS}/onlineOperationResults/:operation`, ({ principal, params, request, reply }) => {
      const { op, w } = operationOf(principal, params.operation);
      const s = ctx.online.operationStatus(op);
      if (s.status === "InProgress") return reply.code(202).headers({ location: `${baseUrlOf(request)}${request.url}`, "retry-after": RETRY_AFTER_SECONDS }).send();
      if (s.status === "Failed") throw new IngotError("conflict", s.error.code, s.error.message);
      if (op.kind === "delete") return reply.code(200).send();
      // An update's result is the resource as it is now.
      const e = ctx.online.endpointByName(op.endpoint)?.endpoint;
      if (!e) return reply.code(200).send();
      if (!op.deployment) return onlineEndpointBody(w, e, baseUrlOf(request));
      const d = ctx.online.listDeployments(w, e.name).find((x) => x.name === op.deployment);
      return d ? deploymentJson(w, d) : reply.code(200).send();
    }, opts);
  });
}
