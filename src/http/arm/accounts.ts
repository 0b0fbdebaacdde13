// ARM accounts (reference §1.2): list by subscription and resource group, get, create or
// update, patch, delete, and the account SKUs.
import { ACCOUNT, GROUP, SUB, baseUrlOf, objectOf, op } from "./kit.ts";
import type { Body } from "./kit.ts";
import { PROVIDER, accountBody, accountId } from "./shapes.ts";
import type { ArmKit } from "./kit.ts";

export function registerAccountRoutes(kit: ArmKit): void {
  const { ctx, route, authorize, account, canRead } = kit;
  route("GET", `${SUB}/providers/${PROVIDER}/accounts`, ({ principal, params, request }) => ({
    value: ctx.accounts.list({ subscription: params.subscription }).filter((a) => canRead(principal, a)).map((a) => accountBody(a, baseUrlOf(request))),
  }));

  route("GET", `${GROUP}/accounts`, ({ principal, params, request }) => ({
    value: ctx.accounts
      .list({ subscription: params.subscription, resourceGroup: params.resourceGroup })
      .filter((a) => canRead(principal, a))
      .map((a) => accountBody(a, baseUrlOf(request))),
  }));

  route("GET", ACCOUNT, ({ principal, params, request }) => accountBody(account(principal, params, "read", op("accounts", "read")), baseUrlOf(request)));

  route("PUT", ACCOUNT, ({ principal, params, body, request, reply }) => {
    authorize(principal, accountId({ subscription: params.subscription, resourceGroup: params.resourceGroup, name: params.account }), "accountWrite", op("accounts", "write"));
    const b = body ?? {};
    const { account: a, created } = ctx.accounts.createOrUpdate(params.subscription, params.resourceGroup, params.account, {
      location: typeof b.location === "string" ? b.location : undefined,
      kind: typeof b.kind === "string" ? b.kind : undefined,
      skuName: typeof (b.sku as Body)?.name === "string" ? ((b.sku as Body)?.name as string) : undefined,
      tags: objectOf(b.tags) as Record<string, string> | undefined,
      properties: objectOf(b.properties),
    });
    reply.code(created ? 201 : 200);
    return accountBody(a, baseUrlOf(request));
  });

  route("PATCH", ACCOUNT, ({ principal, params, body, request }) => {
    account(principal, params, "accountWrite", op("accounts", "write"));
    const b = body ?? {};
    const a = ctx.accounts.update(params.subscription, params.resourceGroup, params.account, {
      tags: objectOf(b.tags) as Record<string, string> | undefined,
      skuName: typeof (b.sku as Body)?.name === "string" ? ((b.sku as Body)?.name as string) : undefined,
      properties: objectOf(b.properties),
    });
    return accountBody(a, baseUrlOf(request));
  });

  route("DELETE", ACCOUNT, ({ principal, params, reply }) => {
    authorize(principal, accountId({ subscription: params.subscription, resourceGroup: params.resourceGroup, name: params.account }), "accountWrite", op("accounts", "delete"));
    const deleted = ctx.accounts.delete(params.subscription, params.resourceGroup, params.account);
    return reply.code(deleted ? 200 : 204).send();
  });


  route("GET", `${ACCOUNT}/skus`, ({ principal, params }) => {
    account(principal, params, "read", op("accounts", "read"));
    return { value: [{ resourceType: `${PROVIDER}/accounts`, sku: { name: "S0", tier: "Standard" } }] };
  });
}
