// Ingot's own management routes for service principals, in ARM style (bearer token,
// api-version, ARM error shapes), for `ingot sp`: what `az ad sp create-for-rbac` does through
// Microsoft Graph and ARM role assignments, in one call, since Ingot has no directory API. Only
// a principal that may write at "/" (Owner or Contributor of everything: the local admin) may
// use them.
//
//   POST   /providers/Ingot.Identity/servicePrincipals   {"displayName","role","scope","tenant"?: "new"|id,"subscription"?}
//          → 201 {"appId","displayName","password","tenant","objectId"} (a name that exists gets a new password and the role)
//   GET    /providers/Ingot.Identity/servicePrincipals[?tenant=ID]
//   DELETE /providers/Ingot.Identity/servicePrincipals/{appId or objectId}   200, 204 when absent
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { errors } from "../../core/errors.ts";
import { DEFAULT_SUBSCRIPTION_ID } from "../../core/identity/service.ts";
import type { AppContext } from "../context.ts";
import { acceptArmJson, armKit } from "./kit.ts";

const BASE = "/providers/Ingot.Identity/servicePrincipals";

export function registerPrincipalRoutes(root: FastifyInstance, ctx: AppContext): void {
  root.register(async (app) => principalRoutes(app, ctx));
}

function principalRoutes(app: FastifyInstance, ctx: AppContext): void {
  acceptArmJson(app);
  const kit = armKit(app, ctx);
  // Scope "/": only the local admin manages principals. Their bodies are not ARM resources, so ARM's resource-body rules do not apply.
  const route = (
    method: "GET" | "POST" | "DELETE",
    url: string,
    operation: string,
    handler: (r: { request: FastifyRequest; reply: FastifyReply; body: Record<string, unknown> }) => unknown,
  ) =>
    kit.route(method, url, ({ request, reply, body }) => handler({ request, reply, body: body ?? {} }), {
      authorize: { scope: "/", action: "accountWrite", operation: `Ingot.Identity/servicePrincipals/${operation}` },
      resourceBody: false,
    });

  route("POST", BASE, "write", ({ body, reply }) => {
    const str = (k: string) => {
      const v = body[k];
      if (v === undefined) return undefined;
      if (typeof v !== "string") throw errors.armInvalid("InvalidRequestContent", `${k} must be a string.`, k);
      return v;
    };
    const role = str("role");
    if (!role) throw errors.armInvalid("InvalidRequestContent", "role is required: Owner, Contributor, Reader, Cognitive Services OpenAI Contributor or Cognitive Services OpenAI User.", "role");
    const identity = ctx.identity;
    const tenant = str("tenant");
    const subscription = str("subscription");
    const tenantId = tenant === "new" ? identity.createTenant() : tenant;
    if (subscription) identity.registerSubscription(subscription, tenantId ?? identity.admin().tenantId);
    const sp = identity.createServicePrincipal({
      displayName: str("displayName"),
      role,
      scope: str("scope") ?? `/subscriptions/${subscription ?? DEFAULT_SUBSCRIPTION_ID}`,
      tenantId,
    });
    reply.code(201);
    return sp;
  });

  route("GET", BASE, "read", ({ request }) => {
    const tenant = (request.query as Record<string, unknown>).tenant;
    return {
      value: ctx.identity.servicePrincipals(typeof tenant === "string" && tenant ? tenant : undefined).map((p) => ({
        appId: p.appId,
        displayName: p.displayName,
        id: p.objectId,
        appOwnerOrganizationId: p.tenantId,
        roles: ctx.identity.roleAssignments(p.objectId).map((a) => ({ role: a.role, scope: a.scope })),
      })),
    };
  });

  route("DELETE", `${BASE}/:id`, "delete", ({ request, reply }) => {
    const { id } = request.params as { id: string };
    return reply.code(ctx.identity.deleteServicePrincipal(id) ? 200 : 204).send();
  });
}
