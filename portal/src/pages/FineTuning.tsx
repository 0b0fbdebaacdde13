// Fine-tuning: the account's jobs (status, base and fine-tuned model, progress) with the
// Create custom model wizard, and the datasets uploaded for fine-tuning (status; delete).
import { useState } from "react";
import { data } from "../api.ts";
import type { Session } from "../api.ts";
import { FileStatusPill } from "../components/DatasetPicker.tsx";
import { FineTuneWizard } from "../components/FineTuneWizard.tsx";
import { isTerminal, latestMetrics, listFiles, listJobs, problemsOf, STATUS_LABEL } from "../components/finetune.ts";
import type { FtEvent, FtFile, FtJob, FtMetrics } from "../components/finetune.ts";
import { ErrorBox, formatBytes, formatTime, Modal, navigate, ProgressBar, usePoll, useRoute, useSession } from "../ui.tsx";

export function JobStatusPill({ status }: { status: string }) {
  return <span className={`pill status-${status}`}>{STATUS_LABEL[status] ?? status}</span>;
}

/** Progress of a job as a bar: steps for a running job, a moving bar while it waits. */
export function JobProgress({ job, metrics }: { job: FtJob; metrics?: FtMetrics }) {
  if (job.status === "succeeded") return <ProgressBar value={100} label="Done" />;
  if (job.status === "failed" || job.status === "cancelled") return <span className="muted">{job.status === "failed" ? job.error?.code ?? "failed" : "stopped"}</span>;
  if (job.status === "running" && metrics?.total_steps) {
    const pct = Math.round((metrics.step / metrics.total_steps) * 100);
    return <ProgressBar value={pct} label={`Step ${metrics.step} of ${metrics.total_steps}`} />;
  }
  if (job.status === "paused") return <span className="muted">paused</span>;
  return <ProgressBar value={null} label={job.status === "running" ? "Starting…" : STATUS_LABEL[job.status]} />;
}

async function loadJobs(session: Session): Promise<{ jobs: FtJob[]; metrics: Record<string, FtMetrics | undefined> }> {
  const jobs = await listJobs(session);
  const metrics: Record<string, FtMetrics | undefined> = {};
  await Promise.all(
    jobs
      .filter((j) => j.status === "running")
      .map(async (j) => {
        const r = await data(session, "GET", `/fine_tuning/jobs/${j.id}/events?limit=10`).catch(() => null);
        metrics[j.id] = r ? latestMetrics(r.data as FtEvent[]) : undefined;
      }),
  );
  return { jobs, metrics };
}

function JobsTable({ jobs, metrics }: { jobs: FtJob[]; metrics: Record<string, FtMetrics | undefined> }) {
  if (jobs.length === 0)
    return (
      <div className="card empty-state">
        <b>No fine-tuning jobs yet.</b> Select <i>Fine-tune a model</i> to train a custom model on your own examples.
      </div>
    );
  return (
    <table data-testid="jobs">
      <thead>
        <tr>
          <th>Model / job</th>
          <th>Status</th>
          <th>Base model</th>
          <th>Created</th>
          <th style={{ width: 220 }}>Progress</th>
        </tr>
      </thead>
      <tbody>
        {jobs.map((j) => (
          <tr key={j.id} data-job={j.id}>
            <td>
              <a href={`#/fine-tuning/jobs/${j.id}`} className="job-link">
                {j.fine_tuned_model ?? (isTerminal(j.status) ? `${j.model} (no model)` : `${j.model}, fine-tuning…`)}
              </a>
              <div className="mono muted small">{j.id}</div>
            </td>
            <td>
              <JobStatusPill status={j.status} />
            </td>
            <td className="nowrap">{j.model}</td>
            <td className="nowrap">{formatTime(j.created_at)}</td>
            <td>
              <JobProgress job={j} metrics={metrics[j.id]} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function FilesTable({ files, onDelete }: { files: FtFile[]; onDelete(f: FtFile): void }) {
  const [open, setOpen] = useState<string | null>(null);
  if (files.length === 0) return <div className="card empty-state muted">No files yet. Training files you upload in the wizard appear here.</div>;
  return (
    <table data-testid="files">
      <thead>
        <tr>
          <th>File</th>
          <th>Purpose</th>
          <th>Size</th>
          <th>Status</th>
          <th>Created</th>
          <th />
        </tr>
      </thead>
      <tbody>
        {files.map((f) => (
          <tr key={f.id} data-file={f.id}>
            <td>
              <b className="filename">{f.filename}</b>
              <div className="mono muted small">{f.id}</div>
              {f.status === "error" && open === f.id ? (
                <ul className="problems compact">
                  {problemsOf(f.status_details).map((p, i) => (
                    <li key={i}>
                      {p.line !== null ? <span className="lineno">Line {p.line}</span> : null}
                      <span>{p.message}</span>
                    </li>
                  ))}
                </ul>
              ) : null}
            </td>
            <td className="nowrap">{f.purpose === "fine-tune-results" ? "job results" : "dataset"}</td>
            <td className="nowrap">{formatBytes(f.bytes)}</td>
            <td className="nowrap">
              <FileStatusPill file={f} />
              {f.status === "error" ? (
                <button className="link small-link" onClick={() => setOpen(open === f.id ? null : f.id)}>
                  {open === f.id ? "hide" : "why?"}
                </button>
              ) : null}
            </td>
            <td className="nowrap">{formatTime(f.created_at)}</td>
            <td>
              <button className="small" onClick={() => onDelete(f)} aria-label={`Delete ${f.filename}`}>
                Delete
              </button>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function FineTuningPage() {
  const { session } = useSession();
  const { query } = useRoute();
  const [wizard, setWizard] = useState<boolean>(query.has("model") || query.has("new"));
  const [confirm, setConfirm] = useState<FtFile | null>(null);
  const [deleting, setDeleting] = useState(false);
  const [actionError, setActionError] = useState<unknown>(null);
  const [anyActive, setAnyActive] = useState(false);

  const jobs = usePoll(
    async () => {
      const r = await loadJobs(session);
      setAnyActive(r.jobs.some((j) => !isTerminal(j.status)));
      return r;
    },
    anyActive ? 1500 : 10_000,
    [session.secret, session.project, anyActive],
  );
  const files = usePoll(() => listFiles(session), 5000, [session.secret, session.project, wizard]);

  const remove = async (f: FtFile) => {
    setDeleting(true);
    setActionError(null);
    try {
      await data(session, "DELETE", `/files/${encodeURIComponent(f.id)}`);
      setConfirm(null);
      files.reload();
    } catch (e) {
      setActionError(e);
      setConfirm(null);
    } finally {
      setDeleting(false);
    }
  };

  return (
    <div className="ft finetune-page">
      <div className="row page-head">
        <h1>Fine-tuning</h1>
        <span className="spacer" />
        <button
          onClick={() => {
            jobs.reload();
            files.reload();
          }}
        >
          Refresh
        </button>
        <button className="primary" onClick={() => setWizard(true)}>
          Fine-tune a model
        </button>
      </div>
      <p className="muted lead">Train a custom model on your own examples. Jobs train a LoRA adapter on this server; a finished model or any of its checkpoints deploys like any other model.</p>
      <ErrorBox error={actionError} onDismiss={() => setActionError(null)} />

      <h2>Jobs</h2>
      <ErrorBox error={jobs.error} />
      {jobs.value ? <JobsTable jobs={jobs.value.jobs} metrics={jobs.value.metrics} /> : jobs.error ? null : <ProgressBar value={null} label="Loading jobs…" />}

      <h2>Data files</h2>
      <ErrorBox error={files.error} />
      {files.value ? <FilesTable files={files.value} onDelete={setConfirm} /> : files.error ? null : <ProgressBar value={null} label="Loading files…" />}

      {confirm ? (
        <Modal title="Delete file?" onClose={() => setConfirm(null)}>
          <p>
            Delete <b>{confirm.filename}</b> (<span className="mono">{confirm.id}</span>)? Jobs that already used it keep their results, but it can no longer be chosen for new jobs. This cannot be undone.
          </p>
          <div className="row">
            <span className="spacer" />
            <button onClick={() => setConfirm(null)}>Keep it</button>
            <button className="danger" onClick={() => remove(confirm)} disabled={deleting}>
              {deleting ? "Deleting…" : "Delete file"}
            </button>
          </div>
        </Modal>
      ) : null}

      {wizard ? (
        <FineTuneWizard
          session={session}
          initialModel={query.get("model")}
          onClose={() => setWizard(false)}
          onCreated={(job) => {
            setWizard(false);
            navigate(`/fine-tuning/jobs/${job.id}`);
          }}
        />
      ) : null}
    </div>
  );
}
