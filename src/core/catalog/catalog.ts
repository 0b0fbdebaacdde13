// The model catalog: the shipped data files under catalog/ (not code), extra entries given
// in code, and models registered at run time, merged live into every lookup. resolve() is
// what a deployment PUT calls: it answers with Azure's error code and a message that names
// the right string.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { IngotError, errors } from "../errors.ts";
import type { ModelRef } from "../ports/index.ts";
import { OSS_FORMAT_ALIAS, describeRef, refKey, usageNameFor } from "./model.ts";
import type { CatalogModel, CatalogModelInput } from "./model.ts";
import type { ModelRegistry } from "../ports/index.ts";
import { closeMatches } from "./suggest.ts";
import { CatalogError, checkCatalogConsistency, validateCatalogFile, validateCatalogModel } from "./validate.ts";

export type { CatalogModel, CatalogModelInput, CatalogSku, LifecycleStatus, SkuName } from "./model.ts";
export { CatalogError } from "./validate.ts";

/** What a deployment names: format and name as sent; version may be omitted (→ the default version). */
export interface ModelQuery {
  format: string;
  name: string;
  version?: string | null;
}

const NOT_SUPPORTED = "DeploymentModelNotSupported";

export class Catalog {
  #static: CatalogModel[];
  #byKey: Map<string, CatalogModel>;
  #registry: ModelRegistry | undefined;

  /**
   * `models`: shipped and in-code entries (validated here; duplicates are an error).
   * `registry`: run-time registrations, read on every lookup so `ingot models add` shows up without a restart.
   */
  constructor(models: (CatalogModel | CatalogModelInput)[], registry?: ModelRegistry) {
    const entries = models.map((m, i) => ({ model: withUsageNames(m), where: `catalog entry ${i} (${m.format}/${m.name})` }));
    checkCatalogConsistency(entries);
    this.#static = entries.map((e) => e.model);
    this.#byKey = new Map(this.#static.map((m) => [refKey(m), m]));
    this.#registry = registry;
  }

  /** Reads and validates every `*.json` under `dir`; throws CatalogError naming the file and field. */
  static readDirectory(dir: string): CatalogModel[] {
    const files = readdirSync(dir).filter((f) => f.endsWith(".json")).sort();
    const entries: { model: CatalogModel; where: string }[] = [];
    for (const f of files) {
      const file = join(dir, f);
      let json: unknown;
      try {
        json = JSON.parse(readFileSync(file, "utf8"));
      } catch (e) {
        throw new CatalogError(`${file}: not valid JSON (${(e as Error).message})`);
      }
      validateCatalogFile(json, file).forEach((model, i) => entries.push({ model, where: `${file}: models[${i}]` }));
    }
    checkCatalogConsistency(entries);
    return entries.map((e) => e.model);
  }

  static fromDirectory(dir: string, registry?: ModelRegistry): Catalog {
    return new Catalog(Catalog.readDirectory(dir), registry);
  }

  /** Validates entries given in code (e.g. IngotOptions.extraModels), naming them by `label[i]`. */
  static validateEntries(models: unknown[], label: string): CatalogModel[] {
    return models.map((m, i) => validateCatalogModel(m, `${label}[${i}]`));
  }

  get registry(): ModelRegistry | undefined {
    return this.#registry;
  }

  /** Every model: shipped, in-code, then registered. */
  list(): CatalogModel[] {
    return [...this.#static, ...this.#registered()];
  }

  /** @deprecated use list(); kept for callers that read the array. */
  get models(): CatalogModel[] {
    return this.list();
  }

  /** Whether the model came from the registry (ingot models add, fine-tuning) rather than the shipped catalog. */
  isRegistered(ref: ModelRef): boolean {
    return !this.#byKey.has(refKey(ref)) && this.#registry?.get(ref) !== undefined;
  }

  has(ref: ModelRef): boolean {
    return this.#byKey.has(refKey(ref)) || this.#registry?.get(ref) !== undefined;
  }

  /** The account a registered (custom) model belongs to; undefined for catalog models and models registered for every account. */
  ownerOf(ref: ModelRef): string | undefined {
    if (this.#byKey.has(refKey(ref))) return undefined;
    return this.#registry?.get(ref)?.account ?? undefined;
  }

  /** Whether this is the version a deployment gets when it names none. */
  isDefaultVersion(ref: ModelRef): boolean {
    const d = this.defaultVersion(ref.format, ref.name);
    return d !== undefined && d.version === ref.version;
  }

  /** Exact lookup, for deployments already stored (their format is canonical). */
  find(ref: ModelRef): CatalogModel {
    const model = this.#byKey.get(refKey(ref)) ?? this.#fromRegistry(ref);
    if (!model) throw errors.invalid(`Model ${describeRef(ref)} is not in the catalog.`, "properties.model", NOT_SUPPORTED);
    return model;
  }

  /** Versions of a model, oldest first. */
  versionsOf(format: string, name: string): string[] {
    return sortVersions(this.list().filter((m) => m.format === format && m.name === name)).map((m) => m.version);
  }

  /** The catalog's publisher strings, sorted. */
  formats(): string[] {
    return [...new Set(this.list().map((m) => m.format))].sort();
  }

  /** The version used when a deployment names none: the one marked isDefaultVersion, else the newest. */
  defaultVersion(format: string, name: string): CatalogModel | undefined {
    const versions = sortVersions(this.list().filter((m) => m.format === format && m.name === name));
    return versions.find((m) => m.isDefaultVersion) ?? versions.at(-1);
  }

  /**
   * Resolves what a deployment PUT names to a catalog model, or throws IngotError
   * (invalid_request, DeploymentModelNotSupported) with a message that says what to send.
   * `OpenAI-OSS` (the az CLI's format for open-weight models) resolves to the model's real format.
   */
  resolve(query: ModelQuery): CatalogModel {
    const name = query.name ?? "";
    const format = query.format ?? "";
    const version = query.version ?? "";
    if (!name) throw errors.invalid("properties.model.name is required: name the catalog model to deploy (e.g. 'gpt-4.1-mini').", "properties.model.name", NOT_SUPPORTED);
    const all = this.list();
    const named = all.filter((m) => m.name === name);
    if (named.length === 0) throw this.#unknownName(all, format, name);

    const formats = [...new Set(named.map((m) => m.format))];
    let chosen = format;
    if (!formats.includes(format)) {
      if (format === OSS_FORMAT_ALIAS) {
        const open = formats.filter((f) => f !== "OpenAI" && named.some((m) => m.format === f && m.weights !== "none"));
        if (open.length === 0)
          throw errors.invalid(
            `The model format '${OSS_FORMAT_ALIAS}' is for models with open weights, and '${name}' has none. Use ${quoteList(formats)}.`,
            "properties.model.format",
            NOT_SUPPORTED,
          );
        chosen = open[0];
      } else if (!format) {
        throw errors.invalid(`properties.model.format is required for model '${name}': use ${quoteList(formats)}.`, "properties.model.format", NOT_SUPPORTED);
      } else {
        throw errors.invalid(
          `The model format '${format}' is not valid for model '${name}'. Format strings are case-sensitive: use ${quoteList(formats)}.`,
          "properties.model.format",
          NOT_SUPPORTED,
        );
      }
    }

    if (!version) {
      const d = this.defaultVersion(chosen, name);
      if (d) return d;
    }
    const exact = named.find((m) => m.format === chosen && m.version === version);
    if (exact) return exact;
    const versions = sortVersions(named.filter((m) => m.format === chosen));
    const def = this.defaultVersion(chosen, name);
    const listed = versions.map((m) => `'${m.version}'${m === def ? " (default)" : ""}`).join(", ");
    throw errors.invalid(
      `Version '${version}' of model '${name}' (format '${chosen}') is not supported. Available versions: ${listed}. Omit the version to get the default.`,
      "properties.model.version",
      NOT_SUPPORTED,
    );
  }

  #unknownName(all: CatalogModel[], format: string, name: string): IngotError {
    const formats = [...new Set(all.map((m) => m.format))].sort();
    const caseOnly = all.filter((m) => m.name.toLowerCase() === name.toLowerCase());
    if (caseOnly.length > 0) {
      const m = caseOnly[0];
      return errors.invalid(
        `The model '${name}' is not supported. Model names are case-sensitive: use '${m.name}' (format '${m.format}').`,
        "properties.model.name",
        NOT_SUPPORTED,
      );
    }
    const pool = formats.includes(format) ? all.filter((m) => m.format === format) : all;
    const names = [...new Set(pool.map((m) => m.name))];
    const close = closeMatches(name, names.length > 0 ? names : all.map((m) => m.name), 3);
    const formatOf = (n: string) => all.find((m) => m.name === n)!.format;
    const hint = close.length > 0 ? ` Close matches: ${close.map((n) => `'${n}' (format '${formatOf(n)}')`).join(", ")}.` : "";
    const formatHint = !format || formats.includes(format) || format === OSS_FORMAT_ALIAS ? "" : ` Valid formats (case-sensitive): ${quoteList(formats)}.`;
    return errors.invalid(
      `The model '${name}'${format ? ` with format '${format}'` : ""} is not supported.${hint}${formatHint} List the catalog with \`ingot models list\`.`,
      "properties.model.name",
      NOT_SUPPORTED,
    );
  }

  #registered(): CatalogModel[] {
    if (!this.#registry) return [];
    return this.#registry.list().filter((r) => !this.#byKey.has(refKey(r.model))).map((r) => withUsageNames(r.model));
  }

  #fromRegistry(ref: ModelRef): CatalogModel | undefined {
    const r = this.#registry?.get(ref);
    return r && withUsageNames(r.model);
  }
}

function withUsageNames(m: CatalogModel | CatalogModelInput): CatalogModel {
  if (m.skus.every((s) => s.usageName)) return m as CatalogModel;
  return { ...m, skus: m.skus.map((s) => ({ ...s, usageName: s.usageName || usageNameFor(m.format, m.name, s.name) })) };
}

const quoteList = (items: string[]) => (items.length === 1 ? `'${items[0]}'` : `one of ${items.map((i) => `'${i}'`).join(", ")}`);

/** Oldest first: numeric-aware, so "2" < "10" and "2024-07-18" < "2025-04-14". */
function sortVersions(models: CatalogModel[]): CatalogModel[] {
  return [...models].sort((a, b) => a.version.localeCompare(b.version, "en", { numeric: true }));
}
