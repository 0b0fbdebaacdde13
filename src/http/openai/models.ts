// The models API (reference §4.1): Azure dated `GET/DELETE /openai/models[/{id}]?api-version=`
// in Azure's shape, and v1 `/openai/v1/models` (and the project form) in OpenAI's shape with
// Azure's fields added. Both list the catalog models the account can run and its custom models.
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { AccountModel } from "../../core/catalog/account-models.ts";
import type { LifecycleStatus } from "../../core/catalog/catalog.ts";
import { AZURE_OPENAI_VERSIONS, checkApiVersion } from "../api-versions.ts";
import type { AppContext } from "../context.ts";

type ModelParams = { Params: { model: string }; Querystring: Record<string, string> };

const LIFECYCLE: Record<LifecycleStatus, string> = {
  Preview: "preview",
  GenerallyAvailable: "generally-available",
  Deprecating: "deprecating",
  Deprecated: "deprecated",
  Legacy: "deprecated",
};

const seconds = (ms: number) => Math.floor(ms / 1000);
const isoSeconds = (iso: string | undefined) => (iso === undefined ? undefined : seconds(Date.parse(iso)));

/** Azure's Model object: what GET /openai/models answers on the dated surface. */
function azureModel(m: AccountModel) {
  const caps = m.model.capabilities;
  const deprecation = m.model.deprecation ?? {};
  return {
    object: "model",
    id: m.id,
    created_at: seconds(m.createdAt),
    status: "succeeded",
    ...(m.baseId ? { model: m.baseId } : {}),
    ...(m.model.fineTuneJob ? { fine_tune: m.model.fineTuneJob } : {}),
    capabilities: {
      fine_tune: caps.includes("fineTune"),
      inference: true,
      completion: caps.includes("completion"),
      chat_completion: caps.includes("chatCompletion"),
      embeddings: caps.includes("embeddings"),
    },
    lifecycle_status: LIFECYCLE[m.model.lifecycleStatus],
    deprecation: {
      ...(deprecation.fineTune ? { fine_tune: isoSeconds(deprecation.fineTune) } : {}),
      ...(deprecation.inference ? { inference: isoSeconds(deprecation.inference) } : {}),
    },
  };
}

/** OpenAI's Model object (`id, object, created, owned_by`) with Azure's fields beside it. */
function v1Model(m: AccountModel, account: string) {
  const { object, id, ...azure } = azureModel(m);
  return { id, object, created: seconds(m.createdAt), owned_by: m.custom ? account : m.model.format, ...azure };
}

const deleted = (m: AccountModel) => ({ id: m.id, object: "model", deleted: true });

export function registerModelsRoutes(app: FastifyInstance, ctx: AppContext): void {
  const read = { config: { surface: "openai" as const } };
  const write = { config: { surface: "openai" as const, action: "authoring" as const } };
  const checkVersion = (request: FastifyRequest<{ Querystring: Record<string, string> }>) =>
    checkApiVersion(request.query["api-version"], AZURE_OPENAI_VERSIONS, ctx.settings.skipApiVersionCheck);

  app.get<{ Querystring: Record<string, string> }>("/openai/models", read, async (request) => {
    checkVersion(request);
    return { object: "list", data: ctx.models.list(request.account).map(azureModel) };
  });
  app.get<ModelParams>("/openai/models/:model", read, async (request) => {
    checkVersion(request);
    return azureModel(ctx.models.get(request.account, request.params.model));
  });
  app.delete<ModelParams>("/openai/models/:model", write, async (request) => {
    checkVersion(request);
    return deleted(await ctx.models.delete(request.account, request.params.model));
  });

  for (const prefix of ["/openai/v1", "/api/projects/:project/openai/v1"]) {
    app.get(`${prefix}/models`, read, async (request) => ({ object: "list", data: ctx.models.list(request.account).map((m) => v1Model(m, request.account)) }));
    app.get<ModelParams>(`${prefix}/models/:model`, read, async (request) => v1Model(ctx.models.get(request.account, request.params.model), request.account));
    app.delete<ModelParams>(`${prefix}/models/:model`, write, async (request) => deleted(await ctx.models.delete(request.account, request.params.model)));
  }
}
