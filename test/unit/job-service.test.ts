// The fine-tuning job rules (core/finetuning/jobs.ts) against fakes of the JobStore, the
// files, the model files and the Trainer: validating_files → queued → running → succeeded with
// a trainer the test drives event by event, maxRunning queueing, cancel/pause/resume, a
// trainer crash resuming from the last checkpoint and failing the job after MAX_ATTEMPTS (3)
// crashes, a job running at a restart (a new JobService over the same store) resuming, and
// validation failures.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Catalog } from "../../src/core/catalog/catalog.ts";
import { MemoryModelRegistry } from "../../src/core/catalog/registry.ts";
import { IngotError } from "../../src/core/errors.ts";
import type { FileRecord, FileSource } from "../../src/core/files/types.ts";
import { JobService } from "../../src/core/finetuning/jobs.ts";
import type { CheckpointRecord, CreateJobInput, JobEvent, JobRecord, JobStatus, Page } from "../../src/core/finetuning/types.ts";
import type { DatasetInspection, Hyperparameters, JobStore, ModelFiles, StepMetrics, Trainer, TrainerEvent, TrainingRun, TrainingSpec } from "../../src/core/ports/index.ts";
import { AsyncQueue } from "../../src/lib/async-queue.ts";
import { caught } from "./caught.ts";

const T = { timeout: 20_000 };
const ACCOUNT = "acct";

/** The JobStore port in memory, ordered as SqliteJobStore orders (newest first, by creation then insertion). */
class MemoryJobStore implements JobStore {
  jobs: JobRecord[] = [];
  events: JobEvent[] = [];
  checkpoints: CheckpointRecord[] = [];
  metrics = new Map<string, Map<number, StepMetrics>>();

  putJob(job: JobRecord) {
    const i = this.jobs.findIndex((j) => j.id === job.id);
    if (i >= 0) this.jobs[i] = structuredClone(job);
    else this.jobs.push(structuredClone(job));
  }
  getJob(id: string) {
    const j = this.jobs.find((x) => x.id === id);
    return j && structuredClone(j);
  }
  listJobs(filter: { account?: string; status?: JobStatus[] }, page: { after?: string; limit?: number } = {}): Page<JobRecord> {
    const all = this.jobs
      .map((j, i) => ({ j, i }))
      .sort((a, b) => b.j.createdAt - a.j.createdAt || b.i - a.i)
      .map(({ j }) => structuredClone(j))
      .filter((j) => (filter.account === undefined || j.account === filter.account) && (!filter.status || filter.status.includes(j.status)));
    return paginate(all, (j) => j.id, page);
  }
  deleteJob(id: string) {
    this.jobs = this.jobs.filter((j) => j.id !== id);
    this.events = this.events.filter((e) => e.jobId !== id);
    this.checkpoints = this.checkpoints.filter((c) => c.jobId !== id);
    this.metrics.delete(id);
  }
  addEvent(event: JobEvent) {
    this.events.push(structuredClone(event));
  }
  listEvents(jobId: string, page: { after?: string; limit: number }) {
    return paginate(this.events.filter((e) => e.jobId === jobId).reverse(), (e) => e.id, page);
  }
  putCheckpoint(c: CheckpointRecord) {
    this.checkpoints.push(structuredClone(c));
  }
  getCheckpoint(id: string) {
    return this.checkpoints.find((c) => c.id === id);
  }
  listCheckpoints(jobId: string, page: { after?: string; limit?: number } = {}) {
    return paginate(this.checkpoints.filter((c) => c.jobId === jobId).sort((a, b) => b.step - a.step), (c) => c.id, page);
  }
  addMetrics(jobId: string, m: StepMetrics) {
    if (!this.metrics.has(jobId)) this.metrics.set(jobId, new Map());
    this.metrics.get(jobId)!.set(m.step, structuredClone(m));
  }
  listMetrics(jobId: string) {
    return [...(this.metrics.get(jobId)?.values() ?? [])].sort((a, b) => a.step - b.step);
  }
  /** Oldest first, as a test reads them. */
  messages(jobId: string) {
    return this.events.filter((e) => e.jobId === jobId).map((e) => `${e.level}: ${e.message}`);
  }
}

function paginate<X>(items: X[], idOf: (x: X) => string, page: { after?: string; limit?: number }): Page<X> {
  let start = 0;
  if (page.after) {
    const i = items.findIndex((x) => idOf(x) === page.after);
    start = i < 0 ? items.length : i + 1;
  }
  const limit = page.limit ?? items.length;
  return { data: items.slice(start, start + limit), hasMore: start + limit < items.length };
}

/** Files as the fine-tuning jobs see them: records by id, and the results they write. */
class FakeFiles implements FileSource {
  records = new Map<string, FileRecord>();
  results = new Map<string, string>();
  add(id: string, patch: Partial<FileRecord> = {}) {
    this.records.set(id, { id, account: ACCOUNT, purpose: "fine-tune", filename: `${id}.jsonl`, bytes: 100, status: "processed", statusDetails: null, format: "chat", examples: 10, createdAt: 0, ...patch });
  }
  get(account: string, id: string) {
    const r = this.records.get(id);
    return r && r.account === account ? { ...r } : undefined;
  }
  pathOf(id: string) {
    return `/files/${id}`;
  }
  async putResult(account: string, filename: string, content: string | Uint8Array) {
    const id = `file-result-${this.results.size + 1}`;
    this.results.set(id, String(content));
    const r: FileRecord = { id, account, purpose: "fine-tune-results", filename, bytes: content.length, status: "processed", statusDetails: null, format: null, examples: null, createdAt: 0 };
    this.records.set(id, r);
    return r;
  }
}

/** One training process: the test pushes its events, crashes it, or lets it be cancelled. */
class FakeRun implements TrainingRun {
  readonly pid = 4242;
  readonly spec: TrainingSpec;
  cancelled = false;
  /** A process that still writes events after it was told to stop, until exit(). */
  readonly lingers: boolean;
  #queue = new AsyncQueue<TrainerEvent>();
  readonly events: AsyncIterable<TrainerEvent> = this.#queue;
  constructor(spec: TrainingSpec, lingers: boolean) {
    this.spec = spec;
    this.lingers = lingers;
  }
  emit(...events: TrainerEvent[]) {
    for (const e of events) this.#queue.push(e);
  }
  crash(error: Error = new Error("trainer exited with signal SIGKILL")) {
    this.#queue.fail(error);
  }
  /** The process exits without an error and without `done`. */
  exit() {
    this.#queue.end();
  }
  async cancel() {
    this.cancelled = true;
    if (!this.lingers) this.#queue.end();
  }
}

class FakeTrainer implements Trainer {
  runs: FakeRun[] = [];
  inspections: { base: string; file: string; contextLength: number }[] = [];
  /** Inspection result per file path; default: 10 examples of 100–300 tokens, none too long. */
  datasets = new Map<string, DatasetInspection>();
  /** Thrown by start() instead of starting a run. */
  startError: Error | undefined;
  /** Runs keep emitting after cancel() until the test ends them. */
  lingerOnCancel = false;
  async inspect(base: string, file: string, contextLength: number) {
    this.inspections.push({ base, file, contextLength });
    return this.datasets.get(file) ?? { examples: 10, tokens: Array(10).fill(20), lengths: [...Array(9).fill(100), 300], tooLong: [] };
  }
  start(spec: TrainingSpec) {
    if (this.startError) throw this.startError;
    const run = new FakeRun(spec, this.lingerOnCancel);
    this.runs.push(run);
    return run;
  }
}

const metrics = (step: number, epoch: number, extra: Partial<StepMetrics> = {}): StepMetrics => ({ step, epoch, trainLoss: 2 / step, trainMeanTokenAccuracy: step / 10, ...extra });
const step = (n: number, epoch: number, trainedTokens: number): TrainerEvent => ({ type: "step", metrics: metrics(n, epoch), trainedTokens, elapsedMs: n * 10 });
const checkpoint = (epoch: number, atStep: number, adapterPath = `/jobs/x/epoch-${epoch}.gguf`): TrainerEvent => ({
  type: "checkpoint",
  epoch,
  step: atStep,
  adapterPath,
  metrics: metrics(atStep, epoch, { fullValidLoss: 1.5, fullValidMeanTokenAccuracy: 0.5 }),
});

const baseEntry = (name: string, capabilities: string[]) => ({
  format: "Test",
  name,
  version: "1",
  capabilities,
  contextLength: 1024,
  weights: `file:/models/${name}.gguf`,
  skus: [{ name: "GlobalStandard", minCapacity: 1, maxCapacity: 100, defaultCapacity: 1 }],
  lifecycleStatus: "GenerallyAvailable",
  license: "MIT",
});

/** Lets every promise chain the fakes started run out (they do no I/O and set no timers), to check that something did not happen. */
async function quiet(): Promise<void> {
  for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
}

async function until(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

function setup(opts: { maxRunning?: number; store?: MemoryJobStore; trainer?: FakeTrainer; files?: FakeFiles; registry?: MemoryModelRegistry } = {}) {
  let now = 1_700_000_000_000;
  const clock = () => now;
  const store = opts.store ?? new MemoryJobStore();
  const trainer = opts.trainer ?? new FakeTrainer();
  const files = opts.files ?? new FakeFiles();
  const registry = opts.registry ?? new MemoryModelRegistry(clock);
  const catalog = new Catalog(Catalog.validateEntries([baseEntry("good", ["chatCompletion", "fineTune"]), baseEntry("chat-only", ["chatCompletion"])], "test"), registry);
  const ensured: string[] = [];
  /** Thrown by the model files (e.g. the base's weights failing verification). */
  const weights: { error?: Error } = {};
  const modelFiles: ModelFiles = {
    ensure: async (ref) => {
      ensured.push(ref.name);
      if (weights.error) throw weights.error;
      return { path: `/models/${ref.name}.gguf`, sha256: "" };
    },
    checkFits: async () => {},
    checkAdapterFits: async () => {},
    discard: async () => {},
  };
  const resolved: number[] = [];
  const resolveHyperparameters = (requested: CreateJobInput["requested"], dataset: { examples: number; seed: number }): Hyperparameters => {
    resolved.push(dataset.examples);
    return { epochs: requested.n_epochs === "auto" ? 3 : requested.n_epochs, batchSize: 1, learningRate: 2e-4, learningRateMultiplier: 1, rank: 8, alpha: 16, seed: dataset.seed };
  };
  const jobs = new JobService({ store, files, catalog, modelFiles, trainer, resolveHyperparameters, jobDir: (id) => `/jobs/${id}`, threads: 2, maxRunning: opts.maxRunning, clock, log: () => {} });
  files.add("file-train");
  const input = (extra: Partial<CreateJobInput> = {}): CreateJobInput => ({
    model: "good",
    trainingFile: "file-train",
    validationFile: null,
    validationSplit: 0,
    requested: { n_epochs: 2, batch_size: "auto", learning_rate_multiplier: "auto" },
    suffix: null,
    seed: 7,
    metadata: null,
    ...extra,
  });
  const status = (id: string) => store.getJob(id)?.status;
  return { store, trainer, files, registry, catalog, jobs, ensured, weights, resolved, input, status, clock, advance: (ms: number) => void (now += ms) };
}

type Setup = ReturnType<typeof setup>;

/** Runs a test body with a started service and always closes it (its timer and runs). */
async function withJobs(opts: Parameters<typeof setup>[0], body: (s: Setup) => Promise<void>): Promise<void> {
  const s = setup(opts);
  s.jobs.start();
  try {
    await body(s);
  } finally {
    await s.jobs.close();
  }
}

describe("a job's life", () => {
  test("validating_files → queued → running → succeeded: events, metrics, checkpoints, results.csv and the registered model", T, () =>
    withJobs({}, async (s) => {
      const job = s.jobs.create(ACCOUNT, s.input({ suffix: "mine" }));
      assert.match(job.id, /^ftjob-[0-9a-f]{32}$/);
      assert.equal(job.status, "validating_files");
      assert.deepEqual(job.base, { format: "Test", name: "good", version: "1" });
      assert.equal(job.parentModel, null);
      await until("the trainer starts", () => s.trainer.runs.length === 1);
      const run = s.trainer.runs[0];
      assert.equal(s.status(job.id), "running");
      // What the trainer is asked: the base's weights, a window of the longest example rounded up to 256 (300 → 512), the job's files.
      assert.deepEqual(run.spec, {
        jobId: job.id,
        baseModelPath: "/models/good.gguf",
        contextLength: 512,
        trainingFile: "/files/file-train",
        validationFile: undefined,
        validationSplit: 0,
        hyperparameters: { epochs: 2, batchSize: 1, learningRate: 2e-4, learningRateMultiplier: 1, rank: 8, alpha: 16, seed: 7 },
        initialAdapter: undefined,
        resume: undefined,
        outDir: `/jobs/${job.id}`,
        threads: 2,
      });
      assert.deepEqual(s.trainer.inspections[0], { base: "/models/good.gguf", file: "/files/file-train", contextLength: 1024 });
      const started = s.store.getJob(job.id)!;
      assert.deepEqual(started.hyperparameters, run.spec.hyperparameters);
      assert.equal(started.startedAt, s.clock());

      run.emit({ type: "started", totalSteps: 4, trainExamples: 10, validExamples: 0, tokensPerEpoch: 200 }, step(1, 1, 100), step(2, 1, 200), checkpoint(1, 2), step(3, 2, 300), step(4, 2, 400), checkpoint(2, 4));
      run.emit({ type: "done", adapterPath: `/jobs/${job.id}/final.gguf`, trainedTokens: 400 });
      await until("the job succeeds", () => s.status(job.id) === "succeeded");

      const done = s.store.getJob(job.id)!;
      const name = `good.ft-${job.id.slice("ftjob-".length)}-mine`;
      assert.equal(done.fineTunedModel, name);
      assert.equal(done.trainedTokens, 400);
      assert.equal(done.finishedAt, s.clock());
      assert.equal(done.error, null);
      assert.deepEqual(done.progress, { epoch: 2, step: 4, trainedTokens: 400, adapterPath: "/jobs/x/epoch-2.gguf" });
      // The model is the account's custom model, a LoRA adapter over the base.
      const registered = s.registry.get({ format: "Test", name, version: "1" });
      assert.equal(registered?.account, ACCOUNT);
      assert.equal(registered?.model.weights, `lora:/jobs/${job.id}/final.gguf`);
      assert.deepEqual(registered?.model.baseModel, { format: "Test", name: "good", version: "1" });
      assert.deepEqual(registered?.model.skus.map((k) => k.name), ["Standard", "GlobalStandard", "DeveloperTier"]);
      // Checkpoints: newest first, each a deployable model too.
      const cps = s.jobs.checkpoints(ACCOUNT, job.id, {}).data;
      assert.deepEqual(cps.map((c) => [c.epoch, c.step, c.adapterPath]), [[2, 4, "/jobs/x/epoch-2.gguf"], [1, 2, "/jobs/x/epoch-1.gguf"]]);
      for (const c of cps) assert.equal(s.registry.get({ format: "Test", name: c.id, version: "1" })?.model.checkpointOf, job.id);
      // results.csv: a row per step; the epoch-end rows carry the full-validation figures.
      assert.deepEqual(done.resultFiles, ["file-result-1"]);
      assert.equal(
        s.files.results.get("file-result-1"),
        "step,train_loss,train_mean_token_accuracy,valid_loss,valid_mean_token_accuracy,full_valid_loss,full_valid_mean_token_accuracy\n" +
          "1,2,0.1,,,,\n2,1,0.2,,,1.5,0.5\n3,0.66667,0.3,,,,\n4,0.5,0.4,,,1.5,0.5\n",
      );
      assert.deepEqual(s.store.messages(job.id), [
        "info: Validating training file: file-train.",
        "info: Files validated. Job enqueued; waiting for jobs ahead to complete.",
        "info: Job started.",
        "info: Training 10 examples (0 for validation), 2 epochs, 4 steps.",
        "info: Step 1/4: training loss=2.0000",
        "info: Step 2/4: training loss=1.0000",
        `info: Checkpoint ${cps[1].id} created at step 2 (epoch 1).`,
        "info: Step 3/4: training loss=0.6667",
        "info: Step 4/4: training loss=0.5000",
        `info: Checkpoint ${cps[0].id} created at step 4 (epoch 2).`,
        `info: Fine-tuned model ${name} created. Job succeeded.`,
      ]);
      const metricsEvent = s.jobs.events(ACCOUNT, job.id, { limit: 100 }).data.find((e) => e.type === "metrics")!;
      assert.deepEqual(metricsEvent.data, { step: 4, total_steps: 4, epoch: 2, train_loss: 0.5, train_mean_token_accuracy: 0.4 });
      // A terminal job cannot be cancelled, and may be deleted.
      const e = caught(() => s.jobs.cancel(ACCOUNT, job.id));
      assert.equal(e.code, "invalid_job_status");
      assert.match(e.message, /already succeeded/);
      s.jobs.delete(ACCOUNT, job.id);
      assert.equal(s.store.getJob(job.id), undefined);
      assert.ok(s.registry.get({ format: "Test", name, version: "1" }), "the fine-tuned model stays");
    }));

  test("continuous fine-tuning: a custom model of the account trains from its adapter over its base", T, () =>
    withJobs({}, async (s) => {
      const first = s.jobs.create(ACCOUNT, s.input());
      await until("first run", () => s.trainer.runs.length === 1);
      s.trainer.runs[0].emit({ type: "done", adapterPath: "/jobs/first/final.gguf", trainedTokens: 10 });
      await until("first succeeds", () => s.status(first.id) === "succeeded");
      const parent = s.store.getJob(first.id)!.fineTunedModel!;
      const second = s.jobs.create(ACCOUNT, s.input({ model: parent }));
      assert.deepEqual(second.base, { format: "Test", name: "good", version: "1" });
      assert.equal(second.parentModel, parent);
      await until("second run", () => s.trainer.runs.length === 2);
      assert.equal(s.trainer.runs[1].spec.initialAdapter, "/jobs/first/final.gguf");
      assert.equal(s.trainer.runs[1].spec.baseModelPath, "/models/good.gguf");
      // Another account cannot continue from it: to that account it is nothing.
      const foreign = caught(() => s.jobs.create("elsewhere", s.input({ model: parent })));
      assert.equal(foreign.code, "invalid_model");
    }));

  test("maxRunning (default 1): later jobs wait in the queue, oldest first, and start as a slot frees", T, () =>
    withJobs({}, async (s) => {
      const a = s.jobs.create(ACCOUNT, s.input());
      s.advance(1);
      const b = s.jobs.create(ACCOUNT, s.input());
      s.advance(1);
      const c = s.jobs.create(ACCOUNT, s.input());
      await until("a runs, b and c queued", () => s.status(a.id) === "running" && s.status(b.id) === "queued" && s.status(c.id) === "queued");
      assert.equal(s.trainer.runs.length, 1);
      assert.equal(s.trainer.runs[0].spec.jobId, a.id);
      s.trainer.runs[0].emit({ type: "done", adapterPath: "/a.gguf", trainedTokens: 1 });
      await until("b runs", () => s.trainer.runs.length === 2);
      assert.equal(s.trainer.runs[1].spec.jobId, b.id);
      assert.equal(s.status(c.id), "queued");
      // Cancelling the running one frees its slot too.
      s.jobs.cancel(ACCOUNT, b.id);
      await until("c runs", () => s.trainer.runs.length === 3);
      assert.equal(s.trainer.runs[2].spec.jobId, c.id);
      assert.equal(s.trainer.runs[1].cancelled, true);
    }));

  test("maxRunning 2: two train at once, the third waits", T, () =>
    withJobs({ maxRunning: 2 }, async (s) => {
      const ids = [0, 1, 2].map((i) => {
        s.advance(1);
        return s.jobs.create(ACCOUNT, s.input({ seed: i })).id;
      });
      await until("two run", () => s.trainer.runs.length === 2);
      await quiet();
      assert.equal(s.trainer.runs.length, 2);
      assert.deepEqual(ids.map(s.status), ["running", "running", "queued"]);
      s.trainer.runs[1].emit({ type: "done", adapterPath: "/b.gguf", trainedTokens: 1 });
      await until("the third runs", () => s.trainer.runs.length === 3);
      assert.equal(s.trainer.runs[2].spec.jobId, ids[2]);
    }));
});

describe("cancel, pause, resume", () => {
  test("cancel: a queued job never starts; a running job's trainer is stopped; events after it change nothing", T, () =>
    withJobs({}, async (s) => {
      s.trainer.lingerOnCancel = true;
      const running = s.jobs.create(ACCOUNT, s.input());
      s.advance(1);
      const queued = s.jobs.create(ACCOUNT, s.input());
      await until("one runs", () => s.trainer.runs.length === 1 && s.status(queued.id) === "queued");
      const cancelledQueued = s.jobs.cancel(ACCOUNT, queued.id);
      assert.equal(cancelledQueued.status, "cancelled");
      assert.equal(cancelledQueued.finishedAt, s.clock());
      const run = s.trainer.runs[0];
      run.emit(step(1, 1, 10), checkpoint(1, 1));
      await until("checkpoint stored", () => s.store.getJob(running.id)!.progress !== null);
      const cancelled = s.jobs.cancel(ACCOUNT, running.id);
      assert.equal(cancelled.status, "cancelled");
      assert.equal(run.cancelled, true);
      assert.equal(s.jobs.trainerPid(running.id), 4242, "the run is still winding down");
      // What the dying trainer still writes is ignored: no new checkpoint, no fine-tuned model.
      run.emit(step(2, 1, 20), checkpoint(1, 2), { type: "done", adapterPath: "/late.gguf", trainedTokens: 20 });
      await quiet();
      run.exit();
      await until("the run is gone", () => s.jobs.trainerPid(running.id) === undefined);
      await quiet();
      assert.equal(s.trainer.runs.length, 1, "the cancelled queued job never started");
      assert.equal(s.status(running.id), "cancelled");
      assert.equal(s.status(queued.id), "cancelled");
      assert.equal(s.store.getJob(running.id)!.fineTunedModel, null);
      assert.equal(s.store.getJob(running.id)!.trainedTokens, 10);
      assert.equal(s.store.checkpoints.length, 1);
      assert.equal(s.files.results.size, 0);
      assert.equal(s.store.messages(running.id).at(-1), "info: Job cancelled.");
      assert.equal(caught(() => s.jobs.cancel(ACCOUNT, running.id)).code, "invalid_job_status");
    }));

  test("pause stops the trainer and keeps the checkpoint; resume queues the job and training continues from that checkpoint", T, () =>
    withJobs({}, async (s) => {
      s.trainer.lingerOnCancel = true;
      const job = s.jobs.create(ACCOUNT, s.input());
      await until("runs", () => s.trainer.runs.length === 1);
      const first = s.trainer.runs[0];
      first.emit(step(1, 1, 50), step(2, 1, 100), checkpoint(1, 2, "/jobs/j/epoch-1.gguf"), step(3, 2, 150));
      await until("step 3 stored", () => s.store.getJob(job.id)!.trainedTokens === 150);
      const paused = s.jobs.pause(ACCOUNT, job.id);
      assert.equal(paused.status, "paused");
      assert.equal(paused.estimatedFinish, null);
      assert.equal(first.cancelled, true);
      assert.equal(s.store.messages(job.id).at(-1), "info: Job paused; it will resume from the checkpoint of epoch 1 (2 steps).");
      // The stopping trainer's last words change nothing: the job stays paused at its checkpoint.
      first.emit(checkpoint(2, 4, "/jobs/j/epoch-2.gguf"), { type: "done", adapterPath: "/late.gguf", trainedTokens: 999 });
      await quiet();
      first.exit();
      // Only a running job pauses; only a paused one resumes.
      const again = caught(() => s.jobs.pause(ACCOUNT, job.id));
      assert.equal(again.code, "invalid_job_status");
      assert.match(again.message, /is paused; only a running job can be paused/);
      await until("the paused run is gone", () => s.jobs.trainerPid(job.id) === undefined);
      await quiet();
      assert.equal(s.status(job.id), "paused", "a paused job stays paused");
      assert.equal(s.trainer.runs.length, 1);

      const resumed = s.jobs.resume(ACCOUNT, job.id);
      assert.equal(resumed.status, "queued");
      await until("runs again", () => s.trainer.runs.length === 2);
      const second = s.trainer.runs[1];
      assert.deepEqual(second.spec.resume, { adapterPath: "/jobs/j/epoch-1.gguf", epoch: 1, step: 2, trainedTokens: 100 });
      assert.deepEqual(second.spec.hyperparameters, first.spec.hyperparameters);
      assert.equal(s.resolved.length, 1, "hyperparameters are resolved once, at the first start");
      assert.equal(s.status(job.id), "running");
      assert.equal(caught(() => s.jobs.resume(ACCOUNT, job.id)).code, "invalid_job_status");
      second.emit(step(3, 2, 150), step(4, 2, 200), { type: "done", adapterPath: "/jobs/j/final.gguf", trainedTokens: 200 });
      await until("succeeds", () => s.status(job.id) === "succeeded");
      assert.deepEqual(s.store.listMetrics(job.id).map((m) => m.step), [1, 2, 3, 4]);
    }));

  test("resumed while its paused trainer still winds down (maxRunning 2): the new run waits for the old to end, then is the one tracked, stoppable and counted", T, () =>
    withJobs({ maxRunning: 2 }, async (s) => {
      s.trainer.lingerOnCancel = true;
      const job = s.jobs.create(ACCOUNT, s.input());
      await until("runs", () => s.trainer.runs.length === 1);
      const old = s.trainer.runs[0];
      s.jobs.pause(ACCOUNT, job.id);
      s.jobs.resume(ACCOUNT, job.id);
      await quiet();
      assert.equal(s.trainer.runs.length, 1, "no second trainer for the job while the first still runs");
      assert.equal(s.status(job.id), "queued");
      old.exit(); // the paused process finally ends
      await until("the resumed run", () => s.trainer.runs.length === 2);
      const fresh = s.trainer.runs[1];
      await quiet();
      assert.equal(s.jobs.trainerPid(job.id), 4242, "the resumed run is the one known");
      const paused = s.jobs.pause(ACCOUNT, job.id);
      assert.equal(paused.status, "paused");
      assert.equal(fresh.cancelled, true, "pausing again stops the resumed trainer");
      fresh.exit();
      // Two more jobs fill the two slots: the ended runs hold none.
      const a = s.jobs.create(ACCOUNT, s.input());
      const b = s.jobs.create(ACCOUNT, s.input());
      await until("both run", () => s.status(a.id) === "running" && s.status(b.id) === "running");
      const c = s.jobs.create(ACCOUNT, s.input());
      await quiet();
      assert.equal(s.status(c.id), "queued", "maxRunning holds");
    }));

  test("a queued job cannot be paused; a running or queued job cannot be deleted (409), a paused one can", T, () =>
    withJobs({}, async (s) => {
      const a = s.jobs.create(ACCOUNT, s.input());
      s.advance(1);
      const b = s.jobs.create(ACCOUNT, s.input());
      await until("a runs", () => s.status(a.id) === "running" && s.status(b.id) === "queued");
      assert.equal(caught(() => s.jobs.pause(ACCOUNT, b.id)).code, "invalid_job_status");
      const del = caught(() => s.jobs.delete(ACCOUNT, a.id));
      assert.equal(del.status, 409);
      assert.match(del.message, /is running\. Cancel it before deleting it\./);
      assert.equal(caught(() => s.jobs.delete(ACCOUNT, b.id)).status, 409);
      s.jobs.pause(ACCOUNT, a.id);
      s.jobs.delete(ACCOUNT, a.id);
      assert.equal(caught(() => s.jobs.get(ACCOUNT, a.id)).code, "fine_tuning_job_not_found");
    }));

  test("jobs are per account: another account's job is not found", T, () =>
    withJobs({}, async (s) => {
      const job = s.jobs.create(ACCOUNT, s.input());
      for (const call of [() => s.jobs.get("other", job.id), () => s.jobs.cancel("other", job.id), () => s.jobs.events("other", job.id, {})]) {
        const e = caught(call);
        assert.equal(e.status, 404);
        assert.equal(e.code, "fine_tuning_job_not_found");
      }
      assert.deepEqual(s.jobs.list("other", {}).data, []);
      assert.deepEqual(s.jobs.list(ACCOUNT, {}).data.map((j) => j.id), [job.id]);
    }));
});

describe("crashes and restarts", () => {
  test("a trainer crash resumes the job from its last checkpoint; the third crash fails it", T, () =>
    withJobs({}, async (s) => {
      const job = s.jobs.create(ACCOUNT, s.input());
      await until("runs", () => s.trainer.runs.length === 1);
      s.trainer.runs[0].emit(step(1, 1, 10), checkpoint(1, 1, "/jobs/j/epoch-1.gguf"));
      await until("checkpoint", () => s.store.getJob(job.id)!.progress?.epoch === 1);
      s.trainer.runs[0].crash();
      await until("second run", () => s.trainer.runs.length === 2);
      assert.equal(s.store.getJob(job.id)!.attempts, 1);
      assert.deepEqual(s.trainer.runs[1].spec.resume, { adapterPath: "/jobs/j/epoch-1.gguf", epoch: 1, step: 1, trainedTokens: 10 });
      assert.ok(s.store.messages(job.id).includes("warning: The trainer stopped unexpectedly (trainer exited with signal SIGKILL); the job resumes from the checkpoint of epoch 1."));
      assert.ok(s.store.messages(job.id).includes("info: Job resumed from the checkpoint of epoch 1."));

      s.trainer.runs[1].emit(step(2, 2, 20), checkpoint(2, 2, "/jobs/j/epoch-2.gguf"));
      await until("checkpoint 2", () => s.store.getJob(job.id)!.progress?.epoch === 2);
      s.trainer.runs[1].exit(); // ends without `done`: a crash too
      await until("third run", () => s.trainer.runs.length === 3);
      assert.equal(s.store.getJob(job.id)!.attempts, 2);
      assert.equal(s.trainer.runs[2].spec.resume?.epoch, 2, "from the newest checkpoint");
      assert.ok(s.store.messages(job.id).some((m) => m.includes("(the trainer stopped without finishing)")));

      s.trainer.runs[2].crash(new Error("out of memory"));
      await until("failed", () => s.status(job.id) === "failed");
      const failed = s.store.getJob(job.id)!;
      assert.deepEqual(failed.error, { code: "training_failed", message: "Training failed: out of memory", param: null });
      assert.equal(failed.finishedAt, s.clock());
      assert.equal(failed.attempts, 2);
      await quiet();
      assert.equal(s.trainer.runs.length, 3, "not restarted after the last attempt");
      assert.equal(s.store.messages(job.id).at(-1), "error: Training failed: out of memory");
    }));

  test("a crash before any checkpoint starts the job again from the start", T, () =>
    withJobs({}, async (s) => {
      const job = s.jobs.create(ACCOUNT, s.input());
      await until("runs", () => s.trainer.runs.length === 1);
      s.trainer.runs[0].crash();
      await until("second run", () => s.trainer.runs.length === 2);
      assert.equal(s.trainer.runs[1].spec.resume, undefined);
      assert.ok(s.store.messages(job.id).some((m) => m.endsWith("the job resumes from the start.")));
    }));

  test("an IngotError from the trainer fails the job at once with its code (no retry)", T, () =>
    withJobs({}, async (s) => {
      s.trainer.startError = new IngotError("unavailable", "insufficient_memory", "The base model needs 2 GiB more memory than is free.");
      const job = s.jobs.create(ACCOUNT, s.input());
      await until("failed", () => s.status(job.id) === "failed");
      assert.deepEqual(s.store.getJob(job.id)!.error, { code: "insufficient_memory", message: "Training failed: The base model needs 2 GiB more memory than is free.", param: null });
      assert.equal(s.store.getJob(job.id)!.attempts, 0);
    }));

  test("a job running when Ingot stops resumes at the next start from its checkpoint (a new JobService over the same store)", T, async () => {
    const first = setup();
    first.jobs.start();
    const job = first.jobs.create(ACCOUNT, first.input());
    await until("runs", () => first.trainer.runs.length === 1);
    first.trainer.runs[0].emit(step(1, 1, 30), step(2, 1, 60), checkpoint(1, 2, "/jobs/j/epoch-1.gguf"), step(3, 2, 90));
    await until("step 3", () => first.store.getJob(job.id)!.trainedTokens === 90);
    await first.jobs.close();
    assert.equal(first.trainer.runs[0].cancelled, true, "close stops the trainer process");
    assert.equal(first.status(job.id), "running", "the job stays running across the stop");

    const trainer = new FakeTrainer();
    const second = setup({ store: first.store, files: first.files, registry: first.registry, trainer });
    second.jobs.start();
    try {
      await until("runs after the restart", () => trainer.runs.length === 1);
      assert.deepEqual(trainer.runs[0].spec.resume, { adapterPath: "/jobs/j/epoch-1.gguf", epoch: 1, step: 2, trainedTokens: 60 });
      assert.deepEqual(trainer.runs[0].spec.hyperparameters, first.trainer.runs[0].spec.hyperparameters);
      assert.equal(second.resolved.length, 0, "the job keeps the hyperparameters it started with");
      assert.equal(second.status(job.id), "running");
      assert.equal(second.store.getJob(job.id)!.attempts, 0, "a restart is not a crash");
      const messages = second.store.messages(job.id);
      assert.ok(messages.includes("warning: Ingot restarted while the job was running; it resumes from the checkpoint of epoch 1."), messages.join("\n"));
      trainer.runs[0].emit(step(3, 2, 90), { type: "done", adapterPath: "/jobs/j/final.gguf", trainedTokens: 120 });
      await until("succeeds", () => second.status(job.id) === "succeeded");
      assert.equal(second.store.getJob(job.id)!.trainedTokens, 120);
    } finally {
      await second.jobs.close();
    }
  });
});

describe("validation", () => {
  test("refused at create: unknown or non-tunable model, missing file, wrong purpose, failed file, a split that holds out nothing", T, () =>
    withJobs({}, async (s) => {
      s.files.add("file-asst", { purpose: "assistants" });
      s.files.add("file-bad", { status: "error", statusDetails: "line 3: messages must be an array" });
      s.files.add("file-theirs", { account: "other" });
      const cases: [Partial<CreateJobInput>, string, string | null, RegExp][] = [
        [{ model: "nope" }, "invalid_model", "model", /'nope' is not a base model in the catalog nor a custom model of this account\. Fine-tunable models: good\./],
        [{ model: "chat-only" }, "invalid_model", "model", /'chat-only' cannot be fine-tuned here\. Fine-tunable models: good\./],
        [{ trainingFile: "file-none" }, "invalid_file", "training_file", /File 'file-none' \(training_file\) does not exist in this account/],
        [{ trainingFile: "file-theirs" }, "invalid_file", "training_file", /does not exist in this account/],
        [{ trainingFile: "file-asst" }, "invalid_file", "training_file", /has purpose 'assistants'; training_file needs a file uploaded with purpose 'fine-tune'/],
        [{ validationFile: "file-bad" }, "invalid_file", "validation_file", /failed validation: line 3: messages must be an array/],
        [{ validationSplit: 0.05 }, "invalid_value", "validation_split", /validation_split 0\.05 of 10 examples holds out none/],
      ];
      for (const [patch, code, param, message] of cases) {
        const e = caught(() => s.jobs.create(ACCOUNT, s.input(patch)));
        assert.equal(e.status, 400, JSON.stringify(patch));
        assert.equal(e.code, code, JSON.stringify(patch));
        assert.equal(e.param, param, JSON.stringify(patch));
        assert.match(e.message, message);
      }
      assert.deepEqual(s.store.jobs, [], "nothing was stored");
      assert.equal(s.jobs.create(ACCOUNT, s.input({ validationSplit: 0.1 })).status, "validating_files", "one of ten held out is enough");
    }));

  test("examples longer than the base's context fail the job in validation, naming the lines", T, () =>
    withJobs({}, async (s) => {
      s.files.add("file-long");
      s.trainer.datasets.set("/files/file-long", {
        examples: 14,
        tokens: Array(14).fill(10),
        lengths: Array(14).fill(2000),
        tooLong: Array.from({ length: 12 }, (_, i) => ({ line: i + 1, tokens: 2000 + i })),
      });
      const job = s.jobs.create(ACCOUNT, s.input({ trainingFile: "file-long" }));
      await until("failed", () => s.status(job.id) === "failed");
      const failed = s.store.getJob(job.id)!;
      assert.equal(failed.error?.code, "invalid_file");
      assert.equal(failed.error?.param, "training_file");
      assert.match(
        failed.error!.message,
        /^The training_file file-long has examples longer than good's context of 1024 tokens: line 1 \(2000 tokens\), .*line 10 \(2009 tokens\) and 2 more\. Shorten or remove them\.$/,
      );
      assert.equal(s.trainer.runs.length, 0);
    }));

  test("a validation file is checked too; a file deleted before the job starts fails it", T, () =>
    withJobs({}, async (s) => {
      s.files.add("file-valid");
      s.trainer.datasets.set("/files/file-valid", { examples: 1, tokens: [5], lengths: [5000], tooLong: [{ line: 1, tokens: 5000 }] });
      const a = s.jobs.create(ACCOUNT, s.input({ validationFile: "file-valid" }));
      await until("a failed", () => s.status(a.id) === "failed");
      assert.equal(s.store.getJob(a.id)!.error?.param, "validation_file");

      s.files.add("file-going", { status: "uploaded" });
      const b = s.jobs.create(ACCOUNT, s.input({ trainingFile: "file-going" }));
      s.files.records.delete("file-going");
      await until("b failed", () => s.status(b.id) === "failed", 5000);
      assert.deepEqual(s.store.getJob(b.id)!.error, { code: "invalid_file", message: "The training_file file-going was deleted before the job started.", param: "training_file" });
    }));

  test("a base model whose weights cannot be had fails the job with that error, not as an invalid training file", T, () =>
    withJobs({}, async (s) => {
      s.weights.error = new IngotError("unavailable", "ModelChecksumMismatch", "The weights of good changed since they were pinned: expected sha256 aa…, got bb….");
      const job = s.jobs.create(ACCOUNT, s.input());
      await until("failed", () => s.status(job.id) === "failed");
      assert.deepEqual(s.store.getJob(job.id)!.error, { code: "ModelChecksumMismatch", message: "The weights of good changed since they were pinned: expected sha256 aa…, got bb….", param: null });
      // The trainer's own inspection failing is about the file.
      s.weights.error = undefined;
      s.trainer.inspect = async () => {
        throw new Error("inspecting /files/file-train failed: not a chat dataset");
      };
      const second = s.jobs.create(ACCOUNT, s.input());
      await until("second failed", () => s.status(second.id) === "failed");
      assert.deepEqual(s.store.getJob(second.id)!.error, { code: "invalid_file", message: "inspecting /files/file-train failed: not a chat dataset", param: "training_file" });
    }));

  test("a job waits in validating_files while its file is still being validated, then goes on by itself", T, () =>
    withJobs({}, async (s) => {
      s.files.add("file-slow", { status: "uploaded" });
      const job = s.jobs.create(ACCOUNT, s.input({ trainingFile: "file-slow" }));
      await quiet();
      assert.equal(s.status(job.id), "validating_files");
      assert.equal(s.trainer.inspections.length, 0, "not inspected before the files service is done with it");
      s.files.records.get("file-slow")!.status = "processed";
      // The service looks at waiting jobs each second.
      await until("runs", () => s.trainer.runs.length === 1, 5000);
      assert.equal(s.status(job.id), "running");
    }));

  test("a job whose file failed the files service's validation after create fails with the details", T, () =>
    withJobs({}, async (s) => {
      s.files.add("file-later", { status: "uploaded" });
      const job = s.jobs.create(ACCOUNT, s.input({ trainingFile: "file-later" }));
      Object.assign(s.files.records.get("file-later")!, { status: "error", statusDetails: "line 2: not JSON" });
      await until("failed", () => s.status(job.id) === "failed", 5000);
      assert.deepEqual(s.store.getJob(job.id)!.error, { code: "invalid_file", message: "The training_file file-later failed validation: line 2: not JSON", param: "training_file" });
    }));
});

describe("the finished hook (the Azure ML view registers the model from it)", () => {
  test("listeners hear succeeded (model already registered), cancelled and failed jobs, once each; a throwing listener harms nothing", T, () =>
    withJobs({}, async (s) => {
      const heard: [string, JobStatus, boolean][] = [];
      s.jobs.onFinished(() => {
        throw new Error("a broken listener");
      });
      s.jobs.onFinished((j) => heard.push([j.id, j.status, j.fineTunedModel !== null && s.registry.get({ format: "Test", name: j.fineTunedModel, version: "1" }) !== undefined]));
      const ok = s.jobs.create(ACCOUNT, s.input());
      await until("the trainer starts", () => s.trainer.runs.length === 1);
      s.trainer.runs[0].emit({ type: "started", totalSteps: 1, trainExamples: 10, validExamples: 0, tokensPerEpoch: 100 }, step(1, 1, 100));
      s.trainer.runs[0].emit({ type: "done", adapterPath: "/jobs/x/final.gguf", trainedTokens: 100 });
      await until("succeeded", () => s.status(ok.id) === "succeeded");
      const cancelled = s.jobs.cancel(ACCOUNT, s.jobs.create(ACCOUNT, s.input()).id);
      s.files.add("file-turns-bad", { status: "uploaded" });
      const failing = s.jobs.create(ACCOUNT, s.input({ trainingFile: "file-turns-bad" }));
      Object.assign(s.files.records.get("file-turns-bad")!, { status: "error", statusDetails: "line 1: not JSON" });
      await until("failed", () => s.status(failing.id) === "failed");
      assert.deepEqual(heard, [
        [ok.id, "succeeded", true],
        [cancelled.id, "cancelled", false],
        [failing.id, "failed", false],
      ]);
      assert.equal(s.jobs.find(ok.id)?.status, "succeeded");
      assert.equal(s.jobs.find("ftjob-none"), undefined);
    }));
});
