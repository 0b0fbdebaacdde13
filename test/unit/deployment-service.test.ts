// The deployment rules (core/deployments/service.ts and rules.ts) against an in-memory fake of
// the ResourceStore port and a small catalog: create/replace/update/delete semantics, SKU and
// capacity rules, quota (with the numbers in the message, freed on delete), the model-change
// 409, custom-model rules (one deployment each, DeveloperTier only for them, expiry after
// 24 h and after 15 idle days through an injected clock and sweep()), case-insensitive names
// keeping the first case, and reads that never delete.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Catalog } from "../../src/core/catalog/catalog.ts";
import { MemoryModelRegistry } from "../../src/core/catalog/registry.ts";
import type { CatalogModel } from "../../src/core/catalog/model.ts";
import { DeploymentService } from "../../src/core/deployments/service.ts";
import type { DeploymentPolicy } from "../../src/core/deployments/service.ts";
import type { OperationRecord } from "../../src/core/ports/index.ts";
import { caught } from "./caught.ts";
import { MemoryResourceStore } from "./memory-resource-store.ts";
import { entry as testEntry } from "./catalog-fixtures.ts";

const T = { timeout: 10_000 };
const ACCOUNT = "acct";
const OTHER = "other";
const HOUR = 3600_000;
const DAY = 24 * HOUR;

const standard = [
  { name: "GlobalStandard", minCapacity: 1, maxCapacity: 1000, defaultCapacity: 10 },
  { name: "Standard", minCapacity: 1, maxCapacity: 1000, defaultCapacity: 1 },
  { name: "ProvisionedManaged", minCapacity: 15, maxCapacity: 100, defaultCapacity: 15, step: 5 },
];
const entry = (name: string, version = "1", extra: Record<string, unknown> = {}) => testEntry(name, version, standard, extra);

/** A fine-tuned model as the job service registers it: a LoRA adapter over `good`, owned by an account. */
const customModel = (name: string): CatalogModel =>
  ({
    format: "Test",
    name,
    version: "1",
    isDefaultVersion: true,
    capabilities: ["chatCompletion"],
    contextLength: 256,
    weights: `lora:/adapters/${name}.gguf`,
    skus: ["Standard", "GlobalStandard", "DeveloperTier"].map((sku) => ({
      name: sku,
      usageName: `AIServices.${sku}.${name}`,
      minCapacity: 1,
      maxCapacity: 1000,
      defaultCapacity: sku === "DeveloperTier" ? 50 : 1,
    })),
    lifecycleStatus: "Preview",
    license: "MIT",
    baseModel: { format: "Test", name: "good", version: "1" },
  }) as CatalogModel;

function setup(opts: { policy?: Partial<DeploymentPolicy> } = {}) {
  let now = 1_000_000_000;
  const clock = () => now;
  const store = new MemoryResourceStore();
  const registry = new MemoryModelRegistry(clock);
  const catalog = new Catalog(
    Catalog.validateEntries(
      [
        entry("good"),
        entry("good", "2"),
        entry("other"),
        entry("old", "1", { lifecycleStatus: "Deprecated" }),
        entry("closed", "1", { weights: "none", engine: "upstream" }),
      ],
      "test",
    ),
    registry,
  );
  registry.register(customModel("ft"), ACCOUNT);
  registry.register(customModel("ft2"), ACCOUNT);
  registry.register(customModel("theirs"), OTHER);
  const deployments = new DeploymentService(store, catalog, { clock, policy: opts.policy, ownerOf: (ref) => catalog.ownerOf(ref) });
  const changes: { account: string; name: string; kind: OperationRecord["kind"] }[] = [];
  deployments.onChange((account, name, op) => changes.push({ account, name, kind: op.kind }));
  const put = (name: string, model: string, sku: { name?: unknown; capacity?: unknown } | undefined = { name: "GlobalStandard", capacity: 1 }, version: string | undefined = "1", account = ACCOUNT) =>
    deployments.createOrUpdate(account, name, { model: { format: "Test", name: model, version }, sku });
  /** What the reconciler does once a load finishes. */
  const serve = (name: string, account = ACCOUNT) => deployments.setState(deployments.get(account, name)!, "Succeeded", null, { phase: "ready", percentComplete: 100 });
  return { store, catalog, registry, deployments, changes, put, serve, advance: (ms: number) => void (now += ms), now: () => now };
}

describe("create, replace, update, delete", () => {
  test("a PUT creates desired state (Accepted, queued), an InProgress create operation, and tells the reconciler once", T, () => {
    const s = setup();
    const change = s.deployments.createOrUpdate(ACCOUNT, "d", {
      model: { format: "Test", name: "good", version: "1" },
      sku: { name: "GlobalStandard", capacity: 5 },
      tags: { team: "a" },
      raiPolicyName: "Microsoft.Default",
      versionUpgradeOption: "NoAutoUpgrade",
    });
    assert.equal(change.created, true);
    assert.equal(change.deployment.state, "Accepted");
    assert.deepEqual(change.deployment.progress, { phase: "queued", percentComplete: 0 });
    assert.deepEqual(change.deployment.sku, { name: "GlobalStandard", capacity: 5 });
    assert.deepEqual(change.operation, { ...change.operation, kind: "create", status: "InProgress", account: ACCOUNT, deployment: "d", endedAt: null, startedAt: s.now() });
    assert.deepEqual(s.store.getOperation(change.operation.id)?.status, "InProgress");
    assert.deepEqual(s.changes, [{ account: ACCOUNT, name: "d", kind: "create" }]);
    const stored = s.deployments.get(ACCOUNT, "d")!;
    assert.deepEqual(stored.model, { format: "Test", name: "good", version: "1" });
    assert.deepEqual(stored.tags, { team: "a" });
    assert.deepEqual(stored.options, { raiPolicyName: "Microsoft.Default", versionUpgradeOption: "NoAutoUpgrade", source: undefined });
    assert.equal(stored.createdAt, s.now());
    assert.equal(stored.lastUsedAt, null);
  });

  test("no version deploys the default version; no capacity takes the SKU's default capacity", T, () => {
    const s = setup();
    const { deployment } = s.deployments.createOrUpdate(ACCOUNT, "d", { model: { format: "Test", name: "good" }, sku: { name: "GlobalStandard" } });
    assert.equal(deployment.model.version, "2");
    assert.equal(deployment.sku.capacity, 10);
  });

  test("replacing a serving deployment with the same model changes SKU and tags at once: no reload, a Succeeded update operation", T, () => {
    const s = setup();
    const first = s.deployments.createOrUpdate(ACCOUNT, "d", { model: { format: "Test", name: "good", version: "1" }, sku: { name: "GlobalStandard", capacity: 1 }, tags: { a: "1" } });
    s.serve("d");
    s.advance(5000);
    const second = s.deployments.createOrUpdate(ACCOUNT, "d", { model: { format: "Test", name: "good", version: "1" }, sku: { name: "GlobalStandard", capacity: 7 }, tags: { b: "2" } });
    assert.equal(second.created, false);
    assert.equal(second.deployment.state, "Succeeded");
    assert.deepEqual(second.deployment.progress, { phase: "ready", percentComplete: 100 });
    assert.equal(second.operation.kind, "update");
    assert.equal(second.operation.status, "Succeeded");
    assert.equal(second.operation.endedAt, s.now());
    assert.deepEqual(s.changes.map((c) => c.kind), ["create"], "the reconciler is not told: nothing to load");
    const stored = s.deployments.get(ACCOUNT, "d")!;
    assert.equal(stored.sku.capacity, 7);
    assert.deepEqual(stored.tags, { b: "2" }, "a PUT replaces the tags");
    assert.equal(stored.createdAt, first.deployment.createdAt);
    assert.equal(stored.updatedAt, s.now());
  });

  test("replacing with another version of the same model provisions again (Accepted, InProgress update, reconciler told)", T, () => {
    const s = setup();
    s.put("d", "good");
    s.serve("d");
    const change = s.put("d", "good", undefined, "2");
    assert.equal(change.created, false);
    assert.equal(change.deployment.state, "Accepted");
    assert.equal(change.deployment.model.version, "2");
    assert.equal(change.operation.status, "InProgress");
    assert.deepEqual(s.changes.map((c) => c.kind), ["create", "update"]);
    assert.equal(s.deployments.list(ACCOUNT).length, 1);
  });

  test("a PUT of a deployment still provisioning provisions again even with the same model", T, () => {
    const s = setup();
    s.put("d", "good");
    const again = s.put("d", "good", { name: "GlobalStandard", capacity: 2 });
    assert.equal(again.deployment.state, "Accepted");
    assert.equal(again.operation.status, "InProgress");
    assert.equal(s.changes.length, 2);
  });

  test("changing a deployment's model is a 409 DeploymentModelChangeNotAllowed and leaves it as it was", T, () => {
    const s = setup();
    s.put("d", "good");
    const e = caught(() => s.put("d", "other"));
    assert.equal(e.status, 409);
    assert.equal(e.code, "DeploymentModelChangeNotAllowed");
    assert.match(e.message, /Deployment 'd' serves good .*cannot be changed to other/);
    assert.equal(s.deployments.get(ACCOUNT, "d")!.model.name, "good");
    assert.equal(s.changes.length, 1);
  });

  test("PATCH changes capacity, SKU and tags without provisioning again; an unknown deployment is a 404", T, () => {
    const s = setup();
    s.put("d", "good", { name: "GlobalStandard", capacity: 3 });
    s.serve("d");
    s.advance(1000);
    const updated = s.deployments.update(ACCOUNT, "d", { sku: { capacity: 9 }, tags: { x: "y" } });
    assert.deepEqual(updated.sku, { name: "GlobalStandard", capacity: 9 });
    assert.deepEqual(updated.tags, { x: "y" });
    assert.equal(updated.state, "Succeeded");
    assert.equal(updated.updatedAt, s.now());
    assert.deepEqual(s.deployments.get(ACCOUNT, "d")!.sku, { name: "GlobalStandard", capacity: 9 });
    // Tags alone keep the SKU; the SKU name alone keeps the capacity.
    assert.deepEqual(s.deployments.update(ACCOUNT, "d", { tags: { z: "1" } }).sku, { name: "GlobalStandard", capacity: 9 });
    assert.deepEqual(s.deployments.update(ACCOUNT, "d", { sku: { name: "standard" } }).sku, { name: "Standard", capacity: 9 });
    assert.deepEqual(s.deployments.update(ACCOUNT, "d", { sku: { capacity: 4 } }).tags, { z: "1" }, "tags not given are kept");
    assert.equal(s.changes.length, 1, "a PATCH reloads nothing");
    const e = caught(() => s.deployments.update(ACCOUNT, "nope", { tags: {} }));
    assert.equal(e.status, 404);
    assert.equal(e.code, "NotFound");
    const bad = caught(() => s.deployments.update(ACCOUNT, "d", { sku: { capacity: 1001 } }));
    assert.equal(bad.code, "InvalidCapacity");
    assert.equal(s.deployments.get(ACCOUNT, "d")!.sku.capacity, 4);
  });

  test("DELETE removes the deployment at once with an InProgress delete operation; an unknown name returns nothing and tells nobody", T, () => {
    const s = setup();
    s.put("d", "good");
    const op = s.deployments.delete(ACCOUNT, "d");
    assert.equal(op?.kind, "delete");
    assert.equal(op?.status, "InProgress");
    assert.equal(s.deployments.get(ACCOUNT, "d"), undefined);
    assert.deepEqual(s.changes.map((c) => c.kind), ["create", "delete"]);
    assert.equal(s.deployments.delete(ACCOUNT, "d"), undefined);
    assert.equal(s.deployments.delete(ACCOUNT, "never"), undefined);
    assert.equal(s.changes.length, 2);
    // The name is free again: a new PUT is a create.
    assert.equal(s.put("d", "other").created, true);
  });

  test("finishOperation ends an operation with its outcome", T, () => {
    const s = setup();
    const { operation } = s.put("d", "good");
    s.advance(2500);
    s.deployments.finishOperation(operation, { code: "ModelLoadFailed", message: "bad file" });
    assert.deepEqual(s.deployments.getOperation(operation.id), { ...operation, status: "Failed", errorCode: "ModelLoadFailed", errorMessage: "bad file", endedAt: s.now() });
    s.deployments.finishOperation(operation);
    assert.equal(s.deployments.getOperation(operation.id)?.status, "Succeeded");
  });

  test("setState does not resurrect a deployment deleted, or replaced by a new one, while it was provisioning", T, () => {
    const s = setup();
    s.put("d", "good");
    const provisioning = s.deployments.get(ACCOUNT, "d")!;
    s.deployments.delete(ACCOUNT, "d");
    s.deployments.setState(provisioning, "Succeeded");
    s.deployments.setProgress(provisioning, { phase: "loading", percentComplete: 50 });
    assert.equal(s.deployments.get(ACCOUNT, "d"), undefined);

    s.advance(1);
    s.put("d", "good");
    s.deployments.setState(provisioning, "Failed", "old load failed");
    const current = s.deployments.get(ACCOUNT, "d")!;
    assert.equal(current.state, "Accepted", "the stale load's outcome is ignored");
    assert.equal(current.error, null);
  });

  test("the outcome of loading a version a PUT has since replaced does not mark the new version (same createdAt, other model)", T, () => {
    const s = setup();
    s.put("d", "good", undefined, "1");
    const loadingV1 = s.deployments.get(ACCOUNT, "d")!;
    s.put("d", "good", undefined, "2");
    s.deployments.setProgress(loadingV1, { phase: "loading", percentComplete: 100 });
    s.deployments.setState(loadingV1, "Succeeded", null, { phase: "ready", percentComplete: 100 });
    let current = s.deployments.get(ACCOUNT, "d")!;
    assert.equal(current.model.version, "2");
    assert.equal(current.state, "Accepted", "v2 is not loaded: it must not be shown (or resolved) as serving");
    assert.deepEqual(current.progress, { phase: "queued", percentComplete: 0 });
    s.deployments.setState(loadingV1, "Failed", "v1 failed");
    assert.equal(s.deployments.get(ACCOUNT, "d")!.error, null);
    // A replace with the same model (a new capacity) keeps the load's outcome: that load is still the one wanted.
    const loadingV2 = s.deployments.get(ACCOUNT, "d")!;
    s.put("d", "good", { name: "GlobalStandard", capacity: 2 }, "2");
    s.deployments.setState(loadingV2, "Succeeded");
    current = s.deployments.get(ACCOUNT, "d")!;
    assert.equal(current.state, "Succeeded");
    assert.equal(current.sku.capacity, 2);
  });

  test("ensureDefaults adds missing defaults only, and never overwrites an existing deployment of that name", T, () => {
    const s = setup();
    s.deployments.ensureDefaults(ACCOUNT, [{ name: "extra", model: { format: "Test", name: "good", version: "1" }, sku: { name: "Standard", capacity: 2 } }]);
    assert.deepEqual(s.deployments.list(ACCOUNT).map((d) => [d.name, d.sku.name, d.sku.capacity]), [
      ["tiny-chat", "GlobalStandard", 1000],
      ["tiny-embed", "GlobalStandard", 1000],
      ["extra", "Standard", 2],
    ]);
    s.deployments.update(ACCOUNT, "EXTRA", { tags: { kept: "yes" } });
    s.deployments.ensureDefaults(ACCOUNT, [{ name: "extra", model: { format: "Test", name: "good", version: "1" } }]);
    assert.equal(s.deployments.list(ACCOUNT).length, 3);
    assert.deepEqual(s.deployments.get(ACCOUNT, "extra")!.tags, { kept: "yes" });
  });
});

describe("names, models and SKUs", () => {
  test("deployment names: 1–64 letters, digits and hyphens; the message gives the length of a long one", T, () => {
    const s = setup();
    for (const bad of ["", "has space", "under_score", "dot.name", "a".repeat(65)]) {
      const e = caught(() => s.put(bad, "good"));
      assert.equal(e.status, 400, bad);
      assert.equal(e.code, "InvalidResourceName", bad);
      assert.equal(e.param, "name");
    }
    assert.match(caught(() => s.put("a".repeat(65), "good")).message, /this one is 65 characters/);
    assert.equal(s.put("a".repeat(64), "good").created, true);
    assert.equal(s.put("A-1", "good").created, true);
    assert.equal(s.changes.length, 2);
  });

  test("the model must be given as strings; unknown, deprecated and closed-weight models are refused", T, () => {
    const s = setup();
    const noModel = caught(() => s.deployments.createOrUpdate(ACCOUNT, "d", { sku: { name: "GlobalStandard" } }));
    assert.equal(noModel.code, "InvalidResourceProperties");
    assert.equal(noModel.param, "properties.model");
    const numericName = caught(() => s.deployments.createOrUpdate(ACCOUNT, "d", { model: { format: "Test", name: 5 } }));
    assert.equal(numericName.param, "properties.model.name");
    const numericVersion = caught(() => s.deployments.createOrUpdate(ACCOUNT, "d", { model: { format: "Test", name: "good", version: 1 } }));
    assert.equal(numericVersion.param, "properties.model.version");
    const unknown = caught(() => s.put("d", "goood"));
    assert.equal(unknown.code, "DeploymentModelNotSupported");
    assert.match(unknown.message, /'good'/, "suggests the close match");
    const deprecated = caught(() => s.put("d", "old"));
    assert.equal(deprecated.code, "DeploymentModelNotSupported");
    assert.match(deprecated.message, /deprecated/);
    const closed = caught(() => s.put("d", "closed"));
    assert.equal(closed.code, "DeploymentModelNotSupported");
    assert.match(closed.message, /no open weights/);
    assert.deepEqual(s.deployments.list(ACCOUNT), []);
    assert.equal(s.changes.length, 0);
  });

  test("SKU: required, one the model offers (case-insensitive, stored in Azure's spelling), else InvalidSkuName listing the offers", T, () => {
    const s = setup();
    const missing = caught(() => s.deployments.createOrUpdate(ACCOUNT, "d", { model: { format: "Test", name: "good", version: "1" } }));
    assert.equal(missing.code, "InvalidResourceProperties");
    assert.equal(missing.param, "sku.name");
    assert.match(missing.message, /GlobalStandard, Standard, ProvisionedManaged/);
    const wrong = caught(() => s.put("d", "good", { name: "DataZoneStandard", capacity: 1 }));
    assert.equal(wrong.code, "InvalidSkuName");
    assert.match(wrong.message, /SKU 'DataZoneStandard' is not available for model good .*Use one of: GlobalStandard, Standard, ProvisionedManaged\./);
    assert.equal(s.put("d", "good", { name: "globalstandard", capacity: 2 }).deployment.sku.name, "GlobalStandard");
  });

  test("capacity: an integer within the SKU's range, in its steps", T, () => {
    const s = setup();
    for (const capacity of [0, -1, 1001, 2.5, "10", Number.NaN]) {
      const e = caught(() => s.put("d", "good", { name: "GlobalStandard", capacity }));
      assert.equal(e.code, "InvalidCapacity", String(capacity));
      assert.equal(e.param, "sku.capacity");
    }
    assert.match(caught(() => s.put("d", "good", { name: "GlobalStandard", capacity: 1001 })).message, /Capacity 1001 is not valid for SKU GlobalStandard .*use 1 to 1000\./);
    const step = caught(() => s.put("p", "good", { name: "ProvisionedManaged", capacity: 17 }));
    assert.equal(step.code, "InvalidCapacity");
    assert.match(step.message, /use 15 to 100 in steps of 5/);
    assert.equal(s.put("p", "good", { name: "ProvisionedManaged", capacity: 20 }).deployment.sku.capacity, 20);
    assert.equal(s.put("d", "good", { name: "GlobalStandard", capacity: 1000 }).deployment.sku.capacity, 1000);
  });
});

describe("quota", () => {
  test("InsufficientQuota names requested, available, used and limit; the deployment's own capacity does not count against it", T, () => {
    const s = setup({ policy: { quotaPerUsage: 100 } });
    s.put("a", "good", { name: "GlobalStandard", capacity: 60 });
    const e = caught(() => s.put("b", "good", { name: "GlobalStandard", capacity: 50 }));
    assert.equal(e.status, 400);
    assert.equal(e.code, "InsufficientQuota");
    assert.equal(
      e.message,
      "This operation require 50 new capacity in quota Tokens Per Minute (thousands) - good - GlobalStandard, which is bigger than the current available capacity 40. " +
        "The current quota usage is 60 and the quota limit is 100 for quota AIServices.GlobalStandard.good. Lower sku.capacity, or delete or scale down another deployment.",
    );
    assert.equal(s.deployments.get(ACCOUNT, "b"), undefined);
    // Exactly what is left fits; the limit is then reached.
    s.put("b", "good", { name: "GlobalStandard", capacity: 40 });
    assert.equal(caught(() => s.put("c", "good", { name: "GlobalStandard", capacity: 1 })).code, "InsufficientQuota");
    // Resizing a deployment counts the others only: a (60) may grow into nothing more, or shrink.
    assert.equal(caught(() => s.put("a", "good", { name: "GlobalStandard", capacity: 61 })).code, "InsufficientQuota");
    s.put("a", "good", { name: "GlobalStandard", capacity: 50 });
    assert.equal(s.deployments.usage(ACCOUNT).get("AIServices.GlobalStandard.good")?.current, 90);
  });

  test("quota is per usage name (SKU and model) and per account; DELETE frees it at once", T, () => {
    const s = setup({ policy: { quotaPerUsage: 100 } });
    s.put("a", "good", { name: "GlobalStandard", capacity: 100 });
    s.put("b", "good", { name: "Standard", capacity: 100 }); // another SKU: another quota
    s.put("c", "other", { name: "GlobalStandard", capacity: 100 }); // another model: another quota
    s.put("a", "good", { name: "GlobalStandard", capacity: 100 }, "1", OTHER); // another account
    const full = caught(() => s.put("d", "good", { name: "GlobalStandard", capacity: 1 }));
    assert.match(full.message, /available capacity 0\. The current quota usage is 100 and the quota limit is 100/);
    const usage = s.deployments.usage(ACCOUNT);
    assert.deepEqual(
      [...usage].filter(([, u]) => u.current > 0).map(([name, u]) => [name, u.current, u.label]),
      [
        ["AIServices.GlobalStandard.good", 100, "Tokens Per Minute (thousands) - good - GlobalStandard"],
        ["AIServices.Standard.good", 100, "Tokens Per Minute (thousands) - good - Standard"],
        ["AIServices.GlobalStandard.other", 100, "Tokens Per Minute (thousands) - other - GlobalStandard"],
      ],
    );
    s.deployments.delete(ACCOUNT, "a");
    assert.equal(s.deployments.usage(ACCOUNT).get("AIServices.GlobalStandard.good")?.current, 0);
    assert.equal(s.put("d", "good", { name: "GlobalStandard", capacity: 100 }).created, true);
  });

  test("provisioned SKUs draw on one pool per deployment type (a PTU quota named without the model)", T, () => {
    const s = setup({ policy: { quotaPerUsage: 50 } });
    s.put("p1", "good", { name: "ProvisionedManaged", capacity: 30 });
    const e = caught(() => s.put("p2", "other", { name: "ProvisionedManaged", capacity: 25 }));
    assert.equal(e.code, "InsufficientQuota");
    assert.match(e.message, /require 25 new capacity in quota Provisioned Throughput Units - other, .* available capacity 20\. The current quota usage is 30 .* for quota AIServices\.ProvisionedManaged\./);
  });

  test("PATCH checks quota too, counting the other deployments only", T, () => {
    const s = setup({ policy: { quotaPerUsage: 100 } });
    s.put("a", "good", { name: "GlobalStandard", capacity: 30 });
    s.put("b", "good", { name: "GlobalStandard", capacity: 30 });
    assert.equal(s.deployments.update(ACCOUNT, "a", { sku: { capacity: 70 } }).sku.capacity, 70);
    const e = caught(() => s.deployments.update(ACCOUNT, "b", { sku: { capacity: 31 } }));
    assert.equal(e.code, "InsufficientQuota");
    assert.match(e.message, /require 31 new capacity .* available capacity 30\. The current quota usage is 70 and the quota limit is 100/);
    assert.equal(s.deployments.get(ACCOUNT, "b")!.sku.capacity, 30);
  });
});

describe("custom models", () => {
  test("one deployment per custom model, in any account; the same deployment may be replaced; delete frees it", T, () => {
    const s = setup();
    s.put("ft-a", "ft");
    const again = caught(() => s.put("ft-b", "ft"));
    assert.equal(again.status, 409);
    assert.equal(again.code, "CustomModelAlreadyDeployed");
    assert.match(again.message, /ft is already deployed as 'ft-a'\. Delete that deployment first\./);
    // Replacing the one deployment (other capacity) is allowed; another custom model is independent.
    assert.equal(s.put("FT-A", "ft", { name: "GlobalStandard", capacity: 3 }).deployment.sku.capacity, 3);
    assert.equal(s.put("ft2-a", "ft2").created, true);
    // From another account, through properties.model.source: still the one deployment.
    const cross = caught(() =>
      s.deployments.createOrUpdate(OTHER, "x", { model: { format: "Test", name: "ft", version: "1" }, sku: { name: "GlobalStandard", capacity: 1 }, source: { id: "/subscriptions/s/.../accounts/acct", account: ACCOUNT } }),
    );
    assert.equal(cross.code, "CustomModelAlreadyDeployed");
    assert.match(cross.message, /as 'ft-a' in account 'acct'/);
    s.deployments.delete(ACCOUNT, "ft-a");
    const moved = s.deployments.createOrUpdate(OTHER, "x", {
      model: { format: "Test", name: "ft", version: "1" },
      sku: { name: "GlobalStandard", capacity: 1 },
      source: { id: "/subscriptions/s/.../accounts/acct", account: ACCOUNT },
    });
    assert.equal(moved.created, true);
    assert.equal(moved.deployment.options?.source, "/subscriptions/s/.../accounts/acct");
  });

  test("DeveloperTier serves custom models only", T, () => {
    const s = setup();
    const base = caught(() => s.put("d", "good", { name: "DeveloperTier", capacity: 1 }));
    assert.equal(base.code, "InvalidSkuName");
    // The base model does not offer it at all; a catalog model that did would be refused by the rule itself.
    const s2 = setupWithDeveloperBase();
    const e = caught(() => s2.put("d", "devbase", { name: "DeveloperTier", capacity: 1 }));
    assert.equal(e.code, "InvalidSkuName");
    assert.match(e.message, /DeveloperTier serves fine-tuned models only; devbase is a base model\. Use GlobalStandard\./);
    // Nor through a PATCH of a base model's deployment.
    s2.put("g", "devbase", { name: "GlobalStandard", capacity: 1 });
    const patched = caught(() => s2.deployments.update(ACCOUNT, "g", { sku: { name: "DeveloperTier" } }));
    assert.equal(patched.code, "InvalidSkuName");
    assert.match(patched.message, /DeveloperTier serves fine-tuned models only; devbase is a base model/);
    assert.equal(s2.deployments.get(ACCOUNT, "g")!.sku.name, "GlobalStandard");
    // "developer" is Azure's samples' spelling of the tier.
    const dev = s.put("dev", "ft", { name: "developer", capacity: 1 });
    assert.equal(dev.deployment.sku.name, "DeveloperTier");
  });

  test("a custom model of another account needs properties.model.source; a catalog model must not have one", T, () => {
    const s = setup();
    const foreign = caught(() => s.put("d", "theirs"));
    assert.equal(foreign.code, "DeploymentModelNotSupported");
    assert.match(foreign.message, /belongs to another account.*properties\.model\.source/);
    const wrongSource = caught(() =>
      s.deployments.createOrUpdate(ACCOUNT, "d", { model: { format: "Test", name: "theirs", version: "1" }, sku: { name: "GlobalStandard", capacity: 1 }, source: { id: "/x/accounts/third", account: "third" } }),
    );
    assert.match(wrongSource.message, /does not belong to the source account \/x\/accounts\/third/);
    const catalogWithSource = caught(() =>
      s.deployments.createOrUpdate(ACCOUNT, "d", { model: { format: "Test", name: "good", version: "1" }, sku: { name: "GlobalStandard", capacity: 1 }, source: { id: "/x/accounts/other", account: OTHER } }),
    );
    assert.equal(catalogWithSource.code, "InvalidResourceProperties");
    assert.equal(catalogWithSource.param, "properties.model.source");
    assert.deepEqual(s.deployments.list(), []);
  });

  test("usages list an account's own custom models and the ones it deploys, never another account's (their names are private)", T, () => {
    const s = setup();
    const names = (account: string) => [...s.deployments.usage(account).keys()].filter((n) => /\.(ft|ft2|theirs)$/.test(n)).sort();
    assert.deepEqual(names(ACCOUNT), [
      "AIServices.DeveloperTier.ft",
      "AIServices.DeveloperTier.ft2",
      "AIServices.GlobalStandard.ft",
      "AIServices.GlobalStandard.ft2",
      "AIServices.Standard.ft",
      "AIServices.Standard.ft2",
    ]);
    assert.deepEqual(names(OTHER), ["AIServices.DeveloperTier.theirs", "AIServices.GlobalStandard.theirs", "AIServices.Standard.theirs"]);
    assert.ok(s.deployments.usage("third").has("AIServices.GlobalStandard.good"), "catalog models are listed for everyone");
    // Deployed here from its owner's account (properties.model.source): its use is listed, and counted.
    s.deployments.createOrUpdate(ACCOUNT, "x", { model: { format: "Test", name: "theirs", version: "1" }, sku: { name: "GlobalStandard", capacity: 4 }, source: { id: "/x/accounts/other", account: OTHER } });
    assert.deepEqual(s.deployments.usage(ACCOUNT).get("AIServices.GlobalStandard.theirs"), { current: 4, label: "Tokens Per Minute (thousands) - theirs - GlobalStandard" });
    assert.equal(s.deployments.usage(OTHER).get("AIServices.GlobalStandard.theirs")?.current, 0);
  });

  test("a custom model cannot be removed while deployed; it can once its deployment is gone", T, () => {
    const s = setup();
    s.put("d", "ft");
    const ref = { format: "Test", name: "ft", version: "1" };
    const e = caught(() => s.deployments.removeCustomModel(ACCOUNT, ref));
    assert.equal(e.status, 409);
    assert.equal(e.code, "ModelInUse");
    assert.match(e.message, /\('d'\)/);
    assert.equal(caught(() => s.deployments.removeCustomModel(OTHER, ref)).status, 404, "only its owner may remove it");
    s.deployments.delete(ACCOUNT, "d");
    s.deployments.removeCustomModel(ACCOUNT, ref);
    assert.equal(s.registry.get(ref), undefined);
  });

  test("a DeveloperTier deployment expires 24 h after creation, used or not; the sweep deletes it and tells the reconciler", T, () => {
    const s = setup();
    s.put("dev", "ft", { name: "DeveloperTier", capacity: 1 });
    s.serve("dev");
    s.advance(DAY - 1);
    s.deployments.resolve(ACCOUNT, "dev"); // use does not extend a DeveloperTier deployment
    s.deployments.sweep();
    assert.ok(s.deployments.get(ACCOUNT, "dev"), "still there 1 ms before 24 h");
    s.advance(1);
    s.deployments.sweep();
    assert.equal(s.deployments.get(ACCOUNT, "dev"), undefined);
    assert.deepEqual(s.changes.map((c) => [c.name, c.kind]), [["dev", "create"], ["dev", "delete"]]);
  });

  test("another custom deployment goes after 15 days without calls; each call restarts the count; base-model deployments never expire", T, () => {
    const s = setup();
    s.put("ft", "ft");
    s.put("base", "good");
    s.serve("ft");
    s.serve("base");
    s.advance(10 * DAY);
    s.deployments.resolve(ACCOUNT, "ft"); // a call at day 10
    s.advance(15 * DAY - 1);
    s.deployments.sweep();
    assert.ok(s.deployments.get(ACCOUNT, "ft"), "15 days less 1 ms after its last call");
    s.advance(1);
    s.deployments.sweep();
    assert.equal(s.deployments.get(ACCOUNT, "ft"), undefined);
    s.advance(365 * DAY);
    s.deployments.sweep();
    assert.ok(s.deployments.get(ACCOUNT, "base"), "a catalog model's deployment stays");
  });

  test("reads never delete: get, list, usage and deploymentsOf of an expired deployment leave it to the sweep", T, () => {
    const s = setup();
    s.put("dev", "ft", { name: "DeveloperTier", capacity: 1 });
    s.put("idle", "ft2");
    s.advance(30 * DAY);
    const writes = s.store.writes;
    assert.equal(s.deployments.get(ACCOUNT, "dev")?.name, "dev");
    assert.deepEqual(s.deployments.list(ACCOUNT).map((d) => d.name), ["dev", "idle"]);
    assert.equal(s.deployments.list().length, 2);
    assert.equal(s.deployments.usage(ACCOUNT).get("AIServices.DeveloperTier.ft")?.current, 1);
    assert.equal(s.deployments.deploymentsOf({ format: "Test", name: "ft2", version: "1" }).length, 1);
    assert.equal(s.store.writes, writes, "no read wrote to the store");
    assert.equal(s.changes.length, 2);
    s.deployments.sweep();
    assert.deepEqual(s.deployments.list(), []);
  });

  test("policy: lifetimes come from the injected policy", T, () => {
    const s = setup({ policy: { developerTierLifetimeMs: HOUR, idleDeletionMs: 2 * HOUR } });
    s.put("dev", "ft", { name: "DeveloperTier", capacity: 1 });
    s.put("idle", "ft2");
    s.advance(HOUR);
    s.deployments.sweep();
    assert.deepEqual(s.deployments.list().map((d) => d.name), ["idle"]);
    s.advance(HOUR);
    s.deployments.sweep();
    assert.deepEqual(s.deployments.list(), []);
  });
});

describe("case-insensitive names", () => {
  test("PUT MyDep then mydep updates MyDep (the first case kept); GET, PATCH, resolve and DELETE find it in any case", T, () => {
    const s = setup({ policy: { quotaPerUsage: 100 } });
    s.put("MyDep", "good", { name: "GlobalStandard", capacity: 60 });
    // The same deployment: its own 60 does not count against the 100 it now asks for.
    const again = s.put("mydep", "good", { name: "GlobalStandard", capacity: 100 });
    assert.equal(again.created, false);
    assert.equal(again.deployment.name, "MyDep");
    assert.equal(again.operation.deployment, "MyDep");
    assert.deepEqual(s.deployments.list(ACCOUNT).map((d) => [d.name, d.sku.capacity]), [["MyDep", 100]]);
    assert.equal(s.deployments.get(ACCOUNT, "MYDEP")?.name, "MyDep");
    assert.equal(s.deployments.update(ACCOUNT, "mYdEp", { sku: { capacity: 90 } }).name, "MyDep");
    s.serve("MYDEP");
    assert.equal(s.deployments.resolve(ACCOUNT, "mydep").name, "MyDep");
    const op = s.deployments.delete(ACCOUNT, "MYDEP");
    assert.equal(op?.deployment, "MyDep");
    assert.deepEqual(s.changes.map((c) => c.name), ["MyDep", "MyDep", "MyDep"]);
    assert.deepEqual(s.deployments.list(ACCOUNT), []);
  });

  test("a custom model's one deployment may be replaced under another case of its name", T, () => {
    const s = setup();
    s.put("Tuned", "ft");
    assert.equal(s.put("TUNED", "ft", { name: "GlobalStandard", capacity: 2 }).deployment.name, "Tuned");
    assert.equal(s.deployments.list().length, 1);
  });
});

describe("resolve (what inference runs on)", () => {
  test("unknown → DeploymentNotFound; provisioning or failed → 503 saying why; serving → engine key, adapter and capabilities", T, () => {
    const s = setup();
    const missing = caught(() => s.deployments.resolve(ACCOUNT, "nope"));
    assert.equal(missing.status, 404);
    assert.equal(missing.code, "DeploymentNotFound");
    s.put("d", "good");
    const provisioning = caught(() => s.deployments.resolve(ACCOUNT, "d"));
    assert.equal(provisioning.status, 503);
    assert.match(provisioning.message, /Deployment 'd' is still provisioning \(Accepted, queued 0%\)\. Retry in a few seconds\./);
    s.deployments.setState(s.deployments.get(ACCOUNT, "d")!, "Failed", "the file is truncated.", { phase: "failed", percentComplete: 0, attempts: 2, nextRetryAt: "2026-01-01T00:00:10.000Z" });
    const failed = caught(() => s.deployments.resolve(ACCOUNT, "d"));
    assert.equal(failed.status, 503);
    assert.match(failed.message, /failed to provision: the file is truncated\. Fix the cause .*; Ingot retries at 2026-01-01T00:00:10\.000Z\./);
    s.serve("d");
    assert.deepEqual(s.deployments.resolve(ACCOUNT, "d"), {
      account: ACCOUNT,
      name: "d",
      sku: { name: "GlobalStandard", capacity: 1 },
      modelName: "good",
      engineKey: "Test/good@1",
      adapter: undefined,
      capabilities: ["chatCompletion"],
    });
    s.put("t", "ft");
    s.serve("t");
    const tuned = s.deployments.resolve(ACCOUNT, "t");
    assert.equal(tuned.engineKey, "Test/good@1", "a LoRA model runs in its base's runner");
    assert.equal(tuned.adapter, "Test/ft@1");
  });

  test("last use is written at most once a minute per deployment", T, () => {
    const s = setup();
    s.put("d", "good");
    s.serve("d");
    const t0 = s.now();
    s.deployments.resolve(ACCOUNT, "d");
    s.advance(59_999);
    s.deployments.resolve(ACCOUNT, "d");
    assert.equal(s.store.touches.length, 1);
    s.advance(1);
    s.deployments.resolve(ACCOUNT, "D");
    assert.deepEqual(s.store.touches, [
      { account: ACCOUNT, name: "d", at: t0 },
      { account: ACCOUNT, name: "d", at: t0 + 60_000 },
    ]);
    assert.equal(s.deployments.get(ACCOUNT, "d")!.lastUsedAt, t0 + 60_000);
  });
});

/** A catalog where a base model itself offers DeveloperTier, to reach the service's own rule. */
function setupWithDeveloperBase() {
  const store = new MemoryResourceStore();
  const catalog = new Catalog(
    Catalog.validateEntries([entry("devbase", "1", { skus: [standard[0], { name: "DeveloperTier", minCapacity: 1, maxCapacity: 10, defaultCapacity: 1 }] })], "test"),
  );
  const deployments = new DeploymentService(store, catalog, { clock: () => 0 });
  return { deployments, put: (name: string, model: string, sku: { name: string; capacity: number }) => deployments.createOrUpdate(ACCOUNT, name, { model: { format: "Test", name: model, version: "1" }, sku }) };
}
