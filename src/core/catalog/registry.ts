// The ModelRegistry port: models added at run time (`ingot models add`, fine-tuned models),
// persisted by an adapter (SQLite by default) and merged live into every catalog lookup.
import { IngotError } from "../errors.ts";
import type { ModelRef, ModelRegistry } from "../ports/index.ts";
import type { CatalogModel } from "./model.ts";

export interface RegisteredModel {
  model: CatalogModel;
  /** The account that registered it; null: visible to every account. */
  account: string | null;
  createdAt: number;
}

/** The sha256 and size recorded at the first complete download of weights whose catalog entry names none. */
export interface WeightsPin {
  sha256: string;
  sizeBytes: number;
}

/** A registry that keeps everything in memory (tests, and Ingot started without a store). */
export class MemoryModelRegistry implements ModelRegistry {
  #models = new Map<string, RegisteredModel>();
  #pins = new Map<string, WeightsPin>();
  #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  register(model: CatalogModel, account?: string): RegisteredModel {
    const key = `${model.format}\u0000${model.name}\u0000${model.version}`;
    if (this.#models.has(key)) throw conflict(model);
    const r = { model, account: account ?? null, createdAt: this.#now() };
    this.#models.set(key, r);
    return r;
  }
  list(): RegisteredModel[] {
    return [...this.#models.values()];
  }
  get(ref: ModelRef): RegisteredModel | undefined {
    return this.#models.get(`${ref.format}\u0000${ref.name}\u0000${ref.version}`);
  }
  remove(ref: ModelRef): boolean {
    return this.#models.delete(`${ref.format}\u0000${ref.name}\u0000${ref.version}`);
  }
  pinnedWeights(weights: string): WeightsPin | undefined {
    return this.#pins.get(weights);
  }
  pinWeights(weights: string, pin: WeightsPin): void {
    this.#pins.set(weights, pin);
  }
  unpinWeights(weights: string): void {
    this.#pins.delete(weights);
  }
}

export function conflict(model: ModelRef): IngotError {
  return new IngotError(
    "conflict",
    "ModelAlreadyExists",
    `A model ${model.format}/${model.name} version ${model.version} is already registered. Choose another --version or name, or remove the existing one first.`,
  );
}
