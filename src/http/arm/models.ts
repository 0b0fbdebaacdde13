// ARM models an account (or a location) can deploy, with Ingot's weights status.
import type { CatalogModel } from "../../core/catalog/catalog.ts";
import { ACCOUNT, LOCATION, op } from "./kit.ts";
import { modelBody } from "./shapes.ts";
import type { ArmKit } from "./kit.ts";

export function registerModelRoutes(kit: ArmKit): void {
  const { ctx, route, account } = kit;
  const modelsFor = (accountName: string | undefined): CatalogModel[] =>
    ctx.catalog.models.filter((m) => {
      const owner = ctx.modelOwner(m);
      return owner === undefined || owner === accountName;
    });
  /** Ingot extra: whether each model's weights are on this machine (a failed check just leaves the field out). */
  const weightsOf = (m: CatalogModel) => (ctx.weightsStatus ? ctx.weightsStatus(m).catch(() => undefined) : Promise.resolve(undefined));
  const modelList = (models: CatalogModel[]) => Promise.all(models.map(async (m) => modelBody(m, ctx.catalog.isDefaultVersion(m), await weightsOf(m))));

  route("GET", `${ACCOUNT}/models`, async ({ principal, params }) => {
    const a = account(principal, params, "read", op("accounts", "models/read"));
    return { value: await modelList(modelsFor(a.name)) };
  });

  route("GET", `${LOCATION}/models`, async () => ({
    value: (await modelList(modelsFor(undefined))).map((model) => ({ kind: "AIServices", skuName: "S0", model })),
  }));
}
