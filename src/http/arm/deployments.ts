// ARM deployments: list, get, create or update (PUT, and POST as Azure's fine-tuning docs
// send it), patch, delete (asynchronous operations), SKUs; cross-account deploy from a source account.
import type { FastifyReply, FastifyRequest } from "fastify";
import { errors } from "../../core/errors.ts";
import type { Principal } from "../../core/identity/types.ts";
import { ACCOUNT, bearer, objectOf, op } from "./kit.ts";
import type { Body, Params, Query } from "./kit.ts";
import { PROVIDER, accountId } from "./shapes.ts";
import type { ArmKit } from "./kit.ts";

export function registerDeploymentRoutes(kit: ArmKit): void {
  const { ctx, route, authorize, account, asyncHeaders, deploymentJson, deploymentRecordJson } = kit;
  route("GET", `${ACCOUNT}/deployments`, ({ principal, params, query }) => {
    const a = account(principal, params, "read", op("accounts/deployments", "read"));
    return { value: ctx.deployments.list(a.name).map((d) => withScaleSettings(deploymentRecordJson(a, d), query)) };
  });

  route("GET", `${ACCOUNT}/deployments/:deployment`, ({ principal, params, query }) =>
    withScaleSettings(deploymentJson(account(principal, params, "read", op("accounts/deployments", "read")), params.deployment), query),
  );

  const putDeployment = ({ principal, params, body, query, request, reply }: { principal: Principal; params: Params; query: Query; body: Body; request: FastifyRequest; reply: FastifyReply }) => {
    const a = account(principal, params, "deploymentWrite", op("accounts/deployments", "write"));
    const b = body ?? {};
    const props = (objectOf(b.properties) ?? {}) as Record<string, unknown>;
    const model = objectOf(props.model) as Record<string, unknown> | undefined;
    const sourceId = model?.source ?? model?.sourceAccount;
    const source = sourceId === undefined || sourceId === null ? undefined : authorizeSource(request, principal, sourceId);
    let sku = objectOf(b.sku) as { name?: unknown; capacity?: unknown } | undefined;
    // Before 2023-05-01 the capacity came in properties.scaleSettings; old CLIs still send it.
    const scale = objectOf(props.scaleSettings) as { capacity?: unknown } | undefined;
    if (!sku && scale) sku = { name: "Standard", capacity: scale.capacity };
    const change = ctx.deployments.createOrUpdate(a.name, params.deployment, {
      model: model as { format?: unknown; name?: unknown; version?: unknown } | undefined,
      sku,
      tags: objectOf(b.tags) as Record<string, string> | undefined,
      // A policy of this account (or a built-in), stored as the policy spells it; unknown: ARM's 400 naming the policies there are.
      raiPolicyName: ctx.rai.policies.resolveName(a.name, props.raiPolicyName),
      versionUpgradeOption: typeof props.versionUpgradeOption === "string" ? props.versionUpgradeOption : undefined,
      // model-router deployments: {mode, models?}, checked in core (DeploymentService.#checkRouting).
      routing: props.routing,
      source,
    });
    reply.code(change.created ? 201 : 200).headers(asyncHeaders(request, a, change.operation, query["api-version"]));
    return withScaleSettings(deploymentJson(a, params.deployment), query);
  };

  /** Cross-account deploy (reference §1.11): the caller, or the auxiliary token for another tenant, must be authorized on the source account. */
  const authorizeSource = (request: FastifyRequest, principal: Principal, sourceId: unknown): { id: string; account: string } => {
    const m = typeof sourceId === "string" ? /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.CognitiveServices\/accounts\/([^/]+)\/?$/i.exec(sourceId) : null;
    if (!m)
      throw errors.armInvalid("InvalidResourceProperties", `properties.model.source must be an account resource id: /subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.CognitiveServices/accounts/{account}; got ${JSON.stringify(sourceId)}.`, "properties.model.source");
    const [, subscription, resourceGroup, name] = m;
    const scope = accountId({ subscription, resourceGroup, name });
    const operation = op("accounts/deployments", "write");
    try {
      authorize(principal, scope, "deploymentWrite", operation);
    } catch (first) {
      const aux = bearer(request.headers["x-ms-authorization-auxiliary"]);
      if (!aux) throw first;
      authorize(ctx.identity.verifyToken(aux, "management"), scope, "deploymentWrite", operation);
    }
    const src = ctx.accounts.require(subscription, resourceGroup, name);
    return { id: accountId(src), account: src.name };
  };

  route("PUT", `${ACCOUNT}/deployments/:deployment`, putDeployment);
  // Azure's fine-tuning docs (seed 001) show `curl -X POST` for this create; accept it as the PUT it means.
  route("POST", `${ACCOUNT}/deployments/:deployment`, putDeployment);

  route("PATCH", `${ACCOUNT}/deployments/:deployment`, ({ principal, params, body, query }) => {
    const a = account(principal, params, "deploymentWrite", op("accounts/deployments", "write"));
    const b = body ?? {};
    ctx.deployments.update(a.name, params.deployment, { sku: objectOf(b.sku) as { name?: unknown; capacity?: unknown } | undefined, tags: objectOf(b.tags) as Record<string, string> | undefined });
    return withScaleSettings(deploymentJson(a, params.deployment), query);
  });

  route("DELETE", `${ACCOUNT}/deployments/:deployment`, ({ principal, params, query, request, reply }) => {
    const a = account(principal, params, "deploymentWrite", op("accounts/deployments", "delete"));
    const operation = ctx.deployments.delete(a.name, params.deployment);
    if (!operation) return reply.code(204).send();
    return reply.code(202).headers(asyncHeaders(request, a, operation, query["api-version"])).send();
  });

  route("GET", `${ACCOUNT}/deployments/:deployment/skus`, ({ principal, params }) => {
    const a = account(principal, params, "read", op("accounts/deployments", "read"));
    const d = ctx.deployments.get(a.name, params.deployment);
    if (!d) throw errors.armNotFound(`${accountId(a)}/deployments/${params.deployment}`);
    const model = ctx.catalog.find(d.model);
    return {
      value: model.skus.map((s) => ({
        resourceType: `${PROVIDER}/accounts/deployments`,
        sku: { name: s.name, capacity: s.defaultCapacity },
        capacity: { minimum: s.minCapacity, maximum: s.maxCapacity, step: s.step ?? 1, default: s.defaultCapacity },
      })),
    };
  });
}

/**
 * api-versions before 2023-05-01 (az 2.45 sends 2022-12-01) describe capacity as
 * properties.scaleSettings; Azure answers them in that shape too, next to `sku`.
 */
function withScaleSettings<T>(body: T, query: Query): T {
  const version = query["api-version"];
  if (!version || version >= "2023-05-01") return body;
  const b = body as { sku?: { capacity?: unknown }; properties?: Record<string, unknown> };
  if (!b.properties || !b.sku) return body;
  return { ...b, properties: { ...b.properties, scaleSettings: { scaleType: "Standard", capacity: b.sku.capacity, activeCapacity: b.properties.currentCapacity ?? b.sku.capacity } } } as T;
}
