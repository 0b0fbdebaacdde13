// ARM Foundry projects: child resources of an AIServices account (accounts/{a}/projects/{p}).
import { errors } from "../../core/errors.ts";
import { ACCOUNT, baseUrlOf, objectOf, op } from "./kit.ts";
import { PROVIDER, projectBody } from "./shapes.ts";
import type { ArmKit } from "./kit.ts";

export function registerProjectRoutes(kit: ArmKit): void {
  const { ctx, route, account } = kit;
  route("GET", `${ACCOUNT}/projects`, ({ principal, params, request }) => {
    const a = account(principal, params, "read", op("accounts/projects", "read"));
    return { value: ctx.projects.list(a).map((p) => projectBody(p, a, baseUrlOf(request))) };
  });
  route("GET", `${ACCOUNT}/projects/:project`, ({ principal, params, request }) => {
    const a = account(principal, params, "read", op("accounts/projects", "read"));
    const p = ctx.projects.get(a, params.project);
    if (!p) throw errors.resourceNotFound(`${PROVIDER}/accounts/projects`, `${a.name}/${params.project}`, a.resourceGroup);
    return projectBody(p, a, baseUrlOf(request));
  });
  route("PUT", `${ACCOUNT}/projects/:project`, ({ principal, params, body, request, reply }) => {
    const a = account(principal, params, "accountWrite", op("accounts/projects", "write"));
    const props = objectOf(body?.properties) ?? {};
    const { project, created } = ctx.projects.createOrUpdate(a, params.project, { displayName: props.displayName, description: props.description });
    reply.code(created ? 201 : 200);
    return projectBody(project, a, baseUrlOf(request));
  });
  route("PATCH", `${ACCOUNT}/projects/:project`, ({ principal, params, body, request }) => {
    const a = account(principal, params, "accountWrite", op("accounts/projects", "write"));
    if (!ctx.projects.get(a, params.project)) throw errors.resourceNotFound(`${PROVIDER}/accounts/projects`, `${a.name}/${params.project}`, a.resourceGroup);
    const props = objectOf(body?.properties) ?? {};
    return projectBody(ctx.projects.createOrUpdate(a, params.project, { displayName: props.displayName, description: props.description }).project, a, baseUrlOf(request));
  });
  route("DELETE", `${ACCOUNT}/projects/:project`, ({ principal, params, reply }) => {
    const a = account(principal, params, "accountWrite", op("accounts/projects", "delete"));
    return reply.code(ctx.projects.delete(a, params.project) ? 200 : 204).send();
  });
}
