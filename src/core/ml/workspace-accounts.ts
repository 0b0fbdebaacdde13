// The Cognitive Services account behind an Azure ML workspace (WorkspaceRecord.account): Azure
// gives a Foundry hub an AI Services resource when it is created; Ingot does the same, so the
// workspace's fine-tuning jobs, files and fine-tuned models are that account's too, and its
// OpenAI-style API shows them. The account carries a tag naming its workspace, so deleting the
// workspace deletes only an account Ingot made for it.
import type { AccountService } from "../accounts/service.ts";
import type { WorkspaceAccounts } from "./workspaces.ts";

export const WORKSPACE_TAG = "ingot-ml-workspace";

export class AccountBackedWorkspaceAccounts implements WorkspaceAccounts {
  #accounts: AccountService;

  constructor(accounts: AccountService) {
    this.#accounts = accounts;
  }

  ensure(w: { subscription: string; resourceGroup: string; name: string; location: string; workspaceArmId: string; workspaceId: string }): string {
    // `<workspace>-ais` reads well; account names are global in Ingot (subdomains in Azure), so a taken one falls back to the GUID.
    for (const name of [`${w.name}-ais`, `${w.name}-${w.workspaceId.slice(0, 8)}`, `ws-${w.workspaceId}`]) {
      const existing = this.#accounts.get(name);
      if (existing && existing.tags[WORKSPACE_TAG]?.toLowerCase() !== w.workspaceArmId.toLowerCase()) continue;
      if (existing) return existing.name;
      this.#accounts.createOrUpdate(w.subscription, w.resourceGroup, name, { kind: "AIServices", location: w.location, tags: { [WORKSPACE_TAG]: w.workspaceArmId } });
      return name;
    }
    throw new Error(`no free account name for workspace ${w.workspaceArmId}`);
  }

  release(account: string, workspaceArmId: string): void {
    const a = this.#accounts.get(account);
    if (a && a.tags[WORKSPACE_TAG]?.toLowerCase() === workspaceArmId.toLowerCase()) this.#accounts.delete(a.subscription, a.resourceGroup, a.name);
  }
}
