// A Foundry project's connections (the project endpoint's /connections, ARM's
// accounts/{a}/projects/{p}/connections/{c}): the account's own Azure OpenAI connection, always
// there and the default, plus the connections users add (another Ingot, an upstream
// OpenAI-compatible server). Keys are kept as account keys are (stored, never logged) and leave
// only through getConnectionWithCredentials or ARM's listsecrets-free GET without them.
import { errors } from "../errors.ts";
import type { ProjectDataStore } from "../ports/project-data-store.ts";

/** The categories a user may add; "AzureOpenAI" and "ApiKey" take the key as `api-key`, "CustomKeys" as named keys. */
export const CONNECTION_CATEGORIES = ["AzureOpenAI", "ApiKey", "CustomKeys"] as const;
export type ConnectionCategory = (typeof CONNECTION_CATEGORIES)[number];
const CONNECTION_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_-]{2,32}$/;

export interface ConnectionRecord {
  account: string;
  project: string;
  name: string;
  category: ConnectionCategory;
  target: string;
  /** ApiKey: `key`; CustomKeys: the named keys. */
  credentials: Record<string, string>;
  metadata: Record<string, string>;
  isDefault: boolean;
  createdAt: number;
}

/** The project endpoint's Connection; credentials only when asked for them. */
export interface ConnectionView {
  name: string;
  id: string;
  type: string;
  target: string;
  isDefault: boolean;
  credentials: Record<string, string>;
  metadata: Record<string, string>;
}

export interface ProjectRef {
  account: string;
  project: string;
  /** ARM id of the project (accounts/{a}/projects/{p}). */
  projectId: string;
}

function stringMap(value: unknown, field: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) throw errors.armInvalid("InvalidRequestContent", `'${field}' must be an object of strings.`, field);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== "string") throw errors.armInvalid("InvalidRequestContent", `'${field}.${k}' must be a string.`, `${field}.${k}`);
    out[k] = v;
  }
  return out;
}

const objectOrUndefined = (v: unknown): Record<string, unknown> | undefined => (v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);

export class ConnectionService {
  #store: ProjectDataStore;
  #clock: () => number;

  constructor(store: ProjectDataStore, clock: () => number = Date.now) {
    this.#store = store;
    this.#clock = clock;
  }

  /** The project's connections: the account's own (built from `self`) first, then those users added. */
  list(p: ProjectRef, self: { target: string; key: string }): ConnectionRecord[] {
    const own: ConnectionRecord = { account: p.account, project: p.project, name: p.account, category: "AzureOpenAI", target: self.target, credentials: { key: self.key }, metadata: { ApiType: "Azure", Location: "local" }, isDefault: true, createdAt: 0 };
    return [own, ...this.#store.listConnections(p.account, p.project).filter((c) => c.name.toLowerCase() !== p.account.toLowerCase())];
  }

  get(p: ProjectRef, self: { target: string; key: string }, name: string): ConnectionRecord | undefined {
    return this.list(p, self).find((c) => c.name.toLowerCase() === name.toLowerCase());
  }

  /** Filters of `connections.list`: connectionType, defaultConnection. */
  filter(all: ConnectionRecord[], q: { connectionType?: string; defaultConnection?: string }): ConnectionRecord[] {
    let out = all;
    if (q.connectionType) out = out.filter((c) => c.category.toLowerCase() === q.connectionType!.toLowerCase());
    if (q.defaultConnection !== undefined && q.defaultConnection !== "") {
      const d = q.defaultConnection.toLowerCase();
      if (d !== "true" && d !== "false") throw errors.invalid(`'defaultConnection' must be true or false, not '${q.defaultConnection.slice(0, 32)}'.`, "defaultConnection");
      out = out.filter((c) => c.isDefault === (d === "true"));
    }
    return out;
  }

  view(p: ProjectRef, c: ConnectionRecord, withCredentials: boolean): ConnectionView {
    const credentials: Record<string, string> =
      c.category === "CustomKeys" ? { type: "CustomKeys", ...(withCredentials ? c.credentials : {}) } : { type: "ApiKey", ...(withCredentials && c.credentials.key !== undefined ? { key: c.credentials.key } : {}) };
    return { name: c.name, id: `${p.projectId}/connections/${c.name}`, type: c.category, target: c.target, isDefault: c.isDefault, credentials, metadata: c.metadata };
  }

  /** ARM PUT: `properties: {category, target, authType: "ApiKey"|"CustomKeys", credentials, metadata}`. */
  createOrUpdate(p: ProjectRef, name: string, properties: Record<string, unknown> | undefined): { connection: ConnectionRecord; created: boolean } {
    if (!CONNECTION_NAME.test(name))
      throw errors.armInvalid("InvalidResourceName", `Connection name '${name.slice(0, 64)}' is invalid: use 3 to 33 letters, digits, '-' or '_', starting with a letter or digit.`, "name");
    if (name.toLowerCase() === p.account.toLowerCase())
      throw errors.armInvalid("InvalidResourceName", `'${name}' is the account's own connection, which Ingot manages. Choose another name.`, "name");
    const props = properties ?? {};
    const category = props.category;
    if (typeof category !== "string" || !CONNECTION_CATEGORIES.some((c) => c.toLowerCase() === category.toLowerCase()))
      throw errors.armInvalid("InvalidRequestContent", `'properties.category' must be one of ${CONNECTION_CATEGORIES.join(", ")}.`, "properties.category");
    const cat = CONNECTION_CATEGORIES.find((c) => c.toLowerCase() === category.toLowerCase())!;
    const target = props.target;
    let url: URL | undefined;
    try {
      url = typeof target === "string" ? new URL(target) : undefined;
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== "https:" && url.protocol !== "http:"))
      throw errors.armInvalid("InvalidRequestContent", "'properties.target' must be the http(s) URL of the service the connection reaches (e.g. https://other-ingot:8443/ or an OpenAI-compatible server's base URL).", "properties.target");
    const authType = props.authType;
    const expected = cat === "CustomKeys" ? "CustomKeys" : "ApiKey";
    if (authType !== expected)
      throw errors.armInvalid("InvalidRequestContent", `'properties.authType' must be '${expected}' for a ${cat} connection (Ingot stores its key and hands it out with getConnectionWithCredentials).`, "properties.authType");
    let credentials: Record<string, string>;
    if (cat === "CustomKeys") {
      credentials = stringMap((objectOrUndefined(props.credentials) ?? {}).keys, "properties.credentials.keys");
      if (!Object.keys(credentials).length) throw errors.armInvalid("InvalidRequestContent", "'properties.credentials.keys' must name at least one key.", "properties.credentials.keys");
    } else {
      const key = (objectOrUndefined(props.credentials) ?? {}).key;
      if (typeof key !== "string" || !key) throw errors.armInvalid("InvalidRequestContent", "'properties.credentials.key' is required: the API key the connection sends.", "properties.credentials.key");
      credentials = { key };
    }
    const existing = this.#store.listConnections(p.account, p.project).find((c) => c.name.toLowerCase() === name.toLowerCase());
    const connection: ConnectionRecord = {
      account: p.account,
      project: p.project,
      name: existing?.name ?? name,
      category: cat,
      target: url.toString(),
      credentials,
      metadata: stringMap(props.metadata, "properties.metadata"),
      isDefault: false,
      createdAt: existing?.createdAt ?? this.#clock(),
    };
    this.#store.putConnection(connection);
    return { connection, created: !existing };
  }

  delete(p: ProjectRef, name: string): boolean {
    return this.#store.deleteConnection(p.account, p.project, name);
  }

  /** ARM body of a connection; credentials are never part of it (Azure leaves them out of GET too). */
  armBody(p: ProjectRef, c: ConnectionRecord) {
    return {
      id: `${p.projectId}/connections/${c.name}`,
      name: c.name,
      type: "Microsoft.CognitiveServices/accounts/projects/connections",
      properties: { category: c.category, target: c.target, authType: c.category === "CustomKeys" ? "CustomKeys" : "ApiKey", isDefault: c.isDefault, metadata: c.metadata, isSharedToAll: false },
    };
  }
}
