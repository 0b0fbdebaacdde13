// SQLite persistence for fine-tuning jobs, events, checkpoints and metrics. A job is one JSON
// row (its shape changes with the API; nothing queries inside it but status and account).
import type { SqlDatabase } from "../sql/database.ts";
import type { CheckpointRecord, JobEvent, JobRecord, JobStatus, Page } from "../../core/finetuning/types.ts";
import type { JobStore } from "../../core/ports/index.ts";
import type { StepMetrics } from "../../core/ports/trainer.ts";

export class SqliteJobStore implements JobStore {
  #db: SqlDatabase;

  constructor(db: SqlDatabase) {
    this.#db = db;
  }

  putJob(job: JobRecord): void {
    this.#db
      .prepare("INSERT INTO jobs (id, account, status, created_at, record) VALUES (?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET status = excluded.status, record = excluded.record")
      .run(job.id, job.account, job.status, job.createdAt, JSON.stringify(job));
  }

  getJob(id: string): JobRecord | undefined {
    const r = this.#db.prepare("SELECT record FROM jobs WHERE id = ?").get(id) as { record: string } | undefined;
    return r && JSON.parse(r.record);
  }

  listJobs(filter: { account?: string; status?: JobStatus[] }, page: { after?: string; limit?: number } = {}): Page<JobRecord> {
    const rows = this.#db
      .prepare("SELECT record FROM jobs WHERE (? IS NULL OR account = ?) ORDER BY created_at DESC, rowid DESC")
      .all(filter.account ?? null, filter.account ?? null) as { record: string }[];
    let jobs = rows.map((r) => JSON.parse(r.record) as JobRecord);
    if (filter.status) jobs = jobs.filter((j) => filter.status!.includes(j.status));
    return paginate(jobs, (j) => j.id, page);
  }

  // One conditional upsert: on PostgreSQL the conflicting row is locked while the WHERE is
  // decided, so of replicas claiming at once exactly one sees its row come back.
  claimJob(id: string, owner: string, now: number, leaseMs: number): boolean {
    const row = this.#db
      .prepare(
        `INSERT INTO job_leases (job, owner, expires_at) VALUES (?, ?, ?)
         ON CONFLICT(job) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
         WHERE job_leases.owner = excluded.owner OR job_leases.expires_at <= ?
         RETURNING owner`,
      )
      .get(id, owner, now + leaseMs, now);
    return row !== undefined;
  }

  renewJobLease(id: string, owner: string, now: number, leaseMs: number): boolean {
    return Number(this.#db.prepare("UPDATE job_leases SET expires_at = ? WHERE job = ? AND owner = ?").run(now + leaseMs, id, owner).changes) > 0;
  }

  releaseJob(id: string, owner: string): void {
    this.#db.prepare("DELETE FROM job_leases WHERE job = ? AND owner = ?").run(id, owner);
  }

  deleteJob(id: string): void {
    this.#db.exec("BEGIN");
    try {
      for (const table of ["job_events", "job_checkpoints", "job_metrics", "job_leases"]) this.#db.prepare(`DELETE FROM ${table} WHERE job = ?`).run(id);
      this.#db.prepare("DELETE FROM jobs WHERE id = ?").run(id);
      this.#db.exec("COMMIT");
    } catch (e) {
      this.#db.exec("ROLLBACK");
      throw e;
    }
  }

  addEvent(e: JobEvent): void {
    this.#db
      .prepare("INSERT INTO job_events (id, job, created_at, level, message, type, data) VALUES (?, ?, ?, ?, ?, ?, ?)")
      .run(e.id, e.jobId, e.createdAt, e.level, e.message, e.type, e.data ? JSON.stringify(e.data) : null);
  }

  listEvents(jobId: string, page: { after?: string; limit: number }): Page<JobEvent> {
    const after = page.after ? (this.#db.prepare("SELECT seq FROM job_events WHERE id = ? AND job = ?").get(page.after, jobId) as { seq: number } | undefined)?.seq : undefined;
    const rows = this.#db
      .prepare("SELECT * FROM job_events WHERE job = ? AND (? IS NULL OR seq < ?) ORDER BY seq DESC LIMIT ?")
      .all(jobId, after ?? null, after ?? null, page.limit + 1) as { id: string; job: string; created_at: number; level: JobEvent["level"]; message: string; type: JobEvent["type"]; data: string | null }[];
    const events = rows.map((r) => ({ id: r.id, jobId: r.job, createdAt: r.created_at, level: r.level, message: r.message, type: r.type, data: r.data ? JSON.parse(r.data) : null }));
    return { data: events.slice(0, page.limit), hasMore: events.length > page.limit };
  }

  putCheckpoint(c: CheckpointRecord): void {
    this.#db
      .prepare(
        `INSERT INTO job_checkpoints (id, job, account, epoch, step, created_at, adapter_path, metrics) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(id) DO UPDATE SET job = excluded.job, account = excluded.account, epoch = excluded.epoch, step = excluded.step,
           created_at = excluded.created_at, adapter_path = excluded.adapter_path, metrics = excluded.metrics`,
      )
      .run(c.id, c.jobId, c.account, c.epoch, c.step, c.createdAt, c.adapterPath, JSON.stringify(c.metrics));
  }

  getCheckpoint(id: string): CheckpointRecord | undefined {
    const r = this.#db.prepare("SELECT * FROM job_checkpoints WHERE id = ?").get(id) as CheckpointRow | undefined;
    return r && toCheckpoint(r);
  }

  listCheckpoints(jobId: string, page: { after?: string; limit?: number } = {}): Page<CheckpointRecord> {
    const rows = this.#db.prepare("SELECT * FROM job_checkpoints WHERE job = ? ORDER BY step DESC").all(jobId) as unknown as CheckpointRow[];
    return paginate(rows.map(toCheckpoint), (c) => c.id, page);
  }

  addMetrics(jobId: string, m: StepMetrics): void {
    this.#db.prepare("INSERT INTO job_metrics (job, step, metrics) VALUES (?, ?, ?) ON CONFLICT(job, step) DO UPDATE SET metrics = excluded.metrics").run(jobId, m.step, JSON.stringify(m));
  }

  listMetrics(jobId: string): StepMetrics[] {
    return (this.#db.prepare("SELECT metrics FROM job_metrics WHERE job = ? ORDER BY step").all(jobId) as { metrics: string }[]).map((r) => JSON.parse(r.metrics));
  }
}

interface CheckpointRow {
  id: string;
  job: string;
  account: string;
  epoch: number;
  step: number;
  created_at: number;
  adapter_path: string;
  metrics: string;
}

const toCheckpoint = (r: CheckpointRow): CheckpointRecord => ({
  id: r.id,
  jobId: r.job,
  account: r.account,
  epoch: r.epoch,
  step: r.step,
  createdAt: r.created_at,
  adapterPath: r.adapter_path,
  metrics: JSON.parse(r.metrics),
});

/** Cursor pagination as the OpenAI API does it: items after the one with id `after`. */
function paginate<T>(items: T[], idOf: (t: T) => string, page: { after?: string; limit?: number }): Page<T> {
  let start = 0;
  if (page.after) {
    const i = items.findIndex((t) => idOf(t) === page.after);
    start = i < 0 ? items.length : i + 1;
  }
  const limit = page.limit ?? items.length;
  const data = items.slice(start, start + limit);
  return { data, hasMore: start + limit < items.length };
}
