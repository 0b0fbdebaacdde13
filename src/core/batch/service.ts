// The Batch API service (issue 15 item 2): creates batch jobs over validated input files, runs
// their lines at low priority on the batch deployment's model runner (scheduling.ts), keeps
// each line's result in the store as it finishes, and writes the output and error files.
//
// Life of a batch: validating (create checked the file; lines stored) → in_progress (the
// scheduler took it) → finalizing (every line answered; files being written) → completed.
// Also: failed (validation problems, errors.data with line numbers), cancelling → cancelled
// (running lines stop; finished results are kept and written), expired (24 h passed; lines
// not run are written to the error file as batch_expired). A stop at any point resumes at the
// next start: lines without a stored result run again, stored ones never do.
import { randomBytes, randomUUID } from "node:crypto";
import { errors, IngotError } from "../errors.ts";
import type { FileRecord } from "../files/types.ts";
import type { BatchStore } from "../ports/batch-store.ts";
import type { DeploymentResolver, ResolvedDeployment } from "../ports/index.ts";
import { skuFamily } from "../quotas/policy.ts";
import { batchRoom, canTransition, type RunnerLoad, COMPLETION_WINDOW_MS, ENQUEUED_TOKENS_PER_UNIT, isRetryable, MAX_LINE_ATTEMPTS } from "./scheduling.ts";
import { ACTIVE_STATUSES, BATCH_ENDPOINTS, canonicalEndpoint, type BatchCounts, type BatchEndpoint, type BatchError, type BatchLine, type BatchRecord, type BatchStatus, type LineOutcome } from "./types.ts";
import { checkBatchFile } from "./validate.ts";

/** What the service needs of the files service. */
export interface BatchFiles {
  get(account: string, id: string): FileRecord | undefined;
  content(account: string, id: string): { body: AsyncIterable<Uint8Array> };
  putResult(account: string, filename: string, content: string, purpose: "batch_output"): Promise<FileRecord>;
}

/** Runs one request line as the online endpoint would (content filtering included); answers its status and body. Throws only when `signal` aborted it. */
export type LineExecutor = (account: string, deployment: string, endpoint: BatchEndpoint, body: Record<string, unknown>, signal: AbortSignal) => Promise<LineOutcome>;

/** A runner's load as the engine reports it; undefined: the model is not loaded (or not ready). */
export type LoadProbe = (engineKey: string) => { active: number; queued: number } | undefined;

export interface BatchServiceOptions {
  store: BatchStore;
  files: BatchFiles;
  deployments: DeploymentResolver;
  execute: LineExecutor;
  load: LoadProbe;
  /** Parallel sequences of each runner (the engine's `sequences`). */
  sequences: number;
  clock?: () => number;
  /** How often the scheduler looks at the runners while batches are active (default 25 ms). */
  tickMs?: number;
  /** Wait after a transient failure (model loading, 503) before the batch tries again (default 1 s). */
  retryDelayMs?: number;
  log?: (level: "info" | "warn" | "error", msg: string, fields?: Record<string, unknown>) => void;
}

export interface CreateInput {
  inputFileId: unknown;
  endpoint: unknown;
  completionWindow: unknown;
  metadata?: unknown;
  /** From `/openai/deployments/{d}/batches`: the deployment every line must name. */
  deployment?: string;
}

export interface ListPage {
  data: (BatchRecord & { counts: BatchCounts })[];
  hasMore: boolean;
}

interface Running {
  controller: AbortController;
  startedAt: number;
  /** Set when the scheduler stopped the line (preemption, cancel, close): its outcome is dropped. */
  stopped: boolean;
  done: Promise<void>;
}

interface Active {
  id: string;
  account: string;
  deployment: string;
  endpoint: BatchEndpoint;
  running: Map<number, Running>;
  attempts: Map<number, number>;
  /** No new lines before this performance.now() time (after a transient failure). */
  pausedUntil: number;
  /** finalize/cancel/expire in progress. */
  closing: boolean;
}

/** Online traffic seen this recently still limits batch work to its share (scheduling.ts). */
const ONLINE_MEMORY_MS = 1000;

const invalid = (message: string, param: string | null, code = "invalid_request") => new IngotError("invalid_request", code, message, { param });

export class BatchService {
  #o: Required<Pick<BatchServiceOptions, "tickMs" | "retryDelayMs">> & BatchServiceOptions;
  #clock: () => number;
  #active = new Map<string, Active>();
  #timer: NodeJS.Timeout | undefined;
  #started = false;
  #closed = false;
  #pumping = false;
  /** When online requests were last seen on each runner (performance.now()). */
  #onlineSeen = new Map<string, number>();

  constructor(opts: BatchServiceOptions) {
    this.#o = { tickMs: 25, retryDelayMs: 1000, ...opts };
    this.#clock = opts.clock ?? Date.now;
  }

  /** Picks up the batches a previous run left unfinished (their finished lines stay finished). */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    for (const b of this.#o.store.listByStatus(ACTIVE_STATUSES)) this.#track(b);
    this.#schedule();
  }

  async create(account: string, input: CreateInput): Promise<BatchRecord & { counts: BatchCounts }> {
    const { inputFileId, endpoint, completionWindow } = input;
    if (inputFileId === undefined || inputFileId === null || inputFileId === "") throw errors.missing("input_file_id");
    if (typeof inputFileId !== "string") throw invalid("'input_file_id' must be a string file id (file-…), from POST /openai/files with purpose 'batch'.", "input_file_id");
    if (endpoint === undefined || endpoint === null || endpoint === "") throw errors.missing("endpoint");
    const canonical = typeof endpoint === "string" ? canonicalEndpoint(endpoint) : undefined;
    if (typeof endpoint !== "string" || !canonical)
      throw invalid(`Invalid 'endpoint': ${JSON.stringify(endpoint)}. Use one of ${BATCH_ENDPOINTS.map((e) => `/v1${e}`).join(", ")} (the /v1 prefix is optional).`, "endpoint");
    if (completionWindow === undefined || completionWindow === null) throw errors.missing("completion_window");
    if (completionWindow !== "24h") throw invalid(`Invalid 'completion_window': ${JSON.stringify(completionWindow)}. The only window supported is "24h".`, "completion_window");
    const metadata = checkMetadata(input.metadata);

    let target: ResolvedDeployment | undefined;
    if (input.deployment !== undefined) target = this.#batchDeployment(account, input.deployment, canonical);

    const file = this.#o.files.get(account, inputFileId);
    if (!file)
      throw new IngotError("not_found", "not_found", `File '${inputFileId}' was not found in this account. Upload the requests with POST /openai/files (purpose 'batch') and pass the id it returns.`, {
        param: "input_file_id",
      });
    if (file.purpose !== "batch")
      throw invalid(`File '${inputFileId}' has purpose '${file.purpose}'; a batch needs a file uploaded with purpose 'batch'. Upload the JSONL again with purpose=batch.`, "input_file_id");
    if (file.status === "uploaded")
      throw new IngotError("conflict", "file_not_ready", `File '${inputFileId}' is still being processed. Retrieve it until its status is 'processed', then create the batch.`, { param: "input_file_id" });

    const check = await checkBatchFile(this.#o.files.content(account, inputFileId).body, { endpoint: canonical, deployment: input.deployment, keepLines: true });
    const now = this.#clock();
    const errs: BatchError[] = [...check.errors];
    let deployment = target;
    if (!errs.length && !deployment) {
      try {
        deployment = this.#o.deployments.resolve(account, check.model!);
      } catch {
        errs.push({ code: "model_not_found", message: `Deployment '${check.model}' named in body.model was not found in this account. Name a GlobalBatch or DataZoneBatch deployment.`, param: "body.model", line: check.lines[0]?.line ?? null });
      }
      if (deployment) {
        const problem = batchDeploymentProblem(deployment, canonical);
        if (problem) errs.push({ code: "invalid_request", message: problem, param: "body.model", line: check.lines[0]?.line ?? null });
      }
    }
    const record: BatchRecord = {
      id: `batch_${randomUUID()}`,
      account,
      deployment: deployment?.name ?? check.model ?? "",
      model: deployment?.modelName ?? "",
      endpoint,
      inputFileId,
      completionWindow: "24h",
      status: "validating",
      errors: null,
      outputFileId: null,
      errorFileId: null,
      createdAt: now,
      inProgressAt: null,
      expiresAt: now + COMPLETION_WINDOW_MS,
      finalizingAt: null,
      completedAt: null,
      failedAt: null,
      expiredAt: null,
      cancellingAt: null,
      cancelledAt: null,
      metadata,
      total: check.requests,
      enqueuedTokens: 0,
    };
    if (errs.length) {
      // Azure's validation failure: the job exists, status failed, errors.data naming each line.
      this.#o.store.insert({ ...record, status: "failed", failedAt: now, errors: errs }, []);
      return this.require(account, record.id);
    }
    const limit = deployment!.sku.capacity * ENQUEUED_TOKENS_PER_UNIT;
    const used = this.#o.store.enqueuedTokens(account, deployment!.modelName, ACTIVE_STATUSES);
    if (used + check.tokens > limit)
      throw new IngotError(
        "invalid_request",
        "token_limit_exceeded",
        `token_limit_exceeded: this batch holds about ${check.tokens} input tokens, and batches of model '${deployment!.modelName}' not yet finished already hold ${used}; ` +
          `the enqueued-token limit is ${limit} (deployment '${deployment!.name}': capacity ${deployment!.sku.capacity} × ${ENQUEUED_TOKENS_PER_UNIT}). ` +
          "Wait for running batches to finish, split the file into smaller batches, or raise the batch deployment's capacity.",
        { param: "input_file_id" },
      );
    record.enqueuedTokens = check.tokens;
    this.#o.store.insert(record, check.lines);
    this.#track(record);
    this.#schedule();
    return this.require(account, record.id);
  }

  get(account: string, id: string): (BatchRecord & { counts: BatchCounts }) | undefined {
    const b = this.#o.store.get(id);
    if (!b || b.account !== account) return undefined;
    return { ...b, counts: this.#o.store.counts(id) };
  }

  require(account: string, id: string): BatchRecord & { counts: BatchCounts } {
    const b = this.get(account, id);
    if (!b) throw new IngotError("not_found", "not_found", `Batch '${id}' was not found in this account. List the account's batches with GET /openai/batches.`, { param: "batch_id" });
    return b;
  }

  /** Newest first; `after` is the id of the previous page's last batch. */
  list(account: string, q: { after?: string; limit?: number } = {}): ListPage {
    const limit = q.limit ?? 20;
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw invalid(`Invalid 'limit': ${String(q.limit)}. Expected an integer from 1 to 100.`, "limit", "invalid_value");
    let all = this.#o.store.list(account);
    if (q.after !== undefined) {
      const i = all.findIndex((b) => b.id === q.after);
      if (i < 0) throw invalid(`Invalid 'after': no batch '${q.after}' in this account. Pass the last_id of the previous page.`, "after", "invalid_value");
      all = all.slice(i + 1);
    }
    return { data: all.slice(0, limit).map((b) => ({ ...b, counts: this.#o.store.counts(b.id) })), hasMore: all.length > limit };
  }

  /** Stops a batch: running lines end, finished results are kept and written to the output files. */
  cancel(account: string, id: string): BatchRecord & { counts: BatchCounts } {
    const b = this.require(account, id);
    if (b.status === "cancelling" || b.status === "cancelled") return b;
    if (!canTransition(b.status, "cancelling"))
      throw new IngotError("conflict", "invalid_state", `Batch '${id}' is ${b.status} and cannot be cancelled. Only batches that are validating or in progress can be.`, { param: "batch_id" });
    this.#o.store.update(id, { status: "cancelling", cancellingAt: this.#clock() });
    const a = this.#active.get(id) ?? this.#track({ ...b, status: "cancelling" });
    for (const r of a.running.values()) this.#stop(r);
    this.#schedule();
    return this.require(account, id);
  }

  deleteAll(account: string): void {
    for (const a of [...this.#active.values()].filter((x) => x.account === account)) {
      for (const r of a.running.values()) this.#stop(r);
      this.#active.delete(a.id);
    }
    this.#o.store.deleteAll(account);
  }

  /** Resolves when no line runs and no batch is being closed (tests). */
  async idle(): Promise<void> {
    for (;;) {
      const running = [...this.#active.values()].flatMap((a) => [...a.running.values()].map((r) => r.done));
      if (!running.length && ![...this.#active.values()].some((a) => a.closing)) return;
      await Promise.allSettled(running);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** Stops running lines (they stay pending and run again at the next start). */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    const running = [...this.#active.values()].flatMap((a) => [...a.running.values()]);
    for (const r of running) this.#stop(r);
    await Promise.allSettled(running.map((r) => r.done));
  }

  #batchDeployment(account: string, name: string, endpoint: BatchEndpoint): ResolvedDeployment {
    const d = this.#o.deployments.resolve(account, name);
    const problem = batchDeploymentProblem(d, endpoint);
    if (problem) throw invalid(problem, "deployment");
    return d;
  }

  #track(b: BatchRecord): Active {
    const a: Active = {
      id: b.id,
      account: b.account,
      deployment: b.deployment,
      endpoint: canonicalEndpoint(b.endpoint) ?? "/chat/completions",
      running: new Map(),
      attempts: new Map(),
      pausedUntil: 0,
      closing: false,
    };
    this.#active.set(b.id, a);
    return a;
  }

  #schedule(delay = 0): void {
    if (this.#closed || !this.#started) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#pump(), delay);
    this.#timer.unref();
  }

  /** One scheduling pass: status changes, preemption, new lines; then again in tickMs while anything is active. */
  #pump(): void {
    if (this.#closed || this.#pumping) return;
    this.#pumping = true;
    try {
      const now = this.#clock();
      // Runners' loads, counted once per pass; batch lines this pass starts are added as they start.
      const loads = new Map<string, RunnerLoad | null>();
      const batchOnKey = new Map<string, Running[]>();
      const keyOf = new Map<string, string>();
      for (const a of this.#active.values()) {
        const d = this.#resolve(a);
        if (!d) continue;
        keyOf.set(a.id, d.engineKey);
        const list = batchOnKey.get(d.engineKey) ?? [];
        list.push(...[...a.running.values()].filter((r) => !r.stopped));
        batchOnKey.set(d.engineKey, list);
      }
      for (const a of [...this.#active.values()]) {
        if (a.closing) continue;
        const b = this.#o.store.get(a.id);
        if (!b) {
          this.#active.delete(a.id);
          continue;
        }
        if (b.status === "validating") this.#o.store.update(a.id, { status: "in_progress", inProgressAt: now });
        if (b.status === "cancelling") {
          for (const r of a.running.values()) this.#stop(r);
          if (!a.running.size) void this.#close(a, "cancelled");
          continue;
        }
        if (b.status === "finalizing") {
          void this.#close(a, "completed");
          continue;
        }
        if (now >= b.expiresAt) {
          for (const r of a.running.values()) this.#stop(r);
          if (!a.running.size) void this.#close(a, "expired");
          continue;
        }
        const key = keyOf.get(a.id);
        if (key === undefined) {
          // The deployment is gone: its lines cannot run; each fails with the online answer.
          if (!this.#startLines(a, Math.max(0, 4 - a.running.size)) && !a.running.size) this.#finish(a);
          continue;
        }
        if (!loads.has(key)) {
          const probe = this.#o.load(key);
          const batchRunning = batchOnKey.get(key)?.length ?? 0;
          if (probe && probe.active + probe.queued > batchRunning) this.#onlineSeen.set(key, performance.now());
          const onlineRecently = performance.now() - (this.#onlineSeen.get(key) ?? -Infinity) < ONLINE_MEMORY_MS;
          loads.set(key, probe ? { sequences: this.#o.sequences, active: probe.active, queued: probe.queued, batchRunning, onlineRecently } : null);
        }
        const load = loads.get(key);
        if (!load) continue;
        const room = batchRoom(load);
        if (room.preempt > 0) {
          // The newest batch lines on this runner give way first (least work lost).
          const victims = (batchOnKey.get(key) ?? []).filter((r) => !r.stopped).sort((x, y) => y.startedAt - x.startedAt).slice(0, room.preempt);
          for (const r of victims) this.#stop(r);
          load.batchRunning -= victims.length;
          continue;
        }
        if (room.start <= 0 || performance.now() < a.pausedUntil) {
          if (!a.running.size && this.#pendingCount(a) === 0) this.#finish(a);
          continue;
        }
        const started = this.#startLines(a, room.start);
        load.batchRunning += started;
        load.active += started;
        if (!started && !a.running.size) this.#finish(a);
      }
    } catch (e) {
      this.#o.log?.("error", "batch scheduling failed", { err: (e as Error).message });
    } finally {
      this.#pumping = false;
    }
    if (this.#active.size) this.#schedule(this.#o.tickMs);
  }

  #pendingCount(a: Active): number {
    return this.#o.store.pendingLines(a.id, 1, new Set(a.running.keys())).length;
  }

  /** Every line has its result: finalizing, then the files. */
  #finish(a: Active): void {
    const c = this.#o.store.counts(a.id);
    if (c.completed + c.failed < c.total) return;
    this.#o.store.update(a.id, { status: "finalizing", finalizingAt: this.#clock() });
    void this.#close(a, "completed");
  }

  #resolve(a: Active): ResolvedDeployment | undefined {
    try {
      return this.#o.deployments.resolve(a.account, a.deployment);
    } catch {
      return undefined;
    }
  }

  #startLines(a: Active, n: number): number {
    if (n <= 0) return 0;
    const lines = this.#o.store.pendingLines(a.id, n, new Set(a.running.keys()));
    for (const line of lines) this.#runLine(a, line);
    return lines.length;
  }

  #runLine(a: Active, line: BatchLine): void {
    const controller = new AbortController();
    const r: Running = { controller, startedAt: performance.now(), stopped: false, done: Promise.resolve() };
    a.running.set(line.line, r);
    r.done = (async () => {
      let outcome: LineOutcome;
      try {
        outcome = await this.#o.execute(a.account, a.deployment, a.endpoint, line.body, controller.signal);
      } catch (e) {
        if (r.stopped) return;
        this.#o.log?.("error", "a batch line failed unexpectedly", { batch: a.id, line: line.line, err: (e as Error).message });
        outcome = { statusCode: 500, body: { error: { code: "internal_error", message: `The request failed inside Ingot: ${(e as Error).message}`, param: null, type: "server_error" } } };
      }
      if (r.stopped) return;
      if (isRetryable(outcome.statusCode)) {
        const tries = (a.attempts.get(line.line) ?? 0) + 1;
        a.attempts.set(line.line, tries);
        // Model loading (503) and a shared runner's limits (429) are waited out; a 500 is tried a few times.
        if (outcome.statusCode !== 500 || tries < MAX_LINE_ATTEMPTS) {
          a.pausedUntil = performance.now() + this.#o.retryDelayMs;
          return;
        }
      }
      const ok = outcome.statusCode < 400;
      const result = JSON.stringify({
        id: `batch_req_${randomBytes(16).toString("hex")}`,
        custom_id: line.customId,
        response: { status_code: outcome.statusCode, request_id: randomUUID(), body: ok ? outcome.body : withLine(outcome.body, line.line) },
        error: null,
      });
      this.#o.store.finishLine(a.id, line.line, ok ? "succeeded" : "failed", result, outcome.usage, this.#clock());
    })().finally(() => {
      a.running.delete(line.line);
      this.#schedule();
    });
  }

  #stop(r: Running): void {
    if (r.stopped) return;
    r.stopped = true;
    r.controller.abort();
  }

  /** Writes the output and error files (what finished; for an expired batch also the lines never run) and ends the batch. */
  async #close(a: Active, end: Extract<BatchStatus, "completed" | "cancelled" | "expired">): Promise<void> {
    if (a.closing) return;
    a.closing = true;
    try {
      const now = this.#clock();
      if (end === "expired") {
        for (;;) {
          const left = this.#o.store.pendingLines(a.id, 500, new Set());
          if (!left.length) break;
          for (const l of left) {
            const result = JSON.stringify({
              id: `batch_req_${randomBytes(16).toString("hex")}`,
              custom_id: l.customId,
              response: null,
              error: { code: "batch_expired", message: "This request could not be executed before the completion window expired." },
            });
            this.#o.store.finishLine(a.id, l.line, "failed", result, undefined, now);
          }
        }
      }
      const b = this.#o.store.get(a.id);
      if (!b) return;
      const jsonl = (lines: string[]) => (lines.length ? lines.join("\n") + "\n" : "");
      if (!b.outputFileId) {
        const f = await this.#o.files.putResult(a.account, `${a.id}_output.jsonl`, jsonl(this.#o.store.results(a.id, "succeeded")), "batch_output");
        this.#o.store.update(a.id, { outputFileId: f.id });
      }
      if (!b.errorFileId) {
        const f = await this.#o.files.putResult(a.account, `${a.id}_error.jsonl`, jsonl(this.#o.store.results(a.id, "failed")), "batch_output");
        this.#o.store.update(a.id, { errorFileId: f.id });
      }
      const at = this.#clock();
      this.#o.store.update(a.id, end === "completed" ? { status: "completed", completedAt: at } : end === "cancelled" ? { status: "cancelled", cancelledAt: at } : { status: "expired", expiredAt: at });
      this.#active.delete(a.id);
    } catch (e) {
      this.#o.log?.("error", "could not write a batch's output files; retrying", { batch: a.id, err: (e as Error).message });
      a.closing = false;
      a.pausedUntil = performance.now() + this.#o.retryDelayMs;
    }
  }
}

/** Why a deployment cannot take batch jobs to this endpoint, or undefined. */
export function batchDeploymentProblem(d: ResolvedDeployment, endpoint: BatchEndpoint): string | undefined {
  if (skuFamily(d.sku.name) !== "batch")
    return `Deployment '${d.name}' has the ${d.sku.name} SKU; batch jobs run on a deployment with the GlobalBatch or DataZoneBatch SKU. Create one (e.g. az cognitiveservices account deployment create … --sku-name GlobalBatch) and name it in body.model.`;
  const needs = endpoint === "/embeddings" ? "embeddings" : endpoint === "/completions" ? "completion" : "chatCompletion";
  if (!d.capabilities.includes(needs)) return `Deployment '${d.name}' (model ${d.modelName}) cannot serve ${endpoint}. Use an endpoint its model supports, or a batch deployment of a model that does.`;
  return undefined;
}

/** A failed line's error message names its line in the input file (the error file lists lines by custom_id only). */
function withLine(body: unknown, line: number): unknown {
  const error = (body as { error?: { message?: unknown } } | null)?.error;
  if (!error || typeof error.message !== "string") return body;
  return { ...(body as object), error: { ...error, message: `Line ${line}: ${error.message}` } };
}

function checkMetadata(value: unknown): Record<string, string> | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== "object" || Array.isArray(value)) throw invalid("'metadata' must be an object of string values (at most 16 keys).", "metadata");
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > 16) throw invalid(`'metadata' has ${entries.length} keys; at most 16 are allowed.`, "metadata");
  for (const [k, v] of entries) {
    if (k.length > 64) throw invalid(`metadata key '${k.slice(0, 20)}…' is longer than 64 characters.`, `metadata.${k}`);
    if (typeof v !== "string" || v.length > 512) throw invalid(`metadata.${k} must be a string of at most 512 characters.`, `metadata.${k}`);
  }
  return Object.fromEntries(entries) as Record<string, string>;
}
