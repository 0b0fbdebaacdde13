// Azure ML jobs over ARM (issue 13 item 5, reference azure-ml.md §7): PUT|GET|DELETE
// ~/workspaces/{ws}/jobs/{name}, the list (jobType, listViewType, tag, $skip with nextLink) and
// POST …/cancel. Only `jobType: FineTuning` runs here; its body is read exactly as
// `create_finetuning_job` + `jobs.create_or_update` send it and echoed back with the status,
// the id and the registered model's output. PUT is synchronous (201 create, 200 update);
// cancel is 202 + Location (the job itself: the poll ends as the GET answers 200).
import type { FastifyInstance } from "fastify";
import { errors, IngotError } from "../../core/errors.ts";
import type { RequestedHyperparameters } from "../../core/finetuning/types.ts";
import { checkJobName, normalizeModelProvider, normalizeTaskType } from "../../core/ml/jobs.ts";
import type { FineTuningJobInput, JobUpdate, MlJobRecord } from "../../core/ml/jobs.ts";
import { checkAssetName, listViewTypeOf as parseListViewType } from "../../core/ml/assets.ts";
import { ML_PROVIDER, workspaceArmId } from "../../core/ml/workspaces.ts";
import type { WorkspaceRecord } from "../../core/ml/workspaces.ts";
import type { AppContext } from "../context.ts";
import { acceptArmJson, armKit, baseUrlOf, objectOf, RETRY_AFTER_SECONDS } from "../arm/kit.ts";
import { parseCreateJob } from "../openai/fine-tuning-request.ts";
import { pageOf, WORKSPACE_ROUTE as WORKSPACE, workspaceAccess } from "./kit.ts";
import { checkMlApiVersion } from "./workspaces.ts";

const TYPE = `${ML_PROVIDER}/workspaces/jobs`;
/** Azure ML's other job types: recognised, and refused by name. */
const OTHER_JOB_TYPES = ["Command", "Sweep", "Pipeline", "AutoML", "Spark"];
const FT = "properties.fineTuningDetails";
/** Jobs per page of the list; `$top` (Ingot's) asks for fewer or more. */
export const JOB_PAGE_SIZE = 50;
/** Hyperparameters Ingot trains with, by the names either API uses (fine-tuning-request.ts maps them). */
const NUMERIC_HYPERPARAMETERS = [
  "num_train_epochs",
  "per_device_train_batch_size",
  "learning_rate",
  "n_epochs",
  "batch_size",
  "learning_rate_multiplier",
  "rank",
  "lora_rank",
  "alpha",
  "lora_alpha",
];
/** The OpenAI-style name fine-tuning-request.ts reports an out-of-range value under, for the Azure ML spelling the caller used. */
const REPORTED_AS: Record<string, string> = { num_train_epochs: "n_epochs", per_device_train_batch_size: "batch_size", lora_rank: "rank", lora_alpha: "alpha" };

const iso = (ms: number) => new Date(ms).toISOString();
const invalid = (message: string, target: string) => errors.armInvalid("UserError", message, target);

/** The string hyperParameters of a FineTuning body (numbers are accepted too), as the fine-tuning service asks for them, plus the job's seed. */
export function parseMlHyperparameters(raw: unknown): { requested: RequestedHyperparameters; seed: number } {
  const target = `${FT}.hyperParameters`;
  if (raw !== undefined && raw !== null && (typeof raw !== "object" || Array.isArray(raw))) throw invalid(`'${target}' must be an object of string values, e.g. {"num_train_epochs": "1"}.`, target);
  const given = (raw ?? {}) as Record<string, unknown>;
  for (const [k, v] of Object.entries(given)) {
    if (!NUMERIC_HYPERPARAMETERS.includes(k))
      throw invalid(`Hyperparameter '${k.slice(0, 64)}' is not supported by Ingot. Supported: ${NUMERIC_HYPERPARAMETERS.join(", ")}.`, `${target}.${k.slice(0, 64)}`);
    const n = typeof v === "string" && v.trim() !== "" ? Number(v) : v;
    if (typeof n !== "number" || !Number.isFinite(n))
      throw invalid(`Hyperparameter '${k}' must be a number (sent as a string, e.g. "1"); got ${JSON.stringify(v)?.slice(0, 64)}.`, `${target}.${k}`);
  }
  try {
    const parsed = parseCreateJob({ model: "-", training_file: "-", hyperparameters: given });
    return { requested: parsed.requested, seed: parsed.seed };
  } catch (e) {
    if (!(e instanceof IngotError)) throw e;
    // Name the hyperparameter as the caller spelled it.
    const reported = /^hyperparameters\.(.+)$/.exec(e.param ?? "")?.[1];
    const asSent = Object.keys(given).find((k) => (REPORTED_AS[k] ?? k) === reported) ?? reported;
    const message = reported && asSent && asSent !== reported ? e.message.replace(`'${reported}'`, `'${asSent}'`) : e.message;
    throw invalid(message, asSent ? `${target}.${asSent}` : target);
  }
}

const uriOf = (v: unknown, field: string, required: boolean): string | null => {
  const target = `${FT}.${field}.uri`;
  const o = objectOf(v);
  if (v === undefined || v === null) {
    if (required) throw invalid(`'${FT}.${field}' is required: {"jobInputType": "uri_file", "uri": "<data asset id or datastore path>"}.`, target);
    return null;
  }
  if (!o || typeof o.uri !== "string" || !o.uri.trim()) throw invalid(`'${target}' must be a non-empty string.`, target);
  return o.uri.trim();
};

/** The job type of a PUT body: FineTuning (any casing), or the caller's 400. */
export function checkJobType(value: unknown): void {
  const target = "properties.jobType";
  if (typeof value !== "string" || !value) throw invalid(`'${target}' is required; Ingot runs jobs of type FineTuning.`, target);
  if (value.toLowerCase() === "finetuning") return;
  const other = OTHER_JOB_TYPES.find((t) => t.toLowerCase() === value.toLowerCase());
  throw invalid(
    other
      ? `Job type '${other}' is not run by Ingot: it runs FineTuning jobs only (set "jobType": "FineTuning" with fineTuningDetails).`
      : `Job type '${value.slice(0, 64)}' is unknown. Ingot runs jobs of type FineTuning.`,
    target,
  );
}

/** A FineTuning PUT body (reference §7.1), checked field by field. */
export function parseFineTuningJob(body: Record<string, unknown> | undefined): FineTuningJobInput {
  const props = objectOf(body?.properties);
  if (!props) throw invalid("'properties' is required: the job, with \"jobType\": \"FineTuning\" and fineTuningDetails.", "properties");
  checkJobType(props.jobType);
  const details = objectOf(props.fineTuningDetails);
  if (!details) throw invalid(`'${FT}' is required: {"modelProvider", "taskType", "model", "trainingData", "hyperParameters"}.`, FT);
  const modelProvider = normalizeModelProvider(details.modelProvider);
  const taskType = normalizeTaskType(details.taskType);
  const modelUri = uriOf(details.model, "model", true)!;
  const trainingUri = uriOf(details.trainingData, "trainingData", true)!;
  const validationUri = uriOf(details.validationData, "validationData", false);
  const { requested, seed } = parseMlHyperparameters(details.hyperParameters);
  const registered = objectOf(objectOf(props.outputs)?.registered_model);
  const assetName = registered?.assetName;
  if (typeof assetName !== "string" || !assetName)
    throw invalid("'properties.outputs.registered_model.assetName' is required: the name of the workspace model the fine-tuned model is registered as.", "properties.outputs.registered_model.assetName");
  try {
    checkAssetName(assetName);
  } catch (e) {
    throw invalid((e as Error).message, "properties.outputs.registered_model.assetName");
  }
  for (const f of ["displayName", "description", "experimentName"] as const)
    if (props[f] !== undefined && props[f] !== null && typeof props[f] !== "string") throw invalid(`'properties.${f}' must be a string.`, `properties.${f}`);
  const { status: _status, ...echoed } = props;
  return { properties: echoed, taskType, modelProvider, modelUri, trainingUri, validationUri, requested, seed, assetName };
}

const stable = (v: unknown): string => JSON.stringify(v, (_k, x) => (x && typeof x === "object" && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => a.localeCompare(b))) : x));

/** A PUT on an existing job: what changed must be only tags, description, displayName or isArchived (Azure ML's rule). */
export function jobUpdateOf(existing: MlJobRecord, body: Record<string, unknown> | undefined): JobUpdate {
  const props = objectOf(body?.properties) ?? {};
  checkJobType(props.jobType);
  const mutable = ["tags", "description", "displayName", "isArchived"];
  // Fields the service fills in (status, services, outputs' version and uri) may come back as they were read.
  const ignored = ["status", "services", "properties", ...mutable];
  for (const key of new Set([...Object.keys(props), ...Object.keys(existing.properties)])) {
    if (ignored.includes(key)) continue;
    let sent = props[key];
    let had = existing.properties[key];
    if (key === "outputs") {
      const strip = (o: unknown) => {
        const r = objectOf(objectOf(o)?.registered_model);
        return r ? { ...objectOf(o), registered_model: { ...r, assetVersion: undefined, uri: undefined } } : o;
      };
      sent = strip(sent);
      had = strip(had);
    }
    if (sent !== undefined && stable(sent) !== stable(had))
      throw invalid(`Job '${existing.name}' exists; a PUT may change only its tags, description, displayName and isArchived, not '${key}'. Create a job with a new name instead.`, `properties.${key}`);
  }
  const tags = props.tags === undefined || props.tags === null ? undefined : objectOf(props.tags);
  if (props.tags !== undefined && props.tags !== null && (!tags || Object.values(tags).some((v) => typeof v !== "string"))) throw invalid("'properties.tags' must be an object of string values.", "properties.tags");
  for (const f of ["description", "displayName"] as const)
    if (props[f] !== undefined && props[f] !== null && typeof props[f] !== "string") throw invalid(`'properties.${f}' must be a string.`, `properties.${f}`);
  if (props.isArchived !== undefined && props.isArchived !== null && typeof props.isArchived !== "boolean") throw invalid("'properties.isArchived' must be true or false.", "properties.isArchived");
  return {
    tags: tags as Record<string, string> | undefined,
    description: (props.description as string | undefined) ?? undefined,
    displayName: (props.displayName as string | undefined) ?? undefined,
    isArchived: (props.isArchived as boolean | undefined) ?? undefined,
  };
}

export const jobId = (w: WorkspaceRecord, name: string) => `${workspaceArmId(w)}/jobs/${name}`;

export function jobBody(w: WorkspaceRecord, job: MlJobRecord, baseUrl: string) {
  const p = job.properties;
  const outputs = objectOf(p.outputs) ?? {};
  const registered = objectOf(outputs.registered_model) ?? {};
  return {
    id: jobId(w, job.name),
    name: job.name,
    type: TYPE,
    systemData: { createdAt: iso(job.createdAt), createdByType: "User", lastModifiedAt: iso(job.updatedAt), lastModifiedByType: "User" },
    properties: {
      ...p,
      displayName: p.displayName ?? job.name,
      experimentName: p.experimentName ?? "Default",
      description: p.description ?? null,
      tags: p.tags ?? {},
      isArchived: p.isArchived ?? false,
      // Ingot's keys: the job of the backing account this is a view of.
      properties: { ...(objectOf(p.properties) ?? {}), "ingot.fineTuningJobId": job.ftJobId, "ingot.account": job.account },
      outputs: {
        ...outputs,
        registered_model: {
          jobOutputType: "mlflow_model",
          ...registered,
          assetName: job.output.assetName,
          ...(job.output.assetVersion ? { assetVersion: job.output.assetVersion, uri: job.output.uri } : {}),
        },
      },
      // Where a person looks at the job: Ingot's portal (Azure: ML Studio).
      services: { Studio: { jobServiceType: "Studio", endpoint: `${baseUrl}/`, status: null } },
      status: job.status,
      // Ingot's field: why a Failed job failed (the fine-tuning job's error).
      ...(job.error ? { error: job.error } : {}),
    },
  };
}

export function registerMlJobRoutes(root: FastifyInstance, ctx: AppContext): void {
  root.register(async (app) => {
    acceptArmJson(app);
    const { route, authorize } = armKit(app, ctx);
    const opts = { checkApiVersion: checkMlApiVersion };
    const workspace = workspaceAccess(ctx, authorize, TYPE);

    route("GET", `${WORKSPACE}/jobs`, ({ principal, params, query, request }) => {
      const w = workspace(principal, params, "read", "read");
      const all = ctx.mlJobs.list(w, { jobType: query.jobType, view: parseListViewType(query.listViewType), tag: query.tag });
      const base = baseUrlOf(request);
      return pageOf(all, query, request, (j) => jobBody(w, j, base), JOB_PAGE_SIZE);
    }, opts);

    route("GET", `${WORKSPACE}/jobs/:name`, ({ principal, params, request }) => {
      const w = workspace(principal, params, "read", "read");
      return jobBody(w, ctx.mlJobs.get(w, params.name), baseUrlOf(request));
    }, opts);

    route("PUT", `${WORKSPACE}/jobs/:name`, async ({ principal, params, body, request, reply }) => {
      const w = workspace(principal, params, "accountWrite", "write");
      checkJobName(params.name);
      if (ctx.mlJobs.exists(w, params.name)) {
        const existing = ctx.mlJobs.get(w, params.name);
        const job = ctx.mlJobs.update(w, params.name, jobUpdateOf(existing, body));
        reply.code(200);
        return jobBody(w, job, baseUrlOf(request));
      }
      const job = await ctx.mlJobs.create(w, params.name, parseFineTuningJob(body));
      reply.code(201);
      return jobBody(w, job, baseUrlOf(request));
    }, opts);

    route("DELETE", `${WORKSPACE}/jobs/:name`, async ({ principal, params, reply }) => {
      const w = workspace(principal, params, "accountWrite", "delete");
      return reply.code((await ctx.mlJobs.delete(w, params.name)) ? 200 : 204).send();
    }, opts);

    route("POST", `${WORKSPACE}/jobs/:name/cancel`, ({ principal, params, query, request, reply }) => {
      const w = workspace(principal, params, "accountWrite", "cancel/action");
      const job = ctx.mlJobs.cancel(w, params.name);
      const v = encodeURIComponent(query["api-version"] ?? "2024-01-01-preview");
      reply.code(202).headers({ location: `${baseUrlOf(request)}${jobId(w, job.name)}?api-version=${v}`, "retry-after": RETRY_AFTER_SECONDS });
      return reply.send();
    }, opts);
  });
}
