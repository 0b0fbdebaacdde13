// ARM usages (quota per model SKU) of an account and of a location, and the account's Azure
// Monitor metrics (tokens and requests per deployment over time).
import { sameId } from "../../core/accounts/service.ts";
import { errors } from "../../core/errors.ts";
import type { AccountRecord } from "../../core/ports/index.ts";
import { checkMonitorApiVersion } from "./api-versions.ts";
import { ACCOUNT, LOCATION, op } from "./kit.ts";
import { accountId, metricsBody, usageBody } from "./shapes.ts";
import type { ArmKit } from "./kit.ts";

export function registerUsageRoutes(kit: ArmKit): void {
  const { ctx, route, account, canRead } = kit;
  const usages = (accounts: AccountRecord[], filter: string | undefined) => {
    const wanted = parseUsageFilter(filter);
    const totals = new Map<string, { current: number; label: string }>();
    for (const a of accounts)
      for (const [name, u] of ctx.deployments.usage(a.name)) {
        const t = totals.get(name) ?? { current: 0, label: u.label };
        t.current += u.current;
        totals.set(name, t);
      }
    const limit = ctx.deployments.policy.quotaPerUsage * Math.max(1, accounts.length);
    return { value: [...totals].filter(([name]) => !wanted || wanted.has(name.toLowerCase())).map(([name, u]) => usageBody(name, u.label, u.current, limit)) };
  };

  route("GET", `${ACCOUNT}/usages`, ({ principal, params, query }) => usages([account(principal, params, "read", op("accounts", "usages/read"))], query.$filter));

  // Azure Monitor metrics of the account: tokens and requests per deployment over time (the portal's usage page).
  route(
    "GET",
    `${ACCOUNT}/providers/Microsoft.Insights/metrics`,
    ({ principal, params, query }) => {
      const a = account(principal, params, "read", "Microsoft.Insights/metrics/read");
      const result = ctx.usage.query(a.name, { metricnames: query.metricnames, timespan: query.timespan, interval: query.interval, aggregation: query.aggregation, filter: query.$filter });
      return metricsBody(accountId(a), a.location, result);
    },
    { checkApiVersion: checkMonitorApiVersion },
  );

  route("GET", `${LOCATION}/usages`, ({ principal, params, query }) =>
    usages(
      ctx.accounts.list({ subscription: params.subscription }).filter((a) => sameId(a.location, params.location) && canRead(principal, a)),
      query.$filter,
    ),
  );
}

/** `$filter=name.value eq 'A' or name.value eq 'B'` (the OData subset Azure documents for usages). */
function parseUsageFilter(filter: string | undefined): Set<string> | undefined {
  if (!filter) return undefined;
  const names = [...filter.matchAll(/name\.value\s+eq\s+'([^']*)'/gi)].map((m) => m[1].toLowerCase());
  if (names.length === 0) throw errors.armInvalid("InvalidFilter", `Unsupported $filter '${filter}'. Use name.value eq '<usage name>' (joined with 'or').`, "$filter");
  return new Set(names);
}
