// The ModelRegistry port: models added at run time (`ingot models add`, fine-tuned models),
// with weights pins. Implemented by store/sqlite/model-registry-store.ts (SqliteModelRegistry)
// and catalog/registry.ts (MemoryModelRegistry).
import type { RegisteredModel, WeightsPin } from "../catalog/registry.ts";
import type { CatalogModel } from "../catalog/model.ts";
import type { ModelRef } from "./resource-store.ts";

export interface ModelRegistry {
  /** Throws IngotError (conflict) when the format, name and version are taken. */
  register(model: CatalogModel, account?: string): RegisteredModel;
  list(): RegisteredModel[];
  get(ref: ModelRef): RegisteredModel | undefined;
  /** False when there was no such model. */
  remove(ref: ModelRef): boolean;
  /** Trust on first use: the pin recorded for a weights URI, if any. */
  pinnedWeights(weights: string): WeightsPin | undefined;
  pinWeights(weights: string, pin: WeightsPin): void;
  /** Forget a pin (after the upstream file legitimately changed). */
  unpinWeights(weights: string): void;
}
