// The Batch API (issue 15 item 2; reference azure-api-2.md §3) on Azure's dated routes
// (/openai/batches?api-version=…, and /openai/deployments/{d}/batches, where AzureOpenAI built
// with a deployment posts), OpenAI v1 (/openai/v1/batches) and the Foundry project endpoint.
// The rules are in core/batch; this file translates the wire shapes (Unix-second times,
// lower-case statuses, errors.data with line numbers, request_counts).
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { BatchService } from "../../core/batch/service.ts";
import type { BatchCounts, BatchRecord } from "../../core/batch/types.ts";
import { errors } from "../../core/errors.ts";
import { AZURE_OPENAI_VERSIONS, checkApiVersion } from "../api-versions.ts";
import type { AppContext } from "../context.ts";

/** Azure serves batches from 2024-07-01-preview on (GA in 2024-10-21). */
export const BATCH_API_VERSIONS = AZURE_OPENAI_VERSIONS.filter((v) => v >= "2024-07-01");

type Query = Record<string, string | undefined>;

const seconds = (ms: number | null) => (ms === null ? null : Math.floor(ms / 1000));

export function batchJson(b: BatchRecord & { counts: BatchCounts }) {
  const u = b.counts.usage;
  return {
    id: b.id,
    object: "batch",
    endpoint: b.endpoint,
    model: b.deployment || null,
    errors: b.errors ? { object: "list", data: b.errors.map((e) => ({ code: e.code, message: e.message, param: e.param ?? null, line: e.line ?? null })) } : null,
    input_file_id: b.inputFileId,
    completion_window: b.completionWindow,
    status: b.status,
    output_file_id: b.outputFileId,
    error_file_id: b.errorFileId,
    created_at: seconds(b.createdAt),
    in_progress_at: seconds(b.inProgressAt),
    expires_at: seconds(b.expiresAt),
    finalizing_at: seconds(b.finalizingAt),
    completed_at: seconds(b.completedAt),
    failed_at: seconds(b.failedAt),
    expired_at: seconds(b.expiredAt),
    cancelling_at: seconds(b.cancellingAt),
    cancelled_at: seconds(b.cancelledAt),
    request_counts: { total: b.counts.total, completed: b.counts.completed, failed: b.counts.failed },
    metadata: b.metadata,
    usage: {
      input_tokens: u.promptTokens,
      input_tokens_details: { cached_tokens: u.cachedTokens },
      output_tokens: u.completionTokens,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: u.promptTokens + u.completionTokens,
    },
  };
}

function createInput(body: unknown, deployment?: string) {
  if (typeof body !== "object" || body === null || Array.isArray(body))
    throw errors.invalid('The request body must be a JSON object, e.g. {"input_file_id": "file-…", "endpoint": "/v1/chat/completions", "completion_window": "24h"}.', null, "invalid_request_body");
  const b = body as Record<string, unknown>;
  return { inputFileId: b.input_file_id, endpoint: b.endpoint, completionWindow: b.completion_window, metadata: b.metadata, deployment };
}

function pageQuery(q: Query) {
  let limit: number | undefined;
  if (q.limit !== undefined) {
    limit = Number(q.limit);
    if (!/^\d+$/.test(q.limit)) throw errors.invalid(`Invalid 'limit': '${q.limit}'. Expected an integer from 1 to 100.`, "limit");
  }
  return { after: q.after || undefined, limit };
}

export function registerBatchRoutes(app: FastifyInstance, ctx: AppContext): void {
  const config = { config: { surface: "openai" as const, action: "authoring" as const } };
  const service = (): BatchService => {
    if (!ctx.batches) throw errors.unavailable("The Batch API is not enabled on this server.");
    return ctx.batches;
  };
  const routes = (prefix: string, dated: boolean) => {
    const check = (request: FastifyRequest) => {
      if (dated) checkApiVersion((request.query as Query)["api-version"], BATCH_API_VERSIONS, ctx.settings.skipApiVersionCheck);
    };
    app.post<{ Querystring: Query }>(`${prefix}/batches`, config, async (request) => {
      check(request);
      return batchJson(await service().create(request.account, createInput(request.body)));
    });
    app.get<{ Querystring: Query }>(`${prefix}/batches`, config, async (request) => {
      check(request);
      const page = service().list(request.account, pageQuery(request.query));
      const data = page.data.map(batchJson);
      return { object: "list", data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: page.hasMore };
    });
    app.get<{ Querystring: Query; Params: { id: string } }>(`${prefix}/batches/:id`, config, async (request) => {
      check(request);
      return batchJson(service().require(request.account, request.params.id));
    });
    app.post<{ Querystring: Query; Params: { id: string } }>(`${prefix}/batches/:id/cancel`, config, async (request) => {
      check(request);
      return batchJson(service().cancel(request.account, request.params.id));
    });
  };
  routes("/openai", true);
  routes("/openai/v1", false);
  routes("/api/projects/:project/openai/v1", false);
  // AzureOpenAI built with `deployment` posts batch creation here; every line must name that deployment.
  app.post<{ Querystring: Query; Params: { deployment: string } }>("/openai/deployments/:deployment/batches", config, async (request) => {
    checkApiVersion(request.query["api-version"], BATCH_API_VERSIONS, ctx.settings.skipApiVersionCheck);
    return batchJson(await service().create(request.account, createInput(request.body, request.params.deployment)));
  });
}
