// Models registered for every account (`ingot models add|remove` through the Ingot.Catalog
// routes): a taken name is a conflict, shipped and fine-tuned models are not removable there,
// and a model is never removed while a deployment serves it.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Catalog } from "../../src/core/catalog/catalog.ts";
import type { CatalogModel } from "../../src/core/catalog/catalog.ts";
import { MemoryModelRegistry } from "../../src/core/catalog/registry.ts";
import { SharedModels } from "../../src/core/catalog/shared-models.ts";
import { IngotError } from "../../src/core/errors.ts";
import type { DeploymentRecord, ModelRef } from "../../src/core/ports/index.ts";

const model = (name: string, format = "Custom"): CatalogModel =>
  ({
    format,
    name,
    version: "1",
    capabilities: ["chatCompletion"],
    contextLength: 1024,
    weights: `file:/models/${name}.gguf`,
    skus: [{ name: "GlobalStandard", usageName: `AIServices.GlobalStandard.${name}`, minCapacity: 1, maxCapacity: 10, defaultCapacity: 5 }],
    lifecycleStatus: "GenerallyAvailable",
    license: "MIT",
  }) as CatalogModel;

function setup() {
  const registry = new MemoryModelRegistry();
  const catalog = new Catalog([model("shipped", "Ingot")], registry);
  const deployed: DeploymentRecord[] = [];
  const shared = new SharedModels(catalog, { deploymentsOf: (ref: ModelRef) => deployed.filter((d) => d.model.name === ref.name && d.model.format === ref.format) });
  return { registry, catalog, deployed, shared };
}

const rejects = (fn: () => unknown, status: number, code: string, message: RegExp) =>
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof IngotError);
    assert.equal(e.status, status);
    assert.equal(e.code, code);
    assert.match(e.message, message);
    return true;
  });

test("register: a new name is added for every account; a taken one is a 409 that says where it is", () => {
  const { catalog, shared } = setup();
  shared.register(model("mine"));
  assert.equal(catalog.isRegistered({ format: "Custom", name: "mine", version: "1" }), true);
  assert.equal(catalog.ownerOf({ format: "Custom", name: "mine", version: "1" }), undefined);
  rejects(() => shared.register(model("mine")), 409, "ModelAlreadyExists", /Custom\/mine version 1 already exists \(registered; remove it first/);
  rejects(() => shared.register(model("shipped", "Ingot")), 409, "ModelAlreadyExists", /already exists in the shipped catalog/);
});

test("remove: refused (409 ModelInUse) and kept while deployed; removed once not; absent is undefined", () => {
  const { catalog, deployed, shared } = setup();
  shared.register(model("mine"));
  const ref = { format: "Custom", name: "mine", version: "1" };
  deployed.push({ account: "ingot", name: "d1", model: ref } as DeploymentRecord);
  rejects(() => shared.remove(ref), 409, "ModelInUse", /cannot be removed while it is deployed \('d1' in account 'ingot'\)\. Delete the deployments first\./);
  assert.equal(catalog.has(ref), true, "kept");
  deployed.length = 0;
  assert.equal(shared.remove(ref)?.name, "mine");
  assert.equal(catalog.has(ref), false);
  assert.equal(shared.remove(ref), undefined);
});

test("remove: shipped models and an account's custom models are not removable here (400)", () => {
  const { registry, shared } = setup();
  rejects(() => shared.remove({ format: "Ingot", name: "shipped", version: "1" }), 400, "ModelNotRemovable", /part of the shipped catalog/);
  registry.register(model("ft"), "acct");
  rejects(() => shared.remove({ format: "Custom", name: "ft", version: "1" }), 400, "ModelNotRemovable", /custom model of account 'acct'.*DELETE \/openai\/models/);
});
