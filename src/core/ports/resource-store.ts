// The ResourceStore port: persistence for accounts, keys, deployments and operations (the
// ARM resources), with their records. Implemented by store/sqlite/store.ts (SqliteStore).

export interface AccountRecord {
  name: string;
  subscription: string;
  resourceGroup: string;
  location: string;
  /** ARM kind: "AIServices" (Foundry) or "OpenAI". */
  kind: string;
  skuName: string;
  tags: Record<string, string>;
  /** User-settable ARM properties echoed back (customSubDomainName, publicNetworkAccess, …). */
  properties: Record<string, unknown>;
  createdAt: number;
}

export interface ModelRef {
  format: string;
  name: string;
  version: string;
}

export type ProvisioningState = "Accepted" | "Creating" | "Succeeded" | "Failed" | "Deleting";

/** Where provisioning is: shown on the deployment and its operation while it runs. */
export interface ProvisioningProgress {
  phase: "queued" | "downloading" | "verifying" | "building" | "loading" | "ready" | "failed";
  percentComplete: number;
  bytes?: number;
  totalBytes?: number;
  /** After a failure: failed attempts so far, and when the reconciler tries again (ISO 8601). */
  attempts?: number;
  nextRetryAt?: string;
}

/** Deployment properties stored as given and echoed back. */
export interface DeploymentOptions {
  raiPolicyName?: string;
  versionUpgradeOption?: string;
  /** ARM id of the account a custom model comes from (cross-account / cross-tenant deploy). */
  source?: string;
  /**
   * ARM id of the Azure ML resource (serverless endpoint, online deployment) that owns this
   * record; such records live in the pseudo-account mlDeploymentAccount(workspace), are
   * written and deleted only by that resource, and are exempt from the expiry rules.
   */
  managedBy?: string;
  /** Per-minute limits replacing the SKU's (serverless endpoints: 200,000 TPM, 1,000 RPM). */
  limits?: { tokensPerMinute: number; requestsPerMinute: number };
  /**
   * One instance of an Azure ML online deployment (its record name, lowercased): it runs in a
   * runner process of its own, engine key `<model key>#<instance>` (instanceKeyOf). Absent
   * (every other deployment): the model's shared key.
   */
  instance?: string;
  /** A model-router deployment's routing (core/router/policy.ts RoutingConfig). */
  routing?: { mode: "balanced" | "cost" | "quality"; models?: ModelRef[] };
}

export interface DeploymentRecord {
  account: string;
  name: string;
  model: ModelRef;
  sku: { name: string; capacity: number };
  state: ProvisioningState;
  error: string | null;
  createdAt: number;
  updatedAt: number;
  tags?: Record<string, string>;
  options?: DeploymentOptions;
  progress?: ProvisioningProgress | null;
  /** Last inference call (for the idle-deletion rule of fine-tuned deployments). */
  lastUsedAt?: number | null;
}

export type OperationStatus = "InProgress" | "Succeeded" | "Failed" | "Canceled";

/** An ARM asynchronous operation (Azure-AsyncOperation / Location polling). */
export interface OperationRecord {
  id: string;
  account: string;
  deployment: string | null;
  kind: "create" | "update" | "delete";
  status: OperationStatus;
  errorCode: string | null;
  errorMessage: string | null;
  startedAt: number;
  endedAt: number | null;
}

/** Persistence for accounts, keys, deployments and operations (SQLite by default). */
export interface ResourceStore {
  getAccount(name: string): AccountRecord | undefined;
  listAccounts(filter?: { subscription?: string; resourceGroup?: string }): AccountRecord[];
  putAccount(account: AccountRecord): void;
  /** Removes the account with its keys and deployments. */
  deleteAccount(name: string): void;
  /** Key values by key name ("key1", "key2"); listKeys returns them, as Azure does. */
  getKeys(account: string): Record<string, string>;
  /** Stores the value and its hash (the hash is what requests are matched by). */
  setKey(account: string, keyName: string, value: string, hash: string): void;
  /** The account whose key has this hash, if any. */
  accountForKeyHash(hash: string): string | undefined;
  listDeployments(account?: string): DeploymentRecord[];
  /**
   * Deployment names compare case-insensitively, as ARM resource names do: `RACE` finds the
   * deployment stored as `race` (an exact match first, where an old database holds both).
   * The record carries the name as first written; put/delete/touch take that stored name.
   */
  getDeployment(account: string, name: string): DeploymentRecord | undefined;
  putDeployment(deployment: DeploymentRecord): void;
  deleteDeployment(account: string, name: string): void;
  touchDeployment(account: string, name: string, at: number): void;
  getOperation(id: string): OperationRecord | undefined;
  putOperation(op: OperationRecord): void;
  close(): void;
}
