// The SQLite ModelRegistry: registrations persist, pins are kept apart from models, and a
// model registered by another process (another connection, like `ingot models add` next to
// a running server) shows up in the next lookup without a restart.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { Catalog } from "../../src/core/catalog/catalog.ts";
import { IngotError } from "../../src/core/errors.ts";
import { SqliteModelRegistry } from "../../src/store/sqlite/model-registry-store.ts";
import { SqliteStore } from "../../src/store/sqlite/store.ts";

const dir = mkdtempSync(join(tmpdir(), "ingot-registry-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const [model] = Catalog.validateEntries(
  [
    {
      format: "Custom",
      name: "byo",
      version: "1",
      capabilities: ["chatCompletion", "completion"],
      contextLength: 2048,
      weights: "file:/models/byo.gguf",
      sha256: "a".repeat(64),
      sizeBytes: 1234,
      skus: [{ name: "GlobalStandard", minCapacity: 1, maxCapacity: 100, defaultCapacity: 10 }],
      lifecycleStatus: "GenerallyAvailable",
      license: "MIT",
    },
  ],
  "test",
);

test("register, get, list, remove, and conflicts", () => {
  const store = new SqliteStore(join(dir, "a.db"));
  try {
    const registry = new SqliteModelRegistry(store.database, () => 42);
    const r = registry.register(model, "acct");
    assert.deepEqual(r, { model, account: "acct", createdAt: 42 });
    assert.deepEqual(registry.get({ format: "Custom", name: "byo", version: "1" }), r);
    assert.equal(registry.list().length, 1);
    assert.throws(() => registry.register(model), (e: unknown) => e instanceof IngotError && e.code === "ModelAlreadyExists" && /already registered/.test(e.message));
    assert.equal(registry.remove({ format: "Custom", name: "byo", version: "1" }), true);
    assert.equal(registry.remove({ format: "Custom", name: "byo", version: "1" }), false);
    assert.equal(registry.list().length, 0);
  } finally {
    store.close();
  }
});

test("trust-on-first-use pins live beside models without showing up as models", () => {
  const store = new SqliteStore(join(dir, "b.db"));
  try {
    const registry = new SqliteModelRegistry(store.database);
    const uri = "hf:o/r/f.gguf";
    assert.equal(registry.pinnedWeights(uri), undefined);
    registry.pinWeights(uri, { sha256: "b".repeat(64), sizeBytes: 9 });
    registry.pinWeights(uri, { sha256: "c".repeat(64), sizeBytes: 10 });
    assert.deepEqual(registry.pinnedWeights(uri), { sha256: "c".repeat(64), sizeBytes: 10 });
    assert.deepEqual(registry.list(), []);
    registry.unpinWeights(uri);
    assert.equal(registry.pinnedWeights(uri), undefined);
  } finally {
    store.close();
  }
});

test("a registration through another connection reaches a live catalog", () => {
  const path = join(dir, "c.db");
  const server = new SqliteStore(path);
  const cli = new SqliteStore(path);
  try {
    const catalog = new Catalog(Catalog.readDirectory(join(import.meta.dirname, "../../catalog")), new SqliteModelRegistry(server.database));
    assert.throws(() => catalog.resolve({ format: "Custom", name: "byo" }), /is not supported/);
    new SqliteModelRegistry(cli.database).register(model);
    assert.equal(catalog.resolve({ format: "Custom", name: "byo" }).sha256, "a".repeat(64));
    assert.equal(catalog.ownerOf(model), undefined, "registered for every account");
    new SqliteModelRegistry(cli.database).remove(model);
    assert.throws(() => catalog.find(model), /not in the catalog/);
  } finally {
    cli.close();
    server.close();
  }
});
