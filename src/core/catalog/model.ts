// The shape of a catalog entry, and the naming rules (SKUs, usage names) every entry follows.
import type { Capability } from "../generation/service.ts";
import type { ModelRef, UpstreamSpec } from "../ports/index.ts";

export const CAPABILITIES: readonly Capability[] = ["chatCompletion", "completion", "embeddings", "fineTune", "jsonSchema", "tools"];

export const LIFECYCLE_STATUSES = ["Preview", "GenerallyAvailable", "Deprecating", "Deprecated", "Legacy"] as const;
export type LifecycleStatus = (typeof LIFECYCLE_STATUSES)[number];

/** Azure's deployment types. Token-based SKUs meter tokens per minute; provisioned ones meter PTUs. */
export const SKU_NAMES = [
  "GlobalStandard",
  "Standard",
  "DataZoneStandard",
  "GlobalBatch",
  "DataZoneBatch",
  "ProvisionedManaged",
  "GlobalProvisionedManaged",
  "DataZoneProvisionedManaged",
  "DeveloperTier",
] as const;
export type SkuName = (typeof SKU_NAMES)[number];

export const isProvisionedSku = (sku: string) => sku.endsWith("ProvisionedManaged");

/** What the az CLI sends as `--model-format` for every open-weight model; an alias, never a catalog format. */
export const OSS_FORMAT_ALIAS = "OpenAI-OSS";

export interface CatalogSku {
  name: SkuName;
  /** The quota this SKU draws from, e.g. `OpenAI.GlobalStandard.gpt-4.1-mini` (see usageNameFor). */
  usageName: string;
  minCapacity: number;
  maxCapacity: number;
  defaultCapacity: number;
  /** Capacity must be a multiple of this (provisioned SKUs sell PTUs in blocks). */
  step?: number;
}

export interface CatalogModel {
  /** The publisher string, case-sensitive: `OpenAI`, `Microsoft`, `Meta`, `Mistral AI`, `Alibaba`, `Ingot`, … */
  format: string;
  name: string;
  version: string;
  /** The version used when a deployment names none; at most one per format and name. */
  isDefaultVersion?: boolean;
  publisher?: string;
  description?: string;
  capabilities: Capability[];
  /** The context window Ingot allocates per sequence when it serves the model. */
  contextLength: number;
  /** The longest context the model was trained for (informational; contextLength may not exceed it). */
  maxContextLength?: number;
  /**
   * Where the weights come from: `builtin:<name>` (built by Ingot), `file:<absolute path>`,
   * `hf:<owner>/<repo>/<path/in/repo.gguf>[@<revision>]`, `lora:<absolute path>` (a LoRA adapter
   * over `baseModel`, served in the base's runner), or `none` (no open weights: served only
   * through an upstream).
   */
  weights: string;
  /** Lowercase hex sha256 of the weights file; absent: recorded at the first download (trust on first use). */
  sha256?: string;
  sizeBytes?: number;
  skus: CatalogSku[];
  lifecycleStatus: LifecycleStatus;
  /** ISO dates after which Azure retires the model for inference / fine-tuning. */
  deprecation?: { inference?: string; fineTune?: string };
  license: string;
  /** For custom (fine-tuned or registered) models: the catalog model they derive from. */
  baseModel?: ModelRef;
  /** For fine-tuned models and checkpoints: the job (`ftjob-…`) that produced them. */
  fineTuneJob?: string;
  /** For a checkpoint (`ftchkpt-…`): the job (`ftjob-…`) it is a checkpoint of. */
  checkpointOf?: string;
  /** Default: `upstream` when weights are `none`, else `llamacpp`. `router`: loads nothing, routes each request to another chat deployment (model-router). */
  engine?: "llamacpp" | "upstream" | "router";
  /** Where an `upstream` model runs (an OpenAI-compatible server or pool); absent: not deployable (no upstream configured). */
  upstream?: UpstreamSpec;
  /** USD per 1M tokens, where known (the model router compares prices; else it uses a proxy from the size). */
  price?: { input: number; output: number };
  /** Where the sha256/size came from (catalog files only; informational). */
  sources?: string[];
}

/**
 * Azure's quota names: `OpenAI.<Sku>.<model>` for OpenAI models and `AIServices.<Sku>.<model>`
 * for every other publisher (Foundry Models sold directly by Azure use that prefix); provisioned
 * SKUs draw on one PTU pool per deployment type, so their name has no model: `OpenAI.ProvisionedManaged`.
 */
export function usageNameFor(format: string, model: string, sku: string): string {
  const provider = format === "OpenAI" ? "OpenAI" : "AIServices";
  return isProvisionedSku(sku) ? `${provider}.${sku}` : `${provider}.${sku}.${model}`;
}

/** An entry as given in code (IngotOptions.extraModels): usage names may be left out and are derived. */
export type CatalogModelInput = Omit<CatalogModel, "skus"> & { skus: (Omit<CatalogSku, "usageName"> & { usageName?: string })[] };

export const refOf = (m: { format: string; name: string; version: string }): ModelRef => ({ format: m.format, name: m.name, version: m.version });
export const refKey = (r: ModelRef) => `${r.format}\u0000${r.name}\u0000${r.version}`;
export const describeRef = (r: ModelRef) => `${r.format}/${r.name} version ${r.version}`;
