// Each project's storage account on Ingot's blob service, kept with the ML workspaces' accounts
// (same table, same key handling, so the blob endpoint's SAS and Shared Key checks find it). Its
// owner id is `project:<account>/<project>`, never a workspace id (those are GUIDs).
import { createHash, randomBytes } from "node:crypto";
import type { BlobService } from "../ml/blobs.ts";
import type { MlDataStore } from "../ports/ml-data-store.ts";
import type { DatasetStorage } from "./datasets.ts";

export function projectStorage(store: Pick<MlDataStore, "getStorageAccount" | "getStorageAccountOfWorkspace" | "putStorageAccount">, blobs: Pick<BlobService, "ensureContainer">, clock: () => number = Date.now): DatasetStorage {
  return {
    account(projectKey) {
      const owner = `project:${projectKey}`;
      let account = store.getStorageAccountOfWorkspace(owner);
      if (!account) {
        const base = `proj${createHash("sha256").update(owner).digest("hex")}`;
        let name = base.slice(0, 24);
        for (let i = 0; store.getStorageAccount(name); i++) name = base.slice(0, 20) + randomBytes(2).toString("hex");
        account = { name, workspaceId: owner, key: randomBytes(64).toString("base64"), createdAt: clock() };
        store.putStorageAccount(account);
      }
      return { name: account.name, key: account.key };
    },
    ensureContainer: (account, container) => blobs.ensureContainer(account, container),
  };
}
