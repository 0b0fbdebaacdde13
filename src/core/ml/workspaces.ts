// Azure Machine Learning workspaces (Microsoft.MachineLearningServices/workspaces, reference
// azure-ml.md §3): kind Default, Hub or Project. A Project belongs to a Hub named by its
// hubResourceId. Each workspace has a GUID workspaceId that never changes (Python builds
// fine-tuned model ids from it) and lives in one location.
import { errors } from "../errors.ts";
import type { WorkspaceStore } from "../ports/index.ts";

export const ML_PROVIDER = "Microsoft.MachineLearningServices";
export const WORKSPACE_KINDS = ["Default", "Hub", "Project"] as const;
export type WorkspaceKind = (typeof WORKSPACE_KINDS)[number];

/** Azure ML's rule: 3 to 33 characters, letters, digits, hyphens and underscores, starting with a letter or digit. */
const WORKSPACE_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_-]{2,32}$/;
const WORKSPACE_ID = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.MachineLearningServices\/workspaces\/([^/]+)$/i;

export interface WorkspaceRecord {
  subscription: string;
  resourceGroup: string;
  name: string;
  kind: WorkspaceKind;
  location: string;
  /** The GUID of properties.workspaceId. */
  workspaceId: string;
  friendlyName: string;
  description: string;
  tags: Record<string, string>;
  /** A Project's hub, as a full ARM id. */
  hubResourceId?: string;
  /**
   * The Cognitive Services account (kind AIServices) behind the workspace: its fine-tuning jobs,
   * their files and fine-tuned models live there, so that account's OpenAI-style API shows them
   * too. A Hub or Default workspace gets its own at creation; a Project uses its hub's.
   */
  account: string;
  createdAt: number;
  updatedAt: number;
}

export interface WorkspaceInput {
  location?: string;
  kind?: string;
  tags?: Record<string, string>;
  friendlyName?: unknown;
  description?: unknown;
  hubResourceId?: unknown;
}

export interface WorkspacePatch {
  tags?: Record<string, string>;
  friendlyName?: unknown;
  description?: unknown;
}

/**
 * The pseudo-account holding the deployment records behind a workspace's serverless endpoints
 * and online deployments. ':' is not valid in ARM names, so no account key, ARM route or list
 * reaches these records: only the endpoints' own keys do.
 */
export const mlDeploymentAccount = (w: Pick<WorkspaceRecord, "workspaceId">) => `ml:${w.workspaceId}`;

/** Creates (or finds) the account behind a new Hub/Default workspace, and removes it with the workspace. Implemented in app.ts over AccountService. */
export interface WorkspaceAccounts {
  /** The name of the account created (or re-used) for the workspace `workspaceArmId`. */
  ensure(w: { subscription: string; resourceGroup: string; name: string; location: string; workspaceArmId: string; workspaceId: string }): string;
  /** Deletes the account if it was created for the workspace `workspaceArmId` (and not since re-used). */
  release(account: string, workspaceArmId: string): void;
}

export const workspaceArmId = (w: Pick<WorkspaceRecord, "subscription" | "resourceGroup" | "name">) =>
  `/subscriptions/${w.subscription}/resourceGroups/${w.resourceGroup}/providers/${ML_PROVIDER}/workspaces/${w.name}`;

const notFound = (resourceGroup: string, name: string) => errors.resourceNotFound(`${ML_PROVIDER}/workspaces`, name, resourceGroup);

function optionalString(v: unknown, field: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw errors.armInvalid("InvalidRequestContent", `The request content was invalid: '${field}' must be a string.`, field);
  return v;
}

export function checkWorkspaceName(name: string): void {
  if (!WORKSPACE_NAME.test(name))
    throw errors.armInvalid(
      "InvalidWorkspaceName",
      `Workspace name '${name.slice(0, 64)}' is invalid: use 3 to 33 characters, letters, digits, hyphens (-) and underscores (_), starting with a letter or digit.`,
      "name",
    );
}

/** The kind as Azure spells it, from any casing; absent is Default. */
export function workspaceKindOf(kind: string | undefined): WorkspaceKind {
  if (kind === undefined) return "Default";
  const k = WORKSPACE_KINDS.find((x) => x.toLowerCase() === kind.toLowerCase());
  if (!k) throw errors.armInvalid("InvalidWorkspaceKind", `Workspace kind '${kind.slice(0, 64)}' is not supported; use one of ${WORKSPACE_KINDS.join(", ")}.`, "kind");
  return k;
}

export class WorkspaceService {
  #store: WorkspaceStore;
  #clock: () => number;
  #defaultLocation: string;
  #newId: () => string;
  #accounts: WorkspaceAccounts;
  #onDelete: ((w: WorkspaceRecord) => void)[] = [];

  constructor(store: WorkspaceStore, options: { defaultLocation: string; accounts: WorkspaceAccounts; clock?: () => number; newId?: () => string }) {
    this.#store = store;
    this.#accounts = options.accounts;
    this.#defaultLocation = options.defaultLocation;
    this.#clock = options.clock ?? Date.now;
    this.#newId = options.newId ?? (() => crypto.randomUUID());
  }

  list(filter: { subscription: string; resourceGroup?: string }): WorkspaceRecord[] {
    return this.#store.listWorkspaces(filter.subscription, filter.resourceGroup);
  }

  get(subscription: string, resourceGroup: string, name: string): WorkspaceRecord | undefined {
    return this.#store.getWorkspace(subscription, resourceGroup, name);
  }

  /** The workspace whose properties.workspaceId is `guid` (any case), as `azureml://locations/…/workspaces/{guid}/…` ids name it. */
  getByWorkspaceId(guid: string): WorkspaceRecord | undefined {
    return this.#store.getWorkspaceById(guid);
  }

  /** Runs before a workspace is deleted: each ML resource kind removes its own (datastores, jobs, endpoints, …). */
  onDelete(listener: (w: WorkspaceRecord) => void): void {
    this.#onDelete.push(listener);
  }

  require(subscription: string, resourceGroup: string, name: string): WorkspaceRecord {
    const w = this.get(subscription, resourceGroup, name);
    if (!w) throw notFound(resourceGroup, name);
    return w;
  }

  /** PUT: creates the workspace, or updates it where ARM lets a PUT change things (tags, names shown); kind, location and hub stay. */
  createOrUpdate(subscription: string, resourceGroup: string, name: string, input: WorkspaceInput): { workspace: WorkspaceRecord; created: boolean } {
    checkWorkspaceName(name);
    const kind = workspaceKindOf(input.kind);
    const existing = this.get(subscription, resourceGroup, name);
    const location = input.location ?? existing?.location ?? this.#defaultLocation;
    if (existing && existing.location.toLowerCase() !== location.toLowerCase())
      throw errors.armInvalid("InvalidLocation", `Workspace '${existing.name}' is in location '${existing.location}'; a workspace cannot move to '${location}'. Delete it and create it again to change its location.`, "location");
    if (existing && input.kind !== undefined && existing.kind !== kind)
      throw errors.armInvalid("InvalidWorkspaceKind", `Workspace '${existing.name}' is of kind '${existing.kind}'; its kind cannot change to '${kind}'. Create a new workspace of kind '${kind}' instead.`, "kind");
    const effectiveKind = existing?.kind ?? kind;
    const hubResourceId = optionalString(input.hubResourceId, "properties.hubResourceId");
    let hub: string | undefined;
    if (effectiveKind === "Project") hub = this.#resolveHub(subscription, hubResourceId ?? existing?.hubResourceId);
    else if (hubResourceId) throw errors.armInvalid("InvalidHubResourceId", `'properties.hubResourceId' applies only to workspaces of kind Project; this workspace is of kind ${effectiveKind}. Remove it, or set "kind": "Project".`, "properties.hubResourceId");
    if (existing?.hubResourceId && hub && existing.hubResourceId.toLowerCase() !== hub.toLowerCase())
      throw errors.armInvalid("InvalidHubResourceId", `Project '${existing.name}' belongs to hub '${existing.hubResourceId}'; a project cannot move to another hub. Create a new project under '${hub}'.`, "properties.hubResourceId");
    const now = this.#clock();
    const workspaceId = existing?.workspaceId ?? this.#newId();
    const account =
      existing?.account ||
      (hub
        ? this.#hubAccount(subscription, hub)
        : this.#accounts.ensure({ subscription, resourceGroup, name, location, workspaceArmId: workspaceArmId({ subscription, resourceGroup, name }), workspaceId }));
    const workspace: WorkspaceRecord = {
      subscription,
      resourceGroup: existing?.resourceGroup ?? resourceGroup,
      name: existing?.name ?? name,
      kind: effectiveKind,
      location,
      workspaceId,
      friendlyName: optionalString(input.friendlyName, "properties.friendlyName") ?? existing?.friendlyName ?? name,
      description: optionalString(input.description, "properties.description") ?? existing?.description ?? "",
      tags: input.tags ?? existing?.tags ?? {},
      ...(hub ? { hubResourceId: hub } : {}),
      account,
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
    };
    this.#store.putWorkspace(workspace);
    return { workspace, created: !existing };
  }

  /** PATCH: tags and the names shown; the rest of the workspace stays. */
  update(subscription: string, resourceGroup: string, name: string, patch: WorkspacePatch): WorkspaceRecord {
    const existing = this.require(subscription, resourceGroup, name);
    const workspace: WorkspaceRecord = {
      ...existing,
      tags: patch.tags ?? existing.tags,
      friendlyName: optionalString(patch.friendlyName, "properties.friendlyName") ?? existing.friendlyName,
      description: optionalString(patch.description, "properties.description") ?? existing.description,
      updatedAt: this.#clock(),
    };
    this.#store.putWorkspace(workspace);
    return workspace;
  }

  /** Deletes the workspace; false when there was none. A hub with projects stays: its projects go first. */
  delete(subscription: string, resourceGroup: string, name: string): boolean {
    const existing = this.get(subscription, resourceGroup, name);
    if (!existing) return false;
    if (existing.kind === "Hub") {
      const id = workspaceArmId(existing).toLowerCase();
      const projects = this.list({ subscription }).filter((w) => w.hubResourceId?.toLowerCase() === id);
      if (projects.length)
        throw errors.conflict("HubHasProjects", `Hub '${existing.name}' still has projects (${projects.map((p) => p.name).join(", ")}); delete them first, then the hub.`);
    }
    for (const listener of this.#onDelete) listener(existing);
    this.#store.deleteWorkspace(subscription, resourceGroup, existing.name);
    if (!existing.hubResourceId) this.#accounts.release(existing.account, workspaceArmId(existing));
    return true;
  }

  /** A project works in its hub's account. */
  #hubAccount(subscription: string, hubId: string): string {
    const [, , group, hubName] = WORKSPACE_ID.exec(hubId)!;
    return this.require(subscription, group, hubName).account;
  }

  /** A Project's hubResourceId, checked: a full workspace id, in the same subscription, naming an existing Hub. Returns the hub's id as stored. */
  #resolveHub(subscription: string, hubResourceId: string | undefined): string {
    if (!hubResourceId)
      throw errors.armInvalid(
        "InvalidHubResourceId",
        `A workspace of kind Project needs 'properties.hubResourceId': the ARM id of its hub, e.g. /subscriptions/${subscription}/resourceGroups/{group}/providers/${ML_PROVIDER}/workspaces/{hub}.`,
        "properties.hubResourceId",
      );
    const m = WORKSPACE_ID.exec(hubResourceId);
    if (!m)
      throw errors.armInvalid(
        "InvalidHubResourceId",
        `'properties.hubResourceId' '${hubResourceId.slice(0, 200)}' is not a workspace id; use /subscriptions/{subscription}/resourceGroups/{group}/providers/${ML_PROVIDER}/workspaces/{hub}.`,
        "properties.hubResourceId",
      );
    const [, sub, group, hubName] = m;
    const hub = sub.toLowerCase() === subscription.toLowerCase() ? this.get(subscription, group, hubName) : undefined;
    if (!hub)
      throw errors.armInvalid("HubNotFound", `The hub '${hubResourceId.slice(0, 200)}' in 'properties.hubResourceId' does not exist in subscription '${subscription}'. Create the hub (kind Hub) first, or name an existing one.`, "properties.hubResourceId");
    if (hub.kind !== "Hub")
      throw errors.armInvalid("InvalidHubResourceId", `Workspace '${hub.name}' in 'properties.hubResourceId' is of kind ${hub.kind}, not Hub; a project's parent must be a workspace of kind Hub.`, "properties.hubResourceId");
    return workspaceArmId(hub);
  }
}
