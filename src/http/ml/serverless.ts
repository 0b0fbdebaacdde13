// Azure ML serverless endpoints over ARM (reference azure-ml.md §9.1):
// PUT|GET|PATCH|DELETE ~/workspaces/{ws}/serverlessEndpoints/{name}, the list ($skip paging),
// POST …/listKeys, …/regenerateKeys and …/getStatus. Authorized on the workspace as its own
// routes are (Reader reads; keys need the listKeys action, as account keys do). PUT answers 201/200 with
// properties.provisioningState from the model's real load (Creating until the runner serves);
// with no async headers the SDKs poll GET on the resource until it is terminal (§2.1).
// DELETE answers 200/204 at once: the endpoint and its keys are gone, the runner unloads after.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { errors } from "../../core/errors.ts";
import { serverlessEndpointArmId, serverlessPathSegment } from "../../core/ml/serverless.ts";
import type { ServerlessEndpointRecord } from "../../core/ml/serverless.ts";
import { ML_PROVIDER } from "../../core/ml/workspaces.ts";
import type { WorkspaceRecord } from "../../core/ml/workspaces.ts";
import type { AppContext } from "../context.ts";
import { acceptArmJson, armKit, baseUrlOf, objectOf } from "../arm/kit.ts";
import { WORKSPACE_ROUTE as WORKSPACE, workspaceAccess } from "./kit.ts";
import { checkMlApiVersion } from "./workspaces.ts";

const TYPE = `${ML_PROVIDER}/workspaces/serverlessEndpoints`;
/** Endpoints per list page; `nextLink` carries `$skip` for the rest. */
const PAGE_SIZE = 100;
const iso = (ms: number) => new Date(ms).toISOString();

/** The URL the endpoint is served at: path-based on Ingot's own host and port (no trailing slash: callers append /v1/chat/completions). */
export const serverlessUri = (baseUrl: string, e: Pick<ServerlessEndpointRecord, "name" | "suffix">) => `${baseUrl}/serverless/${serverlessPathSegment(e)}`;

export function serverlessEndpointBody(ctx: AppContext, w: WorkspaceRecord, e: ServerlessEndpointRecord, baseUrl: string) {
  const status = ctx.serverless.status(w, e);
  return {
    id: serverlessEndpointArmId(w, e.name),
    name: e.name,
    type: TYPE,
    location: e.location,
    sku: { name: "Consumption" },
    tags: e.tags,
    systemData: { createdAt: iso(e.createdAt), createdByType: "User", lastModifiedAt: iso(e.updatedAt), lastModifiedByType: "User" },
    properties: {
      ...(e.modelId ? { modelSettings: { modelId: e.modelId } } : {}),
      ...(e.offer ? { offer: e.offer } : {}),
      authMode: e.authMode,
      inferenceEndpoint: { uri: serverlessUri(baseUrl, e), headers: {} },
      provisioningState: status.provisioningState,
      endpointState: status.endpointState,
      marketplaceSubscriptionId: e.marketplaceSubscriptionId,
      contentSafety: { contentSafetyStatus: e.contentSafetyStatus },
      // Not an Azure field: load progress and the failure reason, as Cognitive Services deployments carry them.
      ...(status.progress || status.error ? { provisioningDetails: { ...(status.progress ?? {}), ...(status.error ? { error: status.error } : {}) } } : {}),
    },
  };
}

const keysBody = (e: ServerlessEndpointRecord) => ({ primaryKey: e.keys.primary, secondaryKey: e.keys.secondary });

export function registerMlServerlessRoutes(root: FastifyInstance, ctx: AppContext): void {
  root.register(async (app) => {
    acceptArmJson(app);
    const { route, authorize } = armKit(app, ctx);
    const opts = { checkApiVersion: checkMlApiVersion };
    /** The workspace at the path, after checking the caller may do `action` on it (as its own routes check). */
    const workspace = workspaceAccess(ctx, authorize, TYPE);
    const body = (request: FastifyRequest, w: WorkspaceRecord, e: ServerlessEndpointRecord) => serverlessEndpointBody(ctx, w, e, baseUrlOf(request));

    route("GET", `${WORKSPACE}/serverlessEndpoints`, ({ principal, params, query, request }) => {
      const w = workspace(principal, params, "read", "read");
      const skipText = query.$skip;
      if (skipText !== undefined && !/^\d+$/.test(skipText)) throw errors.armInvalid("UserError", `$skip must be a non-negative integer, not '${skipText.slice(0, 40)}'.`, "$skip");
      const skip = Number(skipText ?? 0);
      const all = ctx.serverless.list(w);
      const page = all.slice(skip, skip + PAGE_SIZE);
      const next = skip + PAGE_SIZE < all.length;
      const url = new URL(`${baseUrlOf(request)}${request.url}`);
      url.searchParams.set("$skip", String(skip + PAGE_SIZE));
      return { value: page.map((e) => body(request, w, e)), ...(next ? { nextLink: url.toString() } : {}) };
    }, opts);

    route("GET", `${WORKSPACE}/serverlessEndpoints/:name`, ({ principal, params, request }) => {
      const w = workspace(principal, params, "read", "read");
      return body(request, w, ctx.serverless.require(w, params.name));
    }, opts);

    route("PUT", `${WORKSPACE}/serverlessEndpoints/:name`, ({ principal, params, body: b, request, reply }) => {
      const w = workspace(principal, params, "accountWrite", "write");
      const { endpoint, created } = ctx.serverless.createOrUpdate(w, params.name, { location: b?.location, sku: b?.sku, tags: b?.tags as Record<string, string> | undefined, properties: b?.properties });
      reply.code(created ? 201 : 200);
      return body(request, w, endpoint);
    }, opts);

    route("PATCH", `${WORKSPACE}/serverlessEndpoints/:name`, ({ principal, params, body: b, request }) => {
      const w = workspace(principal, params, "accountWrite", "write");
      return body(request, w, ctx.serverless.update(w, params.name, { tags: b?.tags as Record<string, string> | undefined, sku: b?.sku }));
    }, opts);

    route("DELETE", `${WORKSPACE}/serverlessEndpoints/:name`, ({ principal, params, reply }) => {
      const w = workspace(principal, params, "accountWrite", "delete");
      return reply.code(ctx.serverless.delete(w, params.name) ? 200 : 204).send();
    }, opts);

    route("POST", `${WORKSPACE}/serverlessEndpoints/:name/listKeys`, ({ principal, params }) => {
      const w = workspace(principal, params, "listKeys", "listKeys/action");
      return keysBody(ctx.serverless.require(w, params.name));
    }, opts);

    route("POST", `${WORKSPACE}/serverlessEndpoints/:name/regenerateKeys`, ({ principal, params, body: b }) => {
      const w = workspace(principal, params, "listKeys", "regenerateKeys/action");
      const input = objectOf(b) ?? {};
      return keysBody(ctx.serverless.regenerateKey(w, params.name, input.keyType, input.keyValue));
    }, opts);

    // 2024-01-01-preview only; its body is not documented (reference §12.8): the two states and the reason of a failed load.
    route("POST", `${WORKSPACE}/serverlessEndpoints/:name/getStatus`, ({ principal, params }) => {
      const w = workspace(principal, params, "read", "getStatus/action");
      const status = ctx.serverless.status(w, ctx.serverless.require(w, params.name));
      return { provisioningState: status.provisioningState, endpointState: status.endpointState, ...(status.error ? { error: { code: "DeploymentFailed", message: status.error } } : {}) };
    }, opts);
  });
}
