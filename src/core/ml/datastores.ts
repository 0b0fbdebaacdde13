// Azure ML datastores (reference azure-ml.md §4). Each workspace has a storage account on
// Ingot's own blob service (name and key made the first time anything asks for it) with the
// container `azureml-blobstore-<workspace guid>`; its datastore `workspaceblobstore` (AzureBlob,
// isDefault, AccountKey) exists without anyone creating it. Other AzureBlob datastores name a
// container of the same account. listSecrets hands out the account key, which opens the
// workspace's account on the blob service (SharedKey or SAS), as Azure's does.
import { randomBytes } from "node:crypto";
import { errors } from "../errors.ts";
import type { MlDataStore } from "../ports/index.ts";
import { objectOf, optionalString, stringMap } from "./assets.ts";
import type { BlobService } from "./blobs.ts";
import { ML_PROVIDER } from "./workspaces.ts";
import type { WorkspaceRecord } from "./workspaces.ts";

export type { BlobBlockRecord, BlobContainerRecord, BlobRecord } from "./blobs.ts";

export const DEFAULT_DATASTORE = "workspaceblobstore";
export const CREDENTIALS_TYPES = ["AccountKey", "Sas", "None"] as const;
export type CredentialsType = (typeof CREDENTIALS_TYPES)[number];

/** Azure's datastore names: letters, digits and underscores, at most 255 characters. */
const DATASTORE_NAME = /^[a-zA-Z0-9_]{1,255}$/;
/** Azure's container names: 3-63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit. */
const CONTAINER_NAME = /^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$/;

export interface StorageAccountRecord {
  /** 3-24 lowercase letters and digits, unique on this Ingot. */
  name: string;
  workspaceId: string;
  /** Base64 of 64 random bytes, as Azure's account keys are. */
  key: string;
  createdAt: number;
}

export interface DatastoreRecord {
  workspaceId: string;
  name: string;
  accountName: string;
  containerName: string;
  /** The storage suffix the caller gave; empty: Ingot's own (the http layer fills in its host). */
  endpoint: string;
  protocol: string;
  credentialsType: CredentialsType;
  sasToken?: string;
  isDefault: boolean;
  description: string;
  tags: Record<string, string>;
  properties: Record<string, string>;
  createdAt: number;
  updatedAt: number;
}

export interface DatastoreInput {
  datastoreType?: unknown;
  accountName?: unknown;
  containerName?: unknown;
  endpoint?: unknown;
  protocol?: unknown;
  credentials?: unknown;
  description?: unknown;
  tags?: unknown;
  properties?: unknown;
}

export const defaultContainerName = (w: Pick<WorkspaceRecord, "workspaceId">) => `azureml-blobstore-${w.workspaceId.toLowerCase()}`;

export class DatastoreService {
  #store: MlDataStore;
  #blobs: BlobService;
  #clock: () => number;

  constructor(store: MlDataStore, blobs: BlobService, options: { clock?: () => number } = {}) {
    this.#store = store;
    this.#blobs = blobs;
    this.#clock = options.clock ?? Date.now;
  }

  /** The workspace's storage account and default container, made the first time they are needed. */
  storageAccount(workspace: WorkspaceRecord): StorageAccountRecord {
    let account = this.#store.getStorageAccountOfWorkspace(workspace.workspaceId);
    if (!account) {
      const base = (workspace.name.toLowerCase().replace(/[^a-z0-9]/g, "").slice(0, 12) || "ws") + workspace.workspaceId.toLowerCase().replace(/[^0-9a-f]/g, "");
      let name = base.slice(0, 24);
      // The GUID's hex makes a clash unlikely; if it happens, vary the tail.
      for (let i = 0; this.#store.getStorageAccount(name); i++) name = base.slice(0, 20) + randomBytes(2).toString("hex");
      account = { name, workspaceId: workspace.workspaceId, key: randomBytes(64).toString("base64"), createdAt: this.#clock() };
      this.#store.putStorageAccount(account);
    }
    this.#blobs.ensureContainer(account.name, defaultContainerName(workspace));
    return account;
  }

  /** The default datastore: always there, never stored. */
  defaultDatastore(workspace: WorkspaceRecord): DatastoreRecord {
    const account = this.storageAccount(workspace);
    return {
      workspaceId: workspace.workspaceId,
      name: DEFAULT_DATASTORE,
      accountName: account.name,
      containerName: defaultContainerName(workspace),
      endpoint: "",
      protocol: "https",
      credentialsType: "AccountKey",
      isDefault: true,
      description: "The workspace's default blob datastore, on Ingot's blob service.",
      tags: {},
      properties: {},
      createdAt: Math.max(workspace.createdAt, 0),
      updatedAt: Math.max(workspace.createdAt, 0),
    };
  }

  get(workspace: WorkspaceRecord, name: string): DatastoreRecord | undefined {
    if (name.toLowerCase() === DEFAULT_DATASTORE) return this.defaultDatastore(workspace);
    return this.#store.getDatastore(workspace.workspaceId, name);
  }

  require(workspace: WorkspaceRecord, name: string): DatastoreRecord {
    const d = this.get(workspace, name);
    if (!d) throw errors.resourceNotFound(`${ML_PROVIDER}/workspaces/${workspace.name}/datastores`, name, workspace.resourceGroup);
    return d;
  }

  /**
   * The default first, then the others by creation; or in `orderBy` (createdtime, modifiedtime or
   * name; descending unless `orderByAsc`), as the list's query asks.
   */
  list(workspace: WorkspaceRecord, filter: { isDefault?: boolean; names?: string[]; searchText?: string; orderBy?: string; orderByAsc?: boolean } = {}): DatastoreRecord[] {
    let all = [this.defaultDatastore(workspace), ...this.#store.listDatastores(workspace.workspaceId)];
    if (filter.isDefault !== undefined) all = all.filter((d) => d.isDefault === filter.isDefault);
    if (filter.names?.length) {
      const wanted = new Set(filter.names.map((n) => n.toLowerCase()));
      all = all.filter((d) => wanted.has(d.name.toLowerCase()));
    }
    if (filter.searchText) {
      const text = filter.searchText.toLowerCase();
      all = all.filter((d) => d.name.toLowerCase().includes(text));
    }
    if (filter.orderBy) {
      const key = filter.orderBy.trim().toLowerCase();
      const by: Record<string, (d: DatastoreRecord) => number | string> = { createdtime: (d) => d.createdAt, modifiedtime: (d) => d.updatedAt, name: (d) => d.name.toLowerCase() };
      const f = by[key];
      if (!f) throw errors.armInvalid("UserError", `'orderBy' '${filter.orderBy.slice(0, 64)}' is not supported: use createdtime, modifiedtime or name.`, "orderBy");
      const sign = filter.orderByAsc ? 1 : -1;
      all = [...all].sort((a, b) => (f(a) < f(b) ? -sign : f(a) > f(b) ? sign : 0));
    }
    return all;
  }

  /** PUT: an AzureBlob datastore on a container of the workspace's storage account (made if missing). */
  createOrUpdate(workspace: WorkspaceRecord, name: string, input: DatastoreInput): { datastore: DatastoreRecord; created: boolean } {
    if (!DATASTORE_NAME.test(name))
      throw errors.armInvalid("UserError", `Datastore name '${name.slice(0, 64)}' is invalid: use letters, digits and underscores (at most 255).`, "name");
    if (name.toLowerCase() === DEFAULT_DATASTORE)
      throw errors.armInvalid("UserError", `'${DEFAULT_DATASTORE}' is the workspace's default datastore, which Ingot manages; it cannot be replaced. Register your container under another name.`, "name");
    const type = optionalString(input.datastoreType, "properties.datastoreType");
    if (type?.toLowerCase() !== "azureblob")
      throw errors.armInvalid(
        "UserError",
        `'properties.datastoreType' ${type === undefined ? "is required" : `'${type.slice(0, 64)}' is not supported`}: Ingot serves AzureBlob datastores (on its own blob service). Send "datastoreType": "AzureBlob".`,
        "properties.datastoreType",
      );
    const account = this.storageAccount(workspace);
    const accountName = optionalString(input.accountName, "properties.accountName");
    if (!accountName || accountName.toLowerCase() !== account.name)
      throw errors.armInvalid(
        "UserError",
        `'properties.accountName' ${accountName ? `'${accountName.slice(0, 64)}' is not this workspace's storage account` : "is required"}: on Ingot, a workspace's datastores are containers of its storage account '${account.name}' (see the datastore '${DEFAULT_DATASTORE}').`,
        "properties.accountName",
      );
    const containerName = optionalString(input.containerName, "properties.containerName");
    if (!containerName || !CONTAINER_NAME.test(containerName))
      throw errors.armInvalid(
        "UserError",
        `'properties.containerName' ${containerName ? `'${containerName.slice(0, 64)}' is not a valid container name` : "is required"}: use 3 to 63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit.`,
        "properties.containerName",
      );
    const creds = objectOf(input.credentials);
    const credsType = optionalString(creds?.credentialsType, "properties.credentials.credentialsType") ?? "None";
    const credentialsType = CREDENTIALS_TYPES.find((t) => t.toLowerCase() === credsType.toLowerCase());
    if (!credentialsType)
      throw errors.armInvalid(
        "UserError",
        `'properties.credentials.credentialsType' '${credsType.slice(0, 64)}' is not supported on Ingot: use AccountKey (the key listSecrets returns), Sas, or None (callers use their own token).`,
        "properties.credentials.credentialsType",
      );
    const secrets = objectOf(creds?.secrets);
    let sasToken: string | undefined;
    if (credentialsType === "AccountKey") {
      const key = optionalString(secrets?.key, "properties.credentials.secrets.key");
      if (key !== undefined && key !== account.key)
        throw errors.armInvalid(
          "UserError",
          `The account key in 'properties.credentials.secrets.key' does not match storage account '${account.name}'. Use the key that POST …/datastores/${DEFAULT_DATASTORE}/listSecrets returns, or leave the key out.`,
          "properties.credentials.secrets.key",
        );
    } else if (credentialsType === "Sas") {
      sasToken = optionalString(secrets?.sasToken, "properties.credentials.secrets.sasToken");
      if (!sasToken) throw errors.armInvalid("UserError", "'properties.credentials.secrets.sasToken' is required for credentialsType Sas.", "properties.credentials.secrets.sasToken");
    }
    this.#blobs.ensureContainer(account.name, containerName);
    const existing = this.#store.getDatastore(workspace.workspaceId, name);
    const now = this.#clock();
    const datastore: DatastoreRecord = {
      workspaceId: workspace.workspaceId,
      name: existing?.name ?? name,
      accountName: account.name,
      containerName,
      endpoint: optionalString(input.endpoint, "properties.endpoint") ?? "",
      protocol: optionalString(input.protocol, "properties.protocol") ?? "https",
      credentialsType,
      ...(sasToken ? { sasToken } : {}),
      isDefault: false,
      description: optionalString(input.description, "properties.description") ?? "",
      tags: stringMap(input.tags, "properties.tags") ?? {},
      properties: stringMap(input.properties, "properties.properties") ?? {},
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
    };
    this.#store.putDatastore(datastore);
    return { datastore, created: !existing };
  }

  /** Deletes a datastore registration (its container and blobs stay, as Azure's do); false when there was none. */
  delete(workspace: WorkspaceRecord, name: string): boolean {
    if (name.toLowerCase() === DEFAULT_DATASTORE)
      throw errors.armInvalid("UserError", `'${DEFAULT_DATASTORE}' is the workspace's default datastore and cannot be deleted. Delete the workspace to remove it.`, "name");
    if (!this.#store.getDatastore(workspace.workspaceId, name)) return false;
    this.#store.deleteDatastore(workspace.workspaceId, name);
    return true;
  }

  /** POST listSecrets: the account key (AccountKey) or the stored SAS; a datastore without credentials has none to list. */
  listSecrets(workspace: WorkspaceRecord, name: string): { secretsType: "AccountKey"; key: string } | { secretsType: "Sas"; sasToken: string } {
    const d = this.require(workspace, name);
    if (d.credentialsType === "AccountKey") return { secretsType: "AccountKey", key: this.storageAccount(workspace).key };
    if (d.credentialsType === "Sas" && d.sasToken) return { secretsType: "Sas", sasToken: d.sasToken };
    throw errors.armInvalid("UserError", `Datastore '${d.name}' has no credentials (credentialsType None): callers use their own token on the blob service. Register it with AccountKey credentials to list a secret.`, "name");
  }
}
