// Fine-tuning jobs on the Azure dated (/openai/fine_tuning/jobs?api-version=…), OpenAI v1 and
// project routes (reference §4.1, §4.5–4.7). Azure's dated create answers 201 + Location; v1 200.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { CheckpointRecord, JobEvent, JobRecord } from "../../core/finetuning/types.ts";
import { errors } from "../../core/errors.ts";
import { AZURE_OPENAI_VERSIONS, checkApiVersion } from "../api-versions.ts";
import type { AppContext } from "../context.ts";
import { parseCreateJob } from "./fine-tuning-request.ts";

type JobRequest = FastifyRequest<{ Params: { id: string }; Querystring: Record<string, string | undefined> }>;
const seconds = (ms: number | null) => (ms === null ? null : Math.floor(ms / 1000));

export function jobBody(j: JobRecord) {
  const h = j.hyperparameters;
  const hyperparameters = h
    ? { n_epochs: h.epochs, batch_size: h.batchSize, learning_rate_multiplier: h.learningRateMultiplier }
    : { n_epochs: j.requested.n_epochs, batch_size: j.requested.batch_size, learning_rate_multiplier: j.requested.learning_rate_multiplier };
  return {
    object: "fine_tuning.job",
    id: j.id,
    created_at: seconds(j.createdAt),
    model: j.model,
    fine_tuned_model: j.fineTunedModel,
    training_file: j.trainingFile,
    validation_file: j.validationFile,
    result_files: j.resultFiles,
    status: j.status,
    finished_at: seconds(j.finishedAt),
    trained_tokens: j.status === "validating_files" || j.status === "queued" ? null : j.trainedTokens,
    estimated_finish: j.estimatedFinish,
    hyperparameters,
    method: { type: "supervised", supervised: { hyperparameters } },
    suffix: j.suffix,
    seed: j.seed,
    error: j.error,
    organization_id: null,
    integrations: [],
    metadata: j.metadata,
    // Ingot extras: the LoRA shape and the automatic validation split actually used.
    ...(h ? { lora: { rank: h.rank, alpha: h.alpha }, learning_rate: h.learningRate } : {}),
    ...(j.validationSplit ? { validation_split: j.validationSplit } : {}),
  };
}

const eventBody = (e: JobEvent) => ({
  object: "fine_tuning.job.event",
  id: e.id,
  created_at: seconds(e.createdAt),
  level: e.level,
  message: e.message,
  type: e.type,
  ...(e.data ? { data: e.data } : {}),
});

const checkpointBody = (c: CheckpointRecord) => ({
  object: "fine_tuning.job.checkpoint",
  id: c.id,
  created_at: seconds(c.createdAt),
  fine_tuned_model_checkpoint: c.id,
  fine_tuning_job_id: c.jobId,
  step_number: c.step,
  metrics: {
    step: c.metrics.step,
    train_loss: c.metrics.trainLoss,
    train_mean_token_accuracy: c.metrics.trainMeanTokenAccuracy,
    valid_loss: c.metrics.validLoss ?? null,
    valid_mean_token_accuracy: c.metrics.validMeanTokenAccuracy ?? null,
    full_valid_loss: c.metrics.fullValidLoss ?? null,
    full_valid_mean_token_accuracy: c.metrics.fullValidMeanTokenAccuracy ?? null,
  },
});

function pageOf(query: Record<string, string | undefined>, defaultLimit: number): { after?: string; limit: number } {
  const limit = query.limit === undefined ? defaultLimit : Number(query.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw errors.invalid(`Invalid 'limit': expected an integer from 1 to 100, got '${query.limit}'.`, "limit");
  return { after: query.after || undefined, limit };
}

export function registerFineTuningRoutes(app: FastifyInstance, ctx: AppContext): void {
  const config = { config: { surface: "openai" as const, action: "authoring" as const } };
  for (const [prefix, dated] of [["/openai", true], ["/openai/v1", false], ["/api/projects/:project/openai/v1", false]] as const) {
    const base = `${prefix}/fine_tuning/jobs`;
    const check = (request: JobRequest) => {
      if (dated) checkApiVersion(request.query["api-version"], AZURE_OPENAI_VERSIONS, ctx.settings.skipApiVersionCheck);
    };
    const route = (method: "GET" | "POST" | "DELETE", url: string, handler: (request: JobRequest, reply: FastifyReply) => unknown) =>
      app.route({ method, url, ...config, handler: async (request, reply) => (check(request as JobRequest), handler(request as JobRequest, reply)) });

    route("POST", base, (request, reply) => {
      const job = ctx.jobs.create(request.account, parseCreateJob(request.body));
      if (dated) reply.code(201).header("location", `${request.protocol}://${request.host}${base}/${job.id}?api-version=${request.query["api-version"] ?? ""}`);
      return jobBody(job);
    });
    route("GET", base, (request) => {
      const page = ctx.jobs.list(request.account, pageOf(request.query, 20));
      return { object: "list", data: page.data.map(jobBody), has_more: page.hasMore };
    });
    route("GET", `${base}/:id`, (request) => jobBody(ctx.jobs.get(request.account, request.params.id)));
    route("DELETE", `${base}/:id`, (request, reply) => {
      ctx.jobs.delete(request.account, request.params.id);
      return reply.code(204).send();
    });
    route("POST", `${base}/:id/cancel`, (request) => jobBody(ctx.jobs.cancel(request.account, request.params.id)));
    route("POST", `${base}/:id/pause`, (request) => jobBody(ctx.jobs.pause(request.account, request.params.id)));
    route("POST", `${base}/:id/resume`, (request) => jobBody(ctx.jobs.resume(request.account, request.params.id)));
    // Azure's docs show POST for events and checkpoints; the spec and the SDKs use GET.
    for (const method of ["GET", "POST"] as const) {
      route(method, `${base}/:id/events`, (request) => {
        const page = ctx.jobs.events(request.account, request.params.id, pageOf(request.query, 20));
        return { object: "list", data: page.data.map(eventBody), has_more: page.hasMore };
      });
      route(method, `${base}/:id/checkpoints`, (request) => {
        const page = ctx.jobs.checkpoints(request.account, request.params.id, pageOf(request.query, 10));
        return { object: "list", data: page.data.map(checkpointBody), has_more: page.hasMore, first_id: page.data[0]?.id ?? null, last_id: page.data.at(-1)?.id ?? null };
      });
    }
  }
}
