// Turns desired deployments into loaded models: fetch/build weights, check they fit in
// memory, load them in the engine, then record Succeeded or Failed with a reason, and
// unload models no deployment uses any more. Runs at startup too, so a restart brings
// every deployment back. Work on one base model is serialized; different models proceed
// in parallel.
import type { Catalog } from "../catalog/catalog.ts";
import { isIngotError } from "../errors.ts";
import type { DeploymentRecord, Engine, ModelFiles, OperationRecord, ProvisioningProgress } from "../ports.ts";
import { engineKeyOf } from "./service.ts";
import type { DeploymentService } from "./service.ts";

/** Progress is written at most this often while downloading. */
const PROGRESS_INTERVAL_MS = 500;

export class Reconciler {
  #deployments: DeploymentService;
  #catalog: Catalog;
  #engine: Engine;
  #files: ModelFiles;
  #sequences: number;
  #log: (msg: string, fields?: Record<string, unknown>) => void;
  #chains = new Map<string, Promise<void>>();
  #loaded = new Set<string>();

  constructor(deps: {
    deployments: DeploymentService;
    catalog: Catalog;
    engine: Engine;
    files: ModelFiles;
    sequences: number;
    log: (msg: string, fields?: Record<string, unknown>) => void;
  }) {
    this.#deployments = deps.deployments;
    this.#catalog = deps.catalog;
    this.#engine = deps.engine;
    this.#files = deps.files;
    this.#sequences = deps.sequences;
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
    const key = engineKeyOf(d.model);
    const previous = this.#chains.get(key) ?? Promise.resolve();
    const next = previous.then(() => this.#provision(d, operation));
    this.#chains.set(key, next);
    return next.finally(() => {
      if (this.#chains.get(key) === next) this.#chains.delete(key);
    });
  }

  async #provision(d: DeploymentRecord, operation?: OperationRecord): Promise<void> {
    const current = this.#deployments.get(d.account, d.name);
    if (!current || current.createdAt !== d.createdAt) {
      if (operation) this.#deployments.finishOperation(operation);
      return;
    }
    const key = engineKeyOf(current.model);
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
      if (!this.#loaded.has(key)) {
        await this.#files.checkFits(file.path, model.contextLength, this.#sequences, model.name);
        progress({ phase: "loading", percentComplete: 100 });
        await this.#engine.load({ key, path: file.path, contextLength: model.contextLength, embeddings: model.capabilities.includes("embeddings") });
        this.#loaded.add(key);
      }
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

  /** Unloads every loaded model that no remaining deployment serves. */
  async #collect(): Promise<void> {
    const wanted = new Set(this.#deployments.list().map((d) => engineKeyOf(d.model)));
    for (const key of [...this.#loaded]) {
      if (wanted.has(key)) continue;
      const previous = this.#chains.get(key) ?? Promise.resolve();
      const next = previous.then(async () => {
        // Re-check: a deployment of this model may have been created while we waited.
        if (this.#deployments.list().some((d) => engineKeyOf(d.model) === key)) return;
        this.#loaded.delete(key);
        await this.#engine.unload(key);
        this.#log("model unloaded", { key });
      });
      this.#chains.set(key, next);
      await next;
    }
  }
}
