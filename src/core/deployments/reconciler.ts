// Turns desired deployments into loaded models: fetch/build weights, check they fit in
// memory, load them in the engine, then record Succeeded or Failed with a reason. It owns what
// the engine holds: after every change of desired state (PUT, DELETE, account delete, expiry)
// it unloads the runners and adapters no deployment wants, failed ones included. A control loop
// (start()) retries failed deployments with capped exponential backoff and notices runners
// that died for good. Runs at startup too, so a restart brings every deployment back. Work on
// one base model is serialized (its adapters included); different bases proceed in parallel.
import type { Catalog, CatalogModel } from "../catalog/catalog.ts";
import { isIngotError } from "../errors.ts";
import { adapterSequencesFor } from "../ports/index.ts";
import type { DeploymentRecord, Engine, EngineTarget, ModelFiles, OperationRecord, ProvisioningProgress } from "../ports/index.ts";
import { computeReadiness, transientTargets } from "./readiness.ts";
import type { Readiness } from "./readiness.ts";
import { engineKeyOf, instanceKeyOf, isAdapterModel, recordTargetOf } from "./service.ts";
import type { DeploymentService } from "./service.ts";

/** Progress is written at most this often while downloading. */
const PROGRESS_INTERVAL_MS = 500;

export interface ReconcilerTiming {
  /** Wait before the first retry of a failed deployment; doubles with each failure. */
  retryDelayMs: number;
  /** The longest wait between retries. */
  maxRetryDelayMs: number;
  /** How often the control loop looks for due retries and dead runners. */
  loopIntervalMs: number;
  /** How long a serving runner may be loading/restarting before the instance is unready (readiness.ts). */
  readinessGraceMs: number;
  /**
   * An engine load (or adapter attach) still pending after this long fails the deployment and the
   * slot is unloaded. A guard for any engine: llama.cpp's own load timeout (engine.ts, shorter)
   * normally fires first, with the runner's details.
   */
  loadTimeoutMs: number;
}

export const DEFAULT_TIMING: ReconcilerTiming = { retryDelayMs: 5_000, maxRetryDelayMs: 5 * 60_000, loopIntervalMs: 1_000, readinessGraceMs: 30_000, loadTimeoutMs: 10 * 60_000 };

/** One adapter in one base's runner (an adapter model's online instances attach it to several). */
const adapterSlot = (key: string, adapter: string) => `${key}\n${adapter}`;

/** Deployment names are case-insensitive: one retry schedule per account and name in any case. */
const idOf = (account: string, name: string) => `${account}\n${name.toLowerCase()}`;

export class Reconciler {
  #deployments: DeploymentService;
  #catalog: Catalog;
  #engine: Engine;
  #files: ModelFiles;
  #sequences: number;
  #adapterSequences: number;
  #log: (msg: string, fields?: Record<string, unknown>) => void;
  #clock: () => number;
  #timing: ReconcilerTiming;
  #chains = new Map<string, Promise<void>>();
  /** Bases loaded and answering. */
  #loaded = new Set<string>();
  /** Bases the engine holds a slot for (loaded, loading or failed): what #collect may have to unload. */
  #held = new Set<string>();
  /** Adapters attached (or being attached) in the engine, by adapterSlot(base key, adapter id). */
  #adapters = new Map<string, { key: string; id: string }>();
  /** Failed deployments: failures so far and when to try again. */
  #retries = new Map<string, { attempts: number; nextAt: number; busy: boolean }>();
  /** Serving targets seen loading/restarting, and since when (readiness grace). */
  #transientSince = new Map<string, number>();
  #startupReconciled = false;
  /** A #collect started by the loop is running. */
  #collecting = false;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(deps: {
    deployments: DeploymentService;
    catalog: Catalog;
    engine: Engine;
    files: ModelFiles;
    sequences: number;
    /** Sequences of each adapter context (default: adapterSequencesFor(sequences)). */
    adapterSequences?: number;
    log: (msg: string, fields?: Record<string, unknown>) => void;
    clock?: () => number;
    timing?: Partial<ReconcilerTiming>;
  }) {
    this.#deployments = deps.deployments;
    this.#catalog = deps.catalog;
    this.#engine = deps.engine;
    this.#files = deps.files;
    this.#sequences = deps.sequences;
    this.#adapterSequences = deps.adapterSequences ?? adapterSequencesFor(deps.sequences);
    this.#log = deps.log;
    this.#clock = deps.clock ?? Date.now;
    this.#timing = { ...DEFAULT_TIMING, ...deps.timing };
  }

  /** Brings every deployment to its desired state; resolves when all have settled. */
  async reconcileAll(): Promise<void> {
    await Promise.all(this.#deployments.list().map((d) => this.reconcile(d)));
    await this.#collect();
    this.#startupReconciled = true;
  }

  /** Starts the control loop (retries, dead runners, readiness grace). */
  start(): void {
    this.#timer ??= setInterval(() => this.tick(), this.#timing.loopIntervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Reacts to a change of desired state (PUT, DELETE, expiry, account delete) and settles its operation. */
  changed(account: string, name: string, operation: OperationRecord): Promise<void> {
    // New desired state: a failure of the old one says nothing about it.
    this.#retries.delete(idOf(account, name));
    const d = this.#deployments.get(account, name);
    // Whatever changed, runners and adapters nothing wants any more go (a version change leaves the old one unused).
    const work = d
      ? this.reconcile(d, operation).then(() => this.#collect())
      : this.#collect().then(() => this.#deployments.finishOperation(operation));
    return work.catch((e) => this.#log("reconcile failed", { account, deployment: name, error: String(e) }));
  }

  /**
   * Another replica changed desired state (a change notification; no name: anything may have
   * changed). This replica brings its own runners to it; the writer's replica settles the
   * operation. A deployment already Succeeded or Failed keeps that state while this replica
   * loads (as a retry does) instead of going back to Creating.
   */
  remoteChanged(account?: string, name?: string): Promise<void> {
    const targets = account !== undefined && name !== undefined ? [this.#deployments.get(account, name)].filter((d) => d !== undefined) : this.#deployments.list();
    if (account !== undefined && name !== undefined) this.#retries.delete(idOf(account, name));
    const work = targets
      .filter((d) => account !== undefined || !this.#serves(d))
      .map((d) => this.reconcile(d, undefined, d.state === "Succeeded" || d.state === "Failed"));
    return Promise.all(work)
      .then(() => this.#collect())
      .catch((e) => this.#log("reconcile failed", { account, deployment: name, error: String(e) }));
  }

  /** Whether this replica's engine holds what the deployment runs on. */
  #serves(d: DeploymentRecord): boolean {
    if (this.#isRouter(d)) return true;
    const t = this.#targetOf(d);
    return this.#loaded.has(t.key) && (t.adapter === undefined || this.#adapters.has(adapterSlot(t.key, t.adapter)));
  }

  reconcile(d: DeploymentRecord, operation?: OperationRecord, retry = false): Promise<void> {
    return this.#serialized(this.#targetOf(d).key, () => this.#provision(d, operation, retry));
  }

  /**
   * One pass of the control loop: retries failed deployments whose backoff has passed, turns
   * Succeeded deployments whose runner died for good into Failed (to be retried), and notes
   * how long serving runners have been loading or restarting. Public so tests can step it.
   */
  tick(): void {
    const now = this.#clock();
    const all = this.#deployments.list();
    const status = this.#engine.status();
    const byKey = new Map(status.map((s) => [s.key, s]));
    const present = new Set<string>();
    for (const d of all) {
      const id = idOf(d.account, d.name);
      present.add(id);
      if (d.state === "Failed") {
        const r = this.#retries.get(id);
        if (!r || r.busy || r.nextAt > now) continue;
        r.busy = true;
        this.#log("retrying deployment", { account: d.account, deployment: d.name, attempt: r.attempts + 1 });
        this.reconcile(d, undefined, true)
          .catch((e: Error) => this.#log("retrying deployment failed", { account: d.account, deployment: d.name, error: e.message }))
          .finally(() => {
            r.busy = false;
          });
      } else if (d.state === "Succeeded" && this.#startupReconciled && !this.#isRouter(d)) {
        const t = this.#targetOf(d);
        if (this.#chains.has(t.key)) continue; // being worked on
        // Never taken on here: another replica wrote it (the polling path when no change notification came).
        if (!this.#held.has(t.key) || (t.adapter !== undefined && !this.#adapters.has(adapterSlot(t.key, t.adapter)))) {
          this.reconcile(d, undefined, true).catch((e: Error) => this.#log("loading another replica's deployment failed", { account: d.account, deployment: d.name, error: e.message }));
          continue;
        }
        const s = byKey.get(t.key);
        const adapter = t.adapter === undefined ? undefined : s?.adapters?.find((a) => a.id === t.adapter);
        const reason = !s
          ? "its model is not loaded"
          : s.state === "failed"
            ? `its model runner stopped and could not be restarted: ${s.error ?? "unknown error"}`
            : t.adapter !== undefined && s.state === "ready" && (!adapter || adapter.state === "failed")
              ? `its adapter is not attached: ${adapter?.error ?? "missing"}`
              : undefined;
        if (reason) this.#lost(d, t, reason);
      }
    }
    for (const id of this.#retries.keys()) if (!present.has(id)) this.#retries.delete(id);
    // Runners no deployment wants (deleted through another replica) go, as after a change here;
    // not while loads run (a change made here collects when its load is done, as it always has).
    if (this.#startupReconciled && !this.#collecting && this.#chains.size === 0) {
      const wanted = new Set(all.map((d) => this.#targetOf(d).key));
      if ([...this.#held].some((k) => !wanted.has(k))) {
        this.#collecting = true;
        this.#collect()
          .catch((e: Error) => this.#log("unloading unused runners failed", { error: e.message }))
          .finally(() => (this.#collecting = false));
      }
    }
    const transient = transientTargets(all, status, (d) => this.#targetOf(d));
    for (const id of this.#transientSince.keys()) if (!transient.has(id)) this.#transientSince.delete(id);
    for (const id of transient) if (!this.#transientSince.has(id)) this.#transientSince.set(id, now);
  }

  /** What /readyz answers (the rule is in readiness.ts). */
  readiness(): Readiness {
    return computeReadiness({
      startupReconciled: this.#startupReconciled,
      deployments: this.#deployments.list(),
      engine: this.#engine.status(),
      targetOf: (d) => this.#targetOf(d),
      transientSince: this.#transientSince,
      now: this.#clock(),
      graceMs: this.#timing.readinessGraceMs,
    });
  }

  /** A serving deployment lost its runner or adapter: Failed now, reloaded by the retry loop. */
  #lost(d: DeploymentRecord, t: EngineTarget, reason: string): void {
    if (t.adapter === undefined) this.#loaded.delete(t.key);
    else this.#adapters.delete(adapterSlot(t.key, t.adapter));
    const message = `Deployment '${d.name}' stopped serving: ${reason}`;
    this.#fail(d, message);
    this.#log("deployment lost its runner", { account: d.account, deployment: d.name, reason });
  }

  /** Records a failure with the time of the next attempt (capped exponential backoff). */
  #fail(d: DeploymentRecord, reason: string): void {
    const id = idOf(d.account, d.name);
    const r = this.#retries.get(id) ?? { attempts: 0, nextAt: 0, busy: false };
    r.attempts++;
    const delay = Math.min(this.#timing.maxRetryDelayMs, this.#timing.retryDelayMs * 2 ** (r.attempts - 1));
    r.nextAt = this.#clock() + delay;
    this.#retries.set(id, r);
    this.#deployments.setState(d, "Failed", reason, { phase: "failed", percentComplete: 0, attempts: r.attempts, nextRetryAt: new Date(r.nextAt).toISOString() });
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

  /** A model-router deployment: no runner to watch. */
  #isRouter(d: DeploymentRecord): boolean {
    try {
      return this.#catalog.find(d.model).engine === "router";
    } catch {
      return false;
    }
  }

  /** The engine slot (and adapter) a deployment of this model runs on; a model gone from the catalog keeps its own key. */
  #targetOf(d: DeploymentRecord): { key: string; adapter?: string } {
    try {
      return recordTargetOf(this.#catalog.find(d.model), d.options);
    } catch {
      return { key: instanceKeyOf(engineKeyOf(d.model), d.options?.instance) };
    }
  }

  async #provision(d: DeploymentRecord, operation?: OperationRecord, retry = false): Promise<void> {
    const current = this.#deployments.get(d.account, d.name);
    if (!current || current.createdAt !== d.createdAt) {
      if (operation) this.#deployments.finishOperation(operation);
      return;
    }
    // A retry keeps the deployment Failed (with its reason) until it succeeds; progress shows the attempt.
    if (!retry) this.#deployments.setState(current, "Creating", null, { phase: "queued", percentComplete: 0 });
    let lastWrite = 0;
    const progress = (p: ProvisioningProgress) => {
      const now = Date.now();
      if (now - lastWrite < PROGRESS_INTERVAL_MS && p.percentComplete < 100) return;
      lastWrite = now;
      this.#deployments.setProgress(current, p);
    };
    try {
      const model = this.#catalog.find(current.model);
      // A model router loads nothing: it serves as soon as it is written (its candidates are checked per request).
      if (model.engine === "router") {
        this.#retries.delete(idOf(current.account, current.name));
        this.#deployments.setState(current, "Succeeded", null, { phase: "ready", percentComplete: 100 });
        if (operation) this.#deployments.finishOperation(operation);
        return;
      }
      const base = isAdapterModel(model) ? this.#catalog.find(model.baseModel) : model;
      if (base.upstream) {
        // An upstream model has no local weights and no memory to check: "loading" it connects to its pool.
        await this.#connectUpstream(model, base, instanceKeyOf(engineKeyOf(base), current.options?.instance));
      } else {
        const file = await this.#files.ensure(current.model, (p) =>
          progress({ phase: p.phase === "ready" ? "loading" : p.phase, percentComplete: p.totalBytes ? (100 * p.bytes) / p.totalBytes : 0, bytes: p.bytes, totalBytes: p.totalBytes }),
        );
        // An adapter model loads its base (shared with the base's own deployments), then attaches.
        const key = instanceKeyOf(engineKeyOf(base), current.options?.instance);
        if (!this.#loaded.has(key)) {
          await this.#files.checkFits(file.path, base.contextLength, this.#sequences, base.name);
          progress({ phase: "loading", percentComplete: 100 });
          // Held from here: a failed load leaves a failed slot that #collect removes once unwanted.
          this.#held.add(key);
          await this.#withinLoadTimeout(
            this.#engine.load({ key, path: file.path, contextLength: base.contextLength, embeddings: base.capabilities.includes("embeddings") }),
            `Loading ${base.name}`,
            () => this.#engine.unload(key),
          );
          this.#loaded.add(key);
        }
        if (isAdapterModel(model)) await this.#attach(model, key, file.path, file.adapter?.path, base.contextLength);
      }
      this.#retries.delete(idOf(current.account, current.name));
      this.#deployments.setState(current, "Succeeded", null, { phase: "ready", percentComplete: 100 });
      if (operation) this.#deployments.finishOperation(operation);
      this.#log("deployment ready", { account: current.account, deployment: current.name });
    } catch (e) {
      const reason = e instanceof Error ? e.message : String(e);
      this.#fail(current, reason);
      if (operation) this.#deployments.finishOperation(operation, { code: isIngotError(e) ? e.code : "DeploymentFailed", message: reason });
      this.#log("deployment failed", { account: current.account, deployment: current.name, reason });
    }
  }

  /** Connects an upstream base (once per key) and, for a fine-tuned model over it, has the upstream apply its adapter per request. */
  async #connectUpstream(model: CatalogModel, base: CatalogModel, key: string): Promise<void> {
    if (!this.#loaded.has(key)) {
      this.#held.add(key);
      await this.#withinLoadTimeout(
        this.#engine.load({ key, path: "", upstream: base.upstream, contextLength: base.contextLength, embeddings: base.capabilities.includes("embeddings") }),
        `Connecting to the upstream of ${base.name}`,
        () => this.#engine.unload(key),
      );
      this.#loaded.add(key);
    }
    if (!isAdapterModel(model)) return;
    const id = engineKeyOf(model);
    this.#adapters.set(adapterSlot(key, id), { key, id });
    await this.#withinLoadTimeout(this.#engine.loadAdapter(key, { id, path: model.weights.slice(5) }), `Attaching the adapter of ${model.name} upstream`, () => this.#engine.unloadAdapter(key, id));
  }

  async #attach(model: CatalogModel, key: string, basePath: string, adapterPath: string | undefined, contextLength: number): Promise<void> {
    if (!adapterPath) throw new Error(`The weights of ${model.name} resolved to no adapter file.`);
    const id = engineKeyOf(model);
    await this.#files.checkAdapterFits(basePath, adapterPath, contextLength, this.#adapterSequences, model.name);
    // Recorded before loading, so a failed attach is still cleaned up when its deployment goes.
    this.#adapters.set(adapterSlot(key, id), { key, id });
    await this.#withinLoadTimeout(this.#engine.loadAdapter(key, { id, path: adapterPath }), `Attaching the adapter of ${model.name}`, () => this.#engine.unloadAdapter(key, id));
  }

  /** `work`, or a failure once the load timeout passes (then `abandon` frees what the engine holds). */
  async #withinLoadTimeout(work: Promise<void>, what: string, abandon: () => Promise<void>): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        void abandon().catch(() => {});
        reject(new Error(`${what} did not finish within ${this.#timing.loadTimeoutMs / 1000} s and was stopped; the reconciler retries it.`));
      }, this.#timing.loadTimeoutMs);
    });
    work.catch(() => {}); // its failure after a timeout is moot
    try {
      await Promise.race([work, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Detaches adapters and unloads bases (loaded or failed) that no remaining deployment serves. */
  async #collect(): Promise<void> {
    // One read of the desired state per pass (not per entry); each unload re-checks under its base's lock.
    const wanted = () => {
      const targets = this.#deployments.list().map((d) => this.#targetOf(d));
      return { keys: new Set(targets.map((t) => t.key)), adapters: new Set(targets.flatMap((t) => (t.adapter ? [adapterSlot(t.key, t.adapter)] : []))) };
    };
    const first = wanted();
    for (const [slot, { key, id }] of [...this.#adapters]) {
      if (first.adapters.has(slot)) continue;
      await this.#serialized(key, async () => {
        // Re-check: a deployment of this adapter may have been created while we waited.
        if (wanted().adapters.has(slot) || this.#adapters.get(slot)?.key !== key) return;
        this.#adapters.delete(slot);
        await this.#engine.unloadAdapter(key, id);
        this.#log("adapter detached", { key, adapter: id });
      });
    }
    for (const key of [...this.#held]) {
      if (first.keys.has(key)) continue;
      await this.#serialized(key, async () => {
        if (wanted().keys.has(key)) return;
        this.#held.delete(key);
        this.#loaded.delete(key);
        for (const [slot, a] of this.#adapters) if (a.key === key) this.#adapters.delete(slot);
        await this.#engine.unload(key);
        this.#log("model unloaded", { key });
      });
    }
  }
}
