// ARM content-filter policies (accounts/{a}/raiPolicies, reference azure-api-2.md §1.1–1.2): the
// built-ins Microsoft.Default and Microsoft.DefaultV2 (listed, readable, read-only) and custom
// policies; the catalogue of filters a policy may name (locations/{loc}/raiContentFilters).
import { createHash } from "node:crypto";
import { errors } from "../../core/errors.ts";
import type { AccountRecord } from "../../core/ports/index.ts";
import type { RaiPolicyRecord } from "../../core/ports/rai-store.ts";
import { builtInName, CONTENT_FILTERS } from "../../core/safety/policies.ts";
import { ACCOUNT, LOCATION, objectOf, op } from "./kit.ts";
import type { ArmKit } from "./kit.ts";
import { PROVIDER, accountId } from "./shapes.ts";

const iso = (ms: number) => new Date(ms).toISOString();
export const raiEtag = (...parts: unknown[]) => `"${createHash("sha1").update(JSON.stringify(parts)).digest("hex").slice(0, 32)}"`;
export const raiSystemData = (createdAt: number, updatedAt: number, by: "User" | "Application" = "User") => ({
  createdAt: iso(createdAt),
  createdByType: by,
  lastModifiedAt: iso(updatedAt),
  lastModifiedByType: by,
});

export function raiPolicyBody(p: RaiPolicyRecord, a: AccountRecord) {
  const systemManaged = builtInName(p.name) !== undefined;
  return {
    id: `${accountId(a)}/raiPolicies/${p.name}`,
    name: p.name,
    type: `${PROVIDER}/accounts/raiPolicies`,
    etag: raiEtag(p),
    tags: p.tags,
    systemData: raiSystemData(p.createdAt, p.updatedAt, systemManaged ? "Application" : "User"),
    properties: {
      type: systemManaged ? "SystemManaged" : "UserManaged",
      mode: p.mode,
      ...(p.basePolicyName ? { basePolicyName: p.basePolicyName } : {}),
      contentFilters: p.contentFilters,
      customBlocklists: p.customBlocklists,
      ...(p.promptBlocklists ? { promptBlocklists: p.promptBlocklists } : {}),
      ...(p.completionBlocklists ? { completionBlocklists: p.completionBlocklists } : {}),
    },
  };
}

export function registerRaiPolicyRoutes(kit: ArmKit): void {
  const { ctx, route, account } = kit;
  const notFound = (a: AccountRecord, name: string) => errors.resourceNotFound(`${PROVIDER}/accounts/raiPolicies`, `${a.name}/${name}`, a.resourceGroup);

  route("GET", `${ACCOUNT}/raiPolicies`, ({ principal, params }) => {
    const a = account(principal, params, "read", op("accounts/raiPolicies", "read"));
    return { value: ctx.rai.policies.list(a.name).map((p) => raiPolicyBody(p, a)) };
  });
  route("GET", `${ACCOUNT}/raiPolicies/:policy`, ({ principal, params }) => {
    const a = account(principal, params, "read", op("accounts/raiPolicies", "read"));
    const p = ctx.rai.policies.get(a.name, params.policy);
    if (!p) throw notFound(a, params.policy);
    return raiPolicyBody(p, a);
  });
  route("PUT", `${ACCOUNT}/raiPolicies/:policy`, ({ principal, params, body, reply }) => {
    const a = account(principal, params, "accountWrite", op("accounts/raiPolicies", "write"));
    const props = objectOf(body?.properties) ?? {};
    const { policy, created } = ctx.rai.policies.createOrUpdate(a.name, params.policy, props, objectOf(body?.tags) as Record<string, string> | undefined);
    reply.code(created ? 201 : 200);
    return raiPolicyBody(policy, a);
  });
  route("DELETE", `${ACCOUNT}/raiPolicies/:policy`, ({ principal, params, reply }) => {
    const a = account(principal, params, "accountWrite", op("accounts/raiPolicies", "delete"));
    return reply.code(ctx.rai.policies.delete(a.name, params.policy) ? 200 : 204).send();
  });

  // The catalogue of content filters; Azure's resource names drop the spaces, properties.name keeps them.
  const filterBody = (p: { subscription: string; location: string }, f: (typeof CONTENT_FILTERS)[number]) => {
    const name = f.name.replace(/\s+/g, "");
    return {
      id: `/subscriptions/${p.subscription}/providers/${PROVIDER}/locations/${p.location}/raiContentFilters/${name}`,
      name,
      type: `${PROVIDER}/locations/raiContentFilters`,
      properties: { name: f.name, isMultiLevelFilter: f.multiLevel, ...(f.sides.length === 1 ? { source: f.sides[0] } : {}) },
    };
  };
  // Like the location's model list (models.ts): any authenticated caller; it describes the service, not a resource.
  route("GET", `${LOCATION}/raiContentFilters`, ({ params }) => {
    return { value: CONTENT_FILTERS.map((f) => filterBody(params as { subscription: string; location: string }, f)) };
  });
  route("GET", `${LOCATION}/raiContentFilters/:filter`, ({ params }) => {
    const squash = (s: string) => s.toLowerCase().replace(/[\s_-]/g, "");
    const f = CONTENT_FILTERS.find((x) => squash(x.name) === squash(params.filter));
    if (!f) throw errors.armNotFound(`/subscriptions/${params.subscription}/providers/${PROVIDER}/locations/${params.location}/raiContentFilters/${params.filter}`);
    return filterBody(params as { subscription: string; location: string }, f);
  });
}
