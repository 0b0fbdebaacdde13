// The Foundry project endpoint's own routes, as @azure/ai-projects 2.x calls them
// (/api/projects/{p}/deployments, /connections, /datasets, ?api-version=v1; reference
// azure-api-2.md §5), and ARM's accounts/{a}/projects/{p}/connections/{c} to add connections.
// The data-plane routes authenticate as the other data-plane routes do (an account key, or a
// token for https://ai.azure.com or https://cognitiveservices.azure.com with a role on the
// account): reads need inference, writes and credentials authoring.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { errors, IngotError } from "../../core/errors.ts";
import type { AccountRecord, DeploymentRecord } from "../../core/ports/index.ts";
import type { ProjectRef } from "../../core/projects/connections.ts";
import { checkApiVersion } from "../api-versions.ts";
import type { AppContext } from "../context.ts";
import { accountId, PROVIDER } from "../arm/shapes.ts";
import { ACCOUNT, baseUrlOf, objectOf, op } from "../arm/kit.ts";
import type { ArmKit } from "../arm/kit.ts";
import { skuFamily } from "../../core/quotas/policy.ts";

/** The versions @azure/ai-projects sends: v1 (2.x), 2025-05-01 (1.0.x), the spec's preview. */
export const PROJECT_API_VERSIONS = ["v1", "2025-05-01", "2025-05-15-preview"];
const PREFIX = "/api/projects/:project";

type Q = Record<string, string | undefined>;
type P = Record<string, string>;

/** OpenAI capability names the project endpoint reports (string values, as Azure sends them). */
const CAPABILITY_NAMES: Record<string, string> = { chatCompletion: "chat_completion", completion: "completion", embeddings: "embeddings", fineTune: "fine_tune", tools: "tools", jsonSchema: "json_schema" };

export function registerProjectEndpointRoutes(root: FastifyInstance, ctx: AppContext): void {
  root.register(async (app) => {
    // createOrUpdate sends merge-patch; the body is a JSON object like any other (the Content
    // Safety routes may have taught the root this type already).
    const json = app.getDefaultJsonParser("error", "error");
    if (!app.hasContentTypeParser("application/merge-patch+json"))
      app.addContentTypeParser("application/merge-patch+json", { parseAs: "string" }, (request, body, done) => {
      if ((body as string).trim() === "") return done(null, undefined);
      json(request, body as string, done);
    });

    const read = { config: { surface: "openai" as const } };
    const write = { config: { surface: "openai" as const, action: "authoring" as const } };

    /** The account and project the request addresses, after the api-version check. */
    const scope = (request: FastifyRequest): { account: AccountRecord; ref: ProjectRef } => {
      const q = request.query as Q;
      checkApiVersion(q["api-version"], PROJECT_API_VERSIONS, ctx.settings.skipApiVersionCheck);
      const account = ctx.accounts.get(request.account);
      const name = (request.params as P).project;
      const project = account ? ctx.projects.get(account, name) : undefined;
      if (!account || !project)
        throw new IngotError("not_found", "NotFound", `Project '${name}' does not exist in account '${request.account}'. Create it (ARM accounts/${request.account}/projects/${name}) or use the 'default' project.`);
      return { account, ref: { account: account.name, project: project.name, projectId: `${accountId(account)}/projects/${project.name}` } };
    };
    const self = (request: FastifyRequest, account: AccountRecord) => ({ target: `${baseUrlOf(request)}/`, key: ctx.accounts.listKeys(account.name).key1 });
    const where = (request: FastifyRequest, account: AccountRecord) => ({ blobBase: baseUrlOf(request), subscription: account.subscription, resourceGroup: account.resourceGroup });
    const param = (request: FastifyRequest, name: string) => (request.params as P)[name];

    // Deployments: the account's, as ModelDeployment.
    const deployment = (d: DeploymentRecord) => {
      const model = ctx.catalog.has(d.model) ? ctx.catalog.find(d.model) : undefined;
      const capabilities: Record<string, string> = {};
      for (const c of model?.capabilities ?? []) if (CAPABILITY_NAMES[c]) capabilities[CAPABILITY_NAMES[c]] = "true";
      return {
        type: "ModelDeployment",
        name: d.name,
        modelName: d.model.name,
        modelVersion: d.model.version,
        modelPublisher: d.model.format,
        capabilities,
        sku: { name: d.sku.name, capacity: d.sku.capacity, family: skuFamily(d.sku.name) ?? "standard", size: "", tier: "" },
      };
    };
    app.get(`${PREFIX}/deployments`, read, async (request) => {
      const { account } = scope(request);
      const q = request.query as Q;
      let all = ctx.deployments.list(account.name);
      if (q.modelPublisher) all = all.filter((d) => d.model.format.toLowerCase() === q.modelPublisher!.toLowerCase());
      if (q.modelName) all = all.filter((d) => d.model.name.toLowerCase() === q.modelName!.toLowerCase());
      // Every Ingot deployment is a model deployment.
      if (q.deploymentType && q.deploymentType !== "ModelDeployment") all = [];
      return { value: all.map(deployment) };
    });
    app.get(`${PREFIX}/deployments/:name`, read, async (request) => {
      const { account } = scope(request);
      const d = ctx.deployments.get(account.name, param(request, "name"));
      if (!d) throw new IngotError("not_found", "DeploymentNotFound", `Deployment '${param(request, "name")}' does not exist in account '${account.name}'. List them with GET /deployments.`);
      return deployment(d);
    });

    // Connections.
    app.get(`${PREFIX}/connections`, read, async (request) => {
      const { account, ref } = scope(request);
      const q = request.query as Q;
      const all = ctx.projectConnections.filter(ctx.projectConnections.list(ref, self(request, account)), { connectionType: q.connectionType, defaultConnection: q.defaultConnection });
      return { value: all.map((c) => ctx.projectConnections.view(ref, c, false)) };
    });
    const connection = (request: FastifyRequest, withCredentials: boolean) => {
      const { account, ref } = scope(request);
      const c = ctx.projectConnections.get(ref, self(request, account), param(request, "name"));
      if (!c) throw new IngotError("not_found", "NotFound", `Connection '${param(request, "name")}' does not exist in project '${ref.project}'. List them with GET /connections.`);
      return ctx.projectConnections.view(ref, c, withCredentials);
    };
    app.get(`${PREFIX}/connections/:name`, read, async (request) => connection(request, false));
    app.post(`${PREFIX}/connections/:name/getConnectionWithCredentials`, write, async (request) => connection(request, true));

    // Datasets.
    const name = (request: FastifyRequest) => param(request, "name");
    const version = (request: FastifyRequest) => param(request, "version");
    app.post(`${PREFIX}/datasets/:name/versions/:version/startPendingUpload`, write, async (request) => {
      const { account, ref } = scope(request);
      return ctx.projectDatasets.startPendingUpload(ref, name(request), version(request), objectOf(request.body), where(request, account));
    });
    app.patch(`${PREFIX}/datasets/:name/versions/:version`, write, async (request, reply) => {
      const { ref } = scope(request);
      if (request.body !== undefined && !objectOf(request.body)) throw errors.invalid("The body must be a JSON object (merge-patch).");
      const { dataset, created } = ctx.projectDatasets.createOrUpdate(ref, name(request), version(request), objectOf(request.body));
      reply.code(created ? 201 : 200);
      return ctx.projectDatasets.view(ref, dataset);
    });
    app.get(`${PREFIX}/datasets/:name/versions/:version`, read, async (request) => {
      const { ref } = scope(request);
      return ctx.projectDatasets.view(ref, ctx.projectDatasets.require(ref, name(request), version(request)));
    });
    app.delete(`${PREFIX}/datasets/:name/versions/:version`, write, async (request, reply) => {
      const { ref } = scope(request);
      ctx.projectDatasets.delete(ref, name(request), version(request));
      return reply.code(204).send();
    });
    app.get(`${PREFIX}/datasets`, read, async (request) => {
      const { ref } = scope(request);
      return { value: ctx.projectDatasets.latest(ref).map((d) => ctx.projectDatasets.view(ref, d)) };
    });
    app.get(`${PREFIX}/datasets/:name/versions`, read, async (request) => {
      const { ref } = scope(request);
      return { value: ctx.projectDatasets.versions(ref, name(request)).map((d) => ctx.projectDatasets.view(ref, d)) };
    });
    app.post(`${PREFIX}/datasets/:name/versions/:version/credentials`, write, async (request) => {
      const { account, ref } = scope(request);
      return ctx.projectDatasets.credentials(ref, name(request), version(request), where(request, account));
    });
  });
}

/** ARM accounts/{a}/projects/{p}/connections[/{c}]: list, get, create or replace, delete (credentials are never returned). */
export function registerProjectConnectionArmRoutes(kit: ArmKit): void {
  const { ctx, route, account } = kit;
  const CONNECTIONS = `${ACCOUNT}/projects/:project/connections`;
  const ref = (a: AccountRecord, project: string): ProjectRef => {
    const p = ctx.projects.get(a, project);
    if (!p) throw errors.resourceNotFound(`${PROVIDER}/accounts/projects`, `${a.name}/${project}`, a.resourceGroup);
    return { account: a.name, project: p.name, projectId: `${accountId(a)}/projects/${p.name}` };
  };
  const ownTarget = (request: FastifyRequest) => ({ target: `${baseUrlOf(request)}/`, key: "" });
  route("GET", CONNECTIONS, ({ principal, params, request }) => {
    const a = account(principal, params, "read", op("accounts/projects/connections", "read"));
    const r = ref(a, params.project);
    return { value: ctx.projectConnections.list(r, ownTarget(request)).map((c) => ctx.projectConnections.armBody(r, c)) };
  });
  route("GET", `${CONNECTIONS}/:connection`, ({ principal, params, request }) => {
    const a = account(principal, params, "read", op("accounts/projects/connections", "read"));
    const r = ref(a, params.project);
    const c = ctx.projectConnections.get(r, ownTarget(request), params.connection);
    if (!c) throw errors.resourceNotFound(`${PROVIDER}/accounts/projects/connections`, `${a.name}/${r.project}/${params.connection}`, a.resourceGroup);
    return ctx.projectConnections.armBody(r, c);
  });
  route("PUT", `${CONNECTIONS}/:connection`, ({ principal, params, body, reply }) => {
    const a = account(principal, params, "accountWrite", op("accounts/projects/connections", "write"));
    const r = ref(a, params.project);
    const { connection, created } = ctx.projectConnections.createOrUpdate(r, params.connection, objectOf(body?.properties));
    reply.code(created ? 201 : 200);
    return ctx.projectConnections.armBody(r, connection);
  });
  route("DELETE", `${CONNECTIONS}/:connection`, ({ principal, params, reply }) => {
    const a = account(principal, params, "accountWrite", op("accounts/projects/connections", "delete"));
    const r = ref(a, params.project);
    return reply.code(ctx.projectConnections.delete(r, params.connection) ? 200 : 204).send();
  });
}
