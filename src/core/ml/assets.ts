// What the workspace asset services (data, models, datastores, jobs) share: reading the optional
// fields of a PUT body, Azure ML's asset names and versions, list views (listViewType) and the
// next free version number. One copy, so that the assets answer the same way.
import { errors } from "../errors.ts";

/** Azure ML asset names: a letter or digit, then letters, digits, '-', '_' and '.', at most 255 characters. */
const ASSET_NAME = /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,254}$/;
const ASSET_VERSION = /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,63}$/;

export const LIST_VIEW_TYPES = ["ActiveOnly", "ArchivedOnly", "All"] as const;
export type ListViewType = (typeof LIST_VIEW_TYPES)[number];

/** What every asset container (data, models) holds; a kind adds its own fields. */
export interface AssetContainerRecord {
  workspaceId: string;
  name: string;
  description: string;
  tags: Record<string, string>;
  properties: Record<string, string>;
  isArchived: boolean;
  createdAt: number;
  updatedAt: number;
}

/** What every asset version holds beside its container's fields. */
export interface AssetVersionRecord extends AssetContainerRecord {
  version: string;
  isAnonymous: boolean;
}

export const objectOf = (v: unknown): Record<string, unknown> | undefined => (v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);

export function optionalString(v: unknown, field: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw errors.armInvalid("UserError", `'${field}' must be a string.`, field);
  return v;
}

export function optionalBool(v: unknown, field: string): boolean | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "boolean") throw errors.armInvalid("UserError", `'${field}' must be true or false.`, field);
  return v;
}

/**
 * An object of string values (tags, properties). `nulls`: "drop" leaves out keys sent as null
 * (data assets and datastores take them), "refuse" answers 400 (models).
 */
export function stringMap(v: unknown, field: string, nulls: "drop" | "refuse" = "drop"): Record<string, string> | undefined {
  if (v === undefined || v === null) return undefined;
  const o = objectOf(v);
  if (!o || Object.values(o).some((x) => typeof x !== "string" && (nulls === "refuse" || x !== null)))
    throw errors.armInvalid("UserError", `'${field}' must be an object of string values.`, field);
  return Object.fromEntries(Object.entries(o).filter(([, x]) => typeof x === "string")) as Record<string, string>;
}

/** `what`: the asset's kind as the message names it ("Model", "Data", "Output asset"…). */
export function checkAssetName(name: string, what = "Model"): void {
  if (!ASSET_NAME.test(name))
    throw errors.armInvalid("UserError", `${what} name '${name.slice(0, 64)}' is invalid: use up to 255 letters, digits, '-', '_' and '.', starting with a letter or digit.`, "name");
}

export function checkAssetVersion(version: string, what = "Model"): void {
  if (!ASSET_VERSION.test(version))
    throw errors.armInvalid("UserError", `${what} version '${version.slice(0, 64)}' is invalid: use up to 64 letters, digits, '-', '_' and '.', starting with a letter or digit (e.g. 1).`, "version");
}

/** `listViewType` in any casing (absent: ActiveOnly). */
export function listViewTypeOf(value: string | undefined): ListViewType {
  if (value === undefined || value === "") return "ActiveOnly";
  const found = LIST_VIEW_TYPES.find((v) => v.toLowerCase() === value.toLowerCase());
  if (!found) throw errors.armInvalid("UserError", `listViewType '${value.slice(0, 64)}' is not supported; use ActiveOnly, ArchivedOnly or All.`, "listViewType");
  return found;
}

export const inView = (view: ListViewType, archived: boolean) => view === "All" || (view === "ArchivedOnly") === archived;

/** Azure's nextVersion: one more than the highest integer version; "1" when there is none. */
export function nextVersionOf(versions: string[]): string {
  const ints = versions.filter((v) => /^\d+$/.test(v)).map(Number);
  return String(ints.length ? Math.max(...ints) + 1 : 1);
}
