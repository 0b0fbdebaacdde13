// Azure ML datastores over ARM (reference azure-ml.md §4): GET|PUT|DELETE
// ~/workspaces/{ws}/datastores/{name}, the list (isDefault, names, count, $skip), POST
// …/datastores/{name}/listSecrets; also the workspace's POST …/listKeys (the default datastore's
// account key) and GET /discovery (where the workspace's discoveryUrl points). Bodies carry full
// ARM ids, and Ingot's own `properties.blobEndpoint` (the path-style URL of the storage account
// on Ingot's blob endpoint) so a client that is not Python finds the blobs without DNS.
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { DatastoreRecord } from "../../core/ml/datastores.ts";
import { ML_PROVIDER, workspaceArmId } from "../../core/ml/workspaces.ts";
import type { WorkspaceRecord } from "../../core/ml/workspaces.ts";
import { errors } from "../../core/errors.ts";
import type { AppContext } from "../context.ts";
import { acceptArmJson, armKit, baseUrlOf, objectOf } from "../arm/kit.ts";
import { lastOf, nextLinkOf, WORKSPACE_ROUTE as WORKSPACE, workspaceAccess } from "./kit.ts";
import { checkMlApiVersion } from "./workspaces.ts";

const TYPE = `${ML_PROVIDER}/workspaces/datastores`;
const iso = (ms: number) => new Date(ms).toISOString();

/** The storage suffix clients put after `<account>.blob.`: Ingot's host and port (an IP literal becomes localhost, which names can sit under). */
export function storageSuffixOf(request: FastifyRequest): string {
  const host = request.host;
  const m = /^(\[[^\]]+\]|\d{1,3}(?:\.\d{1,3}){3})(:\d+)?$/.exec(host);
  return m ? `localhost${m[2] ?? ""}` : host;
}

export const blobEndpointOf = (request: FastifyRequest, accountName: string) => `${baseUrlOf(request)}/blob/${accountName}`;

export function datastoreBody(w: WorkspaceRecord, d: DatastoreRecord, request: FastifyRequest) {
  return {
    id: `${workspaceArmId(w)}/datastores/${d.name}`,
    name: d.name,
    type: TYPE,
    systemData: { createdAt: iso(d.createdAt), createdByType: "User", lastModifiedAt: iso(d.updatedAt), lastModifiedByType: "User" },
    properties: {
      datastoreType: "AzureBlob",
      accountName: d.accountName,
      containerName: d.containerName,
      endpoint: d.endpoint || storageSuffixOf(request),
      protocol: d.protocol,
      serviceDataAccessAuthIdentity: "None",
      credentials: { credentialsType: d.credentialsType },
      isDefault: d.isDefault,
      description: d.description,
      tags: d.tags,
      properties: d.properties,
      // Ingot's field: where this datastore's storage account is on Ingot's blob endpoint (path-style).
      blobEndpoint: blobEndpointOf(request, d.accountName),
    },
  };
}

/** Query values that may repeat (`names=a&names=b`) or come comma-separated. */
function listParam(request: FastifyRequest, name: string): string[] | undefined {
  const v = (request.query as Record<string, string | string[] | undefined>)[name];
  if (v === undefined) return undefined;
  return (Array.isArray(v) ? v : [v]).flatMap((x) => x.split(",")).map((x) => x.trim()).filter(Boolean);
}

function boolParam(v: string | undefined, name: string): boolean | undefined {
  if (v === undefined || v === "") return undefined;
  if (/^true$/i.test(v)) return true;
  if (/^false$/i.test(v)) return false;
  throw errors.armInvalid("UserError", `'${name}' must be true or false.`, name);
}

export function registerMlDatastoreRoutes(root: FastifyInstance, ctx: AppContext): void {
  root.register(async (app) => {
    acceptArmJson(app);
    const { route, authorize } = armKit(app, ctx);
    const opts = { checkApiVersion: checkMlApiVersion };
    const workspace = workspaceAccess(ctx, authorize, TYPE);

    route("GET", `${WORKSPACE}/datastores`, ({ principal, params, query, request }) => {
      const w = workspace(principal, params, "read", "read");
      const isDefault = boolParam(lastOf(query.isDefault), "isDefault");
      const names = listParam(request, "names");
      const searchText = lastOf(query.searchText);
      const orderBy = lastOf(query.orderBy);
      const orderByAsc = boolParam(lastOf(query.orderByAsc), "orderByAsc");
      const all = ctx.mlDatastores.list(w, {
        ...(isDefault === undefined ? {} : { isDefault }),
        ...(names ? { names } : {}),
        ...(searchText ? { searchText } : {}),
        ...(orderBy ? { orderBy, orderByAsc: orderByAsc ?? false } : {}),
      });
      const skipText = lastOf(query.$skip);
      const countText = lastOf(query.count);
      const skip = skipText && /^\d+$/.test(skipText) ? Number(skipText) : 0;
      const count = countText && /^\d+$/.test(countText) ? Math.max(1, Number(countText)) : 30;
      const page = all.slice(skip, skip + count);
      return {
        value: page.map((d) => datastoreBody(w, d, request)),
        ...(skip + count < all.length ? { nextLink: nextLinkOf(request, skip + count) } : {}),
      };
    }, opts);

    route("GET", `${WORKSPACE}/datastores/:name`, ({ principal, params, request }) => {
      const w = workspace(principal, params, "read", "read");
      return datastoreBody(w, ctx.mlDatastores.require(w, params.name), request);
    }, opts);

    route("PUT", `${WORKSPACE}/datastores/:name`, ({ principal, params, body, request, reply }) => {
      const w = workspace(principal, params, "accountWrite", "write");
      // skipValidation is accepted: Ingot checks the account, container and key itself either way (they are its own).
      const { datastore, created } = ctx.mlDatastores.createOrUpdate(w, params.name, objectOf(body?.properties) ?? {});
      reply.code(created ? 201 : 200);
      return datastoreBody(w, datastore, request);
    }, opts);

    route("DELETE", `${WORKSPACE}/datastores/:name`, ({ principal, params, reply }) => {
      const w = workspace(principal, params, "accountWrite", "delete");
      return reply.code(ctx.mlDatastores.delete(w, params.name) ? 200 : 204).send();
    }, opts);

    route("POST", `${WORKSPACE}/datastores/:name/listSecrets`, ({ principal, params }) => {
      const w = workspace(principal, params, "listKeys", "listSecrets/action");
      return ctx.mlDatastores.listSecrets(w, params.name);
    }, opts);

    // The workspace's keys: the default datastore's storage account key; no App Insights, registry or notebooks behind Ingot's workspaces.
    route("POST", `${WORKSPACE}/listKeys`, ({ principal, params }) => {
      const w = workspace(principal, params, "listKeys", "listKeys/action", `${ML_PROVIDER}/workspaces`);
      const account = ctx.mlDatastores.storageAccount(w);
      return {
        userStorageKey: account.key,
        userStorageResourceId: `/subscriptions/${w.subscription}/resourceGroups/${w.resourceGroup}/providers/Microsoft.Storage/storageAccounts/${account.name}`,
      };
    }, opts);

    // The 2022-10-01 clients' listStorageAccountKeys: the same key alone.
    route("POST", `${WORKSPACE}/listStorageAccountKeys`, ({ principal, params }) => {
      const w = workspace(principal, params, "listKeys", "listStorageAccountKeys/action", `${ML_PROVIDER}/workspaces`);
      return { userStorageKey: ctx.mlDatastores.storageAccount(w).key };
    }, opts);

    // Where properties.discoveryUrl points: Azure ML's service map. Every service is this Ingot.
    app.route({
      method: "GET",
      url: "/discovery",
      config: { surface: "arm" },
      handler: async (request: FastifyRequest) => {
        const base = baseUrlOf(request);
        return {
          api: base,
          catalog: base,
          experimentation: base,
          gallery: base,
          history: base,
          hyperdrive: base,
          labeling: base,
          modelmanagement: base,
          pipelines: base,
          studio: base,
        };
      },
    });
  });
}
