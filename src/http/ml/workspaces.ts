// Azure Machine Learning workspaces over ARM (reference azure-ml.md §3): PUT/GET/PATCH/DELETE
// of ~/workspaces/{ws} and the lists per resource group and per subscription, under
// Microsoft.MachineLearningServices. Same pipeline, identity and roles as the Cognitive
// Services accounts (kit.ts): Reader reads, Contributor and Owner write. PUT answers 201/200
// with provisioningState already Succeeded and DELETE 200/204, which both the JS and the Python
// SDKs take as a finished long-running operation (§2.1).
import type { FastifyInstance } from "fastify";
import { errors } from "../../core/errors.ts";
import { ML_PROVIDER, workspaceArmId } from "../../core/ml/workspaces.ts";
import type { WorkspaceRecord } from "../../core/ml/workspaces.ts";
import type { AppContext } from "../context.ts";
import { acceptArmJson, armKit, baseUrlOf, objectOf } from "../arm/kit.ts";

const SUB = "/subscriptions/:subscription";
const GROUP = `${SUB}/resourceGroups/:resourceGroup/providers/${ML_PROVIDER}`;
const WORKSPACE = `${GROUP}/workspaces/:workspace`;
const mlOp = (verb: string) => `${ML_PROVIDER}/workspaces/${verb}`;

/** Azure ML's api-versions move with every SDK release (reference §1, §12.7): any dated version is accepted. */
const ML_API_VERSION = /^\d{4}-\d{2}-\d{2}(-preview)?$/;
export function checkMlApiVersion(value: unknown, skip: boolean): void {
  if (value === undefined || value === "")
    throw errors.armInvalid("MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests. Use e.g. ?api-version=2024-10-01.", "api-version");
  if (skip || (typeof value === "string" && ML_API_VERSION.test(value))) return;
  throw errors.armInvalid("InvalidApiVersionParameter", `The api-version '${String(value).slice(0, 40)}' is invalid. Use a dated version such as 2024-10-01 or 2024-07-01-preview.`, "api-version");
}

const iso = (ms: number) => new Date(ms).toISOString();

/** ARM id of the Cognitive Services account behind the workspace, when it exists. */
export function associatedAccountId(ctx: Pick<AppContext, "accounts">, w: WorkspaceRecord): string | undefined {
  const a = w.account ? ctx.accounts.get(w.account) : undefined;
  return a && `/subscriptions/${a.subscription}/resourceGroups/${a.resourceGroup}/providers/Microsoft.CognitiveServices/accounts/${a.name}`;
}

export function workspaceBody(w: WorkspaceRecord, baseUrl: string, accountId?: string) {
  return {
    id: workspaceArmId(w),
    name: w.name,
    type: `${ML_PROVIDER}/workspaces`,
    location: w.location,
    kind: w.kind,
    tags: w.tags,
    identity: { type: "SystemAssigned" },
    sku: { name: "Basic", tier: "Basic" },
    systemData: { createdAt: iso(w.createdAt), createdByType: "User", lastModifiedAt: iso(w.updatedAt), lastModifiedByType: "User" },
    properties: {
      workspaceId: w.workspaceId,
      friendlyName: w.friendlyName,
      description: w.description,
      provisioningState: "Succeeded",
      discoveryUrl: `${baseUrl}/discovery`,
      ...(w.hubResourceId ? { hubResourceId: w.hubResourceId } : {}),
      // Ingot's field: the account whose OpenAI-style API shows this workspace's fine-tuning jobs.
      ...(accountId ? { associatedAccountResourceId: accountId } : {}),
      publicNetworkAccess: "Enabled",
      privateLinkCount: 0,
      hbiWorkspace: false,
      v1LegacyMode: false,
    },
  };
}

/** The workspace routes, on their own plugin instance with ARM's JSON bodies. */
export function registerMlWorkspaceRoutes(root: FastifyInstance, ctx: AppContext): void {
  root.register(async (app) => {
    acceptArmJson(app);
    const { route, authorize } = armKit(app, ctx);
    const opts = { checkApiVersion: checkMlApiVersion };
    const scopeOf = (p: Record<string, string>) => workspaceArmId({ subscription: p.subscription, resourceGroup: p.resourceGroup, name: p.workspace });
    const canRead = (principal: Parameters<typeof authorize>[0], w: WorkspaceRecord) => ctx.identity.isAuthorized(principal, workspaceArmId(w), "read");
    const tagsOf = (b: Record<string, unknown> | undefined) => objectOf(b?.tags) as Record<string, string> | undefined;

    route("GET", `${SUB}/providers/${ML_PROVIDER}/workspaces`, ({ principal, params, request }) => ({
      value: ctx.workspaces.list({ subscription: params.subscription }).filter((w) => canRead(principal, w)).map((w) => workspaceBody(w, baseUrlOf(request), associatedAccountId(ctx, w))),
    }), opts);

    route("GET", `${GROUP}/workspaces`, ({ principal, params, request }) => ({
      value: ctx.workspaces
        .list({ subscription: params.subscription, resourceGroup: params.resourceGroup })
        .filter((w) => canRead(principal, w))
        .map((w) => workspaceBody(w, baseUrlOf(request), associatedAccountId(ctx, w))),
    }), opts);

    route("GET", WORKSPACE, ({ principal, params, request }) => {
      authorize(principal, scopeOf(params), "read", mlOp("read"));
      const w = ctx.workspaces.require(params.subscription, params.resourceGroup, params.workspace);
      return workspaceBody(w, baseUrlOf(request), associatedAccountId(ctx, w));
    }, opts);

    route("PUT", WORKSPACE, ({ principal, params, body, request, reply }) => {
      authorize(principal, scopeOf(params), "accountWrite", mlOp("write"));
      const props = objectOf(body?.properties) ?? {};
      const { workspace, created } = ctx.workspaces.createOrUpdate(params.subscription, params.resourceGroup, params.workspace, {
        location: typeof body?.location === "string" ? body.location : undefined,
        kind: typeof body?.kind === "string" ? body.kind : undefined,
        tags: tagsOf(body),
        friendlyName: props.friendlyName,
        description: props.description,
        hubResourceId: props.hubResourceId,
      });
      reply.code(created ? 201 : 200);
      return workspaceBody(workspace, baseUrlOf(request), associatedAccountId(ctx, workspace));
    }, opts);

    route("PATCH", WORKSPACE, ({ principal, params, body, request }) => {
      authorize(principal, scopeOf(params), "accountWrite", mlOp("write"));
      const props = objectOf(body?.properties) ?? {};
      const w = ctx.workspaces.update(params.subscription, params.resourceGroup, params.workspace, { tags: tagsOf(body), friendlyName: props.friendlyName, description: props.description });
      return workspaceBody(w, baseUrlOf(request), associatedAccountId(ctx, w));
    }, opts);

    route("DELETE", WORKSPACE, ({ principal, params, reply }) => {
      authorize(principal, scopeOf(params), "accountWrite", mlOp("delete"));
      return reply.code(ctx.workspaces.delete(params.subscription, params.resourceGroup, params.workspace) ? 200 : 204).send();
    }, opts);
  });
}
