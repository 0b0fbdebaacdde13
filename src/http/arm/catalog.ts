// Ingot's own management routes for the model catalog, in ARM style (bearer token,
// api-version, ARM error shapes), for what Azure has no API for: registering a local GGUF for
// every account, removing it, and pulling a model's weights into the cache. `ingot models`
// uses them, so the server's rules apply (e.g. no removal while deployed: 409). Writes need a
// role that may write at "/" (Owner or Contributor of everything: the local admin); reads need
// read at "/".
//
//   GET    /providers/Ingot.Catalog/models
//   GET    /providers/Ingot.Catalog/publishers/{format}/models/{name}/versions/{version}
//   PUT    …/versions/{version}        {"properties":{"path":"/abs/model.gguf","link":false,…}}
//   DELETE …/versions/{version}        200, 204 when absent, 409 while deployed
//   POST   …/versions/{version}/pull   {"repin":false} → 202, Azure-AsyncOperation
//   GET    /providers/Ingot.Catalog/operations/{id}
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { errors, IngotError } from "../../core/errors.ts";
import type { Action } from "../../core/identity/types.ts";
import type { ModelRef } from "../../core/ports/index.ts";
import type { CatalogAdmin, CatalogEntry, PullOperation } from "../../models/catalog-admin.ts";
import type { LocalModelRequest } from "../../models/local-gguf.ts";
import type { AppContext } from "../context.ts";
import { acceptArmJson, armKit, baseUrlOf, RETRY_AFTER_SECONDS, type Body, type Query } from "./kit.ts";

export const CATALOG_PROVIDER = "Ingot.Catalog";
const BASE = `/providers/${CATALOG_PROVIDER}`;
const MODEL = `${BASE}/publishers/:format/models/:name/versions/:version`;

type ModelParams = { format: string; name: string; version: string };

const modelId = (r: ModelRef) =>
  `${BASE}/publishers/${encodeURIComponent(r.format)}/models/${encodeURIComponent(r.name)}/versions/${encodeURIComponent(r.version)}`;

export function catalogEntryBody(e: CatalogEntry, extra: Record<string, unknown> = {}) {
  return {
    id: modelId(e.model),
    name: e.model.version,
    type: `${CATALOG_PROVIDER}/publishers/models/versions`,
    properties: {
      ...e.model,
      isDefaultVersion: e.isDefaultVersion,
      registered: e.registered,
      ...(e.owner !== undefined ? { owner: e.owner } : {}),
      cache: e.cache,
      ...(e.pinnedSha256 ? { pinnedSha256: e.pinnedSha256 } : {}),
      ...extra,
    },
  };
}

function operationBody(op: PullOperation) {
  const last = op.phases.at(-1);
  return {
    id: `${BASE}/operations/${op.id}`,
    name: op.id,
    status: op.status,
    startTime: op.startTime,
    ...(op.endTime ? { endTime: op.endTime } : {}),
    ...(last?.totalBytes ? { percentComplete: Math.round((1000 * last.bytes) / last.totalBytes) / 10 } : {}),
    properties: { model: op.model, phases: op.phases, ...(op.result ? { result: op.result } : {}) },
    ...(op.error ? { error: op.error } : {}),
  };
}

export function registerCatalogRoutes(root: FastifyInstance, ctx: AppContext): void {
  const admin = ctx.catalogAdmin;
  if (!admin) return;
  root.register(async (app) => catalogRoutes(app, ctx, admin));
}

function catalogRoutes(app: FastifyInstance, ctx: AppContext, admin: CatalogAdmin): void {
  acceptArmJson(app);
  const kit = armKit(app, ctx);
  // Scope "/": the catalog is every account's. Its bodies are not ARM resources, so ARM's resource-body rules do not apply.
  const route = <P>(
    method: "GET" | "PUT" | "DELETE" | "POST",
    url: string,
    action: Action,
    operation: string,
    handler: (r: { params: P; query: Query; body: Body; request: FastifyRequest; reply: FastifyReply }) => unknown,
  ) => kit.route<P>(method, url, handler, { authorize: { scope: "/", action, operation: `${CATALOG_PROVIDER}/${operation}` }, resourceBody: false });

  route("GET", `${BASE}/models`, "read", "models/read", async () => ({ value: (await admin.list()).map((e) => catalogEntryBody(e)) }));

  route<ModelParams>("GET", MODEL, "read", "models/read", async ({ params }) => {
    const entry = await admin.get(params);
    if (!entry) throw notFound(params);
    return catalogEntryBody(entry);
  });

  route<ModelParams>("PUT", MODEL, "accountWrite", "models/write", async ({ params, body, reply }) => {
    const upstream = (body?.properties as Record<string, unknown> | undefined)?.upstream;
    if (upstream !== undefined) {
      // A model served by an OpenAI-compatible upstream: {"properties": {"upstream": {"baseUrl", "model", …}, …}}.
      const { path: _path, link: _link, ...rest } = addRequest(params, { properties: { ...(body!.properties as object), path: "upstream" } });
      const { entry } = await admin.addUpstream({ ...rest, upstream });
      reply.code(201);
      return catalogEntryBody(entry);
    }
    const { entry, gguf } = await admin.add(addRequest(params, body));
    reply.code(201);
    return catalogEntryBody(entry, { gguf });
  });

  route<ModelParams>("DELETE", MODEL, "accountWrite", "models/delete", ({ params, reply }) => {
    const removed = admin.remove(params);
    return reply.code(removed ? 200 : 204).send();
  });

  route<ModelParams>("POST", `${MODEL}/pull`, "accountWrite", "models/pull/action", ({ params, body, query, request, reply }) => {
    const repin = body?.repin;
    if (repin !== undefined && typeof repin !== "boolean") throw errors.armInvalid("InvalidRequestContent", "repin must be true or false.", "repin");
    const op = admin.pull(params, { repin: repin === true });
    const url = `${baseUrlOf(request)}${BASE}/operations/${op.id}?api-version=${encodeURIComponent(String(query["api-version"]))}`;
    reply.code(202).headers({ "azure-asyncoperation": url, location: url, "retry-after": RETRY_AFTER_SECONDS });
    return operationBody(op);
  });

  route<{ id: string }>("GET", `${BASE}/operations/:id`, "read", "operations/read", ({ params }) => {
    const op = admin.operation(params.id);
    if (!op) throw errors.armNotFound(`${BASE}/operations/${params.id}`);
    return operationBody(op);
  });
}

function notFound(r: ModelRef): IngotError {
  return new IngotError("not_found", "ResourceNotFound", `The model ${r.format}/${r.name} version ${r.version} is not in the catalog. List it with GET ${BASE}/models.`);
}

/** The PUT body as a registration request; wrong types are a 400 naming the property. */
function addRequest(params: ModelParams, body: Body): LocalModelRequest {
  const props = body?.properties;
  if (!props || typeof props !== "object" || Array.isArray(props))
    throw errors.armInvalid("InvalidRequestContent", `Send {"properties": {"path": "/absolute/path/model.gguf"}}: the GGUF file to register, on the server's machine.`, "properties");
  const p = props as Record<string, unknown>;
  const str = (k: string, required = false) => {
    const v = p[k];
    if (v === undefined && !required) return undefined;
    if (typeof v !== "string" || (required && !v)) throw errors.armInvalid("InvalidRequestContent", `properties.${k} must be a ${required ? "non-empty " : ""}string.`, `properties.${k}`);
    return v;
  };
  const capabilities = p.capabilities;
  if (capabilities !== undefined && (!Array.isArray(capabilities) || !capabilities.every((c) => typeof c === "string")))
    throw errors.armInvalid("InvalidRequestContent", "properties.capabilities must be an array of strings, e.g. [\"chatCompletion\", \"completion\"].", "properties.capabilities");
  const contextLength = p.contextLength;
  if (contextLength !== undefined && typeof contextLength !== "number")
    throw errors.armInvalid("InvalidRequestContent", "properties.contextLength must be a number.", "properties.contextLength");
  if (p.link !== undefined && typeof p.link !== "boolean") throw errors.armInvalid("InvalidRequestContent", "properties.link must be true or false.", "properties.link");
  return {
    format: params.format,
    name: params.name,
    version: params.version,
    path: str("path", true)!,
    link: p.link === true,
    capabilities: capabilities as string[] | undefined,
    contextLength: contextLength as number | undefined,
    license: str("license"),
    description: str("description"),
  };
}
