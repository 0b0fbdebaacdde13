// What the Azure ML workspace routes (data, datastores, jobs, models, marketplace, serverless,
// online) share: the workspace at a route's path after the caller's permission is checked, and
// the list helpers (a repeated query value, the next page's link). One copy, so that every asset
// checks and pages the same way.
import type { FastifyRequest } from "fastify";
import { ML_PROVIDER, workspaceArmId } from "../../core/ml/workspaces.ts";
import type { WorkspaceRecord } from "../../core/ml/workspaces.ts";
import type { AppContext } from "../context.ts";
import { errors } from "../../core/errors.ts";
import { baseUrlOf } from "../arm/kit.ts";
import type { ArmKit, Query } from "../arm/kit.ts";

type Authorize = ArmKit["authorize"];

/** The route of a workspace; the assets' routes go on below it. */
export const WORKSPACE_ROUTE = `/subscriptions/:subscription/resourceGroups/:resourceGroup/providers/${ML_PROVIDER}/workspaces/:workspace`;

/**
 * `workspace(principal, params, action, verb)`: the workspace at `params` (subscription,
 * resourceGroup, workspace), once the caller may do `action` on it; a denial names the
 * operation `${type}/${verb}` (`type` defaults to the routes' resource type).
 */
export function workspaceAccess(ctx: Pick<AppContext, "workspaces">, authorize: Authorize, defaultType: string) {
  return (principal: Parameters<Authorize>[0], p: Record<string, string>, action: Parameters<Authorize>[2], verb: string, type = defaultType): WorkspaceRecord => {
    authorize(principal, workspaceArmId({ subscription: p.subscription, resourceGroup: p.resourceGroup, name: p.workspace }), action, `${type}/${verb}`);
    return ctx.workspaces.require(p.subscription, p.resourceGroup, p.workspace);
  };
}

/** A query value sent once or repeated (a client that re-sends its list options on nextLink): the last one. */
export const lastOf = (v: unknown): string | undefined => (Array.isArray(v) ? lastOf(v[v.length - 1]) : typeof v === "string" ? v : undefined);

/** The next page's absolute URL: this request's (its filters and api-version), with `$skip` moved on. */
export function nextLinkOf(request: FastifyRequest, skip: number): string {
  const url = new URL(request.url, baseUrlOf(request));
  url.searchParams.set("$skip", String(skip));
  return url.toString();
}

/** `$skip` or `$top`: absent or empty is undefined; anything but digits is a 400 naming it. */
function count(name: string, v: string | undefined): number | undefined {
  if (v === undefined || v === "") return undefined;
  if (!/^\d+$/.test(v)) throw errors.armInvalid("UserError", `${name} must be a non-negative integer, not '${v.slice(0, 20)}'.`, name);
  return Number(v);
}

/** One page of `all` ($skip, then $top or `pageSize`; a $top of 0 is `pageSize` too) and the link to the next, as ARM lists page. */
export function pageOf<T>(all: T[], query: Query, request: FastifyRequest, body: (x: T) => unknown, pageSize: number) {
  const skip = count("$skip", query.$skip) ?? 0;
  const top = count("$top", query.$top) || pageSize;
  return { value: all.slice(skip, skip + top).map(body), ...(skip + top < all.length ? { nextLink: nextLinkOf(request, skip + top) } : {}) };
}
