// Azure ML marketplace subscriptions over ARM (reference azure-ml.md §8):
// PUT|GET|DELETE ~/workspaces/{ws}/marketplaceSubscriptions/{name} and the list. Authorized on
// the workspace as its own routes are (Reader reads, writes are ARM 403). PUT answers 201/200
// with provisioningState already Succeeded and DELETE 200/204: Python's LRO poller takes both
// as finished (§2.1). Python reads marketplacePlan and both states without null checks, so
// every body carries them.
import type { FastifyInstance } from "fastify";
import type { MarketplaceSubscriptionRecord } from "../../core/ml/marketplace.ts";
import { ML_PROVIDER, workspaceArmId } from "../../core/ml/workspaces.ts";
import type { WorkspaceRecord } from "../../core/ml/workspaces.ts";
import type { AppContext } from "../context.ts";
import { acceptArmJson, armKit, objectOf } from "../arm/kit.ts";
import { WORKSPACE_ROUTE as WORKSPACE, workspaceAccess } from "./kit.ts";
import { checkMlApiVersion } from "./workspaces.ts";

const TYPE = `${ML_PROVIDER}/workspaces/marketplaceSubscriptions`;
const iso = (ms: number) => new Date(ms).toISOString();

export function marketplaceSubscriptionBody(w: WorkspaceRecord, s: MarketplaceSubscriptionRecord) {
  return {
    id: `${workspaceArmId(w)}/marketplaceSubscriptions/${s.name}`,
    name: s.name,
    type: TYPE,
    systemData: { createdAt: iso(s.createdAt), createdByType: "User", lastModifiedAt: iso(s.updatedAt), lastModifiedByType: "User" },
    properties: {
      modelId: s.modelId,
      marketplacePlan: s.plan,
      marketplaceSubscriptionStatus: "Subscribed",
      provisioningState: "Succeeded",
    },
  };
}

export function registerMlMarketplaceRoutes(root: FastifyInstance, ctx: AppContext): void {
  root.register(async (app) => {
    acceptArmJson(app);
    const { route, authorize } = armKit(app, ctx);
    const opts = { checkApiVersion: checkMlApiVersion };
    /** The workspace at the path, after checking the caller may do `action` on it (as its own routes check). */
    const workspace = workspaceAccess(ctx, authorize, TYPE);

    route("GET", `${WORKSPACE}/marketplaceSubscriptions`, ({ principal, params }) => {
      const w = workspace(principal, params, "read", "read");
      return { value: ctx.marketplace.list(w).map((s) => marketplaceSubscriptionBody(w, s)) };
    }, opts);

    route("GET", `${WORKSPACE}/marketplaceSubscriptions/:name`, ({ principal, params }) => {
      const w = workspace(principal, params, "read", "read");
      return marketplaceSubscriptionBody(w, ctx.marketplace.require(w, params.name));
    }, opts);

    route("PUT", `${WORKSPACE}/marketplaceSubscriptions/:name`, ({ principal, params, body, reply }) => {
      const w = workspace(principal, params, "accountWrite", "write");
      const { subscription, created } = ctx.marketplace.createOrUpdate(w, params.name, objectOf(body?.properties)?.modelId);
      reply.code(created ? 201 : 200);
      return marketplaceSubscriptionBody(w, subscription);
    }, opts);

    route("DELETE", `${WORKSPACE}/marketplaceSubscriptions/:name`, ({ principal, params, reply }) => {
      const w = workspace(principal, params, "accountWrite", "delete");
      return reply.code(ctx.marketplace.delete(w, params.name) ? 200 : 204).send();
    }, opts);
  });
}
