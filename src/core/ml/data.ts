// Azure ML data assets (reference azure-ml.md §4, §5): containers (`…/data/{name}`) and their
// versions (`…/data/{name}/versions/{v}`, dataType uri_file|uri_folder|mltable, a dataUri that
// names a datastore path or an https URL), and `resolve`: what a fine-tuning job (or anything
// else) reads behind a data reference, in any of the forms clients send.
// A version is immutable where Azure's is: its dataUri and dataType never change; tags,
// description and isArchived may.
import { errors, IngotError } from "../errors.ts";
import type { MlDataStore } from "../ports/index.ts";
import { checkAssetName, checkAssetVersion, inView, nextVersionOf, optionalBool, optionalString, stringMap } from "./assets.ts";
import type { AssetContainerRecord, AssetVersionRecord, ListViewType } from "./assets.ts";
import { hasSas, verifySas } from "./blob-auth.ts";
import type { BlobRecord, BlobService } from "./blobs.ts";
import { DEFAULT_DATASTORE } from "./datastores.ts";
import type { DatastoreService } from "./datastores.ts";
import { ML_PROVIDER } from "./workspaces.ts";
import type { WorkspaceRecord } from "./workspaces.ts";

export const DATA_TYPES = ["uri_file", "uri_folder", "mltable"] as const;
export type DataType = (typeof DATA_TYPES)[number];
const ARM_DATA_VERSION = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.MachineLearningServices\/workspaces\/([^/]+)\/data\/([^/]+)\/versions\/([^/]+)$/i;
const ASSET_ID = /^azureml:\/\/locations\/([^/]+)\/workspaces\/([^/]+)\/data\/([^/]+)\/versions\/([^/]+)$/i;
const SHORT_ASSET = /^azureml:([^:/@]+)(?::([^:/@]+)|@([^:/@]+))$/i;
const SHORT_DATASTORE = /^azureml:\/\/datastores\/([^/]+)\/paths\/(.*)$/i;
const LONG_DATASTORE = /^azureml:\/\/subscriptions\/([^/]+)\/resourcegroups\/([^/]+)\/(?:providers\/Microsoft\.MachineLearningServices\/)?workspaces\/([^/]+)\/datastores\/([^/]+)\/paths\/(.*)$/i;
/** Host-style blob URLs: `<account>.blob.<suffix>`. */
const BLOB_HOST = /^([a-z0-9]{3,24})\.blob\./i;

export interface DataContainerRecord extends AssetContainerRecord {
  dataType: DataType;
}

export interface DataVersionRecord extends AssetVersionRecord {
  dataType: DataType;
  dataUri: string;
}

export interface DataVersionInput {
  dataType?: unknown;
  dataUri?: unknown;
  isAnonymous?: unknown;
  isArchived?: unknown;
  description?: unknown;
  tags?: unknown;
  properties?: unknown;
}

export interface DataContainerInput {
  dataType?: unknown;
  isArchived?: unknown;
  description?: unknown;
  tags?: unknown;
  properties?: unknown;
}

/** What `resolve` finds: a blob on Ingot's blob service, or an outside URL the caller imports (SSRF-checked). */
export type ResolvedData = { kind: "blob"; filename: string; bytes: number; open(): AsyncIterable<Uint8Array> } | { kind: "url"; url: string };

/** A data reference, parsed; undefined when it is none of the forms. */
export type DataReference =
  | { kind: "armVersion"; subscription: string; resourceGroup: string; workspace: string; name: string; version: string }
  | { kind: "assetId"; location: string; workspaceGuid: string; name: string; version: string }
  | { kind: "shortAsset"; name: string; version?: string; label?: string }
  | { kind: "datastore"; datastore: string; path: string; workspace?: { subscription: string; resourceGroup: string; name: string } }
  | { kind: "https"; url: URL };

const dec = (s: string) => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};

export function parseDataReference(uri: string): DataReference | undefined {
  const u = uri.trim();
  let m = ARM_DATA_VERSION.exec(u);
  if (m) return { kind: "armVersion", subscription: m[1], resourceGroup: m[2], workspace: m[3], name: m[4], version: m[5] };
  m = ASSET_ID.exec(u);
  if (m) return { kind: "assetId", location: m[1], workspaceGuid: m[2], name: m[3], version: m[4] };
  m = SHORT_DATASTORE.exec(u);
  if (m) return { kind: "datastore", datastore: m[1], path: dec(m[2]) };
  m = LONG_DATASTORE.exec(u);
  if (m) return { kind: "datastore", datastore: m[4], path: dec(m[5]), workspace: { subscription: m[1], resourceGroup: m[2], name: m[3] } };
  m = SHORT_ASSET.exec(u);
  if (m) return { kind: "shortAsset", name: m[1], ...(m[2] ? { version: m[2] } : { label: m[3] }) };
  if (/^https:\/\//i.test(u)) {
    try {
      return { kind: "https", url: new URL(u) };
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** `{account, container, path}` of a URL on Ingot's blob service (path-style `/blob/<account>/…` or host-style `<account>.blob.<suffix>`), else undefined. */
export function parseIngotBlobUrl(url: URL): { account: string; container: string; path: string } | undefined {
  const segments = url.pathname.split("/").slice(1);
  const host = BLOB_HOST.exec(url.hostname);
  if (host) {
    const [container, ...rest] = segments;
    return container ? { account: host[1].toLowerCase(), container: dec(container), path: rest.map(dec).join("/") } : undefined;
  }
  if (segments[0] === "blob" && segments[1] && segments[2]) return { account: segments[1].toLowerCase(), container: dec(segments[2]), path: segments.slice(3).map(dec).join("/") };
  return undefined;
}

const ALL_FORMS =
  "a data version's ARM id (/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.MachineLearningServices/workspaces/{ws}/data/{name}/versions/{v}), azureml://locations/{location}/workspaces/{workspaceId}/data/{name}/versions/{v}, azureml:{name}:{version}, a datastore path azureml://datastores/{datastore}/paths/{path}, or an https URL";

const unresolvable = (uri: string, why: string, target = "dataUri") => errors.armInvalid("UserError", `The data reference '${uri.slice(0, 300)}' does not resolve: ${why}`, target);

export function dataTypeOf(v: unknown, field = "properties.dataType"): DataType {
  const s = optionalString(v, field);
  const t = s === undefined ? undefined : DATA_TYPES.find((d) => d === s.toLowerCase().replace(/^urifile$/, "uri_file").replace(/^urifolder$/, "uri_folder"));
  if (!t) throw errors.armInvalid("UserError", `'${field}' ${s === undefined ? "is required" : `'${s.slice(0, 64)}' is not a data type`}: use one of ${DATA_TYPES.join(", ")}.`, field);
  return t;
}

/** `$orderBy` of version lists: createdtime (default, newest first) or version, asc|desc; Python's CreatedAtDesc forms too. */
export function versionOrder(orderBy: string | undefined): (a: DataVersionRecord, b: DataVersionRecord) => number {
  const o = (orderBy ?? "createdtime desc").trim().toLowerCase().replace(/\s+/g, " ");
  const byCreated = (a: DataVersionRecord, b: DataVersionRecord) => a.createdAt - b.createdAt || compareVersions(a.version, b.version);
  const byVersion = (a: DataVersionRecord, b: DataVersionRecord) => compareVersions(a.version, b.version);
  if (["createdtime desc", "createdatdesc", "createdtime"].includes(o) || o === "") return (a, b) => byCreated(b, a);
  if (["createdtime asc", "createdatasc"].includes(o)) return byCreated;
  if (["version desc", "versiondesc"].includes(o)) return (a, b) => byVersion(b, a);
  if (["version asc", "versionasc", "version"].includes(o)) return byVersion;
  const byModified = (a: DataVersionRecord, b: DataVersionRecord) => a.updatedAt - b.updatedAt || byCreated(a, b);
  if (["modifiedtime desc", "modifiedtime", "modifiedatdesc"].includes(o)) return (a, b) => byModified(b, a);
  if (["modifiedtime asc", "modifiedatasc"].includes(o)) return byModified;
  throw errors.armInvalid("UserError", `'$orderBy' '${(orderBy ?? "").slice(0, 64)}' is not supported: use 'createdtime desc', 'createdtime asc', 'modifiedtime desc', 'modifiedtime asc', 'version desc' or 'version asc'.`, "$orderBy");
}

/** Numeric versions compare as numbers; others as text after them. */
export function compareVersions(a: string, b: string): number {
  const na = /^\d+$/.test(a) ? Number(a) : undefined;
  const nb = /^\d+$/.test(b) ? Number(b) : undefined;
  if (na !== undefined && nb !== undefined) return na - nb;
  if (na !== undefined) return -1;
  if (nb !== undefined) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

export function page<T>(items: T[], top: string | undefined, skip: string | undefined): { items: T[]; nextSkip?: number } {
  const n = (v: string | undefined, field: string, dflt: number) => {
    if (v === undefined || v === "") return dflt;
    if (!/^\d+$/.test(v)) throw errors.armInvalid("UserError", `'${field}' must be a non-negative integer.`, field);
    return Number(v);
  };
  const start = n(skip, "$skip", 0);
  const size = Math.min(n(top, "$top", 100), 1000);
  const slice = items.slice(start, start + size);
  return start + size < items.length ? { items: slice, nextSkip: start + size } : { items: slice };
}

export class MlDataService {
  #store: MlDataStore;
  #datastores: DatastoreService;
  #blobs: BlobService;
  #clock: () => number;

  constructor(store: MlDataStore, datastores: DatastoreService, blobs: BlobService, options: { clock?: () => number } = {}) {
    this.#store = store;
    this.#datastores = datastores;
    this.#blobs = blobs;
    this.#clock = options.clock ?? Date.now;
  }

  // ---- containers ----

  listContainers(workspace: WorkspaceRecord, view: ListViewType = "ActiveOnly"): DataContainerRecord[] {
    return this.#store.listDataContainers(workspace.workspaceId).filter((c) => inView(view, c.isArchived));
  }

  requireContainer(workspace: WorkspaceRecord, name: string): DataContainerRecord {
    const c = this.#store.getDataContainer(workspace.workspaceId, name);
    if (!c) throw errors.resourceNotFound(`${ML_PROVIDER}/workspaces/${workspace.name}/data`, name, workspace.resourceGroup);
    return c;
  }

  /** `latestVersion` (the newest created) and `nextVersion` (the largest numeric version + 1) of a container. */
  versionInfo(workspace: WorkspaceRecord, name: string): { latestVersion?: string; nextVersion: string } {
    const versions = this.#store.listDataVersions(workspace.workspaceId, name);
    const latest = [...versions].sort(versionOrder("createdtime desc"))[0];
    return { ...(latest ? { latestVersion: latest.version } : {}), nextVersion: nextVersionOf(versions.map((v) => v.version)) };
  }

  createOrUpdateContainer(workspace: WorkspaceRecord, name: string, input: DataContainerInput): { container: DataContainerRecord; created: boolean } {
    checkAssetName(name, "Data");
    const existing = this.#store.getDataContainer(workspace.workspaceId, name);
    const dataType = input.dataType === undefined && existing ? existing.dataType : dataTypeOf(input.dataType);
    if (existing && existing.dataType !== dataType)
      throw errors.conflict("UserError", `Data container '${existing.name}' holds ${existing.dataType} versions; its dataType cannot change to ${dataType}. Use another name for ${dataType} data.`);
    const now = this.#clock();
    const container: DataContainerRecord = {
      workspaceId: workspace.workspaceId,
      name: existing?.name ?? name,
      dataType,
      description: optionalString(input.description, "properties.description") ?? existing?.description ?? "",
      tags: stringMap(input.tags, "properties.tags") ?? existing?.tags ?? {},
      properties: stringMap(input.properties, "properties.properties") ?? existing?.properties ?? {},
      isArchived: optionalBool(input.isArchived, "properties.isArchived") ?? existing?.isArchived ?? false,
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
    };
    this.#store.putDataContainer(container);
    return { container, created: !existing };
  }

  /** Deletes the container and its versions; false when there was none. */
  deleteContainer(workspace: WorkspaceRecord, name: string): boolean {
    if (!this.#store.getDataContainer(workspace.workspaceId, name)) return false;
    this.#store.deleteDataContainer(workspace.workspaceId, name);
    return true;
  }

  // ---- versions ----

  /** A container's versions in the view, ordered; `tags` filters as Azure's list does ("t1,t2=v2": has t1, and t2 equal to v2). */
  listVersions(workspace: WorkspaceRecord, name: string, opts: { orderBy?: string; view?: ListViewType; tags?: string } = {}): DataVersionRecord[] {
    this.requireContainer(workspace, name);
    const order = versionOrder(opts.orderBy);
    const wanted = (opts.tags ?? "")
      .split(",")
      .map((t) => t.trim())
      .filter(Boolean)
      .map((t) => {
        const i = t.indexOf("=");
        return i < 0 ? { key: t } : { key: t.slice(0, i), value: t.slice(i + 1) };
      });
    return this.#store
      .listDataVersions(workspace.workspaceId, name)
      .filter((v) => inView(opts.view ?? "ActiveOnly", v.isArchived))
      .filter((v) => wanted.every((w) => w.key in v.tags && (w.value === undefined || v.tags[w.key] === w.value)))
      .sort(order);
  }

  requireVersion(workspace: WorkspaceRecord, name: string, version: string): DataVersionRecord {
    const v = this.#store.getDataVersion(workspace.workspaceId, name, version);
    if (!v) throw errors.resourceNotFound(`${ML_PROVIDER}/workspaces/${workspace.name}/data/${name}/versions`, version, workspace.resourceGroup);
    return v;
  }

  /**
   * PUT a version: a new one must name data that is there (a datastore path on Ingot's blob
   * service, or an https URL); an existing one may change only tags, description and isArchived.
   * The container is made with the first version.
   */
  async createOrUpdateVersion(workspace: WorkspaceRecord, name: string, version: string, input: DataVersionInput): Promise<{ version: DataVersionRecord; created: boolean }> {
    checkAssetName(name, "Data");
    checkAssetVersion(version, "Data");
    const dataType = dataTypeOf(input.dataType);
    const dataUri = optionalString(input.dataUri, "properties.dataUri");
    if (!dataUri) throw errors.armInvalid("UserError", `'properties.dataUri' is required: ${ALL_FORMS.replace(/^a data version's ARM id \([^)]*\), /, "").replace(/azureml:\/\/locations[^,]*, azureml:\{name\}:\{version\}, /, "")}.`, "properties.dataUri");
    const existing = this.#store.getDataVersion(workspace.workspaceId, name, version);
    const container = this.#store.getDataContainer(workspace.workspaceId, name);
    if (existing) {
      if (existing.dataUri !== dataUri || existing.dataType !== dataType)
        throw errors.conflict(
          "UserError",
          `Data '${existing.name}' version '${existing.version}' already exists with dataUri '${existing.dataUri}' (${existing.dataType}); a version's data cannot change. Create a new version (e.g. '${this.versionInfo(workspace, name).nextVersion}') for the new data; only tags, description and isArchived of an existing version can be updated.`,
        );
    } else {
      if (container && container.dataType !== dataType)
        throw errors.armInvalid("UserError", `Data '${container.name}' holds ${container.dataType} versions; a ${dataType} version cannot join it. Send "dataType": "${container.dataType}", or use another name.`, "properties.dataType");
      await this.#checkDataUri(workspace, dataUri, dataType);
    }
    const now = this.#clock();
    if (!container)
      this.#store.putDataContainer({ workspaceId: workspace.workspaceId, name, dataType, description: "", tags: {}, properties: {}, isArchived: false, createdAt: now, updatedAt: now });
    const record: DataVersionRecord = {
      workspaceId: workspace.workspaceId,
      name: container?.name ?? name,
      version: existing?.version ?? version,
      dataType,
      dataUri,
      isAnonymous: existing?.isAnonymous ?? optionalBool(input.isAnonymous, "properties.isAnonymous") ?? false,
      isArchived: optionalBool(input.isArchived, "properties.isArchived") ?? existing?.isArchived ?? false,
      description: optionalString(input.description, "properties.description") ?? existing?.description ?? "",
      tags: stringMap(input.tags, "properties.tags") ?? existing?.tags ?? {},
      properties: existing?.properties ?? stringMap(input.properties, "properties.properties") ?? {},
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
    };
    this.#store.putDataVersion(record);
    return { version: record, created: !existing };
  }

  deleteVersion(workspace: WorkspaceRecord, name: string, version: string): boolean {
    if (!this.#store.getDataVersion(workspace.workspaceId, name, version)) return false;
    this.#store.deleteDataVersion(workspace.workspaceId, name, version);
    return true;
  }

  /** Removes all of a workspace's data: datastores, data assets, its storage account and blobs (workspace delete). */
  async deleteWorkspace(workspace: WorkspaceRecord): Promise<void> {
    await this.#blobs.removeContent(this.#store.deleteWorkspaceData(workspace.workspaceId));
  }

  // ---- resolve ----

  /**
   * What a data reference reads: a blob on Ingot's blob service (a uri_folder: its single
   * .jsonl file), or an outside https URL. Unresolvable: ARM 400 UserError naming the uri.
   */
  async resolve(workspace: WorkspaceRecord, uri: string): Promise<ResolvedData> {
    const found = await this.#locate(workspace, uri, undefined, 0);
    if (found.kind === "url") return found;
    const blob = found.blob;
    const blobs = this.#blobs;
    return { kind: "blob", filename: blob.name.split("/").pop() ?? blob.name, bytes: blob.size, open: () => blobs.read(blob) };
  }

  async #locate(workspace: WorkspaceRecord, uri: string, dataType: DataType | undefined, depth: number): Promise<{ kind: "blob"; blob: BlobRecord } | { kind: "url"; url: string }> {
    if (typeof uri !== "string" || !uri.trim()) throw unresolvable(String(uri), `it is empty. Use ${ALL_FORMS}.`);
    const ref = parseDataReference(uri);
    if (!ref) throw unresolvable(uri, `it is not a data reference Ingot knows. Use ${ALL_FORMS}.`);
    switch (ref.kind) {
      case "armVersion": {
        const same =
          ref.subscription.toLowerCase() === workspace.subscription.toLowerCase() &&
          ref.resourceGroup.toLowerCase() === workspace.resourceGroup.toLowerCase() &&
          ref.workspace.toLowerCase() === workspace.name.toLowerCase();
        if (!same) throw unresolvable(uri, `it names a data asset of workspace '${ref.workspace}' (resource group '${ref.resourceGroup}'), not of '${workspace.name}'. Register the data in workspace '${workspace.name}' and use its id.`);
        return this.#fromVersion(workspace, uri, ref.name, ref.version, depth);
      }
      case "assetId":
        if (ref.workspaceGuid.toLowerCase() !== workspace.workspaceId.toLowerCase())
          throw unresolvable(uri, `it names workspace id '${ref.workspaceGuid}', but this is workspace '${workspace.name}' (id ${workspace.workspaceId}). Use azureml://locations/${workspace.location}/workspaces/${workspace.workspaceId}/data/{name}/versions/{v}.`);
        return this.#fromVersion(workspace, uri, ref.name, ref.version, depth);
      case "shortAsset": {
        let version = ref.version;
        if (!version) {
          if (ref.label?.toLowerCase() !== "latest") throw unresolvable(uri, `label '${ref.label}' is unknown: use azureml:{name}@latest or azureml:{name}:{version}.`);
          if (!this.#store.getDataContainer(workspace.workspaceId, ref.name)) throw unresolvable(uri, this.#noSuchData(workspace, ref.name));
          version = this.#store
            .listDataVersions(workspace.workspaceId, ref.name)
            .filter((v) => !v.isArchived)
            .sort(versionOrder("createdtime desc"))[0]?.version;
          if (!version) throw unresolvable(uri, `data '${ref.name}' has no active version. Create one, or name a version.`);
        }
        return this.#fromVersion(workspace, uri, ref.name, version, depth);
      }
      case "datastore": {
        if (ref.workspace) {
          const same =
            ref.workspace.subscription.toLowerCase() === workspace.subscription.toLowerCase() &&
            ref.workspace.resourceGroup.toLowerCase() === workspace.resourceGroup.toLowerCase() &&
            ref.workspace.name.toLowerCase() === workspace.name.toLowerCase();
          if (!same) throw unresolvable(uri, `it names a datastore of workspace '${ref.workspace.name}', not of '${workspace.name}'. Use azureml://datastores/{datastore}/paths/{path} of this workspace.`);
        }
        const ds = this.#datastores.get(workspace, ref.datastore);
        if (!ds) {
          const names = this.#datastores.list(workspace).map((d) => d.name);
          throw unresolvable(uri, `workspace '${workspace.name}' has no datastore '${ref.datastore}' (it has: ${names.join(", ")}).`);
        }
        return { kind: "blob", blob: this.#findBlob(uri, ds.accountName, ds.containerName, ref.path, dataType) };
      }
      case "https": {
        const own = parseIngotBlobUrl(ref.url);
        const account = own && this.#blobs.account(own.account);
        if (!own || !account) {
          if (dataType === "uri_folder")
            throw unresolvable(uri, "a uri_folder at an outside URL cannot be listed, so its .jsonl file cannot be found. Register the file itself as uri_file, or upload the folder to a datastore.");
          return { kind: "url", url: ref.url.toString() };
        }
        if (account.workspaceId !== workspace.workspaceId && !this.#sasReads(account, own, ref.url))
          throw unresolvable(uri, `storage account '${account.name}' belongs to another workspace. Upload the file to this workspace's datastore '${DEFAULT_DATASTORE}', or add a SAS (with read permission) of that account to the URL.`);
        return { kind: "blob", blob: this.#findBlob(uri, account.name, own.container, own.path, dataType) };
      }
    }
  }

  /** Whether the URL's SAS (signed with the account's key) lets it read this blob now. */
  #sasReads(account: { name: string; key: string }, at: { container: string; path: string }, url: URL): boolean {
    const query = url.search.replace(/^\?/, "");
    if (!hasSas(query)) return false;
    try {
      verifySas(query, account, { level: "blob", container: at.container.toLowerCase(), blob: at.path }, "r", this.#clock(), { protocol: url.protocol.replace(/:$/, "") });
      return true;
    } catch {
      return false;
    }
  }

  async #fromVersion(workspace: WorkspaceRecord, uri: string, name: string, version: string, depth: number) {
    const v = this.#store.getDataVersion(workspace.workspaceId, name, version);
    if (!v) {
      if (!this.#store.getDataContainer(workspace.workspaceId, name)) throw unresolvable(uri, this.#noSuchData(workspace, name));
      const versions = this.#store.listDataVersions(workspace.workspaceId, name).map((x) => x.version).sort(compareVersions);
      throw unresolvable(uri, `data '${name}' has no version '${version}' (it has: ${versions.join(", ") || "none"}).`);
    }
    if (v.dataType === "mltable") throw unresolvable(uri, `data '${name}' version '${version}' is an mltable; Ingot reads uri_file and uri_folder data. Register the .jsonl file as uri_file.`);
    // A version's dataUri is a datastore path or a URL, never another asset (depth guards a loop all the same).
    if (depth > 0) throw unresolvable(uri, "it refers to another data asset; a data version's dataUri must be a datastore path or an https URL.");
    try {
      return await this.#locate(workspace, v.dataUri, v.dataType, depth + 1);
    } catch (e) {
      if (e instanceof IngotError && e.kind === "invalid_request") throw unresolvable(uri, `its dataUri: ${e.message}`);
      throw e;
    }
  }

  /** The blob at `path`, or a folder's single .jsonl file (uri_folder, or a path with no blob of its own). */
  #findBlob(uri: string, account: string, container: string, path: string, dataType: DataType | undefined): BlobRecord {
    if (!this.#blobs.hasContainer(account, container.toLowerCase()))
      throw unresolvable(uri, `container '${container}' does not exist in storage account '${account}'.`);
    const exact = dataType !== "uri_folder" && path && !path.endsWith("/") ? this.#blobs.find(account, container.toLowerCase(), path) : undefined;
    if (exact) return exact;
    if (dataType === "uri_file") throw unresolvable(uri, `there is no file '${path}' in container '${container}'. Upload it first (the datastore's path must name an existing file).`);
    const prefix = path && !path.endsWith("/") ? `${path}/` : path;
    const listed = this.#blobs.listBlobs(account, container.toLowerCase(), { prefix, maxResults: 5000 }).blobs;
    if (!listed.length) throw unresolvable(uri, `there is no file or folder '${path}' in container '${container}'. Upload the data first.`);
    const jsonl = listed.filter((b) => b.name.toLowerCase().endsWith(".jsonl"));
    if (jsonl.length !== 1)
      throw unresolvable(
        uri,
        `the folder '${prefix}' holds ${jsonl.length ? `${jsonl.length} .jsonl files (${jsonl.slice(0, 5).map((b) => b.name.slice(prefix.length)).join(", ")}${jsonl.length > 5 ? ", …" : ""})` : "no .jsonl file"}; Ingot reads a folder that holds exactly one. Point at the file itself (uri_file).`,
      );
    return jsonl[0];
  }

  async #checkDataUri(workspace: WorkspaceRecord, dataUri: string, dataType: DataType): Promise<void> {
    const ref = parseDataReference(dataUri);
    if (!ref || (ref.kind !== "datastore" && ref.kind !== "https"))
      throw errors.armInvalid("UserError", `'properties.dataUri' '${dataUri.slice(0, 300)}' is not a datastore path or an https URL: use azureml://datastores/{datastore}/paths/{path} (or its long form azureml://subscriptions/…/workspaces/{ws}/datastores/{datastore}/paths/{path}), or https://….`, "properties.dataUri");
    // An outside URL is taken as given (Azure does not fetch it either); the job that reads it imports it.
    if (ref.kind === "https") {
      const own = parseIngotBlobUrl(ref.url);
      if (!own || !this.#blobs.account(own.account)) return;
    }
    try {
      await this.#locate(workspace, dataUri, dataType === "mltable" ? "uri_folder" : dataType, 1);
    } catch (e) {
      // An mltable folder need not hold exactly one .jsonl: it is only checked to exist.
      if (dataType === "mltable" && e instanceof IngotError && /holds \d+ \.jsonl|holds no \.jsonl/.test(e.message)) return;
      if (e instanceof IngotError && e.kind === "invalid_request") throw errors.armInvalid("UserError", e.message.replace(/^The data reference/, "'properties.dataUri'"), "properties.dataUri");
      throw e;
    }
  }

  #noSuchData(workspace: WorkspaceRecord, name: string): string {
    const names = this.#store.listDataContainers(workspace.workspaceId).map((c) => c.name);
    return `workspace '${workspace.name}' has no data '${name}'${names.length ? ` (it has: ${names.slice(0, 20).join(", ")})` : ""}. Create it with PUT …/data/${name}/versions/{v}.`;
  }
}
