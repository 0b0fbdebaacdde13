// Resolves catalog models to verified local weight files. Built-in models are built
// deterministically into the data dir on first use and cached by sha256.
import type { Catalog } from "../core/catalog/catalog.ts";
import { errors } from "../core/errors.ts";
import type { ModelFiles, ModelRef } from "../core/ports.ts";
import { ensureBuiltinModel } from "../gguf/builtin.ts";

export class LocalModelFiles implements ModelFiles {
  #catalog: Catalog;
  #modelsDir: string;
  #inFlight = new Map<string, Promise<{ path: string; sha256: string }>>();

  constructor(catalog: Catalog, modelsDir: string) {
    this.#catalog = catalog;
    this.#modelsDir = modelsDir;
  }

  ensure(ref: ModelRef): Promise<{ path: string; sha256: string }> {
    const model = this.#catalog.find(ref);
    const existing = this.#inFlight.get(model.weights);
    if (existing) return existing;
    const job = this.#fetch(model.weights).finally(() => this.#inFlight.delete(model.weights));
    this.#inFlight.set(model.weights, job);
    return job;
  }

  async #fetch(weights: string): Promise<{ path: string; sha256: string }> {
    if (weights.startsWith("builtin:")) {
      const name = weights.slice("builtin:".length);
      if (name !== "tiny-chat" && name !== "tiny-embed") throw errors.internal(`Unknown built-in model '${name}' in the catalog.`);
      const built = await ensureBuiltinModel(name, this.#modelsDir);
      return { path: built.path, sha256: built.sha256 };
    }
    throw errors.invalid(`Weights '${weights}' cannot be fetched yet: only built-in models deploy in this version of Ingot.`, "properties.model");
  }
}
