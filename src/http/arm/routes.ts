// The ARM management plane (reference §1.2): accounts, keys, models, usages, deployments and
// their asynchronous operations under /subscriptions/{sub}/…/Microsoft.CognitiveServices/….
// Each handler (after the pipeline authenticated the bearer token): check api-version, authorize on the scope,
// call core, shape the ARM body. One module per ARM resource; kit.ts holds what they share.
import type { FastifyInstance } from "fastify";
import { errors } from "../../core/errors.ts";
import type { AppContext } from "../context.ts";
import { registerAccountRoutes } from "./accounts.ts";
import { registerDeploymentRoutes } from "./deployments.ts";
import { registerKeyRoutes } from "./keys.ts";
import { armKit } from "./kit.ts";
import { registerModelRoutes } from "./models.ts";
import { registerOperationRoutes } from "./operations.ts";
import { registerProjectRoutes } from "./projects.ts";
import { registerUsageRoutes } from "./usages.ts";

export function registerArmRoutes(root: FastifyInstance, ctx: AppContext): void {
  root.register(async (app) => armRoutes(app, ctx));
}

/** Every ARM resource's routes, on one plugin instance that parses ARM's JSON bodies. */
function armRoutes(app: FastifyInstance, ctx: AppContext): void {
  // ARM clients send Content-Type: application/json on DELETE and POST actions with no body; that is not an error here.
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (_request, body, done) => {
    const text = (body as string).trim();
    if (!text) return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch (e) {
      done(errors.armInvalid("InvalidRequestContent", `The request content was invalid and could not be deserialized: ${(e as Error).message}. Send a JSON object.`), undefined);
    }
  });
  const kit = armKit(app, ctx);
  registerAccountRoutes(kit);
  registerProjectRoutes(kit);
  registerKeyRoutes(kit);
  registerModelRoutes(kit);
  registerUsageRoutes(kit);
  registerDeploymentRoutes(kit);
  registerOperationRoutes(kit);
}
