// Rules of Azure ML marketplace subscriptions: first-party models need none (400), third-party
// ones resolve through the registries, plans are stable, and hasMarketplaceSubscription (which
// the serverless endpoints will call) finds a workspace's subscription by any form of the id.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Catalog } from "../../src/core/catalog/catalog.ts";
import type { CatalogModelInput } from "../../src/core/catalog/model.ts";
import { isFirstPartyModel, MarketplaceService, marketplacePlanOf } from "../../src/core/ml/marketplace.ts";
import { Registries } from "../../src/core/ml/registries.ts";
import { SqliteMarketplaceSubscriptionStore } from "../../src/store/sqlite/marketplace-store.ts";
import { mlBed } from "./ml-bed.ts";
import { caught } from "./caught.ts";

const SKUS = [{ name: "GlobalStandard", minCapacity: 1, maxCapacity: 10, defaultCapacity: 1 }];
const model = (format: string, name: string, version: string, extra: Partial<CatalogModelInput> = {}): CatalogModelInput =>
  ({ format, name, version, capabilities: ["chatCompletion"], contextLength: 256, weights: `file:/m/${name}-${version}.gguf`, skus: SKUS, lifecycleStatus: "GenerallyAvailable", license: "MIT", ...extra }) as CatalogModelInput;

const catalog = new Catalog([
  model("Meta", "Llama-Tiny", "1", { publisher: "Meta" }),
  model("Mistral AI", "Ministral-Tiny", "2", { publisher: "Mistral AI" }),
  model("Microsoft", "Phi-Tiny", "1", { publisher: "Microsoft" }),
  model("Ingot", "tiny-chat", "1", { weights: "builtin:tiny-chat" }),
]);

const bed = mlBed("ingot-ml-market-");

function setup() {
  const { store, clock, workspaces } = bed.fresh();
  const market = new MarketplaceService(new SqliteMarketplaceSubscriptionStore(store.database), new Registries(catalog, "local"), { clock });
  const ws = workspaces.createOrUpdate("sub", "rg", "ws1", {}).workspace;
  return { workspaces, market, ws };
}

test("first-party models (Microsoft's, Ingot's) are refused with a 400 saying they need no subscription", () => {
  const { market, ws } = setup();
  for (const id of ["azureml://registries/azureml/models/Phi-Tiny", "azureml://registries/azureml-microsoft/models/Phi-Tiny", "azureml://registries/azureml/models/tiny-chat"]) {
    const e = caught(() => market.createOrUpdate(ws, "sub1", id));
    assert.equal(e.kind, "invalid_request", id);
    assert.equal(e.code, "UserError");
    assert.match(e.message, /needs no marketplace subscription/);
  }
  assert.equal(market.list(ws).length, 0, "nothing half-created");
  assert.ok(isFirstPartyModel({ format: "Microsoft" }) && isFirstPartyModel({ format: "Ingot" }) && !isFirstPartyModel({ format: "Meta" }));
});

test("a third-party model subscribes: 201 then replace, canonical versionless id, stable plan", () => {
  const { market, ws } = setup();
  const first = market.createOrUpdate(ws, "llama-sub", "azureml://registries/azureml-meta/models/Llama-Tiny");
  assert.equal(first.created, true);
  assert.equal(first.subscription.modelId, "azureml://registries/azureml-meta/models/Llama-Tiny");
  assert.deepEqual(first.subscription.plan, { publisherId: "meta", offerId: "llama-tiny-offer", planId: "llama-tiny" });
  const again = market.createOrUpdate(ws, "LLAMA-SUB", "azureml://registries/AzureML/models/Llama-Tiny");
  assert.equal(again.created, false, "names are case-insensitive");
  assert.equal(again.subscription.name, "llama-sub");
  assert.equal(again.subscription.modelId, "azureml://registries/azureml/models/Llama-Tiny");
  assert.deepEqual(again.subscription.plan, first.subscription.plan, "the same model gets the same plan through any registry");
  assert.deepEqual(marketplacePlanOf({ format: "Mistral AI", publisher: "Mistral AI", name: "Ministral-Tiny" }), { publisherId: "mistralai", offerId: "ministral-tiny-offer", planId: "ministral-tiny" });
  assert.equal(market.list(ws).length, 1);
});

test("unknown registry, unknown model or a versioned id is a 400 naming what exists", () => {
  const { market, ws } = setup();
  const reg = caught(() => market.createOrUpdate(ws, "s", "azureml://registries/nope/models/Llama-Tiny"));
  assert.equal(reg.kind, "invalid_request");
  assert.match(reg.message, /'azureml-meta'/);
  const mdl = caught(() => market.createOrUpdate(ws, "s", "azureml://registries/azureml-meta/models/Llama-Huge"));
  assert.equal(mdl.kind, "invalid_request");
  assert.match(mdl.message, /'Llama-Tiny'/);
  assert.match(caught(() => market.createOrUpdate(ws, "s", "azureml://registries/azureml-meta/models/Llama-Tiny/versions/1")).message, /versionless/);
  assert.match(caught(() => market.createOrUpdate(ws, "s", undefined)).message, /required/);
});

test("hasMarketplaceSubscription finds the subscription by versionless, versioned or label id, in that workspace only", () => {
  const { workspaces, market, ws } = setup();
  const other = workspaces.createOrUpdate("sub", "rg", "ws2", {}).workspace;
  assert.equal(market.hasMarketplaceSubscription(ws, "azureml://registries/azureml-meta/models/Llama-Tiny"), false);
  market.createOrUpdate(ws, "llama", "azureml://registries/azureml-meta/models/Llama-Tiny");
  for (const id of ["azureml://registries/azureml-meta/models/Llama-Tiny", "azureml://registries/azureml/models/Llama-Tiny/versions/1", "azureml://registries/azureml/models/Llama-Tiny/labels/latest"])
    assert.equal(market.hasMarketplaceSubscription(ws, id), true, id);
  assert.equal(market.hasMarketplaceSubscription(ws, "azureml://registries/azureml-mistral/models/Ministral-Tiny"), false);
  assert.equal(market.hasMarketplaceSubscription(ws, "azureml://registries/nope/models/Llama-Tiny"), false);
  assert.equal(market.hasMarketplaceSubscription(ws, "not an id"), false);
  assert.equal(market.hasMarketplaceSubscription(other, "azureml://registries/azureml-meta/models/Llama-Tiny"), false);
  assert.equal(market.delete(ws, "LLAMA"), true);
  assert.equal(market.delete(ws, "llama"), false);
  assert.equal(market.hasMarketplaceSubscription(ws, "azureml://registries/azureml-meta/models/Llama-Tiny"), false);
});

test("deleting the workspace deletes its subscriptions; a new workspace of the same name starts with none", () => {
  const { workspaces, market, ws } = setup();
  market.createOrUpdate(ws, "llama", "azureml://registries/azureml-meta/models/Llama-Tiny");
  assert.equal(workspaces.delete("sub", "rg", "ws1"), true);
  assert.equal(market.list(ws).length, 0);
  const again = workspaces.createOrUpdate("sub", "rg", "ws1", {}).workspace;
  assert.equal(market.list(again).length, 0);
});
