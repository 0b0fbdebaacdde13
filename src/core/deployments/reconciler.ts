// Turns desired deployments into loaded models: fetch/build weights, check they fit in
// memory, load them in the engine, then record Succeeded or Failed with a reason, and
// unload models no deployment uses any more. Runs at startup too, so a restart brings
// every deployment back. Work on one base model is serialized (its adapters included);
// different bases proceed in parallel.
import type { Catalog, CatalogModel } from "../catalog/catalog.ts";
import { isIngotError } from "../errors.ts";
import { adapterSequencesFor } from "../ports.ts";
import type { DeploymentRecord, Engine, ModelFiles, ModelRef, OperationRecord, ProvisioningProgress } from "../ports.ts";
import { engineKeyOf, engineTargetOf, isAdapterModel } from "./service.ts";
import type { DeploymentService } from "./service.ts";

/** Progress is written at most this often while downloading. */
const PROGRESS_INTERVAL_MS = 500;

export class Reconciler {
  #deployments: DeploymentService;
  #catalog: Catalog;
  #engine: Engine;
  #files: ModelFiles;
  #sequences: number;
  #adapterSequences: number;
  #log: (msg: string, fields?: Record<string, unknown>) => void;
  #chains = new Map<string, Promise<void>>();
  #loaded = new Set<string>();
  /** Adapters attached (or being attached) in the engine: adapter id → base key. */
  #adapters = new Map<string, string>();

  constructor(deps: {
    deployments: DeploymentService;
    catalog: Catalog;
    engine: Engine;
    files: ModelFiles;
    sequences: number;
    /** Sequences of each adapter context (default: adapterSequencesFor(sequences)). */
    adapterSequences?: number;
    log: (msg: string, fields?: Record<string, unknown>) => void;
  }) {
    this.#deployments = deps.deployments;
    this.#catalog = deps.catalog;
    this.#engine = deps.engine;
    this.#files = deps.files;
    this.#sequences = deps.sequences;
    this.#adapterSequences = deps.adapterSequences ?? adapterSequencesFor(deps.sequences);
    this.#log = deps.log;
  }

  /** Brings every deployment to its desired state; resolves when all have settled. */
  async reconcileAll(): Promise<void> {
    await Promise.all(this.#deployments.list().map((d) => this.reconcile(d)));
  }

  /** Reacts to a change of desired state (PUT or DELETE) and settles its operation. */
  changed(account: string, name: string, operation: OperationRecord): Promise<void> {
    const d = this.#deployments.get(account, name);
    const work = d ? this.reconcile(d, operation) : this.#collect().then(() => this.#deployments.finishOperation(operation));
    return work.catch((e) => this.#log("reconcile failed", { account, deployment: name, error: String(e) }));
  }

  reconcile(d: DeploymentRecord, operation?: OperationRecord): Promise<void> {
    return this.#serialized(this.#targetOf(d.model).key, () => this.#provision(d, operation));
  }

  /** Runs `work` after everything queued on the same base. */
  #serialized(key: string, work: () => Promise<void>): Promise<void> {
    const previous = this.#chains.get(key) ?? Promise.resolve();
    const next = previous.then(work);
    this.#chains.set(key, next);
    return next.finally(() => {
      if (this.#chains.get(key) === next) this.#chains.delete(key);
    });
  }

  /** The engine slot (and adapter) a deployment of this model runs on; a model gone from the catalog keeps its own key. */
  #targetOf(ref: ModelRef): { key: string; adapter?: string } {
    try {
      return engineTargetOf(this.#catalog.find(ref));
    } catch {
      return { key: engineKeyOf(ref) };
    }
  }

  async #provision(d: DeploymentRecord, operation?: OperationRecord): Promise<void> {
    const current = this.#deployments.get(d.account, d.name);
    if (!current || current.createdAt !== d.createdAt) {
      if (operation) this.#deployments.finishOperation(operation);
      return;
    }
    this.#deployments.setState(current, "Creating", null, { phase: "queued", percentComplete: 0 });
    let lastWrite = 0;
    const progress = (p: ProvisioningProgress) => {
      const now = Date.now();
      if (now - lastWrite < PROGRESS_INTERVAL_MS && p.percentComplete < 100) return;
      lastWrite = now;
      this.#deployments.setProgress(current, p);
    };
    try {
      const model = this.#catalog.find(current.model);
      const file = await this.#files.ensure(current.model, (p) =>
        progress({ phase: p.phase === "ready" ? "loading" : p.phase, percentComplete: p.totalBytes ? (100 * p.bytes) / p.totalBytes : 0, bytes: p.bytes, totalBytes: p.totalBytes }),
      );
      // An adapter model loads its base (shared with the base's own deployments), then attaches.
      const base = isAdapterModel(model) ? this.#catalog.find(model.baseModel) : model;
      const key = engineKeyOf(base);
      if (!this.#loaded.has(key)) {
        await this.#files.checkFits(file.path, base.contextLength, this.#sequences, base.name);
        progress({ phase: "loading", percentComplete: 100 });
        await this.#engine.load({ key, path: file.path, contextLength: base.contextLength, embeddings: base.capabilities.includes("embeddings") });
        this.#loaded.add(key);
      }
      if (isAdapterModel(model)) await this.#attach(model, key, file.path, file.adapter?.path, base.contextLength);
      this.#deployments.setState(current, "Succeeded", null, { phase: "ready", percentComplete: 100 });
      if (operation) this.#deployments.finishOperation(operation);
      this.#log("deployment ready", { account: current.account, deployment: current.name });
    } catch (e) {
      const reason = e instanceof Error ? e.message : String(e);
      this.#deployments.setState(current, "Failed", reason, { phase: "failed", percentComplete: 0 });
      if (operation) this.#deployments.finishOperation(operation, { code: isIngotError(e) ? e.code : "DeploymentFailed", message: reason });
      this.#log("deployment failed", { account: current.account, deployment: current.name, reason });
    }
  }

  async #attach(model: CatalogModel, key: string, basePath: string, adapterPath: string | undefined, contextLength: number): Promise<void> {
    if (!adapterPath) throw new Error(`The weights of ${model.name} resolved to no adapter file.`);
    const id = engineKeyOf(model);
    await this.#files.checkAdapterFits(basePath, adapterPath, contextLength, this.#adapterSequences, model.name);
    // Recorded before loading, so a failed attach is still cleaned up when its deployment goes.
    this.#adapters.set(id, key);
    await this.#engine.loadAdapter(key, { id, path: adapterPath });
  }

  /** Detaches adapters and unloads bases that no remaining deployment serves. */
  async #collect(): Promise<void> {
    const wanted = () => {
      const targets = this.#deployments.list().map((d) => this.#targetOf(d.model));
      return { keys: new Set(targets.map((t) => t.key)), adapters: new Set(targets.flatMap((t) => (t.adapter ? [t.adapter] : []))) };
    };
    for (const [id, key] of [...this.#adapters]) {
      if (wanted().adapters.has(id)) continue;
      await this.#serialized(key, async () => {
        // Re-check: a deployment of this adapter may have been created while we waited.
        if (wanted().adapters.has(id) || this.#adapters.get(id) !== key) return;
        this.#adapters.delete(id);
        await this.#engine.unloadAdapter(key, id);
        this.#log("adapter detached", { key, adapter: id });
      });
    }
    for (const key of [...this.#loaded]) {
      if (wanted().keys.has(key)) continue;
      await this.#serialized(key, async () => {
        if (wanted().keys.has(key)) return;
        this.#loaded.delete(key);
        for (const [id, k] of this.#adapters) if (k === key) this.#adapters.delete(id);
        await this.#engine.unload(key);
        this.#log("model unloaded", { key });
      });
    }
  }
}
