// What every ARM resource module shares: the path prefixes, ARM's JSON body parsing, the route
// helper (api-version check and the caller before the handler), authorization on an account,
// the asynchronous operation headers, and the ARM body of a deployment. Ingot's own ARM-style
// providers (catalog.ts, principals.ts) register their routes through the same helper.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { errors } from "../../core/errors.ts";
import type { Action, Principal } from "../../core/identity/types.ts";
import type { CatalogModel } from "../../core/catalog/catalog.ts";
import type { AccountRecord, DeploymentRecord, OperationRecord } from "../../core/ports/index.ts";
import type { AppContext } from "../context.ts";
import { managementPrincipal } from "../identity/bearer.ts";
import { checkArmApiVersion } from "./api-versions.ts";
import { checkArmBody } from "./body-rules.ts";
import { accountId, deploymentBody, PROVIDER } from "./shapes.ts";

export type Params = Record<string, string>;
export type Query = Record<string, string | undefined>;
export type Body = Record<string, unknown> | undefined;

export const SUB = "/subscriptions/:subscription";
export const GROUP = `${SUB}/resourceGroups/:resourceGroup/providers/${PROVIDER}`;
export const ACCOUNT = `${GROUP}/accounts/:account`;
export const LOCATION = `${SUB}/providers/${PROVIDER}/locations/:location`;
/** Clients poll this often; ARM's 10-second floor is for a global service, a local one answers sooner. */
export const RETRY_AFTER_SECONDS = "1";

export const baseUrlOf = (request: FastifyRequest) => `${request.protocol}://${request.host}`;
export const op = (resource: string, verb: string) => `${PROVIDER}/${resource}/${verb}`;

export function bearer(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  const m = /^bearer\s+(.+)$/i.exec(value.trim());
  return m?.[1];
}

export function objectOf(v: unknown): Record<string, unknown> | undefined {
  return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/** ARM's JSON bodies on plugin instance `app`: clients send Content-Type: application/json on DELETE and on POST actions with no body, which is no body; unparsable JSON is ARM's 400. */
export function acceptArmJson(app: FastifyInstance): void {
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (_request, body, done) => {
    const text = (body as string).trim();
    if (!text) return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch (e) {
      done(errors.armInvalid("InvalidRequestContent", `The request content was invalid and could not be deserialized: ${(e as Error).message}. Send a JSON object.`), undefined);
    }
  });
}

/** Where a route departs from an ARM resource route's defaults. */
export type RouteOptions = {
  /** The api-version rule: ARM's unless given (Azure Monitor's metrics have their own). */
  checkApiVersion?: (value: unknown, skip: boolean) => void;
  /** Authorization at a fixed scope, checked before the body is read: for routes whose scope is not in the path (Ingot's own providers). */
  authorize?: { scope: string; action: Action; operation: string };
  /** ARM's resource-body rules (envelope field types, tags, depth); off for Ingot's own providers, whose bodies are not ARM resources. */
  resourceBody?: boolean;
  /** The body may be a JSON array (raiBlocklists' batch actions take a bare array). */
  arrayBody?: boolean;
};

export type ArmKit = ReturnType<typeof armKit>;

/** The helpers of one ARM plugin instance (`app`), bound to the app context. */
export function armKit(app: FastifyInstance, ctx: AppContext) {
  // The pipeline (server.ts) authenticated the bearer token before routing; this is its caller.
  const authenticate = (request: FastifyRequest): Principal => request.principal ?? managementPrincipal(ctx.identity, request);

  /** Registers one ARM route: api-version check, the caller, and a JSON-object body before the handler. */
  const route = <P = Params>(
    method: "GET" | "PUT" | "PATCH" | "DELETE" | "POST",
    url: string,
    handler: (r: { principal: Principal; params: P; query: Query; body: Body; request: FastifyRequest; reply: FastifyReply }) => unknown,
    options: RouteOptions = {},
  ) =>
    app.route({
      method,
      url,
      config: { surface: "arm" },
      handler: async (request, reply) => {
        const query = request.query as Query;
        (options.checkApiVersion ?? checkArmApiVersion)(query["api-version"], ctx.settings.skipApiVersionCheck);
        const principal = authenticate(request);
        if (options.authorize) authorize(principal, options.authorize.scope, options.authorize.action, options.authorize.operation);
        const body = request.body === undefined || request.body === null ? undefined : request.body;
        if (options.arrayBody && Array.isArray(body)) return handler({ principal, params: request.params as P, query, body: body as unknown as Body, request, reply });
        if (body !== undefined && (typeof body !== "object" || Array.isArray(body)))
          throw errors.armInvalid("InvalidRequestContent", "The request content was invalid and could not be deserialized: send a JSON object.");
        if (options.resourceBody !== false) checkArmBody(body as Body);
        return handler({ principal, params: request.params as P, query, body: body as Body, request, reply });
      },
    });

  const authorize = (principal: Principal, scope: string, action: Action, operation: string) => ctx.identity.authorize(principal, scope, action, operation);

  /** The account at the path, after checking the caller may perform `action` on it. */
  const account = (principal: Principal, p: Params, action: Action, operation: string): AccountRecord => {
    authorize(principal, accountId({ subscription: p.subscription, resourceGroup: p.resourceGroup, name: p.account }), action, operation);
    return ctx.accounts.require(p.subscription, p.resourceGroup, p.account);
  };

  const canRead = (principal: Principal, a: AccountRecord) => ctx.identity.isAuthorized(principal, accountId(a), "read");

  const asyncHeaders = (request: FastifyRequest, account: AccountRecord, operation: OperationRecord, apiVersion: string | undefined) => {
    const base = `${baseUrlOf(request)}/subscriptions/${account.subscription}/providers/${PROVIDER}/locations/${account.location}`;
    const v = `?api-version=${encodeURIComponent(apiVersion ?? "2024-10-01")}`;
    return {
      "azure-asyncoperation": `${base}/operationsStatuses/${operation.id}${v}`,
      location: `${base}/operationResults/${operation.id}${v}`,
      "retry-after": RETRY_AFTER_SECONDS,
    };
  };

  /** One deployment's ARM body; its model by key lookup (a list of n deployments stays linear, not n × catalog size). */
  const deploymentRecordJson = (a: AccountRecord, d: DeploymentRecord) => {
    let model: CatalogModel | undefined;
    try {
      model = ctx.catalog.find(d.model);
    } catch {
      model = undefined; // gone from the catalog: the body leaves out what only the catalog knows
    }
    return deploymentBody(d, a, model);
  };
  const deploymentJson = (a: AccountRecord, name: string) => {
    const d = ctx.deployments.get(a.name, name);
    if (!d) throw errors.armNotFound(`${accountId(a)}/deployments/${name}`);
    return deploymentRecordJson(a, d);
  };

  return { ctx, route, authorize, account, canRead, asyncHeaders, deploymentJson, deploymentRecordJson };
}
