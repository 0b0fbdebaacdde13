// Test helper for the Azure ML unit tests: a temporary folder (removed after the file's tests)
// with a fresh SQLite store per case, a clock that moves a second each time it is read, and the
// workspace service (over accounts) that most ML services need.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import { AccountService } from "../../src/core/accounts/service.ts";
import { AccountBackedWorkspaceAccounts } from "../../src/core/ml/workspace-accounts.ts";
import { WorkspaceService } from "../../src/core/ml/workspaces.ts";
import { SqliteStore } from "../../src/store/sqlite/store.ts";
import { SqliteWorkspaceStore } from "../../src/store/sqlite/workspace-store.ts";

export interface MlCase {
  /** The case's own folder (blobs and such go under it). */
  root: string;
  store: SqliteStore;
  /** Moves 1000 ms on each call, from `start`. */
  clock: () => number;
  accounts: AccountService;
  workspaces: WorkspaceService;
}

/** `fresh()` makes one case; `prefix` names the temporary folder (e.g. "ingot-ml-jobs-"). */
export function mlBed(prefix: string): { fresh(options?: { location?: string; start?: number }): MlCase } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  after(() => rmSync(dir, { recursive: true, force: true }));
  let n = 0;
  return {
    fresh({ location = "local", start = 1_000_000 } = {}) {
      const root = join(dir, `case${n++}`);
      mkdirSync(root);
      const store = new SqliteStore(join(root, "ingot.db"));
      let t = start;
      const clock = () => (t += 1000);
      const accounts = new AccountService(store);
      const workspaces = new WorkspaceService(new SqliteWorkspaceStore(store.database), { defaultLocation: location, accounts: new AccountBackedWorkspaceAccounts(accounts), clock });
      return { root, store, clock, accounts, workspaces };
    },
  };
}
