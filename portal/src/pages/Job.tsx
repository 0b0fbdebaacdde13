// A fine-tuning job: status and progress (step of total, time left), hyperparameters and files,
// live loss and token-accuracy charts, checkpoints (each deployable), the final model's deploy,
// results.csv, events as they arrive, and Cancel while it runs.
import { useEffect, useMemo, useRef, useState } from "react";
import type { ReactNode } from "react";
import { data, dataRaw, sleep } from "../api.ts";
import type { Session } from "../api.ts";
import { DeployDialog, listModels } from "../components/DeployDialog.tsx";
import { formatDuration, formatNumber, isCancellable, isTerminal, latestMetrics, listCheckpoints, fetchNewEvents, saveBlob } from "../components/finetune.ts";
import type { FtCheckpoint, FtEvent, FtFile, FtJob, FtMetrics } from "../components/finetune.ts";
import { ErrorBox, formatBytes, formatTime, LineChart, Modal, ProgressBar, useSession } from "../ui.tsx";
import type { Series } from "../ui.tsx";
import { JobStatusPill } from "./FineTuning.tsx";

const COLORS = { train: "#2f5bd3", valid: "#d9822b", full: "#1f8a4c" };

interface JobData {
  job: FtJob | null;
  events: FtEvent[];
  checkpoints: FtCheckpoint[];
  error: unknown;
  refresh(): void;
}

/** Polls the job, its new events and its checkpoints each second until the job settles. */
function useJob(session: Session, id: string): JobData {
  const [job, setJob] = useState<FtJob | null>(null);
  const [events, setEvents] = useState<FtEvent[]>([]);
  const [checkpoints, setCheckpoints] = useState<FtCheckpoint[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [tick, setTick] = useState(0);
  const known = useRef(new Set<string>());

  useEffect(() => {
    let stopped = false;
    (async () => {
      let checkpointCount = -1;
      for (;;) {
        try {
          const j: FtJob = await data(session, "GET", `/fine_tuning/jobs/${encodeURIComponent(id)}`);
          const fresh = await fetchNewEvents(session, id, known.current);
          if (stopped) return;
          for (const e of fresh) known.current.add(e.id);
          if (fresh.length) setEvents((old) => [...fresh, ...old]);
          const checkpointEvents = fresh.filter((e) => e.message.startsWith("Checkpoint")).length;
          if (checkpointCount < 0 || checkpointEvents > 0 || isTerminal(j.status)) {
            const cps = await listCheckpoints(session, id);
            if (stopped) return;
            setCheckpoints(cps);
            checkpointCount = cps.length;
          }
          setJob(j);
          setError(null);
          if (isTerminal(j.status)) return;
        } catch (e) {
          if (stopped) return;
          setError(e);
        }
        await sleep(1000);
        if (stopped) return;
      }
    })();
    return () => {
      stopped = true;
    };
  }, [session, id, tick]);
  return { job, events, checkpoints, error, refresh: () => setTick((t) => t + 1) };
}

function useFile(session: Session, id: string | null | undefined): { file: FtFile | null; gone: boolean } {
  const [file, setFile] = useState<FtFile | null>(null);
  const [gone, setGone] = useState(false);
  useEffect(() => {
    if (!id) return;
    data(session, "GET", `/files/${encodeURIComponent(id)}`)
      .then(setFile)
      .catch(() => setGone(true));
  }, [session, id]);
  return { file, gone };
}

function FileRef({ session, id }: { session: Session; id: string }) {
  const { file, gone } = useFile(session, id);
  return (
    <>
      <div>
        {file ? <b>{file.filename}</b> : gone ? <span className="muted">deleted file</span> : "…"}
        {file ? <span className="muted"> · {formatBytes(file.bytes)}</span> : null}
      </div>
      <div className="mono muted small">{id}</div>
    </>
  );
}

function StatusCard({ job, metrics }: { job: FtJob; metrics?: FtMetrics }) {
  const [, setNow] = useState(0);
  useEffect(() => {
    if (job.status !== "running") return;
    const t = setInterval(() => setNow((n) => n + 1), 1000);
    return () => clearInterval(t);
  }, [job.status]);
  const now = Date.now() / 1000;
  const epochs = typeof job.hyperparameters.n_epochs === "number" ? job.hyperparameters.n_epochs : null;
  let bar: ReactNode;
  let detail: string;
  if (job.status === "running" && metrics?.total_steps) {
    const pct = (metrics.step / metrics.total_steps) * 100;
    bar = <ProgressBar value={pct} label={`Step ${metrics.step} of ${metrics.total_steps} (${Math.floor(pct)}%)`} />;
    const left = job.estimated_finish ? job.estimated_finish - now : null;
    detail = [
      metrics.epoch !== undefined ? `Epoch ${metrics.epoch}${epochs ? ` of ${epochs}` : ""}` : null,
      left !== null ? (left > 0 ? `about ${formatDuration(left)} left` : "finishing…") : "estimating time left…",
      job.trained_tokens ? `${job.trained_tokens.toLocaleString("en-US")} tokens trained` : null,
    ]
      .filter(Boolean)
      .join(" · ");
  } else if (job.status === "running") {
    bar = <ProgressBar value={null} label="Starting the trainer…" />;
    detail = "Loading the base model and tokenizing the data.";
  } else if (job.status === "validating_files") {
    bar = <ProgressBar value={null} label="Validating files…" />;
    detail = "Every example is tokenized with the base model's chat template and must fit its context.";
  } else if (job.status === "queued") {
    bar = <ProgressBar value={null} label="Queued" />;
    detail = "Waiting for jobs ahead to complete: one job trains at a time on this server.";
  } else if (job.status === "paused") {
    bar = <ProgressBar value={metrics?.total_steps ? (metrics.step / metrics.total_steps) * 100 : 0} label={`Paused${metrics?.total_steps ? ` at step ${metrics.step} of ${metrics.total_steps}` : ""}`} />;
    detail = "Resume the job to continue from its last checkpoint.";
  } else if (job.status === "succeeded") {
    bar = <ProgressBar value={100} label={metrics?.total_steps ? `Done: ${metrics.total_steps} steps` : "Done"} />;
    detail = [job.finished_at ? `Finished ${formatTime(job.finished_at)}, after ${formatDuration(job.finished_at - job.created_at)}` : null, job.trained_tokens ? `${job.trained_tokens.toLocaleString("en-US")} tokens trained` : null].filter(Boolean).join(" · ");
  } else {
    bar = null;
    detail = job.status === "cancelled" ? `Cancelled ${formatTime(job.finished_at)}.` : `Failed ${formatTime(job.finished_at)}.`;
  }
  return (
    <div className="card status-card" data-testid="job-status" data-status={job.status}>
      <div className="row">
        <JobStatusPill status={job.status} />
        <span className="muted">{detail}</span>
      </div>
      {bar ? <div className="status-bar">{bar}</div> : null}
      {job.error ? (
        <ErrorBox
          error={{
            code: job.error.code,
            message: `${job.error.message}${job.error.param === "training_file" || job.error.param === "validation_file" ? " Fix the file, upload it again and start a new job." : ""}`,
          }}
        />
      ) : null}
    </div>
  );
}

function Charts({ events, checkpoints }: { events: FtEvent[]; checkpoints: FtCheckpoint[] }) {
  const { loss, accuracy, hasValid } = useMemo(() => {
    const steps = events
      .filter((e) => e.type === "metrics" && e.data)
      .map((e) => e.data!)
      .sort((a, b) => a.step - b.step);
    const pts = (pick: (m: FtMetrics) => number | null | undefined, from: FtMetrics[]) =>
      from.flatMap((m) => {
        const y = pick(m);
        return typeof y === "number" && Number.isFinite(y) ? [{ x: m.step, y }] : [];
      });
    const cps = checkpoints.map((c) => ({ ...c.metrics, step: c.step_number })).sort((a, b) => a.step - b.step);
    const validLoss = pts((m) => m.valid_loss, steps);
    const fullLoss = pts((m) => m.full_valid_loss, cps);
    const loss: Series[] = [{ name: "Training loss", color: COLORS.train, points: pts((m) => m.train_loss, steps) }];
    const accuracy: Series[] = [{ name: "Training token accuracy", color: COLORS.train, points: pts((m) => m.train_mean_token_accuracy, steps) }];
    if (validLoss.length) {
      loss.push({ name: "Validation loss", color: COLORS.valid, points: validLoss });
      accuracy.push({ name: "Validation token accuracy", color: COLORS.valid, points: pts((m) => m.valid_mean_token_accuracy, steps) });
    }
    if (fullLoss.length) {
      loss.push({ name: "Full validation loss (per epoch)", color: COLORS.full, points: fullLoss });
      accuracy.push({ name: "Full validation accuracy (per epoch)", color: COLORS.full, points: pts((m) => m.full_valid_mean_token_accuracy, cps) });
    }
    return { loss, accuracy, hasValid: validLoss.length > 0 || fullLoss.length > 0 };
  }, [events, checkpoints]);
  return (
    <>
      <div className="charts">
        <div>
          <h3>Loss</h3>
          <LineChart series={loss} xLabel="step" yLabel="loss" testId="loss-chart" />
        </div>
        <div>
          <h3>Token accuracy</h3>
          <LineChart series={accuracy} xLabel="step" yLabel="mean token accuracy" testId="accuracy-chart" />
        </div>
      </div>
      {!hasValid && loss[0].points.length > 0 ? <p className="muted small">No validation data: only training figures are shown. Choose a validation file or an automatic split for validation loss.</p> : null}
    </>
  );
}

function EventsList({ events, live }: { events: FtEvent[]; live: boolean }) {
  const [metrics, setMetrics] = useState(true);
  const shown = metrics ? events : events.filter((e) => e.type !== "metrics");
  return (
    <>
      <div className="row">
        <h2>Events</h2>
        {live ? <span className="live" title="New events appear as they arrive">● live</span> : null}
        <span className="spacer" />
        <label className="row inline">
          <input type="checkbox" checked={metrics} onChange={(e) => setMetrics(e.target.checked)} /> Show step metrics
        </label>
      </div>
      {shown.length === 0 ? (
        <div className="card muted">No events yet.</div>
      ) : (
        <ol className="events" data-testid="events" data-count={events.length}>
          {shown.map((e) => (
            <li key={e.id} className={`event level-${e.level}${e.type === "metrics" ? " metrics" : ""}`}>
              <time>{new Date(e.created_at * 1000).toLocaleTimeString()}</time>
              <span className={`level ${e.level}`}>{e.level}</span>
              <span className="message">{e.message}</span>
            </li>
          ))}
        </ol>
      )}
    </>
  );
}

type DeployTarget = { name: string; label: string };

export function JobPage({ id }: { id: string }) {
  const { session } = useSession();
  const { job, events, checkpoints, error, refresh } = useJob(session, id);
  const [confirmCancel, setConfirmCancel] = useState(false);
  const [cancelling, setCancelling] = useState(false);
  const [actionError, setActionError] = useState<unknown>(null);
  const [deploy, setDeploy] = useState<{ format: string; name: string; version: string } | null>(null);
  const [resolving, setResolving] = useState<string | null>(null);
  const [deployed, setDeployed] = useState<string[]>([]);
  const [downloading, setDownloading] = useState(false);
  const metrics = latestMetrics(events);

  const cancel = async () => {
    setCancelling(true);
    setActionError(null);
    try {
      await data(session, "POST", `/fine_tuning/jobs/${encodeURIComponent(id)}/cancel`);
      setConfirmCancel(false);
      refresh();
    } catch (e) {
      setActionError(e);
      setConfirmCancel(false);
    } finally {
      setCancelling(false);
    }
  };

  /** Azure's pause/resume: a paused job keeps its progress and continues from its last checkpoint. */
  const pauseOrResume = async (action: "pause" | "resume") => {
    setActionError(null);
    try {
      await data(session, "POST", `/fine_tuning/jobs/${encodeURIComponent(id)}/${action}`);
      refresh();
    } catch (e) {
      setActionError(e);
    }
  };

  /** Custom models are registered under the base model's format, version 1: find it through ARM. */
  const openDeploy = async (t: DeployTarget) => {
    setActionError(null);
    setResolving(t.name);
    try {
      const models = await listModels(session);
      const found = models.find((m) => m.name === t.name && m.baseModel) ?? models.find((m) => m.name === t.name);
      if (!found) throw new Error(`${t.label} ${t.name} is not in this account's models yet. Refresh in a moment; if it stays missing, the job's output was deleted.`);
      setDeploy({ format: found.format, name: found.name, version: found.version });
    } catch (e) {
      setActionError(e);
    } finally {
      setResolving(null);
    }
  };

  const download = async (fileId: string) => {
    setDownloading(true);
    setActionError(null);
    try {
      const res = await dataRaw(session, `/files/${encodeURIComponent(fileId)}/content`);
      const disposition = res.headers.get("content-disposition") ?? "";
      const m = /filename\*=UTF-8''([^;]+)/i.exec(disposition);
      saveBlob(await res.blob(), m ? decodeURIComponent(m[1]) : "results.csv");
    } catch (e) {
      setActionError(e);
    } finally {
      setDownloading(false);
    }
  };

  if (!job)
    return (
      <div className="ft job-page">
        <a href="#/fine-tuning" className="back">
          ← Fine-tuning
        </a>
        <h1 className="mono">{id}</h1>
        {error ? <ErrorBox error={error} /> : <ProgressBar value={null} label="Loading the job…" />}
      </div>
    );

  const h = job.hyperparameters;
  const running = !isTerminal(job.status);
  return (
    <div className="ft job-page">
      <a href="#/fine-tuning" className="back">
        ← Fine-tuning
      </a>
      <div className="row page-head">
        <div>
          <h1>{job.fine_tuned_model ?? `Fine-tuning ${job.model}`}</h1>
          <div className="muted mono">{job.id}</div>
        </div>
        <span className="spacer" />
        {job.result_files.map((f) => (
          <button key={f} onClick={() => download(f)} disabled={downloading}>
            {downloading ? "Downloading…" : "Download results.csv"}
          </button>
        ))}
        {job.status === "running" ? <button onClick={() => pauseOrResume("pause")}>Pause</button> : null}
        {job.status === "paused" ? (
          <button className="primary" onClick={() => pauseOrResume("resume")}>
            Resume
          </button>
        ) : null}
        {isCancellable(job.status) ? (
          <button className="danger" onClick={() => setConfirmCancel(true)}>
            Cancel job
          </button>
        ) : null}
        {job.status === "succeeded" && job.fine_tuned_model ? (
          <button className="primary" onClick={() => openDeploy({ name: job.fine_tuned_model!, label: "The fine-tuned model" })} disabled={resolving !== null}>
            {resolving === job.fine_tuned_model ? "Opening…" : "Deploy"}
          </button>
        ) : null}
      </div>
      <ErrorBox error={error} />
      <ErrorBox error={actionError} onDismiss={() => setActionError(null)} />
      {deployed.length ? (
        <div className="notice ok" data-testid="deployed">
          Deployed as {deployed.map((d, i) => (
            <span key={d}>
              {i ? ", " : ""}
              <b>{d}</b> (<a href={`#/playground?deployment=${encodeURIComponent(d)}`}>open in playground</a>)
            </span>
          ))}
          .
        </div>
      ) : null}

      <StatusCard job={job} metrics={metrics} />

      <div className="two-col">
        <div className="card">
          <h3>Details</h3>
          <dl className="kv">
            <dt>Base model</dt>
            <dd>{job.model}</dd>
            <dt>Fine-tuned model</dt>
            <dd className="mono">{job.fine_tuned_model ?? <span className="muted">{job.status === "failed" || job.status === "cancelled" ? "none" : "when the job succeeds"}</span>}</dd>
            <dt>Created</dt>
            <dd>{formatTime(job.created_at)}</dd>
            <dt>Finished</dt>
            <dd>{formatTime(job.finished_at)}</dd>
            <dt>Training file</dt>
            <dd>
              <FileRef session={session} id={job.training_file} />
            </dd>
            <dt>Validation</dt>
            <dd>
              {job.validation_file ? (
                <FileRef session={session} id={job.validation_file} />
              ) : job.validation_split ? (
                `Automatic split: ${Math.round(job.validation_split * 100)}% of the training examples`
              ) : (
                <span className="muted">none</span>
              )}
            </dd>
            <dt>Trained tokens</dt>
            <dd>{job.trained_tokens?.toLocaleString("en-US") ?? "—"}</dd>
            <dt>Result files</dt>
            <dd>{job.result_files.length ? job.result_files.map((f) => <span key={f} className="mono">{f} </span>) : <span className="muted">when the job succeeds</span>}</dd>
          </dl>
        </div>
        <div className="card">
          <h3>Hyperparameters</h3>
          <dl className="kv" data-testid="hyperparameters">
            <dt>Epochs (n_epochs)</dt>
            <dd>{String(h.n_epochs)}</dd>
            <dt>Batch size</dt>
            <dd>{String(h.batch_size)}</dd>
            <dt>Learning rate multiplier</dt>
            <dd>{String(h.learning_rate_multiplier)}</dd>
            {job.learning_rate !== undefined ? (
              <>
                <dt>Learning rate</dt>
                <dd>{job.learning_rate}</dd>
              </>
            ) : null}
            {job.lora ? (
              <>
                <dt>LoRA rank / alpha</dt>
                <dd>
                  {job.lora.rank} / {job.lora.alpha}
                </dd>
              </>
            ) : null}
            <dt>Seed</dt>
            <dd>{job.seed}</dd>
            <dt>Suffix</dt>
            <dd>{job.suffix ?? "—"}</dd>
          </dl>
          {h.n_epochs === "auto" ? <p className="muted small">"auto" values are chosen from the training data when training starts.</p> : null}
        </div>
      </div>

      <h2>Metrics</h2>
      <Charts events={events} checkpoints={checkpoints} />

      <h2>Checkpoints</h2>
      {checkpoints.length === 0 ? (
        <div className="card muted">{running ? "A checkpoint is saved at the end of each epoch; each one can be deployed." : "This job saved no checkpoints."}</div>
      ) : (
        <table data-testid="checkpoints">
          <thead>
            <tr>
              <th>Checkpoint</th>
              <th>Step</th>
              <th>Training loss</th>
              <th>Token accuracy</th>
              <th>Validation loss</th>
              <th>Created</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {checkpoints.map((c) => (
              <tr key={c.id} data-checkpoint={c.id}>
                <td className="mono">{c.id}</td>
                <td>
                  {c.step_number}
                  {c.metrics.epoch !== undefined ? <span className="muted"> (epoch {c.metrics.epoch})</span> : null}
                </td>
                <td>{formatNumber(c.metrics.train_loss)}</td>
                <td>{formatNumber(c.metrics.train_mean_token_accuracy)}</td>
                <td>{formatNumber(c.metrics.full_valid_loss ?? c.metrics.valid_loss)}</td>
                <td>{formatTime(c.created_at)}</td>
                <td>
                  <button className="small" onClick={() => openDeploy({ name: c.id, label: "Checkpoint" })} disabled={resolving !== null}>
                    {resolving === c.id ? "Opening…" : "Deploy"}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      <EventsList events={events} live={running} />

      {confirmCancel ? (
        <Modal title="Cancel fine-tuning job?" onClose={() => setConfirmCancel(false)}>
          <p>
            Cancel <span className="mono">{job.id}</span>? Training stops within seconds and no fine-tuned model is created. Checkpoints already saved stay deployable. A cancelled job cannot be resumed.
          </p>
          <div className="row">
            <span className="spacer" />
            <button onClick={() => setConfirmCancel(false)}>Keep running</button>
            <button className="danger" onClick={cancel} disabled={cancelling}>
              {cancelling ? "Cancelling…" : "Cancel job"}
            </button>
          </div>
        </Modal>
      ) : null}
      {deploy ? (
        <DeployDialog
          model={deploy}
          onClose={() => setDeploy(null)}
          onDeployed={(name) => setDeployed((d) => (d.includes(name) ? d : [...d, name]))}
        />
      ) : null}
    </div>
  );
}
