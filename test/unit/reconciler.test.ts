// The reconciler and deployment rules against fakes of the engine and model files (and the
// SQLite store in memory): failed loads are forgotten when unwanted and retried with backoff
// when wanted, unused runners go after every kind of change, readiness follows the desired
// state, reads never expire deployments, and names are case-insensitive.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Catalog } from "../../src/core/catalog/catalog.ts";
import { Reconciler } from "../../src/core/deployments/reconciler.ts";
import type { ReconcilerTiming } from "../../src/core/deployments/reconciler.ts";
import { DeploymentService } from "../../src/core/deployments/service.ts";
import type { Engine, EngineAdapter, EngineModel, EngineStatus, ModelFiles, ModelRef, ResourceStore } from "../../src/core/ports/index.ts";
import { SqliteStore } from "../../src/store/sqlite/store.ts";
import { entry as testEntry } from "./catalog-fixtures.ts";

const T = { timeout: 20_000 };
const ACCOUNT = "acct";

/** An engine that loads instantly, fails the paths it is told to, and records what it was asked. */
class FakeEngine implements Engine {
  readonly name = "fake";
  slots = new Map<string, { state: EngineStatus["state"]; error?: string; adapters: Map<string, "ready" | "failed"> }>();
  loads: string[] = [];
  unloads: string[] = [];
  failing = new Set<string>();
  /** Paths whose load never finishes. */
  hanging = new Set<string>();
  async load(m: EngineModel): Promise<void> {
    const existing = this.slots.get(m.key);
    if (existing && existing.state !== "failed") return;
    this.loads.push(m.key);
    if (this.hanging.has(m.path)) {
      this.slots.set(m.key, { state: "loading", adapters: new Map() });
      return new Promise(() => {});
    }
    if (this.failing.has(m.path)) {
      this.slots.set(m.key, { state: "failed", error: `${m.path} is truncated`, adapters: new Map() });
      throw new Error(`${m.path} is truncated`);
    }
    this.slots.set(m.key, { state: "ready", adapters: existing?.adapters ?? new Map() });
  }
  async unload(key: string): Promise<void> {
    if (!this.slots.delete(key)) return;
    this.unloads.push(key);
  }
  async loadAdapter(key: string, a: EngineAdapter): Promise<void> {
    this.slots.get(key)!.adapters.set(a.id, "ready");
  }
  async unloadAdapter(key: string, id: string): Promise<void> {
    this.slots.get(key)?.adapters.delete(id);
  }
  // eslint-disable-next-line require-yield
  async *generate(): AsyncIterable<never> {
    throw new Error("not used");
  }
  async embed(): Promise<never> {
    throw new Error("not used");
  }
  status(): EngineStatus[] {
    return [...this.slots].map(([key, s]) => ({
      key,
      state: s.state,
      error: s.error,
      activeSequences: 0,
      queuedRequests: 0,
      adapters: [...s.adapters].map(([id, state]) => ({ id, state })),
    }));
  }
  async close(): Promise<void> {}
}

const pathOf = (ref: ModelRef) => `/models/${ref.name}-${ref.version}.gguf`;
const files: ModelFiles = {
  ensure: async (ref) => ({ path: pathOf(ref), sha256: "" }),
  checkFits: async () => {},
  checkAdapterFits: async () => {},
  discard: async () => {},
};

const sku = [{ name: "GlobalStandard", minCapacity: 1, maxCapacity: 1000, defaultCapacity: 1 }];
const entry = (name: string, version = "1", extra: Record<string, unknown> = {}) => testEntry(name, version, sku, extra);

function setup(opts: { models?: unknown[]; timing?: Partial<ReconcilerTiming>; store?: ResourceStore; files?: ModelFiles } = {}) {
  let now = 1_000_000;
  const clock = () => now;
  const store = opts.store ?? new SqliteStore(":memory:");
  store.putAccount({ name: ACCOUNT, subscription: "s", resourceGroup: "rg", location: "local", kind: "AIServices", skuName: "S0", tags: {}, properties: {}, createdAt: 0 });
  const catalog = new Catalog(Catalog.validateEntries(opts.models ?? [entry("good"), entry("good", "2"), entry("bad")], "test"));
  const deployments = new DeploymentService(store, catalog, { clock });
  const engine = new FakeEngine();
  engine.failing.add("/models/bad-1.gguf");
  const reconciler = new Reconciler({ deployments, catalog, engine, files: opts.files ?? files, sequences: 1, clock, timing: opts.timing, log: () => {} });
  const pending: Promise<void>[] = [];
  deployments.onChange((a, n, op) => void pending.push(reconciler.changed(a, n, op)));
  const settle = async () => {
    while (pending.length) await pending.shift();
  };
  const put = async (name: string, model: string, version = "1") => {
    const change = deployments.createOrUpdate(ACCOUNT, name, { model: { format: "Test", name: model, version }, sku: { name: "GlobalStandard", capacity: 1 } });
    await settle();
    return change;
  };
  const del = async (name: string) => {
    deployments.delete(ACCOUNT, name);
    await settle();
  };
  /** Steps the loop and waits for the retries it started. */
  const tick = async () => {
    reconciler.tick();
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  };
  return { store, deployments, engine, reconciler, put, del, tick, settle, advance: (ms: number) => void (now += ms), now: () => now };
}

const keyOf = (name: string, version = "1") => `Test/${name}@${version}`;

describe("failed loads", () => {
  test("a model that failed to load is forgotten once its deployment is deleted, and the instance stays ready", T, async () => {
    const s = setup();
    await s.reconciler.reconcileAll();
    await s.put("d", "bad");
    const d = s.deployments.get(ACCOUNT, "d")!;
    assert.equal(d.state, "Failed");
    assert.match(d.error!, /truncated/);
    assert.equal(s.engine.status().find((m) => m.key === keyOf("bad"))?.state, "failed");
    // A failed deployment is reported, not disqualifying.
    const r = s.reconciler.readiness();
    assert.equal(r.ready, true, r.reasons.join("; "));
    assert.deepEqual(r.failing.map((f) => f.name), ["d"]);

    await s.del("d");
    assert.deepEqual(s.engine.status(), [], "the failed engine slot is dropped");
    assert.ok(s.engine.unloads.includes(keyOf("bad")));
    assert.equal(s.reconciler.readiness().ready, true);
  });

  test("a wanted model that failed is retried with capped exponential backoff; provisioningDetails say when", T, async () => {
    const s = setup({ timing: { retryDelayMs: 1000, maxRetryDelayMs: 4000 } });
    await s.reconciler.reconcileAll();
    const t0 = s.now();
    await s.put("d", "bad");
    let d = s.deployments.get(ACCOUNT, "d")!;
    assert.equal(d.progress?.attempts, 1);
    assert.equal(d.progress?.nextRetryAt, new Date(t0 + 1000).toISOString());
    assert.equal(s.engine.loads.filter((k) => k === keyOf("bad")).length, 1);

    s.advance(999);
    await s.tick();
    assert.equal(s.engine.loads.filter((k) => k === keyOf("bad")).length, 1, "no retry before the backoff");
    s.advance(1);
    await s.tick();
    assert.equal(s.engine.loads.filter((k) => k === keyOf("bad")).length, 2, "retried when due");
    d = s.deployments.get(ACCOUNT, "d")!;
    assert.equal(d.state, "Failed");
    assert.equal(d.progress?.attempts, 2);
    assert.equal(d.progress?.nextRetryAt, new Date(s.now() + 2000).toISOString(), "the delay doubles");
    // Two more failures: 4 s, then capped at 4 s.
    s.advance(2000);
    await s.tick();
    s.advance(4000);
    await s.tick();
    d = s.deployments.get(ACCOUNT, "d")!;
    assert.equal(d.progress?.attempts, 4);
    assert.equal(d.progress?.nextRetryAt, new Date(s.now() + 4000).toISOString(), "capped");
    // The file gets fixed: the next retry succeeds.
    s.engine.failing.clear();
    s.advance(4000);
    await s.tick();
    d = s.deployments.get(ACCOUNT, "d")!;
    assert.equal(d.state, "Succeeded");
    assert.equal(d.error, null);
    assert.equal(s.engine.status().find((m) => m.key === keyOf("bad"))?.state, "ready");
  });

  test("a serving deployment whose runner died for good turns Failed with the reason and is reloaded by the retry loop", T, async () => {
    const s = setup({ timing: { retryDelayMs: 1000 } });
    await s.reconciler.reconcileAll();
    await s.put("d", "good");
    s.engine.slots.get(keyOf("good"))!.state = "failed";
    s.engine.slots.get(keyOf("good"))!.error = "runner exited during load (SIGKILL)";
    await s.tick();
    const d = s.deployments.get(ACCOUNT, "d")!;
    assert.equal(d.state, "Failed");
    assert.match(d.error!, /stopped serving.*SIGKILL/);
    assert.equal(s.reconciler.readiness().ready, true);
    s.advance(1000);
    await s.tick();
    assert.equal(s.deployments.get(ACCOUNT, "d")!.state, "Succeeded");
    assert.equal(s.engine.status().find((m) => m.key === keyOf("good"))?.state, "ready");
  });
});

describe("load timeout", () => {
  test("a load still pending after the load timeout fails the deployment with the reason and frees the slot", T, async () => {
    const s = setup({ timing: { loadTimeoutMs: 50 } });
    s.engine.hanging.add("/models/good-1.gguf");
    await s.reconciler.reconcileAll();
    await s.put("d", "good");
    const d = s.deployments.get(ACCOUNT, "d")!;
    assert.equal(d.state, "Failed");
    assert.match(d.error!, /Loading good did not finish within 0\.05 s/);
    assert.ok(d.progress?.nextRetryAt, "retried later");
    assert.deepEqual(s.engine.status(), [], "the hung slot was unloaded");
  });
});

describe("unused runners go whatever the path", () => {
  test("a PUT that changes the model version unloads the old runner; so do DELETE and expiry; a runner still used stays", T, async () => {
    const s = setup({ models: [entry("good"), entry("good", "2"), entry("ft", "1", { baseModel: { format: "Test", name: "good", version: "1" }, skus: [...sku, { name: "DeveloperTier", minCapacity: 1, maxCapacity: 10, defaultCapacity: 1 }] })] });
    await s.reconciler.reconcileAll();
    await s.put("d", "good", "1");
    assert.deepEqual(s.engine.status().map((m) => m.key), [keyOf("good", "1")]);
    const change = await s.put("d", "good", "2");
    assert.equal(change.created, false);
    assert.equal(s.deployments.get(ACCOUNT, "d")!.state, "Succeeded");
    assert.deepEqual(s.engine.status().map((m) => m.key), [keyOf("good", "2")], "the old version's runner is gone");
    assert.deepEqual(s.engine.unloads, [keyOf("good", "1")]);

    // Two deployments on v1; moving one to v2 keeps v1 for the other until that one is deleted.
    await s.put("a", "good", "1");
    await s.put("b", "good", "1");
    await s.put("a", "good", "2");
    assert.deepEqual(s.engine.status().map((m) => m.key).sort(), [keyOf("good", "1"), keyOf("good", "2")]);
    await s.del("b");
    assert.deepEqual(s.engine.status().map((m) => m.key), [keyOf("good", "2")]);

    // Expiry (the timer's sweep) deletes a DeveloperTier deployment and its runner goes.
    s.deployments.createOrUpdate(ACCOUNT, "dev", { model: { format: "Test", name: "ft", version: "1" }, sku: { name: "DeveloperTier", capacity: 1 } });
    await s.settle();
    assert.ok(s.engine.status().some((m) => m.key === keyOf("ft")));
    s.advance(s.deployments.policy.developerTierLifetimeMs);
    s.deployments.sweep();
    await s.settle();
    assert.equal(s.deployments.get(ACCOUNT, "dev"), undefined);
    assert.ok(!s.engine.status().some((m) => m.key === keyOf("ft")));
  });

  test("collecting after a delete reads the desired state a constant number of times, not once per loaded model", T, async () => {
    const models = Array.from({ length: 30 }, (_, i) => entry(`m${i}`));
    const s = setup({ models });
    await s.reconciler.reconcileAll();
    for (let i = 0; i < 30; i++) await s.put(`d${i}`, `m${i}`);
    let lists = 0;
    const real = s.store.listDeployments.bind(s.store);
    s.store.listDeployments = (account?: string) => {
      lists++;
      return real(account);
    };
    await s.del("d0");
    assert.ok(lists <= 4, `listDeployments ran ${lists} times for one delete among 30 loaded models`);
  });
});

describe("readiness", () => {
  test("not ready until startup reconciliation settles; a serving runner restarting past the grace makes it unready", T, async () => {
    const s = setup({ timing: { readinessGraceMs: 10_000 } });
    s.deployments.createOrUpdate(ACCOUNT, "d", { model: { format: "Test", name: "good", version: "1" }, sku: { name: "GlobalStandard", capacity: 1 } });
    assert.equal(s.reconciler.readiness().ready, false);
    assert.match(s.reconciler.readiness().reasons[0], /startup reconciliation/);
    await s.reconciler.reconcileAll();
    await s.settle();
    assert.equal(s.reconciler.readiness().ready, true);

    s.engine.slots.get(keyOf("good"))!.state = "restarting";
    await s.tick();
    assert.equal(s.reconciler.readiness().ready, true, "a short restart keeps the instance in");
    s.advance(10_000);
    await s.tick();
    const r = s.reconciler.readiness();
    assert.equal(r.ready, false);
    assert.match(r.reasons.join(), /Test\/good@1.*restarting/);
    s.engine.slots.get(keyOf("good"))!.state = "ready";
    await s.tick();
    assert.equal(s.reconciler.readiness().ready, true);
  });
});

describe("reads do not write", () => {
  test("GET and list of an expired deployment do not delete it; the sweep does", T, async () => {
    const s = setup({ models: [entry("good"), entry("ft", "1", { baseModel: { format: "Test", name: "good", version: "1" } })] });
    s.deployments.createOrUpdate(ACCOUNT, "ft", { model: { format: "Test", name: "ft", version: "1" }, sku: { name: "GlobalStandard", capacity: 1 } });
    s.advance(s.deployments.policy.idleDeletionMs + 1);
    assert.ok(s.deployments.get(ACCOUNT, "ft"));
    assert.equal(s.deployments.list(ACCOUNT).length, 1);
    assert.equal(s.deployments.list().length, 1);
    s.deployments.sweep();
    assert.equal(s.deployments.get(ACCOUNT, "ft"), undefined);
  });
});

describe("case-insensitive names", () => {
  test("PUT RACE then PUT race is one deployment that keeps the case first written; GET and DELETE find it in any case", T, async () => {
    const s = setup();
    await s.reconciler.reconcileAll();
    const first = await s.put("RACE", "good", "1");
    assert.equal(first.created, true);
    const second = await s.put("race", "good", "2");
    assert.equal(second.created, false);
    assert.equal(second.deployment.name, "RACE");
    assert.deepEqual(s.deployments.list(ACCOUNT).map((d) => [d.name, d.model.version]), [["RACE", "2"]]);
    assert.equal(s.deployments.get(ACCOUNT, "rAcE")?.name, "RACE");
    assert.equal(s.deployments.resolve(ACCOUNT, "race").name, "RACE");
    assert.equal(s.deployments.update(ACCOUNT, "Race", { tags: { a: "b" } }).name, "RACE");
    await s.del("race");
    assert.deepEqual(s.deployments.list(ACCOUNT), []);
    assert.deepEqual(s.engine.status(), []);
  });
});

describe("instances (Azure ML online deployments)", () => {
  const instance = (s: ReturnType<typeof setup>, name: string, model: string, own = true) => {
    const change = s.deployments.createOrUpdate(ACCOUNT, name, { model: { format: "Test", name: model, version: "1" }, sku: { name: "GlobalStandard", capacity: 1 }, managedBy: "/online/ep/d", ...(own ? { instance: name } : {}) });
    return s.settle().then(() => change);
  };

  test("an instance gets a runner of its own (key #instance); other deployments keep the model's shared key; deleting an instance unloads only its runner", T, async () => {
    const s = setup();
    await s.reconciler.reconcileAll();
    await s.put("plain", "good");
    await s.put("plain2", "good");
    await instance(s, "ep--d--0", "good");
    await instance(s, "ep--d--1", "good");
    assert.deepEqual(s.engine.status().map((m) => m.key).sort(), [keyOf("good"), `${keyOf("good")}#ep--d--0`, `${keyOf("good")}#ep--d--1`]);
    for (const n of ["plain", "plain2", "ep--d--0", "ep--d--1"]) assert.equal(s.deployments.get(ACCOUNT, n)!.state, "Succeeded", n);
    assert.equal(s.deployments.resolve(ACCOUNT, "plain").engineKey, keyOf("good"), "existing deployments' keys are unchanged");
    assert.equal(s.deployments.resolve(ACCOUNT, "plain2").engineKey, keyOf("good"));
    assert.equal(s.deployments.resolve(ACCOUNT, "ep--d--1").engineKey, `${keyOf("good")}#ep--d--1`);
    assert.equal(s.reconciler.readiness().ready, true);

    await s.del("ep--d--1");
    assert.deepEqual(s.engine.unloads, [`${keyOf("good")}#ep--d--1`]);
    await s.del("ep--d--0");
    assert.deepEqual(s.engine.status().map((m) => m.key), [keyOf("good")], "the shared runner stays while 'plain' uses it");
  });

  test("a fine-tuned (adapter) model's instances attach the adapter in each instance's runner; removing one detaches it there only", T, async () => {
    const files2: ModelFiles = {
      ...files,
      ensure: async (ref) => (ref.name === "ft" ? { path: pathOf({ format: "Test", name: "good", version: "1" }), sha256: "", adapter: { path: "/models/ft.gguf", sha256: "" } } : files.ensure(ref)),
    } as ModelFiles;
    const s = setup({ models: [entry("good"), entry("ft", "1", { weights: "lora:/models/ft.gguf", baseModel: { format: "Test", name: "good", version: "1" } })], files: files2 });
    await s.reconciler.reconcileAll();
    await instance(s, "ep--d--0", "ft");
    await instance(s, "ep--d--1", "ft");
    assert.equal(s.deployments.get(ACCOUNT, "ep--d--1")!.state, "Succeeded", "one online deployment's instances may serve the same custom model");
    const adapters = () => Object.fromEntries(s.engine.status().map((m) => [m.key, (m.adapters ?? []).map((a) => a.id)]));
    assert.deepEqual(adapters(), { [`${keyOf("good")}#ep--d--0`]: [keyOf("ft")], [`${keyOf("good")}#ep--d--1`]: [keyOf("ft")] });
    assert.equal(s.deployments.resolve(ACCOUNT, "ep--d--1").engineKey, `${keyOf("good")}#ep--d--1`);
    assert.equal(s.deployments.resolve(ACCOUNT, "ep--d--1").adapter, keyOf("ft"));
    await s.del("ep--d--1");
    assert.deepEqual(adapters(), { [`${keyOf("good")}#ep--d--0`]: [keyOf("ft")] });
  });
});

describe("model router", () => {
  test("a model-router deployment is Succeeded without a runner, and the control loop leaves it so", T, async () => {
    const router = { format: "Test", name: "router", version: "1", capabilities: ["chatCompletion"], contextLength: 1024, weights: "none", engine: "router", skus: [{ name: "GlobalStandard", minCapacity: 1, maxCapacity: 100, defaultCapacity: 1 }], lifecycleStatus: "GenerallyAvailable", license: "MIT" };
    const s = setup({ models: [entry("good"), router] });
    await s.reconciler.reconcileAll();
    const change = await s.put("r", "router");
    assert.equal(s.deployments.get(ACCOUNT, "r")!.state, "Succeeded");
    assert.equal(s.deployments.getOperation(change.operation.id)?.status, "Succeeded");
    assert.deepEqual(s.engine.loads, []);
    await s.tick();
    assert.equal(s.deployments.get(ACCOUNT, "r")!.state, "Succeeded");
    assert.equal(s.reconciler.readiness().ready, true);
  });
});

/** One pass of a reconciler's loop and the work it started (the fake engine answers at once). */
async function stepLoop(reconciler: Reconciler): Promise<void> {
  reconciler.tick();
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
}

describe("another replica's changes (change notifications)", () => {
  /** Replica b: its own engine, reconciler and deployment service over a's store (the shared database). */
  function replicaOf(a: ReturnType<typeof setup>) {
    const catalog = new Catalog(Catalog.validateEntries([entry("good"), entry("good", "2"), entry("bad")], "test"));
    const deployments = new DeploymentService(a.store, catalog, { clock: a.now });
    const engine = new FakeEngine();
    const reconciler = new Reconciler({ deployments, catalog, engine, files, sequences: 1, clock: a.now, log: () => {} });
    const states: string[] = [];
    const setState = deployments.setState.bind(deployments);
    deployments.setState = (...args: Parameters<DeploymentService["setState"]>) => {
      states.push(args[1]);
      return setState(...args);
    };
    return { deployments, engine, reconciler, states };
  }

  test("a deployment written on one replica is loaded on the other without going back to Creating, and unloaded after its DELETE", T, async () => {
    const a = setup();
    await a.reconciler.reconcileAll();
    const b = replicaOf(a);
    await b.reconciler.reconcileAll();
    await a.put("d", "good");
    assert.equal(a.deployments.get(ACCOUNT, "d")?.state, "Succeeded");
    assert.equal(b.engine.status().length, 0, "b has not heard of it yet");
    await b.reconciler.remoteChanged(ACCOUNT, "d");
    assert.deepEqual(b.engine.loads, [keyOf("good")]);
    assert.deepEqual(b.states, ["Succeeded"], "b never showed the serving deployment as Creating");
    assert.equal(b.reconciler.readiness().ready, true);
    b.reconciler.tick();
    assert.equal(a.deployments.get(ACCOUNT, "d")?.state, "Succeeded", "b's loop does not find it lost");
    await a.del("d");
    await b.reconciler.remoteChanged(ACCOUNT, "d");
    assert.deepEqual(b.engine.unloads, [keyOf("good")]);
  });

  test("after a lost connection (no key) a replica loads every deployment it lacks", T, async () => {
    const a = setup();
    await a.reconciler.reconcileAll();
    const b = replicaOf(a);
    await b.reconciler.reconcileAll();
    await a.put("one", "good");
    await a.put("two", "good", "2");
    await b.reconciler.remoteChanged();
    assert.deepEqual(b.engine.loads.sort(), [keyOf("good"), keyOf("good", "2")]);
    await b.reconciler.remoteChanged();
    assert.equal(b.engine.loads.length, 2, "nothing twice");
  });

  test("without notifications a replica's loop finds deployments written elsewhere (loads them, never marks them lost) and unloads deleted ones", T, async () => {
    const a = setup();
    await a.reconciler.reconcileAll();
    const b = replicaOf(a);
    await b.reconciler.reconcileAll();
    await a.put("d", "good");
    await stepLoop(b.reconciler);
    assert.deepEqual(b.engine.loads, [keyOf("good")]);
    assert.deepEqual(b.states, ["Succeeded"], "not Failed ('its model is not loaded'), not Creating");
    await stepLoop(b.reconciler);
    assert.equal(b.engine.loads.length, 1);
    await a.del("d");
    await stepLoop(b.reconciler);
    assert.deepEqual(b.engine.unloads, [keyOf("good")]);
  });
});
