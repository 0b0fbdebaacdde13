// Listing deployments with an account key: Azure OpenAI's data-plane authoring API,
// `GET /openai/deployments[/{deployment-id}]?api-version=2022-12-01`. Later data-plane
// versions dropped it (ARM lists deployments, with a token); it is still the one call a key
// holder has to learn which deployments it can call, which is what the portal needs when
// signed in with a key.
import type { FastifyInstance } from "fastify";
import { errors } from "../../core/errors.ts";
import type { DeploymentRecord } from "../../core/ports/index.ts";
import { skuFamily } from "../../core/quotas/policy.ts";
import { checkApiVersion } from "../api-versions.ts";
import type { AppContext } from "../context.ts";

/** The data-plane versions that had the authoring (deployments) API. */
export const DEPLOYMENTS_API_VERSIONS = ["2022-12-01", "2022-06-01-preview", "2022-03-01-preview"];

/** 2022-12-01's `State`: notRunning, running, succeeded, canceled, failed, deleted. */
const STATUS: Record<DeploymentRecord["state"], string> = {
  Accepted: "notRunning",
  Creating: "running",
  Succeeded: "succeeded",
  Failed: "failed",
  Deleting: "deleted",
};

const seconds = (ms: number) => Math.floor(ms / 1000);

type Query = { Querystring: Record<string, string> };

export function registerDataPlaneDeploymentRoutes(app: FastifyInstance, ctx: AppContext): void {
  const read = { config: { surface: "openai" as const } };
  const checkVersion = (query: Record<string, string>) => checkApiVersion(query["api-version"], DEPLOYMENTS_API_VERSIONS, ctx.settings.skipApiVersionCheck);

  /** The 2022-12-01 Deployment object, plus (not Azure fields) the SKU and what the model can do, so a key holder can pick a chat deployment. */
  const shape = (d: DeploymentRecord) => {
    const model = ctx.catalog.has(d.model) ? ctx.catalog.find(d.model) : undefined;
    const caps = model?.capabilities ?? [];
    return {
      object: "deployment",
      id: d.name,
      // What the models API calls this model (GET /openai/models): its name, with `-<version>` when not the default version.
      model: ctx.catalog.isDefaultVersion(d.model) ? d.model.name : `${d.model.name}-${d.model.version}`,
      owner: "organization-owner",
      status: STATUS[d.state] ?? "notRunning",
      created_at: seconds(d.createdAt),
      updated_at: seconds(d.updatedAt),
      scale_settings: skuFamily(d.sku.name) === "provisioned" ? { scale_type: "manual", capacity: d.sku.capacity } : { scale_type: "standard" },
      ...(d.state === "Failed" && d.error ? { error: { code: "DeploymentFailed", message: d.error } } : {}),
      sku: { name: d.sku.name, capacity: d.sku.capacity },
      capabilities: {
        chat_completion: caps.includes("chatCompletion"),
        completion: caps.includes("completion"),
        embeddings: caps.includes("embeddings"),
      },
    };
  };

  app.get<Query>("/openai/deployments", read, async (request) => {
    checkVersion(request.query);
    return { object: "list", data: ctx.deployments.list(request.account).map(shape) };
  });
  app.get<Query & { Params: { deployment: string } }>("/openai/deployments/:deployment", read, async (request) => {
    checkVersion(request.query);
    const d = ctx.deployments.get(request.account, request.params.deployment);
    if (!d) throw errors.deploymentNotFound();
    return shape(d);
  });
}
