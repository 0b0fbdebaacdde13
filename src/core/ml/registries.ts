// Azure ML registries as read-only views of the catalog (issue 13, item 2). `azureml` holds
// every shared catalog model Ingot can run (open weights or Ingot's built-ins); one publisher
// registry per catalog format (`azureml-meta`, `azureml-mistral`, …) holds that publisher's.
// Custom models (fine-tuned, checkpoints, registered for one account) are workspace models,
// never registry models. Nothing is stored: every lookup reads the live catalog.
import { IngotError } from "../errors.ts";
import type { CatalogModel } from "../catalog/model.ts";

export const PUBLIC_REGISTRY = "azureml";
/** The seed notebook tests `region in tags["maas-finetuning-deploy-regions"]`; Azure's format is unknown (reference §12.8), so a comma-separated list. */
export const FINETUNE_REGIONS_TAG = "maas-finetuning-deploy-regions";
/** When shipped catalog entries were "created" (as the ARM models list says). */
const CATALOG_CREATED_AT = Date.UTC(2026, 0, 1);

/** What the catalog offers this view: its models, and which version a deployment gets by default. */
export interface RegistryCatalog {
  list(): CatalogModel[];
  ownerOf(ref: { format: string; name: string; version: string }): string | undefined;
  isDefaultVersion(ref: { format: string; name: string; version: string }): boolean;
}

export interface RegistryModelVersion {
  registry: string;
  name: string;
  version: string;
  model: CatalogModel;
  /** Milliseconds since the epoch; within a model, the default version is the newest (label "latest" finds it). */
  createdAt: number;
  tags: Record<string, string>;
}

/** `Mistral AI` → `azureml-mistral`, `Meta` → `azureml-meta`: the first word of the publisher, lowercased. */
export function publisherRegistryName(format: string): string {
  const word = (format.trim().split(/\s+/)[0] ?? "").toLowerCase().replace(/[^a-z0-9]/g, "");
  return `${PUBLIC_REGISTRY}-${word || "other"}`;
}

export type VersionOrder = "CreatedAtDesc" | "CreatedAtAsc" | "VersionDesc" | "VersionAsc";
const ORDERS: readonly VersionOrder[] = ["CreatedAtDesc", "CreatedAtAsc", "VersionDesc", "VersionAsc"];

export class Registries {
  #catalog: RegistryCatalog;
  /** Ingot's location: fine-tuned models deploy here. */
  #location: string;

  constructor(catalog: RegistryCatalog, location: string) {
    this.#catalog = catalog;
    this.#location = location;
  }

  get location(): string {
    return this.#location;
  }

  /** Shared models Ingot can run: open weights (or built-in), not one account's custom model, not a fine-tune. */
  #runnable(): CatalogModel[] {
    return this.#catalog.list().filter((m) => m.weights !== "none" && !m.baseModel && !m.fineTuneJob && !m.checkpointOf && this.#catalog.ownerOf(m) === undefined);
  }

  /** Registry names, `azureml` first, then the publishers' sorted. */
  names(): string[] {
    const publishers = new Set(this.#runnable().map((m) => publisherRegistryName(m.format)));
    return [PUBLIC_REGISTRY, ...[...publishers].sort()];
  }

  /** The registry's canonical name, or a 404 that lists the registries there are. */
  require(registry: string): string {
    const found = this.names().find((n) => n.toLowerCase() === registry.toLowerCase());
    if (!found)
      throw new IngotError("not_found", "NotFound", `Registry '${registry}' was not found. Ingot serves the registries ${this.names().map((n) => `'${n}'`).join(", ")}.`);
    return found;
  }

  #modelsOf(registry: string): CatalogModel[] {
    const name = this.require(registry);
    const all = this.#runnable();
    return name === PUBLIC_REGISTRY ? all : all.filter((m) => publisherRegistryName(m.format) === name);
  }

  /** Model names in the registry, sorted. */
  modelNames(registry: string): string[] {
    return [...new Set(this.#modelsOf(registry).map((m) => m.name))].sort();
  }

  /** Versions of one model, newest first (by createdAt); a 404 naming the registry's models if it has none by that name. */
  versions(registry: string, name: string, order: VersionOrder = "CreatedAtDesc"): RegistryModelVersion[] {
    const reg = this.require(registry);
    // Names are matched exactly, as the catalog does; a name in two formats keeps the first format's versions.
    const named = this.#modelsOf(reg).filter((m) => m.name === name);
    if (named.length === 0) {
      const names = this.modelNames(reg);
      const caseOnly = names.find((n) => n.toLowerCase() === name.toLowerCase());
      throw new IngotError(
        "not_found",
        "NotFound",
        caseOnly
          ? `Model '${name}' was not found in registry '${reg}'. Model names are case-sensitive: use '${caseOnly}'.`
          : `Model '${name}' was not found in registry '${reg}'. Its models are: ${names.map((n) => `'${n}'`).join(", ")}.`,
      );
    }
    const format = named[0].format;
    const ours = named.filter((m) => m.format === format);
    // Oldest first by version; the default version last, so that "latest" (CreatedAtDesc, top 1) is what a deployment gets by default.
    const sorted = [...ours].sort((a, b) => a.version.localeCompare(b.version, "en", { numeric: true }));
    const def = sorted.find((m) => this.#catalog.isDefaultVersion(m));
    const aged = def ? [...sorted.filter((m) => m !== def), def] : sorted;
    const out = aged.map((m, i) => this.#versionOf(reg, m, CATALOG_CREATED_AT + i * 60_000));
    return orderVersions(out, order);
  }

  version(registry: string, name: string, version: string): RegistryModelVersion {
    const all = this.versions(registry, name);
    const found = all.find((v) => v.version === version);
    if (!found)
      throw new IngotError(
        "not_found",
        "NotFound",
        `Version '${version}' of model '${name}' was not found in registry '${all[0].registry}'. Its versions are: ${all.map((v) => `'${v.version}'`).join(", ")}.`,
      );
    return found;
  }

  #versionOf(registry: string, m: CatalogModel, createdAt: number): RegistryModelVersion {
    const task = m.capabilities.includes("chatCompletion") ? "chat-completion" : m.capabilities.includes("embeddings") ? "embeddings" : "text-generation";
    const tags: Record<string, string> = { task, author: m.publisher ?? m.format, license: m.license };
    if (m.capabilities.includes("fineTune")) tags[FINETUNE_REGIONS_TAG] = this.#location;
    return { registry, name: m.name, version: m.version, model: m, createdAt, tags };
  }
}

/** Parses `$orderBy` (absent: newest first); anything else is the caller's error, naming the values. */
export function parseVersionOrder(value: string | undefined): VersionOrder {
  if (value === undefined || value === "") return "CreatedAtDesc";
  const found = ORDERS.find((o) => o.toLowerCase() === value.toLowerCase());
  if (!found) throw new IngotError("invalid_request", "UserError", `$orderBy '${value}' is not supported. Use one of ${ORDERS.map((o) => `'${o}'`).join(", ")}.`, { param: "$orderBy" });
  return found;
}

function orderVersions(versions: RegistryModelVersion[], order: VersionOrder): RegistryModelVersion[] {
  const byVersion = (a: RegistryModelVersion, b: RegistryModelVersion) => a.version.localeCompare(b.version, "en", { numeric: true });
  const sorted = [...versions];
  if (order === "CreatedAtDesc") sorted.sort((a, b) => b.createdAt - a.createdAt);
  else if (order === "CreatedAtAsc") sorted.sort((a, b) => a.createdAt - b.createdAt);
  else if (order === "VersionDesc") sorted.sort((a, b) => byVersion(b, a));
  else sorted.sort(byVersion);
  return sorted;
}

/** `$top`/`$skip` as non-negative integers; a bad value is the caller's error. */
export function parseCount(name: "$top" | "$skip", value: string | undefined): number | undefined {
  if (value === undefined || value === "") return undefined;
  if (!/^\d+$/.test(value)) throw new IngotError("invalid_request", "UserError", `${name} must be a non-negative integer, not '${value}'.`, { param: name });
  return Number(value);
}
