// Job leases (replicas on one database, issue 16 item 4): SqliteJobStore.claimJob / renew /
// release, on SQLite here (test/e2e/postgres-replicas.test.ts runs them on PostgreSQL).
import assert from "node:assert/strict";
import { test } from "node:test";
import { SqliteJobStore } from "../../src/store/sqlite/job-store.ts";
import { SqliteStore } from "../../src/store/sqlite/store.ts";

test("a job's lease: one holder at a time, taken over only once it ran out, renewed and released by its holder", () => {
  const store = new SqliteStore(":memory:");
  const jobs = new SqliteJobStore(store.database);
  assert.equal(jobs.claimJob("ftjob-1", "a", 1_000, 15_000), true);
  assert.equal(jobs.claimJob("ftjob-1", "b", 2_000, 15_000), false, "a holds it");
  assert.equal(jobs.claimJob("ftjob-1", "a", 3_000, 15_000), true, "its holder keeps it (and extends it to 18 000)");
  assert.equal(jobs.claimJob("ftjob-1", "b", 17_999, 15_000), false);
  assert.equal(jobs.renewJobLease("ftjob-1", "a", 10_000, 15_000), true, "renewed to 25 000");
  assert.equal(jobs.claimJob("ftjob-1", "b", 24_999, 15_000), false);
  assert.equal(jobs.claimJob("ftjob-1", "b", 25_000, 15_000), true, "a stopped renewing: b takes it over");
  assert.equal(jobs.renewJobLease("ftjob-1", "a", 25_001, 15_000), false, "a learns it lost the job");
  jobs.releaseJob("ftjob-1", "a");
  assert.equal(jobs.claimJob("ftjob-1", "a", 25_002, 15_000), false, "a's release does not drop b's lease");
  jobs.releaseJob("ftjob-1", "b");
  assert.equal(jobs.claimJob("ftjob-1", "a", 25_003, 15_000), true, "released: free at once");
  assert.equal(jobs.claimJob("ftjob-2", "b", 25_003, 15_000), true, "leases are per job");
  store.close();
});
