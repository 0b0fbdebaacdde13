// ARM account keys: listKeys and regenerateKey actions.
import { ACCOUNT, op } from "./kit.ts";
import type { ArmKit } from "./kit.ts";

export function registerKeyRoutes(kit: ArmKit): void {
  const { ctx, route, account } = kit;
  route("POST", `${ACCOUNT}/listKeys`, ({ principal, params }) => {
    const a = account(principal, params, "listKeys", op("accounts", "listKeys/action"));
    return ctx.accounts.listKeys(a.name);
  });

  route("POST", `${ACCOUNT}/regenerateKey`, ({ principal, params, body }) => {
    const a = account(principal, params, "listKeys", op("accounts", "regenerateKey/action"));
    return ctx.accounts.regenerateKey(a.name, body?.keyName);
  });
}
