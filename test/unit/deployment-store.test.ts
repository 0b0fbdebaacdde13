// The SQLite store's deployment names: one deployment per account and name in any case
// (migration 7), and a database from before that holds two names differing only by case
// migrates without error and keeps both readable.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, test } from "node:test";
import type { DeploymentRecord } from "../../src/core/ports/index.ts";
import { MIGRATIONS } from "../../src/store/sqlite/migrations.ts";
import { SqliteStore } from "../../src/store/sqlite/store.ts";

const T = { timeout: 20_000 };
const dir = mkdtempSync(join(tmpdir(), "ingot-store-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const deployment = (name: string, createdAt: number, version = "1"): DeploymentRecord => ({
  account: "acct",
  name,
  model: { format: "Test", name: "m", version },
  sku: { name: "GlobalStandard", capacity: 1 },
  state: "Succeeded",
  error: null,
  createdAt,
  updatedAt: createdAt,
});

test("the store refuses a second deployment whose name differs only by case", T, () => {
  const store = new SqliteStore(":memory:");
  store.putAccount({ name: "acct", subscription: "s", resourceGroup: "rg", location: "local", kind: "AIServices", skuName: "S0", tags: {}, properties: {}, createdAt: 0 });
  store.putDeployment(deployment("RACE", 1));
  assert.equal(store.getDeployment("acct", "race")?.name, "RACE");
  assert.throws(() => store.putDeployment(deployment("race", 2)), /UNIQUE/);
  assert.deepEqual(store.listDeployments("acct").map((d) => d.name), ["RACE"]);
  store.close();
});

test("a database from before with RACE and race migrates; both stay readable, the older one answers other spellings", T, () => {
  const path = join(dir, "old.db");
  const db = new DatabaseSync(path);
  db.exec("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)");
  const before = MIGRATIONS.filter((m) => m.version <= 6);
  for (const m of before) {
    db.exec(m.sql);
    db.prepare("INSERT INTO schema_migrations (version, applied_at) VALUES (?, 0)").run(m.version);
  }
  db.exec("INSERT INTO accounts (name, subscription, resource_group, location, created_at) VALUES ('acct', 's', 'rg', 'local', 0)");
  const insert = db.prepare(
    "INSERT INTO deployments (account, name, model_format, model_name, model_version, sku_name, sku_capacity, state, created_at, updated_at) VALUES ('acct', ?, 'Test', 'm', ?, 'GlobalStandard', 1, 'Succeeded', ?, ?)",
  );
  insert.run("race", "2", 20, 20);
  insert.run("RACE", "1", 10, 10);
  db.close();

  const store = new SqliteStore(path);
  assert.deepEqual(store.listDeployments("acct").map((d) => d.name).sort(), ["RACE", "race"]);
  assert.equal(store.getDeployment("acct", "race")?.model.version, "2", "exact name first");
  assert.equal(store.getDeployment("acct", "RACE")?.model.version, "1");
  assert.equal(store.getDeployment("acct", "Race")?.name, "RACE", "another spelling finds the older one");
  // Deleting the newer duplicate leaves the older one; names are unique from then on.
  store.deleteDeployment("acct", "race");
  assert.equal(store.getDeployment("acct", "race")?.name, "RACE");
  assert.throws(() => store.putDeployment(deployment("rAcE", 30)), /UNIQUE/);
  store.close();
});
