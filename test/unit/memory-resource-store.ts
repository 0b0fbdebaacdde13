// Test helper: the ResourceStore port in memory, for unit tests of the deployment rules and
// of what runs on deployments (generation).
import type { AccountRecord, DeploymentRecord, OperationRecord, ResourceStore } from "../../src/core/ports/index.ts";

/**
 * The ResourceStore port in memory. Records are copied in and out (as a database would), so
 * the service cannot pass a test by mutating what it read. Names match exactly first, then
 * case-insensitively, as the port documents.
 */
export class MemoryResourceStore implements ResourceStore {
  accounts = new Map<string, AccountRecord>();
  deployments: DeploymentRecord[] = [];
  operations = new Map<string, OperationRecord>();
  touches: { account: string; name: string; at: number }[] = [];
  writes = 0;

  getAccount(name: string) {
    const a = this.accounts.get(name);
    return a && structuredClone(a);
  }
  listAccounts() {
    return [...this.accounts.values()].map((a) => structuredClone(a));
  }
  putAccount(account: AccountRecord) {
    this.accounts.set(account.name, structuredClone(account));
  }
  deleteAccount(name: string) {
    this.accounts.delete(name);
    this.deployments = this.deployments.filter((d) => d.account !== name);
  }
  getKeys() {
    return {};
  }
  setKey() {}
  accountForKeyHash() {
    return undefined;
  }
  listDeployments(account?: string) {
    return this.deployments.filter((d) => account === undefined || d.account === account).map((d) => structuredClone(d));
  }
  #find(account: string, name: string) {
    return (
      this.deployments.find((d) => d.account === account && d.name === name) ??
      this.deployments.find((d) => d.account === account && d.name.toLowerCase() === name.toLowerCase())
    );
  }
  getDeployment(account: string, name: string) {
    const d = this.#find(account, name);
    return d && structuredClone(d);
  }
  putDeployment(deployment: DeploymentRecord) {
    this.writes++;
    const i = this.deployments.findIndex((d) => d.account === deployment.account && d.name === deployment.name);
    if (i >= 0) this.deployments[i] = structuredClone(deployment);
    else this.deployments.push(structuredClone(deployment));
  }
  deleteDeployment(account: string, name: string) {
    this.writes++;
    this.deployments = this.deployments.filter((d) => !(d.account === account && d.name === name));
  }
  touchDeployment(account: string, name: string, at: number) {
    this.touches.push({ account, name, at });
    const d = this.deployments.find((x) => x.account === account && x.name === name);
    if (d) d.lastUsedAt = at;
  }
  getOperation(id: string) {
    const op = this.operations.get(id);
    return op && structuredClone(op);
  }
  putOperation(op: OperationRecord) {
    this.operations.set(op.id, structuredClone(op));
  }
  close() {}
}
