// Fine-tuning jobs (reference §4.4–4.7): create, list, cancel, pause/resume, delete; a
// scheduler that validates datasets against the base model, runs one job at a time per
// machine (configurable), streams the trainer's events into job events, metrics and
// checkpoints, writes results.csv, and registers the fine-tuned model and its checkpoints as
// custom models of the account. Jobs that were running when Ingot stopped, or whose trainer
// died, resume from their last checkpoint.
import { randomBytes } from "node:crypto";
import { errors, IngotError } from "../errors.ts";
import type { Catalog, CatalogModel } from "../catalog/catalog.ts";
import { usageNameFor } from "../catalog/model.ts";
import type { FileSource } from "../files/types.ts";
import type { ModelFiles, ModelRef } from "../ports/index.ts";
import type { DatasetInspection, Hyperparameters, StepMetrics, Trainer, TrainingRun, TrainingSpec } from "../ports/trainer.ts";
import type { CheckpointRecord, CreateJobInput, JobEvent, JobRecord, JobStatus, Page, RequestedHyperparameters } from "./types.ts";
import type { JobStore } from "../ports/index.ts";
import { TERMINAL_STATUSES } from "./types.ts";

/** Per machine, by default: training saturates the cores it is given. */
const DEFAULT_MAX_RUNNING = 1;
/** A job whose trainer keeps dying is failed after this many restarts. */
const MAX_ATTEMPTS = 3;
/** libllama pads training windows to multiples of this. */
const WINDOW_STEP = 256;

export interface JobDeps {
  store: JobStore;
  files: FileSource;
  catalog: Catalog;
  modelFiles: ModelFiles;
  trainer: Trainer;
  resolveHyperparameters: (requested: RequestedHyperparameters, dataset: { examples: number; tokensPerExample: number[]; baseModelName: string; seed: number }) => Hyperparameters;
  /** Directory for a job's checkpoints and adapters (created by the trainer). */
  jobDir: (jobId: string) => string;
  /** A local path for an adapter or checkpoint another replica may have written (default: the path itself; --blob-store: a shared copy). */
  resolveOutput?: (path: string) => Promise<string>;
  threads: number;
  maxRunning?: number;
  /**
   * This process among the replicas on one database (default: a random id). A job runs on the
   * replica holding its lease (JobStore.claimJob); a replica renews it while training, and a job
   * whose lease ran out is taken over by another, from its last checkpoint. One process on its
   * own data dir passes a fixed id, so a restart takes its jobs back at once.
   */
  replicaId?: string;
  /** How long a lease lasts without renewal (default 15 s; renewed every third of it). */
  leaseMs?: number;
  clock?: () => number;
  log: (msg: string, fields?: Record<string, unknown>) => void;
}

const hex = () => randomBytes(16).toString("hex");
const DEFAULT_LEASE_MS = 15_000;

export class JobService {
  #d: JobDeps;
  #clock: () => number;
  #runs = new Map<string, { run: TrainingRun; stopping?: "cancelled" | "paused" }>();
  #pumping = false;
  #pumpAgain = false;
  #closed = false;
  #timer: ReturnType<typeof setInterval> | undefined;
  #finishedListeners: ((job: JobRecord) => void)[] = [];

  #owner: string;
  #leaseMs: number;

  constructor(deps: JobDeps) {
    this.#d = deps;
    this.#clock = deps.clock ?? Date.now;
    this.#owner = deps.replicaId ?? `replica-${hex().slice(0, 12)}`;
    this.#leaseMs = deps.leaseMs ?? DEFAULT_LEASE_MS;
  }

  /** Whether this replica holds (now took, or kept) the job's lease; always true on a store without leases. */
  #claim(id: string): boolean {
    const s = this.#d.store;
    return s.claimJob ? s.claimJob(id, this.#owner, this.#clock(), this.#leaseMs) : true;
  }

  /**
   * Running jobs no replica holds any more (this one restarted, or the replica running them
   * died): taken here and queued again, to resume from their last checkpoint.
   */
  #adoptOrphans(atStart: boolean): void {
    for (const job of this.#d.store.listJobs({ status: ["running"] }).data) {
      if (this.#runs.has(job.id) || !this.#claim(job.id)) continue;
      this.#save({ ...job, status: "queued" });
      const where = atStart ? "Ingot restarted while the job was running" : "The replica running the job stopped";
      this.#event(job.id, "warning", job.progress ? `${where}; it resumes from the checkpoint of epoch ${job.progress.epoch}.` : `${where}; it starts again.`);
    }
  }

  /** Jobs that were running when Ingot stopped go back to the queue and resume from their last checkpoint. */
  start(): void {
    this.#adoptOrphans(true);
    this.#pump();
    // Files validate asynchronously; jobs waiting on them are looked at again each second, and so
    // are running jobs whose replica stopped renewing their lease.
    this.#timer = setInterval(() => {
      this.#adoptOrphans(false);
      if (this.#d.store.listJobs({ status: ["validating_files", "queued"] }).data.length) this.#pump();
    }, 1000);
    this.#timer.unref();
  }

  /** Stops trainer processes; their jobs stay `running` and resume at the next start. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    await Promise.all([...this.#runs.values()].map(({ run }) => run?.cancel()));
  }

  create(account: string, input: CreateJobInput): JobRecord {
    const { base, parent } = this.#baseOf(account, input.model);
    const training = this.#file(account, input.trainingFile, "training_file");
    const validation = input.validationFile ? this.#file(account, input.validationFile, "validation_file") : null;
    if (input.validationSplit > 0 && (training.examples ?? 0) > 0 && Math.floor((training.examples ?? 0) * input.validationSplit) < 1)
      throw errors.invalid(`validation_split ${input.validationSplit} of ${training.examples} examples holds out none; raise it or upload a validation file.`, "validation_split");
    void validation;
    const now = this.#clock();
    const job: JobRecord = {
      id: `ftjob-${hex()}`,
      account,
      model: input.model,
      base,
      parentModel: parent?.name ?? null,
      trainingFile: input.trainingFile,
      validationFile: input.validationFile,
      validationSplit: input.validationSplit,
      requested: input.requested,
      hyperparameters: null,
      suffix: input.suffix,
      seed: input.seed,
      metadata: input.metadata,
      status: "validating_files",
      fineTunedModel: null,
      error: null,
      trainedTokens: 0,
      estimatedFinish: null,
      resultFiles: [],
      createdAt: now,
      startedAt: null,
      finishedAt: null,
      progress: null,
      attempts: 0,
    };
    this.#save(job);
    this.#event(job.id, "info", `Validating training file: ${job.trainingFile}${job.validationFile ? ` and validation file: ${job.validationFile}` : ""}.`);
    this.#pump();
    return job;
  }

  /** A fine-tunable catalog model by name, or a custom model of the account to continue from. */
  #baseOf(account: string, name: string): { base: ModelRef; parent: CatalogModel | undefined } {
    const candidates = this.#d.catalog.models.filter((m) => m.name === name);
    const custom = candidates.find((m) => m.baseModel && this.#d.catalog.ownerOf(m) === account);
    if (custom) return { base: custom.baseModel!, parent: custom };
    const shared = candidates.filter((m) => this.#d.catalog.ownerOf(m) === undefined && !m.baseModel);
    const tunable = shared.filter((m) => m.capabilities.includes("fineTune") && m.weights !== "none");
    const fineTunable = () =>
      this.#d.catalog.models
        .filter((m) => m.capabilities.includes("fineTune") && m.weights !== "none" && !m.baseModel)
        .map((m) => m.name)
        .filter((n, i, all) => all.indexOf(n) === i)
        .join(", ");
    if (tunable.length === 0) {
      if (shared.length > 0) throw errors.invalid(`Model '${name}' cannot be fine-tuned here. Fine-tunable models: ${fineTunable()}.`, "model", "invalid_model");
      throw errors.invalid(`Model '${name}' is not a base model in the catalog nor a custom model of this account. Fine-tunable models: ${fineTunable()}.`, "model", "invalid_model");
    }
    const chosen = tunable.find((m) => this.#d.catalog.isDefaultVersion(m)) ?? tunable[tunable.length - 1];
    return { base: { format: chosen.format, name: chosen.name, version: chosen.version }, parent: undefined };
  }

  #file(account: string, id: string, param: string) {
    const f = this.#d.files.get(account, id);
    if (!f) throw new IngotError("invalid_request", "invalid_file", `File '${id}' (${param}) does not exist in this account. Upload it first (POST /openai/files).`, { param });
    if (f.purpose !== "fine-tune") throw errors.invalid(`File '${id}' has purpose '${f.purpose}'; ${param} needs a file uploaded with purpose 'fine-tune'.`, param, "invalid_file");
    if (f.status === "error") throw errors.invalid(`File '${id}' (${param}) failed validation: ${f.statusDetails ?? "see the file's status_details"}. Fix the file and upload it again.`, param, "invalid_file");
    return f;
  }

  /** Calls `listener` with each job that reaches succeeded, failed or cancelled (the Azure ML view registers the model). */
  onFinished(listener: (job: JobRecord) => void): void {
    this.#finishedListeners.push(listener);
  }

  /** Any account's job by id, or undefined. */
  find(id: string): JobRecord | undefined {
    return this.#d.store.getJob(id);
  }

  get(account: string, id: string): JobRecord {
    const job = this.#d.store.getJob(id);
    if (!job || job.account !== account) throw new IngotError("not_found", "fine_tuning_job_not_found", `Fine-tuning job '${id}' does not exist in this account.`, { param: "fine_tuning_job_id" });
    return job;
  }

  list(account: string, page: { after?: string; limit?: number }): Page<JobRecord> {
    return this.#d.store.listJobs({ account }, { after: page.after, limit: page.limit ?? 20 });
  }

  events(account: string, id: string, page: { after?: string; limit?: number }): Page<JobEvent> {
    this.get(account, id);
    return this.#d.store.listEvents(id, { after: page.after, limit: page.limit ?? 20 });
  }

  checkpoints(account: string, id: string, page: { after?: string; limit?: number }): Page<CheckpointRecord> {
    this.get(account, id);
    return this.#d.store.listCheckpoints(id, { after: page.after, limit: page.limit ?? 10 });
  }

  cancel(account: string, id: string): JobRecord {
    const job = this.get(account, id);
    if (TERMINAL_STATUSES.includes(job.status))
      throw errors.invalid(`Job ${id} is already ${job.status}; only validating, queued, running or paused jobs can be cancelled.`, "fine_tuning_job_id", "invalid_job_status");
    const running = this.#runs.get(id);
    if (running) {
      running.stopping = "cancelled";
      running.run?.cancel().catch((e: Error) => this.#d.log("cancelling a training run failed", { job: id, error: e.message }));
    }
    return this.#finish(job, "cancelled", "Job cancelled.");
  }

  pause(account: string, id: string): JobRecord {
    const job = this.get(account, id);
    const running = this.#runs.get(id);
    if (job.status !== "running" || !running)
      throw errors.invalid(`Job ${id} is ${job.status}; only a running job can be paused.`, "fine_tuning_job_id", "invalid_job_status");
    running.stopping = "paused";
    running.run?.cancel().catch((e: Error) => this.#d.log("pausing a training run failed", { job: id, error: e.message }));
    const paused = this.#save({ ...job, status: "paused", estimatedFinish: null });
    this.#event(id, "info", job.progress ? `Job paused; it will resume from the checkpoint of epoch ${job.progress.epoch} (${job.progress.step} steps).` : "Job paused before its first checkpoint; it will resume from the start.");
    return paused;
  }

  resume(account: string, id: string): JobRecord {
    const job = this.get(account, id);
    if (job.status !== "paused") throw errors.invalid(`Job ${id} is ${job.status}; only a paused job can be resumed.`, "fine_tuning_job_id", "invalid_job_status");
    const queued = this.#save({ ...job, status: "queued" });
    this.#event(id, "info", "Job resumed; waiting for a free trainer.");
    this.#pump();
    return queued;
  }

  /** The trainer process of a running job (operators and tests watch or signal it). */
  trainerPid(id: string): number | undefined {
    return this.#runs.get(id)?.run?.pid;
  }

  /** Azure's DELETE: only jobs that are not in flight; the fine-tuned model stays. */
  delete(account: string, id: string): void {
    const job = this.get(account, id);
    if (!TERMINAL_STATUSES.includes(job.status) && job.status !== "paused")
      throw errors.conflict("invalid_job_status", `Job ${id} is ${job.status}. Cancel it before deleting it.`);
    this.#d.store.deleteJob(id);
  }

  /** results.csv: one header row, one row per step (reference §4.7). */
  resultsCsv(jobId: string): string {
    const fmt = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? "" : String(Number(v.toFixed(5))));
    const rows = this.#d.store.listMetrics(jobId).map((m) =>
      [m.step, fmt(m.trainLoss), fmt(m.trainMeanTokenAccuracy), fmt(m.validLoss), fmt(m.validMeanTokenAccuracy), fmt(m.fullValidLoss), fmt(m.fullValidMeanTokenAccuracy)].join(","),
    );
    return `step,train_loss,train_mean_token_accuracy,valid_loss,valid_mean_token_accuracy,full_valid_loss,full_valid_mean_token_accuracy\n${rows.join("\n")}${rows.length ? "\n" : ""}`;
  }

  // ---- scheduling ----

  #pump(): void {
    if (this.#closed) return;
    if (this.#pumping) {
      this.#pumpAgain = true;
      return;
    }
    this.#pumping = true;
    void this.#pumpOnce()
      .catch((e) => this.#d.log("job scheduler error", { error: String(e) }))
      .finally(() => {
        this.#pumping = false;
        if (this.#pumpAgain) {
          this.#pumpAgain = false;
          this.#pump();
        }
      });
  }

  async #pumpOnce(): Promise<void> {
    for (const job of this.#d.store.listJobs({ status: ["validating_files"] }).data.reverse()) await this.#validate(job);
    const max = this.#d.maxRunning ?? DEFAULT_MAX_RUNNING;
    const queued = this.#d.store.listJobs({ status: ["queued"] }).data.reverse();
    for (const job of queued) {
      if (this.#runs.size >= max || this.#closed) break;
      // Resumed while its paused trainer still winds down: one process per job (they would share
      // its directory, and the old run's end would untrack the new one); that run's end pumps again.
      if (this.#runs.has(job.id)) continue;
      // Another replica holds it (running or about to): not ours.
      if (!this.#claim(job.id)) continue;
      this.#run(job);
    }
  }

  /** Dataset checks that need the base model: every example must fit its context. */
  async #validate(job: JobRecord): Promise<void> {
    try {
      for (const [id, param] of [[job.trainingFile, "training_file"], ...(job.validationFile ? [[job.validationFile, "validation_file"]] : [])] as [string, string][]) {
        const file = this.#d.files.get(job.account, id);
        if (!file) throw this.#jobError("invalid_file", `The ${param} ${id} was deleted before the job started.`, param);
        if (file.status === "uploaded" || file.status === "pending" || file.status === "running") return; // still validating; next pump
        if (file.status === "error") throw this.#jobError("invalid_file", `The ${param} ${id} failed validation: ${file.statusDetails ?? ""}`, param);
        const inspection = await this.#inspect(job, id);
        if (inspection.tooLong.length)
          throw this.#jobError(
            "invalid_file",
            `The ${param} ${id} has examples longer than ${job.base.name}'s context of ${this.#d.catalog.find(job.base).contextLength} tokens: ${inspection.tooLong
              .slice(0, 10)
              .map((t) => `line ${t.line} (${t.tokens} tokens)`)
              .join(", ")}${inspection.tooLong.length > 10 ? ` and ${inspection.tooLong.length - 10} more` : ""}. Shorten or remove them.`,
            param,
          );
      }
      if (this.#d.store.getJob(job.id)?.status !== "validating_files") return; // cancelled meanwhile
      this.#save({ ...job, status: "queued" });
      this.#event(job.id, "info", "Files validated. Job enqueued; waiting for jobs ahead to complete.");
    } catch (e) {
      // An IngotError is about the base model (its weights could not be had), not the training file.
      const err =
        e instanceof JobFailure
          ? e.error
          : e instanceof IngotError
            ? { code: e.code, message: e.message, param: null }
            : { code: "invalid_file", message: e instanceof Error ? e.message : String(e), param: "training_file" };
      const current = this.#d.store.getJob(job.id);
      if (current?.status === "validating_files") this.#fail(current, err);
    }
  }

  #output(path: string): Promise<string> {
    return this.#d.resolveOutput ? this.#d.resolveOutput(path) : Promise.resolve(path);
  }

  /** A dataset's content as a local file (the trainer reads paths; a shared blob store copies it here first). */
  #localPath(fileId: string): Promise<string> {
    const files = this.#d.files;
    return files.localPathOf ? files.localPathOf(fileId) : Promise.resolve(files.pathOf(fileId));
  }

  async #inspect(job: JobRecord, fileId: string): Promise<DatasetInspection> {
    const base = this.#d.catalog.find(job.base);
    const weights = await this.#d.modelFiles.ensure(job.base);
    return this.#d.trainer.inspect(weights.path, await this.#localPath(fileId), base.contextLength);
  }

  #run(job: JobRecord): void {
    const entry = { run: undefined as unknown as TrainingRun, stopping: undefined as "cancelled" | "paused" | undefined };
    // Reserve the slot before the first await so the pump does not start a second job.
    this.#runs.set(job.id, entry);
    const heartbeat = setInterval(() => this.#heartbeat(job.id, entry), Math.max(100, Math.floor(this.#leaseMs / 3)));
    heartbeat.unref();
    this.#train(job, entry)
      .catch((e: Error) => this.#d.log("training run failed unexpectedly", { job: job.id, error: e.message }))
      .finally(() => {
        clearInterval(heartbeat);
        this.#runs.delete(job.id);
        try {
          this.#d.store.releaseJob?.(job.id, this.#owner);
        } catch {
          // the database is away: the lease runs out by itself
        }
        this.#pump();
      });
  }

  /**
   * While training: renew the lease; stop the trainer when another replica has taken the job
   * over (this one was cut off longer than a lease) or when it was cancelled or paused through
   * another replica (the status in the database says so).
   */
  #heartbeat(id: string, entry: { run: TrainingRun; stopping?: "cancelled" | "paused" }): void {
    if (entry.stopping) return;
    try {
      const s = this.#d.store;
      const mine = s.renewJobLease ? s.renewJobLease(id, this.#owner, this.#clock(), this.#leaseMs) : true;
      const status = s.getJob(id)?.status;
      if (mine && (status === "running" || status === "queued")) return;
      entry.stopping = status === "paused" ? "paused" : "cancelled";
      if (!mine) this.#d.log("another replica took the job over; stopping its trainer here", { job: id });
      void entry.run?.cancel();
    } catch {
      // The database is away: keep training; the lease is renewed once it is back (or lost, then stopped).
    }
  }

  async #train(queued: JobRecord, entry: { run: TrainingRun; stopping?: "cancelled" | "paused" }): Promise<void> {
    let job = queued;
    try {
      const base = this.#d.catalog.find(job.base);
      const weights = await this.#d.modelFiles.ensure(job.base);
      const inspection = await this.#inspect(job, job.trainingFile);
      const hyperparameters =
        job.hyperparameters ??
        this.#d.resolveHyperparameters(job.requested, { examples: inspection.examples, tokensPerExample: inspection.tokens, baseModelName: base.name, seed: job.seed });
      const longest = Math.max(1, ...inspection.lengths);
      const window = Math.min(base.contextLength, Math.ceil(longest / WINDOW_STEP) * WINDOW_STEP);
      const parent = job.parentModel ? this.#d.catalog.models.find((m) => m.name === job.parentModel && this.#d.catalog.ownerOf(m) === job.account) : undefined;
      const spec: TrainingSpec = {
        jobId: job.id,
        baseModelPath: weights.path,
        contextLength: window,
        trainingFile: await this.#localPath(job.trainingFile),
        validationFile: job.validationFile ? await this.#localPath(job.validationFile) : undefined,
        validationSplit: job.validationSplit,
        hyperparameters,
        initialAdapter: parent?.weights.startsWith("lora:") ? await this.#output(parent.weights.slice("lora:".length)) : undefined,
        // A job taken over from a replica that died resumes from its checkpoint, wherever that replica wrote it.
        resume: job.progress ? { adapterPath: await this.#output(job.progress.adapterPath), epoch: job.progress.epoch, step: job.progress.step, trainedTokens: job.progress.trainedTokens } : undefined,
        outDir: this.#d.jobDir(job.id),
        threads: this.#d.threads,
      };
      if (this.#d.store.getJob(job.id)?.status !== "queued") return; // cancelled or paused while preparing
      job = this.#save({ ...job, status: "running", hyperparameters, startedAt: job.startedAt ?? this.#clock() });
      this.#event(job.id, "info", job.progress ? `Job resumed from the checkpoint of epoch ${job.progress.epoch}.` : "Job started.");
      entry.run = this.#d.trainer.start(spec);
      const startedAt = this.#clock();
      let totalSteps = 0;
      const startStep = job.progress?.step ?? 0;
      for await (const ev of entry.run.events) {
        if (entry.stopping) continue;
        job = this.#d.store.getJob(job.id) ?? job;
        if (ev.type === "started") {
          totalSteps = ev.totalSteps;
          this.#event(job.id, "info", `Training ${ev.trainExamples} examples (${ev.validExamples} for validation), ${hyperparameters.epochs} epochs, ${ev.totalSteps} steps.`);
        } else if (ev.type === "step") {
          this.#d.store.addMetrics(job.id, ev.metrics);
          const done = ev.metrics.step - startStep;
          const estimatedFinish = totalSteps && done > 0 ? Math.round((startedAt + ((this.#clock() - startedAt) / done) * (totalSteps - startStep)) / 1000) : null;
          job = this.#save({ ...job, trainedTokens: ev.trainedTokens, estimatedFinish });
          this.#event(job.id, "info", `Step ${ev.metrics.step}/${totalSteps}: training loss=${ev.metrics.trainLoss.toFixed(4)}`, "metrics", metricsData(ev.metrics, totalSteps));
        } else if (ev.type === "checkpoint") {
          // Full-validation figures come with the epoch's checkpoint; they belong to that step's results row.
          this.#d.store.addMetrics(job.id, ev.metrics);
          const checkpoint: CheckpointRecord = { id: `ftchkpt-${hex()}`, jobId: job.id, account: job.account, epoch: ev.epoch, step: ev.step, createdAt: this.#clock(), adapterPath: ev.adapterPath, metrics: ev.metrics };
          this.#d.store.putCheckpoint(checkpoint);
          this.#register(job, checkpoint.id, ev.adapterPath, checkpoint.id);
          job = this.#save({ ...job, progress: { epoch: ev.epoch, step: ev.step, trainedTokens: job.trainedTokens, adapterPath: ev.adapterPath } });
          this.#event(job.id, "info", `Checkpoint ${checkpoint.id} created at step ${ev.step} (epoch ${ev.epoch}).`);
        } else if (ev.type === "done") {
          const name = `${job.base.name}.ft-${job.id.slice("ftjob-".length)}${job.suffix ? `-${job.suffix}` : ""}`;
          this.#register(job, name, ev.adapterPath);
          const results = await this.#d.files.putResult(job.account, `${job.id}-results.csv`, this.resultsCsv(job.id));
          job = this.#save({ ...job, trainedTokens: ev.trainedTokens, fineTunedModel: name, resultFiles: [results.id] });
          this.#finish(job, "succeeded", `Fine-tuned model ${name} created. Job succeeded.`);
          return;
        }
      }
      if (entry.stopping || this.#closed) return;
      throw new Error("the trainer stopped without finishing");
    } catch (e) {
      const current = this.#d.store.getJob(job.id);
      if (!current || entry.stopping || this.#closed || current.status !== "running" && current.status !== "queued") return;
      if (e instanceof JobFailure) return void this.#fail(current, e.error);
      const message = e instanceof Error ? e.message : String(e);
      if (current.status === "running" && current.attempts + 1 < MAX_ATTEMPTS && !(e instanceof IngotError)) {
        this.#save({ ...current, status: "queued", attempts: current.attempts + 1 });
        this.#event(current.id, "warning", `The trainer stopped unexpectedly (${message}); the job resumes ${current.progress ? `from the checkpoint of epoch ${current.progress.epoch}` : "from the start"}.`);
        return;
      }
      this.#fail(current, { code: e instanceof IngotError ? e.code : "training_failed", message: `Training failed: ${message}`, param: null });
    }
  }

  /** A fine-tuned model or checkpoint becomes a custom model of the account, deployable like any other. */
  #register(job: JobRecord, name: string, adapterPath: string, checkpointOf?: string): void {
    const base = this.#d.catalog.find(job.base);
    const registry = this.#d.catalog.registry;
    if (!registry) return;
    const skus = ["Standard", "GlobalStandard", "DeveloperTier"].map((sku) => ({
      name: sku,
      usageName: usageNameFor(base.format, name, sku),
      minCapacity: 1,
      maxCapacity: 1000,
      defaultCapacity: sku === "DeveloperTier" ? 50 : 1,
    }));
    const model = {
      format: base.format,
      name,
      version: "1",
      isDefaultVersion: true,
      capabilities: base.capabilities,
      contextLength: base.contextLength,
      weights: `lora:${adapterPath}`,
      skus,
      lifecycleStatus: "Preview",
      license: base.license,
      baseModel: job.base,
      fineTuneJob: job.id,
      ...(checkpointOf ? { checkpointOf: job.id } : {}),
    } as unknown as CatalogModel;
    registry.register(model, job.account);
  }

  #jobError(code: string, message: string, param: string | null): JobFailure {
    return new JobFailure({ code, message, param });
  }

  #fail(job: JobRecord, error: { code: string; message: string; param: string | null }): JobRecord {
    const failed = this.#save({ ...job, status: "failed", error, finishedAt: this.#clock(), estimatedFinish: null });
    this.#event(job.id, "error", error.message);
    this.#notifyFinished(failed);
    return failed;
  }

  #finish(job: JobRecord, status: JobStatus, message: string): JobRecord {
    const done = this.#save({ ...job, status, finishedAt: this.#clock(), estimatedFinish: null });
    this.#event(job.id, "info", message);
    this.#notifyFinished(done);
    return done;
  }

  #notifyFinished(job: JobRecord): void {
    for (const listener of this.#finishedListeners) {
      try {
        listener(job);
      } catch (e) {
        this.#d.log("a job-finished listener failed", { job: job.id, error: (e as Error).message });
      }
    }
  }

  #save(job: JobRecord): JobRecord {
    this.#d.store.putJob(job);
    return job;
  }

  #event(jobId: string, level: JobEvent["level"], message: string, type: JobEvent["type"] = "message", data: Record<string, unknown> | null = null): void {
    this.#d.store.addEvent({ id: `ftevent-${hex()}`, jobId, createdAt: this.#clock(), level, message, type, data });
  }
}

class JobFailure extends Error {
  readonly error: { code: string; message: string; param: string | null };
  constructor(error: { code: string; message: string; param: string | null }) {
    super(error.message);
    this.error = error;
  }
}

function metricsData(m: StepMetrics, totalSteps: number): Record<string, unknown> {
  return {
    step: m.step,
    total_steps: totalSteps,
    epoch: m.epoch,
    train_loss: m.trainLoss,
    train_mean_token_accuracy: m.trainMeanTokenAccuracy,
    ...(m.validLoss !== undefined ? { valid_loss: m.validLoss, valid_mean_token_accuracy: m.validMeanTokenAccuracy } : {}),
    ...(m.fullValidLoss !== undefined ? { full_valid_loss: m.fullValidLoss, full_valid_mean_token_accuracy: m.fullValidMeanTokenAccuracy } : {}),
  };
}
