// SQLite persistence for Azure ML's data plane (migration 11): the storage account of each
// workspace, its datastores, data containers and versions, and the blob service's containers,
// blobs and uncommitted blocks. Blob names compare byte for byte (BINARY), as Azure's do.
import type { SqlDatabase } from "../sql/database.ts";
import type { DataContainerRecord, DataType, DataVersionRecord } from "../../core/ml/data.ts";
import type { BlobBlockRecord, BlobContainerRecord, BlobRecord, CredentialsType, DatastoreRecord, StorageAccountRecord } from "../../core/ml/datastores.ts";
import type { MlDataStore } from "../../core/ports/index.ts";

type Row = Record<string, string | number | null>;
const str = (v: unknown) => (v === null || v === undefined ? "" : String(v));
const json = <T>(v: unknown): T => JSON.parse(str(v) || "{}") as T;

const toAccount = (r: Row): StorageAccountRecord => ({ name: str(r.name), workspaceId: str(r.workspace_id), key: str(r.account_key), createdAt: Number(r.created_at) });

const toDatastore = (r: Row): DatastoreRecord => ({
  workspaceId: str(r.workspace_id),
  name: str(r.name),
  accountName: str(r.account_name),
  containerName: str(r.container_name),
  endpoint: str(r.endpoint),
  protocol: str(r.protocol),
  credentialsType: str(r.credentials_type) as CredentialsType,
  ...(r.sas_token ? { sasToken: str(r.sas_token) } : {}),
  isDefault: false,
  description: str(r.description),
  tags: json(r.tags),
  properties: json(r.properties),
  createdAt: Number(r.created_at),
  updatedAt: Number(r.updated_at),
});

const toContainer = (r: Row): DataContainerRecord => ({
  workspaceId: str(r.workspace_id),
  name: str(r.name),
  dataType: str(r.data_type) as DataType,
  description: str(r.description),
  tags: json(r.tags),
  properties: json(r.properties),
  isArchived: Number(r.is_archived) === 1,
  createdAt: Number(r.created_at),
  updatedAt: Number(r.updated_at),
});

const toVersion = (r: Row): DataVersionRecord => ({
  workspaceId: str(r.workspace_id),
  name: str(r.name),
  version: str(r.version),
  dataType: str(r.data_type) as DataType,
  dataUri: str(r.data_uri),
  isAnonymous: Number(r.is_anonymous) === 1,
  isArchived: Number(r.is_archived) === 1,
  description: str(r.description),
  tags: json(r.tags),
  properties: json(r.properties),
  createdAt: Number(r.created_at),
  updatedAt: Number(r.updated_at),
});

const toBlobContainer = (r: Row): BlobContainerRecord => ({
  account: str(r.account),
  name: str(r.name),
  metadata: json(r.metadata),
  etag: str(r.etag),
  createdAt: Number(r.created_at),
  updatedAt: Number(r.updated_at),
});

const toBlob = (r: Row): BlobRecord => ({
  account: str(r.account),
  container: str(r.container),
  name: str(r.name),
  key: str(r.content_key),
  size: Number(r.size),
  contentType: str(r.content_type),
  contentEncoding: str(r.content_encoding),
  contentLanguage: str(r.content_language),
  contentDisposition: str(r.content_disposition),
  cacheControl: str(r.cache_control),
  contentMd5: str(r.content_md5),
  metadata: json(r.metadata),
  etag: str(r.etag),
  createdAt: Number(r.created_at),
  updatedAt: Number(r.updated_at),
});

const toBlock = (r: Row): BlobBlockRecord => ({
  account: str(r.account),
  container: str(r.container),
  blob: str(r.blob),
  blockId: str(r.block_id),
  key: str(r.content_key),
  size: Number(r.size),
  createdAt: Number(r.created_at),
});

export class SqliteMlDataStore implements MlDataStore {
  #db: SqlDatabase;

  constructor(db: SqlDatabase) {
    this.#db = db;
  }

  #get(sql: string, ...args: (string | number)[]): Row | undefined {
    return this.#db.prepare(sql).get(...args) as Row | undefined;
  }

  #all(sql: string, ...args: (string | number)[]): Row[] {
    return this.#db.prepare(sql).all(...args) as unknown as Row[];
  }

  #run(sql: string, ...args: (string | number | null)[]): void {
    this.#db.prepare(sql).run(...args);
  }

  getStorageAccount(name: string): StorageAccountRecord | undefined {
    const r = this.#get("SELECT * FROM ml_storage_accounts WHERE name = ?", name);
    return r && toAccount(r);
  }

  getStorageAccountOfWorkspace(workspaceId: string): StorageAccountRecord | undefined {
    const r = this.#get("SELECT * FROM ml_storage_accounts WHERE workspace_id = ?", workspaceId);
    return r && toAccount(r);
  }

  putStorageAccount(a: StorageAccountRecord): void {
    this.#run("INSERT INTO ml_storage_accounts (name, workspace_id, account_key, created_at) VALUES (?, ?, ?, ?)", a.name, a.workspaceId, a.key, a.createdAt);
  }

  getDatastore(workspaceId: string, name: string): DatastoreRecord | undefined {
    const r = this.#get("SELECT * FROM ml_datastores WHERE workspace_id = ? AND name = ?", workspaceId, name);
    return r && toDatastore(r);
  }

  listDatastores(workspaceId: string): DatastoreRecord[] {
    return this.#all("SELECT * FROM ml_datastores WHERE workspace_id = ? ORDER BY created_at, name", workspaceId).map(toDatastore);
  }

  putDatastore(d: DatastoreRecord): void {
    this.#run(
      `INSERT INTO ml_datastores (workspace_id, name, account_name, container_name, endpoint, protocol, credentials_type, sas_token, description, tags, properties, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(workspace_id, name) DO UPDATE SET account_name = excluded.account_name, container_name = excluded.container_name, endpoint = excluded.endpoint,
         protocol = excluded.protocol, credentials_type = excluded.credentials_type, sas_token = excluded.sas_token, description = excluded.description,
         tags = excluded.tags, properties = excluded.properties, updated_at = excluded.updated_at`,
      d.workspaceId,
      d.name,
      d.accountName,
      d.containerName,
      d.endpoint,
      d.protocol,
      d.credentialsType,
      d.sasToken ?? null,
      d.description,
      JSON.stringify(d.tags),
      JSON.stringify(d.properties),
      d.createdAt,
      d.updatedAt,
    );
  }

  deleteDatastore(workspaceId: string, name: string): void {
    this.#run("DELETE FROM ml_datastores WHERE workspace_id = ? AND name = ?", workspaceId, name);
  }

  getDataContainer(workspaceId: string, name: string): DataContainerRecord | undefined {
    const r = this.#get("SELECT * FROM ml_data_containers WHERE workspace_id = ? AND name = ?", workspaceId, name);
    return r && toContainer(r);
  }

  listDataContainers(workspaceId: string): DataContainerRecord[] {
    return this.#all("SELECT * FROM ml_data_containers WHERE workspace_id = ? ORDER BY created_at, name", workspaceId).map(toContainer);
  }

  putDataContainer(c: DataContainerRecord): void {
    this.#run(
      `INSERT INTO ml_data_containers (workspace_id, name, data_type, description, tags, properties, is_archived, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(workspace_id, name) DO UPDATE SET data_type = excluded.data_type, description = excluded.description, tags = excluded.tags,
         properties = excluded.properties, is_archived = excluded.is_archived, updated_at = excluded.updated_at`,
      c.workspaceId,
      c.name,
      c.dataType,
      c.description,
      JSON.stringify(c.tags),
      JSON.stringify(c.properties),
      c.isArchived ? 1 : 0,
      c.createdAt,
      c.updatedAt,
    );
  }

  deleteDataContainer(workspaceId: string, name: string): void {
    this.#run("DELETE FROM ml_data_versions WHERE workspace_id = ? AND name = ?", workspaceId, name);
    this.#run("DELETE FROM ml_data_containers WHERE workspace_id = ? AND name = ?", workspaceId, name);
  }

  getDataVersion(workspaceId: string, name: string, version: string): DataVersionRecord | undefined {
    const r = this.#get("SELECT * FROM ml_data_versions WHERE workspace_id = ? AND name = ? AND version = ?", workspaceId, name, version);
    return r && toVersion(r);
  }

  listDataVersions(workspaceId: string, name: string): DataVersionRecord[] {
    return this.#all("SELECT * FROM ml_data_versions WHERE workspace_id = ? AND name = ? ORDER BY created_at, version", workspaceId, name).map(toVersion);
  }

  putDataVersion(v: DataVersionRecord): void {
    this.#run(
      `INSERT INTO ml_data_versions (workspace_id, name, version, data_type, data_uri, is_anonymous, is_archived, description, tags, properties, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(workspace_id, name, version) DO UPDATE SET is_archived = excluded.is_archived, description = excluded.description,
         tags = excluded.tags, properties = excluded.properties, updated_at = excluded.updated_at`,
      v.workspaceId,
      v.name,
      v.version,
      v.dataType,
      v.dataUri,
      v.isAnonymous ? 1 : 0,
      v.isArchived ? 1 : 0,
      v.description,
      JSON.stringify(v.tags),
      JSON.stringify(v.properties),
      v.createdAt,
      v.updatedAt,
    );
  }

  deleteDataVersion(workspaceId: string, name: string, version: string): void {
    this.#run("DELETE FROM ml_data_versions WHERE workspace_id = ? AND name = ? AND version = ?", workspaceId, name, version);
  }

  getBlobContainer(account: string, name: string): BlobContainerRecord | undefined {
    const r = this.#get("SELECT * FROM ml_blob_containers WHERE account = ? AND name = ?", account, name);
    return r && toBlobContainer(r);
  }

  listBlobContainers(account: string): BlobContainerRecord[] {
    return this.#all("SELECT * FROM ml_blob_containers WHERE account = ? ORDER BY name", account).map(toBlobContainer);
  }

  putBlobContainer(c: BlobContainerRecord): void {
    this.#run(
      `INSERT INTO ml_blob_containers (account, name, metadata, etag, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT(account, name) DO UPDATE SET metadata = excluded.metadata, etag = excluded.etag, updated_at = excluded.updated_at`,
      c.account,
      c.name,
      JSON.stringify(c.metadata),
      c.etag,
      c.createdAt,
      c.updatedAt,
    );
  }

  deleteBlobContainer(account: string, name: string): string[] {
    const keys = [
      ...this.#all("SELECT content_key FROM ml_blobs WHERE account = ? AND container = ?", account, name),
      ...this.#all("SELECT content_key FROM ml_blob_blocks WHERE account = ? AND container = ?", account, name),
    ].map((r) => str(r.content_key));
    this.#run("DELETE FROM ml_blob_blocks WHERE account = ? AND container = ?", account, name);
    this.#run("DELETE FROM ml_blobs WHERE account = ? AND container = ?", account, name);
    this.#run("DELETE FROM ml_blob_containers WHERE account = ? AND name = ?", account, name);
    return keys;
  }

  getBlob(account: string, container: string, name: string): BlobRecord | undefined {
    const r = this.#get("SELECT * FROM ml_blobs WHERE account = ? AND container = ? AND name = ?", account, container, name);
    return r && toBlob(r);
  }

  listBlobs(account: string, container: string, prefix: string, limit: number, marker?: string): BlobRecord[] {
    // Prefix match by range on the BINARY-ordered name, so '%' and '_' in names are plain characters.
    const upper = `${prefix}\u{10FFFF}`;
    return this.#all(
      `SELECT * FROM ml_blobs WHERE account = ? AND container = ? AND name >= ? AND name < ? AND name > ? ORDER BY name LIMIT ?`,
      account,
      container,
      prefix,
      upper,
      marker ?? "",
      limit,
    ).map(toBlob);
  }

  putBlob(b: BlobRecord): void {
    this.#run(
      `INSERT INTO ml_blobs (account, container, name, content_key, size, content_type, content_encoding, content_language, content_disposition, cache_control, content_md5, metadata, etag, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(account, container, name) DO UPDATE SET content_key = excluded.content_key, size = excluded.size, content_type = excluded.content_type,
         content_encoding = excluded.content_encoding, content_language = excluded.content_language, content_disposition = excluded.content_disposition,
         cache_control = excluded.cache_control, content_md5 = excluded.content_md5, metadata = excluded.metadata, etag = excluded.etag, updated_at = excluded.updated_at`,
      b.account,
      b.container,
      b.name,
      b.key,
      b.size,
      b.contentType,
      b.contentEncoding,
      b.contentLanguage,
      b.contentDisposition,
      b.cacheControl,
      b.contentMd5,
      JSON.stringify(b.metadata),
      b.etag,
      b.createdAt,
      b.updatedAt,
    );
  }

  deleteBlob(account: string, container: string, name: string): void {
    this.#run("DELETE FROM ml_blobs WHERE account = ? AND container = ? AND name = ?", account, container, name);
  }

  putBlock(b: BlobBlockRecord): void {
    this.#run(
      `INSERT INTO ml_blob_blocks (account, container, blob, block_id, content_key, size, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(account, container, blob, block_id) DO UPDATE SET content_key = excluded.content_key, size = excluded.size, created_at = excluded.created_at`,
      b.account,
      b.container,
      b.blob,
      b.blockId,
      b.key,
      b.size,
      b.createdAt,
    );
  }

  listBlocks(account: string, container: string, blob: string): BlobBlockRecord[] {
    return this.#all("SELECT * FROM ml_blob_blocks WHERE account = ? AND container = ? AND blob = ? ORDER BY created_at", account, container, blob).map(toBlock);
  }

  deleteBlocks(account: string, container: string, blob: string): string[] {
    const keys = this.#all("SELECT content_key FROM ml_blob_blocks WHERE account = ? AND container = ? AND blob = ?", account, container, blob).map((r) => str(r.content_key));
    this.#run("DELETE FROM ml_blob_blocks WHERE account = ? AND container = ? AND blob = ?", account, container, blob);
    return keys;
  }

  deleteStaleBlocks(before: number, limit: number): string[] {
    const rows = this.#all("SELECT rowid AS id, content_key FROM ml_blob_blocks WHERE created_at < ? LIMIT ?", before, limit);
    for (const r of rows) this.#run("DELETE FROM ml_blob_blocks WHERE rowid = ?", Number(r.id));
    return rows.map((r) => str(r.content_key));
  }

  deleteWorkspaceData(workspaceId: string): string[] {
    const account = this.getStorageAccountOfWorkspace(workspaceId);
    const keys: string[] = [];
    this.#db.exec("BEGIN");
    try {
      if (account) {
        for (const c of this.listBlobContainers(account.name)) keys.push(...this.deleteBlobContainer(account.name, c.name));
        this.#run("DELETE FROM ml_storage_accounts WHERE name = ?", account.name);
      }
      this.#run("DELETE FROM ml_data_versions WHERE workspace_id = ?", workspaceId);
      this.#run("DELETE FROM ml_data_containers WHERE workspace_id = ?", workspaceId);
      this.#run("DELETE FROM ml_datastores WHERE workspace_id = ?", workspaceId);
      this.#db.exec("COMMIT");
    } catch (e) {
      this.#db.exec("ROLLBACK");
      throw e;
    }
    return keys;
  }
}
