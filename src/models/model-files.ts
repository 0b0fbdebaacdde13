// Resolves catalog models to verified local weight files. Built-in models are built
// deterministically into the data dir on first use and cached by sha256.
import { createHash } from "node:crypto";
import { createReadStream, statSync } from "node:fs";
import type { Catalog } from "../core/catalog/catalog.ts";
import { errors } from "../core/errors.ts";
import type { ModelFiles, ModelRef } from "../core/ports.ts";
import { ensureBuiltinModel } from "../gguf/builtin.ts";

export class LocalModelFiles implements ModelFiles {
  #catalog: Catalog;
  #modelsDir: string;
  #inFlight = new Map<string, Promise<{ path: string; sha256: string }>>();
  #hashes = new Map<string, string>();

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
    if (weights.startsWith("file:")) return this.#localFile(weights.slice("file:".length));
    throw errors.invalid(`Weights '${weights}' cannot be fetched yet: only built-in models and local GGUF files deploy in this version of Ingot.`, "properties.model");
  }

  /** A GGUF the operator placed on disk (bring your own model); hashed once per size and mtime. */
  async #localFile(path: string): Promise<{ path: string; sha256: string }> {
    let stat;
    try {
      stat = statSync(path);
    } catch {
      throw errors.invalid(`The model file ${path} does not exist. Put the GGUF there or fix the catalog entry.`, "properties.model");
    }
    const stamp = `${path}:${stat.size}:${stat.mtimeMs}`;
    let sha256 = this.#hashes.get(stamp);
    if (!sha256) {
      const hash = createHash("sha256");
      for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
      sha256 = hash.digest("hex");
      this.#hashes.set(stamp, sha256);
    }
    return { path, sha256 };
  }
}
