// ARM asynchronous operations (reference §1.9): operationsStatuses and operationResults.
import { IngotError, errors } from "../../core/errors.ts";
import type { Principal } from "../../core/identity/types.ts";
import type { AccountRecord, OperationRecord } from "../../core/ports/index.ts";
import { LOCATION, RETRY_AFTER_SECONDS, baseUrlOf, op } from "./kit.ts";
import type { Params } from "./kit.ts";
import { PROVIDER, accountId, operationBody } from "./shapes.ts";
import type { ArmKit } from "./kit.ts";

export function registerOperationRoutes(kit: ArmKit): void {
  const { ctx, route, authorize, account, deploymentJson } = kit;
  const operation = (principal: Principal, params: Params): { op: OperationRecord; account: AccountRecord | undefined } => {
    const o = ctx.deployments.getOperation(params.operation);
    if (!o) throw errors.armNotFound(`/subscriptions/${params.subscription}/providers/${PROVIDER}/locations/${params.location}/operationsStatuses/${params.operation}`);
    const a = ctx.accounts.get(o.account);
    if (a) authorize(principal, accountId(a), "read", op("locations/operationsStatuses", "read"));
    return { op: o, account: a };
  };
  const progressOf = (o: OperationRecord) => (o.deployment ? ctx.deployments.get(o.account, o.deployment)?.progress?.percentComplete : undefined);

  route("GET", `${LOCATION}/operationsStatuses/:operation`, ({ principal, params }) => {
    const { op: o } = operation(principal, params);
    return operationBody(o, params.subscription, params.location, progressOf(o));
  });

  route("GET", `${LOCATION}/operationResults/:operation`, ({ principal, params, query, request, reply }) => {
    const { op: o, account: a } = operation(principal, params);
    if (o.status === "InProgress") {
      reply.code(202).header("retry-after", RETRY_AFTER_SECONDS).header("location", `${baseUrlOf(request)}${request.url}`);
      return reply.send();
    }
    if (o.status === "Failed") throw new IngotError("invalid_request", o.errorCode ?? "DeploymentFailed", o.errorMessage ?? "The operation failed.");
    if (o.kind === "delete" || !a || !o.deployment) return reply.code(204).send();
    void query;
    return deploymentJson(a, o.deployment);
  });
}
