// The ARM management plane (reference §1.2): accounts, keys, models, usages, deployments and
// their asynchronous operations under /subscriptions/{sub}/…/Microsoft.CognitiveServices/….
// Each handler (after the pipeline authenticated the bearer token): check api-version, authorize on the scope,
// call core, shape the ARM body.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { sameId } from "../../core/accounts/service.ts";
import type { CatalogModel } from "../../core/catalog/catalog.ts";
import { errors, IngotError } from "../../core/errors.ts";
import type { Action, Principal } from "../../core/identity/types.ts";
import type { AccountRecord, DeploymentRecord, OperationRecord } from "../../core/ports/index.ts";
import type { AppContext } from "../context.ts";
import { managementPrincipal } from "../identity/bearer.ts";
import { checkArmApiVersion, checkMonitorApiVersion } from "./api-versions.ts";
import { checkArmBody } from "./body-rules.ts";
import { accountBody, accountId, deploymentBody, metricsBody, modelBody, operationBody, projectBody, PROVIDER, usageBody } from "./shapes.ts";

type Params = Record<string, string>;
type Query = Record<string, string | undefined>;
type Body = Record<string, unknown> | undefined;

const SUB = "/subscriptions/:subscription";
const GROUP = `${SUB}/resourceGroups/:resourceGroup/providers/${PROVIDER}`;
const ACCOUNT = `${GROUP}/accounts/:account`;
const LOCATION = `${SUB}/providers/${PROVIDER}/locations/:location`;
/** Clients poll this often; ARM's 10-second floor is for a global service, a local one answers sooner. */
const RETRY_AFTER_SECONDS = "1";

const baseUrlOf = (request: FastifyRequest) => `${request.protocol}://${request.host}`;
const op = (resource: string, verb: string) => `${PROVIDER}/${resource}/${verb}`;

function bearer(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  const m = /^bearer\s+(.+)$/i.exec(value.trim());
  return m?.[1];
}

export function registerArmRoutes(root: FastifyInstance, ctx: AppContext): void {
  root.register(async (app) => armRoutes(app, ctx));
}

function armRoutes(app: FastifyInstance, ctx: AppContext): void {
  // ARM clients send Content-Type: application/json on DELETE and POST actions with no body; that is not an error here.
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
  // The pipeline (server.ts) authenticated the bearer token before routing; this is its caller.
  const authenticate = (request: FastifyRequest): Principal => request.principal ?? managementPrincipal(ctx.identity, request);

  /** Registers one ARM route: api-version check and authentication before the handler. */
  const route = (
    method: "GET" | "PUT" | "PATCH" | "DELETE" | "POST",
    url: string,
    handler: (r: { principal: Principal; params: Params; query: Query; body: Body; request: FastifyRequest; reply: FastifyReply }) => unknown,
    checkApiVersion: (value: unknown, skip: boolean) => void = checkArmApiVersion,
  ) =>
    app.route({
      method,
      url,
      config: { surface: "arm" },
      handler: async (request, reply) => {
        const query = request.query as Query;
        checkApiVersion(query["api-version"], ctx.settings.skipApiVersionCheck);
        const principal = authenticate(request);
        const body = request.body === undefined || request.body === null ? undefined : request.body;
        if (body !== undefined && (typeof body !== "object" || Array.isArray(body)))
          throw errors.armInvalid("InvalidRequestContent", "The request content was invalid and could not be deserialized: send a JSON object.");
        checkArmBody(body as Body);
        return handler({ principal, params: request.params as Params, query, body: body as Body, request, reply });
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

  // ---- accounts ----
  route("GET", `${SUB}/providers/${PROVIDER}/accounts`, ({ principal, params, request }) => ({
    value: ctx.accounts.list({ subscription: params.subscription }).filter((a) => canRead(principal, a)).map((a) => accountBody(a, baseUrlOf(request))),
  }));

  route("GET", `${GROUP}/accounts`, ({ principal, params, request }) => ({
    value: ctx.accounts
      .list({ subscription: params.subscription, resourceGroup: params.resourceGroup })
      .filter((a) => canRead(principal, a))
      .map((a) => accountBody(a, baseUrlOf(request))),
  }));

  route("GET", ACCOUNT, ({ principal, params, request }) => accountBody(account(principal, params, "read", op("accounts", "read")), baseUrlOf(request)));

  route("PUT", ACCOUNT, ({ principal, params, body, request, reply }) => {
    authorize(principal, accountId({ subscription: params.subscription, resourceGroup: params.resourceGroup, name: params.account }), "accountWrite", op("accounts", "write"));
    const b = body ?? {};
    const { account: a, created } = ctx.accounts.createOrUpdate(params.subscription, params.resourceGroup, params.account, {
      location: typeof b.location === "string" ? b.location : undefined,
      kind: typeof b.kind === "string" ? b.kind : undefined,
      skuName: typeof (b.sku as Body)?.name === "string" ? ((b.sku as Body)?.name as string) : undefined,
      tags: objectOf(b.tags) as Record<string, string> | undefined,
      properties: objectOf(b.properties),
    });
    reply.code(created ? 201 : 200);
    return accountBody(a, baseUrlOf(request));
  });

  route("PATCH", ACCOUNT, ({ principal, params, body, request }) => {
    account(principal, params, "accountWrite", op("accounts", "write"));
    const b = body ?? {};
    const a = ctx.accounts.update(params.subscription, params.resourceGroup, params.account, {
      tags: objectOf(b.tags) as Record<string, string> | undefined,
      skuName: typeof (b.sku as Body)?.name === "string" ? ((b.sku as Body)?.name as string) : undefined,
      properties: objectOf(b.properties),
    });
    return accountBody(a, baseUrlOf(request));
  });

  route("DELETE", ACCOUNT, ({ principal, params, reply }) => {
    authorize(principal, accountId({ subscription: params.subscription, resourceGroup: params.resourceGroup, name: params.account }), "accountWrite", op("accounts", "delete"));
    const deleted = ctx.accounts.delete(params.subscription, params.resourceGroup, params.account);
    return reply.code(deleted ? 200 : 204).send();
  });

  // ---- Foundry projects ----
  route("GET", `${ACCOUNT}/projects`, ({ principal, params, request }) => {
    const a = account(principal, params, "read", op("accounts/projects", "read"));
    return { value: ctx.projects.list(a).map((p) => projectBody(p, a, baseUrlOf(request))) };
  });
  route("GET", `${ACCOUNT}/projects/:project`, ({ principal, params, request }) => {
    const a = account(principal, params, "read", op("accounts/projects", "read"));
    const p = ctx.projects.get(a, params.project);
    if (!p) throw errors.resourceNotFound(`${PROVIDER}/accounts/projects`, `${a.name}/${params.project}`, a.resourceGroup);
    return projectBody(p, a, baseUrlOf(request));
  });
  route("PUT", `${ACCOUNT}/projects/:project`, ({ principal, params, body, request, reply }) => {
    const a = account(principal, params, "accountWrite", op("accounts/projects", "write"));
    const props = objectOf(body?.properties) ?? {};
    const { project, created } = ctx.projects.createOrUpdate(a, params.project, { displayName: props.displayName, description: props.description });
    reply.code(created ? 201 : 200);
    return projectBody(project, a, baseUrlOf(request));
  });
  route("PATCH", `${ACCOUNT}/projects/:project`, ({ principal, params, body, request }) => {
    const a = account(principal, params, "accountWrite", op("accounts/projects", "write"));
    if (!ctx.projects.get(a, params.project)) throw errors.resourceNotFound(`${PROVIDER}/accounts/projects`, `${a.name}/${params.project}`, a.resourceGroup);
    const props = objectOf(body?.properties) ?? {};
    return projectBody(ctx.projects.createOrUpdate(a, params.project, { displayName: props.displayName, description: props.description }).project, a, baseUrlOf(request));
  });
  route("DELETE", `${ACCOUNT}/projects/:project`, ({ principal, params, reply }) => {
    const a = account(principal, params, "accountWrite", op("accounts/projects", "delete"));
    return reply.code(ctx.projects.delete(a, params.project) ? 200 : 204).send();
  });

  route("POST", `${ACCOUNT}/listKeys`, ({ principal, params }) => {
    const a = account(principal, params, "listKeys", op("accounts", "listKeys/action"));
    return ctx.accounts.listKeys(a.name);
  });

  route("POST", `${ACCOUNT}/regenerateKey`, ({ principal, params, body }) => {
    const a = account(principal, params, "listKeys", op("accounts", "regenerateKey/action"));
    return ctx.accounts.regenerateKey(a.name, body?.keyName);
  });

  route("GET", `${ACCOUNT}/skus`, ({ principal, params }) => {
    account(principal, params, "read", op("accounts", "read"));
    return { value: [{ resourceType: `${PROVIDER}/accounts`, sku: { name: "S0", tier: "Standard" } }] };
  });

  // ---- models and usages ----
  const modelsFor = (accountName: string | undefined): CatalogModel[] =>
    ctx.catalog.models.filter((m) => {
      const owner = ctx.modelOwner(m);
      return owner === undefined || owner === accountName;
    });
  /** Ingot extra: whether each model's weights are on this machine (a failed check just leaves the field out). */
  const weightsOf = (m: CatalogModel) => (ctx.weightsStatus ? ctx.weightsStatus(m).catch(() => undefined) : Promise.resolve(undefined));
  const modelList = (models: CatalogModel[]) => Promise.all(models.map(async (m) => modelBody(m, ctx.catalog.isDefaultVersion(m), await weightsOf(m))));

  route("GET", `${ACCOUNT}/models`, async ({ principal, params }) => {
    const a = account(principal, params, "read", op("accounts", "models/read"));
    return { value: await modelList(modelsFor(a.name)) };
  });

  route("GET", `${LOCATION}/models`, async () => ({
    value: (await modelList(modelsFor(undefined))).map((model) => ({ kind: "AIServices", skuName: "S0", model })),
  }));

  const usages = (accounts: AccountRecord[], filter: string | undefined) => {
    const wanted = parseUsageFilter(filter);
    const totals = new Map<string, { current: number; label: string }>();
    for (const a of accounts)
      for (const [name, u] of ctx.deployments.usage(a.name)) {
        const t = totals.get(name) ?? { current: 0, label: u.label };
        t.current += u.current;
        totals.set(name, t);
      }
    const limit = ctx.deployments.policy.quotaPerUsage * Math.max(1, accounts.length);
    return { value: [...totals].filter(([name]) => !wanted || wanted.has(name.toLowerCase())).map(([name, u]) => usageBody(name, u.label, u.current, limit)) };
  };

  route("GET", `${ACCOUNT}/usages`, ({ principal, params, query }) => usages([account(principal, params, "read", op("accounts", "usages/read"))], query.$filter));

  // Azure Monitor metrics of the account: tokens and requests per deployment over time (the portal's usage page).
  route(
    "GET",
    `${ACCOUNT}/providers/Microsoft.Insights/metrics`,
    ({ principal, params, query }) => {
      const a = account(principal, params, "read", "Microsoft.Insights/metrics/read");
      const result = ctx.usage.query(a.name, { metricnames: query.metricnames, timespan: query.timespan, interval: query.interval, aggregation: query.aggregation, filter: query.$filter });
      return metricsBody(accountId(a), a.location, result);
    },
    checkMonitorApiVersion,
  );

  route("GET", `${LOCATION}/usages`, ({ principal, params, query }) =>
    usages(
      ctx.accounts.list({ subscription: params.subscription }).filter((a) => sameId(a.location, params.location) && canRead(principal, a)),
      query.$filter,
    ),
  );

  // ---- deployments ----
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

  route("GET", `${ACCOUNT}/deployments`, ({ principal, params }) => {
    const a = account(principal, params, "read", op("accounts/deployments", "read"));
    return { value: ctx.deployments.list(a.name).map((d) => deploymentRecordJson(a, d)) };
  });

  route("GET", `${ACCOUNT}/deployments/:deployment`, ({ principal, params }) => deploymentJson(account(principal, params, "read", op("accounts/deployments", "read")), params.deployment));

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
      raiPolicyName: typeof props.raiPolicyName === "string" ? props.raiPolicyName : undefined,
      versionUpgradeOption: typeof props.versionUpgradeOption === "string" ? props.versionUpgradeOption : undefined,
      source,
    });
    reply.code(change.created ? 201 : 200).headers(asyncHeaders(request, a, change.operation, query["api-version"]));
    return deploymentJson(a, params.deployment);
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

  route("PATCH", `${ACCOUNT}/deployments/:deployment`, ({ principal, params, body }) => {
    const a = account(principal, params, "deploymentWrite", op("accounts/deployments", "write"));
    const b = body ?? {};
    ctx.deployments.update(a.name, params.deployment, { sku: objectOf(b.sku) as { name?: unknown; capacity?: unknown } | undefined, tags: objectOf(b.tags) as Record<string, string> | undefined });
    return deploymentJson(a, params.deployment);
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

  // ---- asynchronous operations (reference §1.9) ----
  const operation = (principal: Principal, params: Params): { op: OperationRecord; account: AccountRecord | undefined } => {
    const o = ctx.deployments.getOperation(params.operation);
    if (!o) throw errors.armNotFound(`/subscriptions/${params.subscription}/providers/${PROVIDER}/locations/${params.location}/operationsStatuses/${params.operation}`);
    const a = ctx.accounts.get(o.account);
    if (a) authorize(principal, accountId(a), "read", op("locations/operationsStatuses", "read"));
    return { op: o, account: a };
  };
  const progressOf = (o: OperationRecord) => (o.deployment ? ctx.deployments.get(o.account, o.deployment)?.progress?.percentComplete : undefined);

  route("GET", `${LOCATION}/operationsStatuses/:operation`, ({ principal, params }) => {
    const { op: o } = operation(principal, params);
    return operationBody(o, params.subscription, params.location, progressOf(o));
  });

  route("GET", `${LOCATION}/operationResults/:operation`, ({ principal, params, query, request, reply }) => {
    const { op: o, account: a } = operation(principal, params);
    if (o.status === "InProgress") {
      reply.code(202).header("retry-after", RETRY_AFTER_SECONDS).header("location", `${baseUrlOf(request)}${request.url}`);
      return reply.send();
    }
    if (o.status === "Failed") throw new IngotError("invalid_request", o.errorCode ?? "DeploymentFailed", o.errorMessage ?? "The operation failed.");
    if (o.kind === "delete" || !a || !o.deployment) return reply.code(204).send();
    void query;
    return deploymentJson(a, o.deployment);
  });
}

function objectOf(v: unknown): Record<string, unknown> | undefined {
  return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/** `$filter=name.value eq 'A' or name.value eq 'B'` (the OData subset Azure documents for usages). */
function parseUsageFilter(filter: string | undefined): Set<string> | undefined {
  if (!filter) return undefined;
  const names = [...filter.matchAll(/name\.value\s+eq\s+'([^']*)'/gi)].map((m) => m[1].toLowerCase());
  if (names.length === 0) throw errors.armInvalid("InvalidFilter", `Unsupported $filter '${filter}'. Use name.value eq '<usage name>' (joined with 'or').`, "$filter");
  return new Set(names);
}
