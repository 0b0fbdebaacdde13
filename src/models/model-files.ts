// Resolves catalog models to verified local weight files: built-in models are built
// deterministically on first use, `file:` weights are checked in place, `hf:` weights are
// downloaded (resumable, sha256-verified) into the models dir, addressed by sha256, and
// `lora:` weights resolve to the base's weights plus the adapter, checked against the base.
// Concurrent ensure() calls for the same weights share one download.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import type { Stats } from "node:fs";
import { readFile, rename, stat, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Catalog, CatalogModel } from "../core/catalog/catalog.ts";
import type { WeightsPin } from "../core/catalog/registry.ts";
import type { ModelRegistry } from "../core/ports/index.ts";
import { IngotError, errors } from "../core/errors.ts";
import type { ModelFiles, ModelRef, WeightsProgress } from "../core/ports/index.ts";
import { BUILTIN_MODELS, builtinRecipeHash, ensureBuiltinModel } from "./builtin/recipes.ts";
import type { BuiltinModelName } from "./builtin/recipes.ts";
import { downloadVerified, sizeOf } from "./download.ts";
import type { DownloadResult } from "./download.ts";
import { describeBase, hfFileUrl, parseHfUri, resolveBaseUrl } from "./hf.ts";
import type { BaseUrl } from "./hf.ts";
import { adapterProblem } from "./adapter-check.ts";
import { availableMemory, checkMemory, estimateAdapterMemory, estimateMemory } from "./memory.ts";
import type { MemoryEstimate } from "./memory.ts";

export interface ModelFile {
  path: string;
  sha256: string;
  sizeBytes: number;
}

export interface LocalModelFilesOptions {
  /** Base URL for hf: weights (else env HF_ENDPOINT, else https://huggingface.co). */
  baseUrl?: string;
  /** Where HF_ENDPOINT and HF_TOKEN are read (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Where trust-on-first-use pins live (default: the catalog's registry). */
  registry?: ModelRegistry;
  fetch?: typeof fetch;
  attempts?: number;
  retryDelayMs?: number;
  stallMs?: number;
  progressIntervalMs?: number;
  /** Where a `lora:` adapter path is read (default: the path itself); replicas map another replica's job outputs to a shared copy. */
  resolveAdapter?: (path: string) => Promise<string>;
  /** Free memory in bytes (default process.availableMemory()). */
  availableMemory?: () => number;
}

/** Whether a model's weights are on disk, for `ingot models list`. */
export type WeightsStatus =
  | { state: "cached"; path: string; sizeBytes: number }
  | { state: "partial"; bytes: number; totalBytes?: number }
  | { state: "missing" }
  | { state: "not-built" }
  | { state: "upstream" };

interface Job {
  promise: Promise<ModelFile>;
  listeners: Set<(p: WeightsProgress) => void>;
}

export class LocalModelFiles implements ModelFiles {
  #catalog: Catalog;
  #modelsDir: string;
  #options: LocalModelFilesOptions;
  #inFlight = new Map<string, Job>();
  #hashes = new Map<string, string>();

  constructor(catalog: Catalog, modelsDir: string, options: LocalModelFilesOptions = {}) {
    this.#catalog = catalog;
    this.#modelsDir = modelsDir;
    this.#options = options;
  }

  get baseUrl(): BaseUrl {
    return resolveBaseUrl(this.#options.baseUrl, this.#options.env ?? process.env);
  }

  ensure(ref: ModelRef, onProgress?: (p: WeightsProgress) => void): Promise<ModelFile & { adapter?: ModelFile }> {
    let model: CatalogModel;
    try {
      model = this.#catalog.find(ref);
    } catch (e) {
      return Promise.reject(e);
    }
    if (model.weights.startsWith("lora:")) return this.#withAdapter(model, onProgress);
    let job = this.#inFlight.get(model.weights);
    if (!job) {
      const listeners = new Set<(p: WeightsProgress) => void>();
      const emit = (p: WeightsProgress) => {
        for (const l of listeners) l(p);
      };
      const promise = this.#fetch(model, emit)
        .then((f) => {
          emit({ phase: "ready", bytes: f.sizeBytes, totalBytes: f.sizeBytes });
          return f;
        })
        .finally(() => this.#inFlight.delete(model.weights));
      job = { promise, listeners };
      this.#inFlight.set(model.weights, job);
    }
    if (onProgress) {
      const j = job;
      j.listeners.add(onProgress);
      void j.promise.finally(() => j.listeners.delete(onProgress)).catch(() => {});
    }
    return job.promise;
  }

  /** Estimates the memory a load would take and throws InsufficientMemory (saying what to do) when it does not fit. */
  async checkFits(path: string, contextLength: number, sequences: number, modelName = "the model"): Promise<void> {
    const estimate = await estimateMemory(path, contextLength, sequences);
    checkMemory(estimate, (this.#options.availableMemory ?? availableMemory)(), modelName);
  }

  /** The same for one more adapter context on a loaded base: the adapter's weights plus the context's KV cache and buffers. */
  async checkAdapterFits(basePath: string, adapterPath: string, contextLength: number, sequences: number, modelName = "the adapter"): Promise<void> {
    const estimate = await estimateAdapterMemory(basePath, adapterPath, contextLength, sequences);
    checkMemory(estimate, (this.#options.availableMemory ?? availableMemory)(), modelName);
  }

  /** Deletes a removed custom model's adapter file (`lora:` weights); other weights are shared or the operator's. */
  async discard(weights: string): Promise<void> {
    if (!weights.startsWith("lora:")) return;
    const path = weights.slice(5);
    for (const stamp of this.#hashes.keys()) if (stamp.startsWith(`${path}:`)) this.#hashes.delete(stamp);
    await unlink(path).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== "ENOENT") throw e;
    });
  }

  /** The estimate checkFits() compares with free memory. */
  estimate(path: string, contextLength: number, sequences: number): Promise<MemoryEstimate> {
    return estimateMemory(path, contextLength, sequences);
  }

  /** Forgets the trust-on-first-use pin of a model's weights (after the upstream file legitimately changed). */
  forgetPin(model: CatalogModel): void {
    this.#registry?.unpinWeights(model.weights);
  }

  async status(model: CatalogModel): Promise<WeightsStatus> {
    const w = model.weights;
    if (w === "none") return { state: "upstream" };
    if (w.startsWith("builtin:")) {
      const name = w.slice(8) as BuiltinModelName;
      if (!Object.hasOwn(BUILTIN_MODELS, name)) return { state: "missing" };
      const idx = await readJson<{ sha256: string; bytes: number }>(join(this.#modelsDir, `builtin-${name}-${builtinRecipeHash(name)}.json`));
      if (!idx) return { state: "not-built" };
      const path = join(this.#modelsDir, `${idx.sha256}.gguf`);
      const size = await sizeOf(path);
      return size !== undefined && size === idx.bytes ? { state: "cached", path, sizeBytes: size } : { state: "not-built" };
    }
    if (w.startsWith("file:") || w.startsWith("lora:")) {
      const size = await sizeOf(w.slice(5));
      return size === undefined ? { state: "missing" } : { state: "cached", path: w.slice(5), sizeBytes: size };
    }
    const pin = this.#expected(model);
    if (pin.sha256) {
      const path = join(this.#modelsDir, `${pin.sha256}.gguf`);
      const size = await sizeOf(path);
      if (size !== undefined && (pin.sizeBytes === undefined || size === pin.sizeBytes)) return { state: "cached", path, sizeBytes: size };
    }
    const part = await sizeOf(join(this.#modelsDir, this.#partName(model, pin.sha256)));
    if (part !== undefined) return { state: "partial", bytes: part, totalBytes: pin.sizeBytes };
    return { state: "missing" };
  }

  get #registry(): ModelRegistry | undefined {
    return this.#options.registry ?? this.#catalog.registry;
  }

  async #fetch(model: CatalogModel, emit: (p: WeightsProgress) => void): Promise<ModelFile> {
    const w = model.weights;
    if (w === "none")
      throw new IngotError("invalid_request", "ModelNotDeployable", `Model ${model.name} has no open weights; it can be deployed only when an upstream is configured for it.`, {
        param: "properties.model",
      });
    if (w.startsWith("builtin:")) {
      const name = w.slice(8);
      if (!Object.hasOwn(BUILTIN_MODELS, name)) throw errors.internal(`Unknown built-in model '${name}' in the catalog (known: ${Object.keys(BUILTIN_MODELS).join(", ")}).`);
      emit({ phase: "building", bytes: 0 });
      const built = await ensureBuiltinModel(name as BuiltinModelName, this.#modelsDir);
      return { path: built.path, sha256: built.sha256, sizeBytes: built.bytes };
    }
    if (w.startsWith("file:")) return this.#localFile(model, w.slice(5), emit);
    if (w.startsWith("hf:")) return this.#download(model, emit);
    throw errors.internal(`Weights '${w}' of ${model.name} use an unknown scheme.`);
  }

  /**
   * A LoRA custom model: its base's weights (built, downloaded or checked as for the base
   * itself) and the adapter file, which must exist, match a recorded sha256, and fit the base.
   */
  async #withAdapter(model: CatalogModel, onProgress?: (p: WeightsProgress) => void): Promise<ModelFile & { adapter: ModelFile }> {
    const baseRef = model.baseModel;
    if (!baseRef) throw errors.internal(`Custom model ${model.name} has lora: weights but no baseModel.`);
    const base = await this.ensure(baseRef, onProgress);
    if (base.adapter) throw errors.internal(`The base model of ${model.name} (${baseRef.name}) is itself an adapter; adapters apply to base models only.`);
    const path = this.#options.resolveAdapter ? await this.#options.resolveAdapter(model.weights.slice(5)) : model.weights.slice(5);
    let st;
    try {
      st = await stat(path);
    } catch {
      throw new IngotError(
        "invalid_request",
        "ModelWeightsMissing",
        `The adapter of ${model.name} is missing: ${path} does not exist. The fine-tuned model's files were removed; fine-tune again, or deploy another checkpoint.`,
        { param: "properties.model" },
      );
    }
    const sha256 = await this.#hashOnce(path, st, () => {});
    if (model.sha256 && sha256 !== model.sha256)
      throw new IngotError("unavailable", "ModelChecksumMismatch", `The adapter of ${model.name} at ${path} changed since it was registered: expected sha256 ${model.sha256}, got ${sha256}.`);
    const problem = await adapterProblem(path, base.path);
    if (problem)
      throw new IngotError(
        "invalid_request",
        "InvalidAdapter",
        `The adapter of ${model.name} at ${path} cannot be served over ${baseRef.name}: ${problem}. Fine-tune again, or deploy another checkpoint.`,
        { param: "properties.model" },
      );
    return { ...base, adapter: { path, sha256, sizeBytes: st.size } };
  }

  /** sha256 of a local file, computed once per path, size and mtime. */
  async #hashOnce(path: string, st: Stats, emit: (p: WeightsProgress) => void): Promise<string> {
    const stamp = `${path}:${st.size}:${st.mtimeMs}`;
    let sha256 = this.#hashes.get(stamp);
    if (!sha256) {
      emit({ phase: "verifying", bytes: 0, totalBytes: st.size });
      const hash = createHash("sha256");
      for await (const chunk of createReadStream(path, { highWaterMark: 8 << 20 })) hash.update(chunk as Buffer);
      sha256 = hash.digest("hex");
      this.#hashes.set(stamp, sha256);
    }
    return sha256;
  }

  /** A GGUF the operator placed on disk (bring your own model); hashed once per size and mtime. */
  async #localFile(model: CatalogModel, path: string, emit: (p: WeightsProgress) => void): Promise<ModelFile> {
    let st;
    try {
      st = await stat(path);
    } catch {
      throw new IngotError(
        "invalid_request",
        "ModelWeightsMissing",
        `The weights of ${model.name} are missing: ${path} does not exist. Put the GGUF back there, or register the model again with \`ingot models add\`.`,
        { param: "properties.model" },
      );
    }
    const sha256 = await this.#hashOnce(path, st, emit);
    if (model.sha256 && sha256 !== model.sha256)
      throw new IngotError(
        "unavailable",
        "ModelChecksumMismatch",
        `The weights of ${model.name} at ${path} changed since they were registered: expected sha256 ${model.sha256}, got ${sha256}. Restore the original file, or remove the model and register it again with \`ingot models add\`.`,
      );
    return { path, sha256, sizeBytes: st.size };
  }

  /** What the file must hash to: the catalog's sha256, else the pin recorded at the first download. */
  #expected(model: CatalogModel): { sha256?: string; sizeBytes?: number; pinned: boolean } {
    if (model.sha256) return { sha256: model.sha256, sizeBytes: model.sizeBytes, pinned: false };
    const pin = this.#registry?.pinnedWeights(model.weights);
    if (pin) return { sha256: pin.sha256, sizeBytes: pin.sizeBytes, pinned: true };
    return { sizeBytes: model.sizeBytes, pinned: false };
  }

  #partName(model: CatalogModel, sha256: string | undefined): string {
    return sha256 ? `${sha256}.part` : `hf-${createHash("sha256").update(model.weights).digest("hex").slice(0, 16)}.part`;
  }

  async #download(model: CatalogModel, emit: (p: WeightsProgress) => void): Promise<ModelFile> {
    const file = parseHfUri(model.weights);
    const base = this.baseUrl;
    const url = hfFileUrl(base.url, file);
    const expected = this.#expected(model);
    const indexPath = join(this.#modelsDir, `${this.#partName(model, undefined).replace(/\.part$/, "")}.json`);

    const existing = async (): Promise<DownloadResult | undefined> => {
      const pin = expected.sha256 ? { sha256: expected.sha256, sizeBytes: expected.sizeBytes } : await readJson<WeightsPin>(indexPath);
      if (!pin?.sha256) return undefined;
      const path = join(this.#modelsDir, `${pin.sha256}.gguf`);
      const size = await sizeOf(path);
      if (size === undefined || (pin.sizeBytes !== undefined && size !== pin.sizeBytes)) return undefined;
      return { path, sha256: pin.sha256, sizeBytes: size };
    };
    const cached = await existing();
    if (cached) return cached;

    const token = (this.#options.env ?? process.env).HF_TOKEN;
    const result = await downloadVerified({
      url,
      dir: this.#modelsDir,
      partName: this.#partName(model, expected.sha256),
      expectedSha256: expected.sha256,
      expectedSize: expected.sizeBytes,
      headers: token ? { authorization: `Bearer ${token}` } : undefined,
      label: model.name,
      baseHint: describeBase(base),
      mismatchHint: expected.pinned
        ? `The expected sha256 was recorded at this model's first download (trust on first use). If the file legitimately changed upstream, forget the pin with \`ingot models pull ${model.name} --format '${model.format}' --repin\`.`
        : undefined,
      onProgress: emit,
      existing,
      fetch: this.#options.fetch,
      attempts: this.#options.attempts,
      retryDelayMs: this.#options.retryDelayMs,
      stallMs: this.#options.stallMs,
      progressIntervalMs: this.#options.progressIntervalMs,
    });
    if (!expected.sha256) {
      // Trust on first use: later downloads of these weights must produce the same bytes.
      this.#registry?.pinWeights(model.weights, { sha256: result.sha256, sizeBytes: result.sizeBytes });
      await writeJsonAtomic(indexPath, { weights: model.weights, sha256: result.sha256, sizeBytes: result.sizeBytes });
    }
    return result;
  }
}



async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, "utf8")) as T;
  } catch {
    return undefined;
  }
}

async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, JSON.stringify(value, null, 2) + "\n");
  await rename(tmp, path);
}
