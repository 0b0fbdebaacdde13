// Azure ML data assets over ARM (reference azure-ml.md §4, §5): containers
// `~/workspaces/{ws}/data/{name}` and versions `…/data/{name}/versions/{v}`, with their lists
// ($orderBy, $top, $skip, listViewType). Python parses name and version out of the response id,
// so every body carries the full ARM id. PUT answers 201/200 (synchronous, as JS and Python
// expect of asset PUTs), DELETE 200/204.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { listViewTypeOf } from "../../core/ml/assets.ts";
import { page } from "../../core/ml/data.ts";
import type { DataContainerRecord, DataVersionRecord } from "../../core/ml/data.ts";
import { ML_PROVIDER, workspaceArmId } from "../../core/ml/workspaces.ts";
import type { WorkspaceRecord } from "../../core/ml/workspaces.ts";
import type { AppContext } from "../context.ts";
import { acceptArmJson, armKit, objectOf } from "../arm/kit.ts";
import { lastOf, nextLinkOf, WORKSPACE_ROUTE as WORKSPACE, workspaceAccess } from "./kit.ts";
import { checkMlApiVersion } from "./workspaces.ts";

const CONTAINER_TYPE = `${ML_PROVIDER}/workspaces/data`;
const VERSION_TYPE = `${ML_PROVIDER}/workspaces/data/versions`;
const iso = (ms: number) => new Date(ms).toISOString();
const systemData = (r: { createdAt: number; updatedAt: number }) => ({ createdAt: iso(r.createdAt), createdByType: "User", lastModifiedAt: iso(r.updatedAt), lastModifiedByType: "User" });

export const dataVersionArmId = (w: WorkspaceRecord, name: string, version: string) => `${workspaceArmId(w)}/data/${name}/versions/${version}`;

export function dataContainerBody(w: WorkspaceRecord, c: DataContainerRecord, info: { latestVersion?: string; nextVersion: string }) {
  return {
    id: `${workspaceArmId(w)}/data/${c.name}`,
    name: c.name,
    type: CONTAINER_TYPE,
    systemData: systemData(c),
    properties: {
      dataType: c.dataType,
      description: c.description,
      tags: c.tags,
      properties: c.properties,
      isArchived: c.isArchived,
      ...(info.latestVersion ? { latestVersion: info.latestVersion } : {}),
      nextVersion: info.nextVersion,
    },
  };
}

export function dataVersionBody(w: WorkspaceRecord, v: DataVersionRecord) {
  return {
    id: dataVersionArmId(w, v.name, v.version),
    // A version resource's name is its version (Azure's).
    name: v.version,
    type: VERSION_TYPE,
    systemData: systemData(v),
    properties: {
      dataType: v.dataType,
      dataUri: v.dataUri,
      isAnonymous: v.isAnonymous,
      isArchived: v.isArchived,
      description: v.description,
      tags: v.tags,
      properties: v.properties,
    },
  };
}

const listOf = <T>(request: FastifyRequest, items: T[], top: string | undefined, skip: string | undefined, shape: (x: T) => unknown) => {
  const p = page(items, top, skip);
  return { value: p.items.map(shape), ...(p.nextSkip !== undefined ? { nextLink: nextLinkOf(request, p.nextSkip) } : {}) };
};

export function registerMlDataRoutes(root: FastifyInstance, ctx: AppContext): void {
  root.register(async (app) => {
    acceptArmJson(app);
    const { route, authorize } = armKit(app, ctx);
    const opts = { checkApiVersion: checkMlApiVersion };
    const workspace = workspaceAccess(ctx, authorize, CONTAINER_TYPE);
    const containerJson = (w: WorkspaceRecord, c: DataContainerRecord) => dataContainerBody(w, c, ctx.mlData.versionInfo(w, c.name));

    route("GET", `${WORKSPACE}/data`, ({ principal, params, query, request }) => {
      const w = workspace(principal, params, "read", "read");
      return listOf(request, ctx.mlData.listContainers(w, listViewTypeOf(lastOf(query.listViewType))), lastOf(query.$top), lastOf(query.$skip), (c) => containerJson(w, c));
    }, opts);

    route("GET", `${WORKSPACE}/data/:name`, ({ principal, params }) => {
      const w = workspace(principal, params, "read", "read");
      return containerJson(w, ctx.mlData.requireContainer(w, params.name));
    }, opts);

    route("PUT", `${WORKSPACE}/data/:name`, ({ principal, params, body, reply }) => {
      const w = workspace(principal, params, "accountWrite", "write");
      const { container, created } = ctx.mlData.createOrUpdateContainer(w, params.name, objectOf(body?.properties) ?? {});
      reply.code(created ? 201 : 200);
      return containerJson(w, container);
    }, opts);

    route("DELETE", `${WORKSPACE}/data/:name`, ({ principal, params, reply }) => {
      const w = workspace(principal, params, "accountWrite", "delete");
      return reply.code(ctx.mlData.deleteContainer(w, params.name) ? 200 : 204).send();
    }, opts);

    route("GET", `${WORKSPACE}/data/:name/versions`, ({ principal, params, query, request }) => {
      const w = workspace(principal, params, "read", "read", VERSION_TYPE);
      const versions = ctx.mlData.listVersions(w, params.name, { orderBy: lastOf(query.$orderBy), view: listViewTypeOf(lastOf(query.listViewType)), tags: lastOf(query.tags) });
      return listOf(request, versions, lastOf(query.$top), lastOf(query.$skip), (v) => dataVersionBody(w, v));
    }, opts);

    route("GET", `${WORKSPACE}/data/:name/versions/:version`, ({ principal, params }) => {
      const w = workspace(principal, params, "read", "read", VERSION_TYPE);
      return dataVersionBody(w, ctx.mlData.requireVersion(w, params.name, params.version));
    }, opts);

    route("PUT", `${WORKSPACE}/data/:name/versions/:version`, async ({ principal, params, body, reply }) => {
      const w = workspace(principal, params, "accountWrite", "write", VERSION_TYPE);
      const { version, created } = await ctx.mlData.createOrUpdateVersion(w, params.name, params.version, objectOf(body?.properties) ?? {});
      reply.code(created ? 201 : 200);
      return dataVersionBody(w, version);
    }, opts);

    route("DELETE", `${WORKSPACE}/data/:name/versions/:version`, ({ principal, params, reply }) => {
      const w = workspace(principal, params, "accountWrite", "delete", VERSION_TYPE);
      return reply.code(ctx.mlData.deleteVersion(w, params.name, params.version) ? 200 : 204).send();
    }, opts);
  });
}
