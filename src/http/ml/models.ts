// Azure ML workspace models over ARM (reference azure-ml.md §6.1): containers
// `~/workspaces/{ws}/models/{name}` and versions `…/versions/{v}`, PUT|GET|DELETE and the lists
// (listViewType, $skip/$top with nextLink). Synchronous as JS 2.1.1 expects of assets: PUT
// 201/200, DELETE 200/204. A FineTuning job's output is registered here (core/ml/jobs.ts).
import type { FastifyInstance, FastifyRequest } from "fastify";
import { listViewTypeOf as parseListViewType } from "../../core/ml/assets.ts";
import type { MlModelService, ModelContainerRecord, ModelVersionRecord } from "../../core/ml/models.ts";
import { ML_PROVIDER, workspaceArmId } from "../../core/ml/workspaces.ts";
import type { WorkspaceRecord } from "../../core/ml/workspaces.ts";
import type { AppContext } from "../context.ts";
import { acceptArmJson, armKit, objectOf } from "../arm/kit.ts";
import type { Query } from "../arm/kit.ts";
import { pageOf, WORKSPACE_ROUTE as WORKSPACE, workspaceAccess } from "./kit.ts";
import { checkMlApiVersion } from "./workspaces.ts";

const TYPE = `${ML_PROVIDER}/workspaces/models`;
const PAGE_SIZE = 100;
const iso = (ms: number) => new Date(ms).toISOString();
const systemData = (r: { createdAt: number; updatedAt: number }) => ({ createdAt: iso(r.createdAt), createdByType: "User", lastModifiedAt: iso(r.updatedAt), lastModifiedByType: "User" });

export function modelContainerBody(w: WorkspaceRecord, models: MlModelService, c: ModelContainerRecord) {
  return {
    id: `${workspaceArmId(w)}/models/${c.name}`,
    name: c.name,
    type: TYPE,
    systemData: systemData(c),
    properties: {
      description: c.description,
      tags: c.tags,
      properties: c.properties,
      isArchived: c.isArchived,
      latestVersion: models.latestVersion(w, c.name)?.version ?? null,
      nextVersion: models.nextVersion(w, c.name),
      provisioningState: "Succeeded",
    },
  };
}

export function modelVersionBody(w: WorkspaceRecord, v: ModelVersionRecord) {
  return {
    id: `${workspaceArmId(w)}/models/${v.name}/versions/${v.version}`,
    name: v.version,
    type: `${TYPE}/versions`,
    systemData: systemData(v),
    properties: {
      modelType: v.modelType,
      modelUri: v.modelUri,
      flavors: v.flavors,
      jobName: v.jobName,
      description: v.description,
      tags: v.tags,
      properties: v.properties,
      isAnonymous: v.isAnonymous,
      isArchived: v.isArchived,
      stage: v.stage,
      provisioningState: "Succeeded",
    },
  };
}

export function registerMlModelRoutes(root: FastifyInstance, ctx: AppContext): void {
  root.register(async (app) => {
    acceptArmJson(app);
    const { route, authorize } = armKit(app, ctx);
    const opts = { checkApiVersion: checkMlApiVersion };
    const models = ctx.mlModels;
    const workspace = workspaceAccess(ctx, authorize, TYPE);
    const paged = <T>(all: T[], query: Query, request: FastifyRequest, body: (x: T) => unknown) => pageOf(all, query, request, body, PAGE_SIZE);

    route("GET", `${WORKSPACE}/models`, ({ principal, params, query, request }) => {
      const w = workspace(principal, params, "read", "read");
      return paged(models.listContainers(w, parseListViewType(query.listViewType)), query, request, (c) => modelContainerBody(w, models, c));
    }, opts);

    route("GET", `${WORKSPACE}/models/:name`, ({ principal, params }) => {
      const w = workspace(principal, params, "read", "read");
      return modelContainerBody(w, models, models.requireContainer(w, params.name));
    }, opts);

    route("PUT", `${WORKSPACE}/models/:name`, ({ principal, params, body, reply }) => {
      const w = workspace(principal, params, "accountWrite", "write");
      const props = objectOf(body?.properties) ?? {};
      const { container, created } = models.putContainer(w, params.name, props);
      reply.code(created ? 201 : 200);
      return modelContainerBody(w, models, container);
    }, opts);

    route("DELETE", `${WORKSPACE}/models/:name`, ({ principal, params, reply }) => {
      const w = workspace(principal, params, "accountWrite", "delete");
      return reply.code(models.deleteContainer(w, params.name) ? 200 : 204).send();
    }, opts);

    route("GET", `${WORKSPACE}/models/:name/versions`, ({ principal, params, query, request }) => {
      const w = workspace(principal, params, "read", "read");
      let versions = models.listVersions(w, params.name, parseListViewType(query.listViewType));
      const order = (query.$orderBy ?? query.$orderby ?? "").toLowerCase();
      if (order.startsWith("createdat")) versions = [...versions].sort((a, b) => (order.endsWith("asc") ? a.createdAt - b.createdAt : b.createdAt - a.createdAt));
      if (query.version) versions = versions.filter((v) => v.version.toLowerCase() === query.version!.toLowerCase());
      return paged(versions, query, request, (v) => modelVersionBody(w, v));
    }, opts);

    route("GET", `${WORKSPACE}/models/:name/versions/:version`, ({ principal, params }) => {
      const w = workspace(principal, params, "read", "read");
      return modelVersionBody(w, models.requireVersion(w, params.name, params.version));
    }, opts);

    route("PUT", `${WORKSPACE}/models/:name/versions/:version`, ({ principal, params, body, reply }) => {
      const w = workspace(principal, params, "accountWrite", "write");
      const props = objectOf(body?.properties) ?? {};
      const { version, created } = models.putVersion(w, params.name, params.version, props);
      reply.code(created ? 201 : 200);
      return modelVersionBody(w, version);
    }, opts);

    route("DELETE", `${WORKSPACE}/models/:name/versions/:version`, ({ principal, params, reply }) => {
      const w = workspace(principal, params, "accountWrite", "delete");
      return reply.code(models.deleteVersion(w, params.name, params.version) ? 200 : 204).send();
    }, opts);
  });
}
