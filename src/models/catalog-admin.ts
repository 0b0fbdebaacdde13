// The server side of `ingot models`: the catalog with each model's weights state, registering a
// local GGUF (inspected, hashed, copied into the cache), removing one (the rules in
// core/catalog/shared-models.ts), and pulling weights into the cache as a tracked operation
// whose progress a client polls (the phases seen so far, so a fast download still shows them).
import { randomUUID } from "node:crypto";
import { resolve } from "node:path";
import type { Catalog, CatalogModel } from "../core/catalog/catalog.ts";
import type { SharedModels } from "../core/catalog/shared-models.ts";
import { errors, isIngotError } from "../core/errors.ts";
import { usageNameFor } from "../core/catalog/model.ts";
import { CatalogError, validateCatalogModel } from "../core/catalog/validate.ts";
import type { ModelRef, WeightsProgress } from "../core/ports/index.ts";
import type { GgufSummary } from "./inspect.ts";
import { inspectLocalGguf, localModelEntry, storeLocalGguf } from "./local-gguf.ts";
import type { LocalModelRequest } from "./local-gguf.ts";
import type { LocalModelFiles, WeightsStatus } from "./model-files.ts";

export interface CatalogEntry {
  model: CatalogModel;
  isDefaultVersion: boolean;
  /** Added at run time (ingot models add, fine-tuning) rather than shipped. */
  registered: boolean;
  /** The account a custom model belongs to; absent: every account's. */
  owner?: string;
  cache: WeightsStatus;
  /** The sha256 recorded at the first download, for weights whose catalog entry names none. */
  pinnedSha256?: string;
}

export interface PullOperation {
  id: string;
  model: ModelRef;
  status: "InProgress" | "Succeeded" | "Failed";
  startTime: string;
  endTime?: string;
  /** The latest progress of each phase seen, in order. */
  phases: WeightsProgress[];
  result?: { path: string; sha256: string; sizeBytes: number };
  error?: { code: string; message: string };
}

/** Finished pull operations are kept this long for their status to be read. */
const OPERATION_TTL_MS = 60 * 60_000;

export class CatalogAdmin {
  #catalog: Catalog;
  #shared: SharedModels;
  #files: LocalModelFiles;
  #modelsDir: string;
  #operations = new Map<string, PullOperation>();

  constructor(catalog: Catalog, shared: SharedModels, files: LocalModelFiles, modelsDir: string) {
    this.#catalog = catalog;
    this.#shared = shared;
    this.#files = files;
    this.#modelsDir = modelsDir;
  }

  async list(): Promise<CatalogEntry[]> {
    return Promise.all(this.#catalog.list().map((m) => this.#entry(m)));
  }

  /** One model by exact format, name and version; undefined when there is none. */
  async get(ref: ModelRef): Promise<CatalogEntry | undefined> {
    return this.#catalog.has(ref) ? this.#entry(this.#catalog.find(ref)) : undefined;
  }

  /** Registers a local GGUF for every account; 400 for a bad file or field, 409 when the name is taken. */
  async add(req: LocalModelRequest): Promise<{ entry: CatalogEntry; gguf: GgufSummary }> {
    if (!req.path.startsWith("/")) throw errors.invalid(`properties.path must be an absolute path on the server's machine, got '${req.path}'.`, "path");
    const path = resolve(req.path);
    this.#shared.checkFree(req);
    const gguf = await inspectLocalGguf(path);
    const label = (f: string) => `properties.${f}`;
    // Checks the request before any copying: placeholders stand in for the file's hash.
    localModelEntry({ ...req, path }, gguf, label, { weights: `file:${path}`, sha256: "0".repeat(64), sizeBytes: gguf.sizeBytes });
    const stored = await storeLocalGguf(path, this.#modelsDir, req.link === true);
    const model = this.#shared.register(localModelEntry({ ...req, path }, gguf, label, stored));
    return { entry: await this.#entry(model), gguf };
  }

  /**
   * Registers a model served by an OpenAI-compatible upstream (`ingot models add --upstream-url`):
   * no weights, engine "upstream"; the entry is validated as a catalog file's would be.
   */
  async addUpstream(req: { format: string; name: string; version: string; upstream: unknown; capabilities?: string[]; contextLength?: number; license?: string; description?: string }): Promise<{ entry: CatalogEntry }> {
    this.#shared.checkFree(req);
    let model: CatalogModel;
    try {
      model = validateCatalogModel(
        {
          format: req.format,
          name: req.name,
          version: req.version,
          capabilities: req.capabilities ?? ["chatCompletion", "completion"],
          contextLength: req.contextLength ?? 4096,
          weights: "none",
          engine: "upstream",
          upstream: req.upstream,
          skus: ["GlobalStandard", "Standard"].map((s) => ({ name: s, usageName: usageNameFor(req.format, req.name, s), minCapacity: 1, maxCapacity: 1000000, defaultCapacity: 500 })),
          lifecycleStatus: "GenerallyAvailable",
          license: req.license ?? "unspecified",
          ...(req.description !== undefined ? { description: req.description } : {}),
        },
        "properties",
      );
    } catch (e) {
      if (e instanceof CatalogError) throw errors.armInvalid("InvalidRequestContent", e.message, "properties");
      throw e;
    }
    return { entry: await this.#entry(this.#shared.register(model)) };
  }

  remove(ref: ModelRef): CatalogModel | undefined {
    return this.#shared.remove(ref);
  }

  /** Starts (or joins) fetching a model's weights into the cache. */
  pull(ref: ModelRef, opts: { repin?: boolean } = {}): PullOperation {
    const model = this.#catalog.find(ref);
    if (model.weights === "none")
      throw errors.armInvalid("ModelHasNoWeights", `${model.name} has no open weights; it can be deployed only when an upstream is configured for it.`);
    this.#sweep();
    if (opts.repin) this.#files.forgetPin(model);
    const op: PullOperation = {
      id: randomUUID(),
      model: { format: model.format, name: model.name, version: model.version },
      status: "InProgress",
      startTime: new Date().toISOString(),
      phases: [],
    };
    this.#operations.set(op.id, op);
    const onProgress = (p: WeightsProgress) => {
      const last = op.phases.at(-1);
      if (last?.phase === p.phase) op.phases[op.phases.length - 1] = { ...p };
      else op.phases.push({ ...p });
    };
    this.#files.ensure(model, onProgress).then(
      (file) => {
        op.result = { path: file.path, sha256: file.sha256, sizeBytes: file.sizeBytes };
        op.status = "Succeeded";
        op.endTime = new Date().toISOString();
      },
      (e: unknown) => {
        op.error = isIngotError(e) ? { code: e.code, message: e.message } : { code: "InternalServerError", message: String((e as Error)?.message ?? e) };
        op.status = "Failed";
        op.endTime = new Date().toISOString();
      },
    );
    return op;
  }

  operation(id: string): PullOperation | undefined {
    return this.#operations.get(id);
  }

  #sweep(): void {
    const cutoff = Date.now() - OPERATION_TTL_MS;
    for (const [id, op] of this.#operations) if (op.endTime && Date.parse(op.endTime) < cutoff) this.#operations.delete(id);
  }

  async #entry(model: CatalogModel): Promise<CatalogEntry> {
    const registered = this.#catalog.isRegistered(model);
    const owner = this.#catalog.ownerOf(model);
    const pinned = model.sha256 ? undefined : this.#catalog.registry?.pinnedWeights(model.weights)?.sha256;
    let cache: WeightsStatus;
    try {
      cache = await this.#files.status(model);
    } catch {
      cache = { state: "missing" };
    }
    return {
      model,
      isDefaultVersion: this.#catalog.isDefaultVersion(model),
      registered,
      ...(owner !== undefined ? { owner } : {}),
      cache,
      ...(pinned ? { pinnedSha256: pinned } : {}),
    };
  }
}
