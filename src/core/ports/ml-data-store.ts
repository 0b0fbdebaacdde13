// The MlDataStore port: what Azure ML's data plane keeps besides content: the storage account
// behind each workspace (name and key), its datastores, data containers and versions, and the
// blob service's containers, blobs and uncommitted blocks (the content itself lives in a
// BlobStore under a key each record names). Implemented by store/sqlite/ml-data-store.ts.
// Datastore, data and blob-container names are case-insensitive; blob names are not (Azure's).
import type { DataContainerRecord, DataVersionRecord } from "../ml/data.ts";
import type { BlobBlockRecord, BlobContainerRecord, BlobRecord, DatastoreRecord, StorageAccountRecord } from "../ml/datastores.ts";

export interface MlDataStore {
  getStorageAccount(name: string): StorageAccountRecord | undefined;
  getStorageAccountOfWorkspace(workspaceId: string): StorageAccountRecord | undefined;
  putStorageAccount(account: StorageAccountRecord): void;

  getDatastore(workspaceId: string, name: string): DatastoreRecord | undefined;
  listDatastores(workspaceId: string): DatastoreRecord[];
  putDatastore(datastore: DatastoreRecord): void;
  deleteDatastore(workspaceId: string, name: string): void;

  getDataContainer(workspaceId: string, name: string): DataContainerRecord | undefined;
  listDataContainers(workspaceId: string): DataContainerRecord[];
  putDataContainer(container: DataContainerRecord): void;
  /** Deletes the container and all its versions. */
  deleteDataContainer(workspaceId: string, name: string): void;
  getDataVersion(workspaceId: string, name: string, version: string): DataVersionRecord | undefined;
  listDataVersions(workspaceId: string, name: string): DataVersionRecord[];
  putDataVersion(version: DataVersionRecord): void;
  deleteDataVersion(workspaceId: string, name: string, version: string): void;

  getBlobContainer(account: string, name: string): BlobContainerRecord | undefined;
  listBlobContainers(account: string): BlobContainerRecord[];
  putBlobContainer(container: BlobContainerRecord): void;
  /** Deletes the container's row, its blobs' and blocks' rows; returns the content keys they named. */
  deleteBlobContainer(account: string, name: string): string[];
  getBlob(account: string, container: string, name: string): BlobRecord | undefined;
  /** Blobs whose names start with `prefix`, in name order (binary), after `marker` when given, at most `limit`. */
  listBlobs(account: string, container: string, prefix: string, limit: number, marker?: string): BlobRecord[];
  putBlob(blob: BlobRecord): void;
  deleteBlob(account: string, container: string, name: string): void;
  putBlock(block: BlobBlockRecord): void;
  listBlocks(account: string, container: string, blob: string): BlobBlockRecord[];
  /** Deletes a blob's uncommitted blocks' rows; returns their content keys. */
  deleteBlocks(account: string, container: string, blob: string): string[];
  /** Deletes uncommitted blocks staged before `before` (ms), at most `limit`; returns their content keys. */
  deleteStaleBlocks(before: number, limit: number): string[];

  /** Deletes everything of a workspace (its storage account included); returns the content keys to remove. */
  deleteWorkspaceData(workspaceId: string): string[];
}
