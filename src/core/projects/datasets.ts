// A Foundry project's datasets (the project endpoint's /datasets): versions of uri_file or
// uri_folder data, uploaded through a SAS on Ingot's own blob service (startPendingUpload),
// then registered with PATCH (merge-patch). Each project gets a storage account on the blob
// service, as each ML workspace does; each dataset version its own container.
import { createHash } from "node:crypto";
import { errors, IngotError } from "../errors.ts";
import type { ProjectDataStore } from "../ports/project-data-store.ts";
import type { ProjectRef } from "./connections.ts";
import { containerSas } from "./sas.ts";

export const DATASET_TYPES = ["uri_file", "uri_folder"] as const;
export type DatasetType = (typeof DATASET_TYPES)[number];
const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,254}$/;
const VERSION = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$/;
/** How long a SAS handed out for an upload or a read lasts. */
export const SAS_LIFETIME_MS = 60 * 60 * 1000;

export interface DatasetVersionRecord {
  account: string;
  project: string;
  name: string;
  version: string;
  type: DatasetType;
  dataUri: string;
  connectionName: string | null;
  description: string | null;
  tags: Record<string, string>;
  createdAt: number;
  updatedAt: number;
}

/** The blob service as datasets need it: the project's storage account (made when first needed) and containers. */
export interface DatasetStorage {
  account(projectKey: string): { name: string; key: string };
  ensureContainer(account: string, container: string): void;
}

export interface BlobReference {
  blobUri: string;
  storageAccountArmId: string;
  credential: { type: "SAS"; sasUri: string };
}

/** A dataUri as stored: without a query (the SDK sends the blob's URL with its SAS, which must not be kept). */
export function storedDataUri(uri: string): string {
  const q = uri.indexOf("?");
  return q < 0 ? uri : uri.slice(0, q);
}

export class DatasetService {
  #store: ProjectDataStore;
  #storage: DatasetStorage;
  #clock: () => number;

  constructor(store: ProjectDataStore, storage: DatasetStorage, clock: () => number = Date.now) {
    this.#store = store;
    this.#storage = storage;
    this.#clock = clock;
  }

  static checkName(name: string, version?: string): void {
    if (!NAME.test(name)) throw errors.invalid(`Dataset name '${name.slice(0, 64)}' is invalid: use letters, digits, '-', '_' or '.', starting with a letter or digit (at most 255).`, "name");
    if (version !== undefined && !VERSION.test(version))
      throw errors.invalid(`Dataset version '${version.slice(0, 64)}' is invalid: use letters, digits, '-', '_' or '.', starting with a letter or digit (at most 64).`, "version");
  }

  /** The container of one dataset version: a lowercase name derived from the project, dataset and version. */
  static containerOf(p: ProjectRef, name: string, version: string): string {
    return `dataset-${createHash("sha256").update(`${p.account}\n${p.project}\n${name}\n${version}`).digest("hex").slice(0, 40)}`;
  }

  #blobReference(p: ProjectRef, name: string, version: string, blobBase: string, subscription: string, resourceGroup: string, permissions: string): BlobReference {
    const account = this.#storage.account(`${p.account}/${p.project}`);
    const container = DatasetService.containerOf(p, name, version);
    this.#storage.ensureContainer(account.name, container);
    const blobUri = `${blobBase}/blob/${account.name}/${container}`;
    return {
      blobUri,
      storageAccountArmId: `/subscriptions/${subscription}/resourceGroups/${resourceGroup}/providers/Microsoft.Storage/storageAccounts/${account.name}`,
      credential: { type: "SAS", sasUri: `${blobUri}?${containerSas(account, container, permissions, this.#clock() + SAS_LIFETIME_MS)}` },
    };
  }

  /** startPendingUpload: a container for the version and a SAS that can write to it. */
  startPendingUpload(p: ProjectRef, name: string, version: string, body: Record<string, unknown> | undefined, where: { blobBase: string; subscription: string; resourceGroup: string }) {
    DatasetService.checkName(name, version);
    const type = body?.pendingUploadType;
    if (type !== undefined && type !== "BlobReference")
      throw errors.invalid(`'pendingUploadType' '${String(type).slice(0, 32)}' is not supported: send "BlobReference".`, "pendingUploadType");
    if (this.get(p, name, version))
      throw errors.conflict("Conflict", `Dataset '${name}' already has version '${version}'. Upload to a new version, or delete this one first.`);
    const pendingUploadId = typeof body?.pendingUploadId === "string" && body.pendingUploadId ? body.pendingUploadId : `${name}-${version}-${this.#clock().toString(36)}`;
    return { pendingUploadId, version, pendingUploadType: "BlobReference", blobReference: this.#blobReference(p, name, version, where.blobBase, where.subscription, where.resourceGroup, "racwdl") };
  }

  /** getCredentials: a read (and list) SAS for the version's container. */
  credentials(p: ProjectRef, name: string, version: string, where: { blobBase: string; subscription: string; resourceGroup: string }) {
    this.require(p, name, version);
    return { blobReference: this.#blobReference(p, name, version, where.blobBase, where.subscription, where.resourceGroup, "rl") };
  }

  /** PATCH (merge-patch): creates the version (type and dataUri required) or updates description and tags. */
  createOrUpdate(p: ProjectRef, name: string, version: string, body: Record<string, unknown> | undefined): { dataset: DatasetVersionRecord; created: boolean } {
    DatasetService.checkName(name, version);
    const b = body ?? {};
    const existing = this.get(p, name, version);
    const type = b.type ?? existing?.type;
    if (typeof type !== "string" || !DATASET_TYPES.includes(type as DatasetType))
      throw errors.invalid(`'type' must be one of ${DATASET_TYPES.join(", ")}.`, "type");
    const dataUri = b.dataUri ?? existing?.dataUri;
    if (typeof dataUri !== "string" || !/^(https?|azureml|wasbs?|abfss?):\/\//i.test(dataUri))
      throw errors.invalid("'dataUri' is required: the URL of the data (the blob or container URL the upload wrote to).", "dataUri");
    if (existing && b.type !== undefined && b.type !== existing.type) throw errors.invalid(`'type' of dataset '${name}' version '${version}' is ${existing.type}: a version's type cannot change.`, "type");
    if (existing && b.dataUri !== undefined && storedDataUri(String(b.dataUri)) !== existing.dataUri)
      throw errors.invalid(`'dataUri' of dataset '${name}' version '${version}' cannot change. Create a new version for other data.`, "dataUri");
    for (const f of ["description", "connectionName"] as const)
      if (b[f] !== undefined && b[f] !== null && typeof b[f] !== "string") throw errors.invalid(`'${f}' must be a string.`, f);
    let tags = existing?.tags ?? {};
    if (b.tags !== undefined) {
      if (b.tags === null) tags = {};
      else if (typeof b.tags !== "object" || Array.isArray(b.tags)) throw errors.invalid("'tags' must be an object of strings.", "tags");
      else {
        // merge-patch: a null value removes the tag.
        tags = { ...tags };
        for (const [k, v] of Object.entries(b.tags as Record<string, unknown>)) {
          if (v === null) delete tags[k];
          else if (typeof v !== "string") throw errors.invalid(`'tags.${k}' must be a string.`, `tags.${k}`);
          else tags[k] = v;
        }
      }
    }
    const now = this.#clock();
    const dataset: DatasetVersionRecord = {
      account: p.account,
      project: p.project,
      name: existing?.name ?? name,
      version,
      type: type as DatasetType,
      dataUri: existing?.dataUri ?? storedDataUri(dataUri),
      connectionName: b.connectionName === undefined ? (existing?.connectionName ?? null) : (b.connectionName as string | null),
      description: b.description === undefined ? (existing?.description ?? null) : (b.description as string | null),
      tags,
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
    };
    this.#store.putDatasetVersion(dataset);
    return { dataset, created: !existing };
  }

  get(p: ProjectRef, name: string, version: string): DatasetVersionRecord | undefined {
    return this.#store.listDatasetVersions(p.account, p.project, name).find((d) => d.version === version);
  }

  require(p: ProjectRef, name: string, version: string): DatasetVersionRecord {
    const d = this.get(p, name, version);
    if (!d) throw new IngotError("not_found", "NotFound", `Dataset '${name}' has no version '${version}' in project '${p.project}'. List the versions with GET /datasets/${name}/versions.`);
    return d;
  }

  versions(p: ProjectRef, name: string): DatasetVersionRecord[] {
    return this.#store.listDatasetVersions(p.account, p.project, name);
  }

  /** The latest version (most recently created) of each dataset. */
  latest(p: ProjectRef): DatasetVersionRecord[] {
    const byName = new Map<string, DatasetVersionRecord>();
    for (const d of this.#store.listDatasetVersions(p.account, p.project)) {
      const seen = byName.get(d.name.toLowerCase());
      if (!seen || d.createdAt >= seen.createdAt) byName.set(d.name.toLowerCase(), d);
    }
    return [...byName.values()];
  }

  delete(p: ProjectRef, name: string, version: string): boolean {
    return this.#store.deleteDatasetVersion(p.account, p.project, name, version);
  }

  view(p: ProjectRef, d: DatasetVersionRecord) {
    return {
      id: `${p.projectId}/datasets/${d.name}/versions/${d.version}`,
      name: d.name,
      version: d.version,
      type: d.type,
      dataUri: d.dataUri,
      isReference: false,
      ...(d.connectionName ? { connectionName: d.connectionName } : {}),
      ...(d.description !== null ? { description: d.description } : {}),
      tags: d.tags,
    };
  }
}
