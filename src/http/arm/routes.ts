// The ARM management plane (reference §1.2): accounts, keys, models, usages, deployments and
// their asynchronous operations under /subscriptions/{sub}/…/Microsoft.CognitiveServices/….
// Each handler (after the pipeline authenticated the bearer token): check api-version, authorize on the scope,
// call core, shape the ARM body. One module per ARM resource; kit.ts holds what they share.
import type { FastifyInstance } from "fastify";
import type { AppContext } from "../context.ts";
import { registerAccountRoutes } from "./accounts.ts";
import { registerDeploymentRoutes } from "./deployments.ts";
import { registerKeyRoutes } from "./keys.ts";
import { acceptArmJson, armKit } from "./kit.ts";
import { registerModelRoutes } from "./models.ts";
import { registerOperationRoutes } from "./operations.ts";
import { registerProjectRoutes } from "./projects.ts";
import { registerProjectConnectionArmRoutes } from "../projects/routes.ts";
import { registerRaiBlocklistRoutes } from "./rai-blocklists.ts";
import { registerRaiPolicyRoutes } from "./rai-policies.ts";
import { registerUsageRoutes } from "./usages.ts";

export function registerArmRoutes(root: FastifyInstance, ctx: AppContext): void {
  root.register(async (app) => armRoutes(app, ctx));
}

/** Every ARM resource's routes, on one plugin instance that parses ARM's JSON bodies. */
function armRoutes(app: FastifyInstance, ctx: AppContext): void {
  acceptArmJson(app);
  const kit = armKit(app, ctx);
  registerAccountRoutes(kit);
  registerProjectRoutes(kit);
  registerProjectConnectionArmRoutes(kit);
  registerKeyRoutes(kit);
  registerModelRoutes(kit);
  registerUsageRoutes(kit);
  registerDeploymentRoutes(kit);
  registerOperationRoutes(kit);
  registerRaiPolicyRoutes(kit);
  registerRaiBlocklistRoutes(kit);
}
