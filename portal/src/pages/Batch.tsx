// Batch jobs (`#/batch`): the Batch API on the project endpoint (OpenAI v1 wire shapes). Upload
// a .jsonl of requests (purpose "batch", checked line by line on arrival), create a batch for a
// GlobalBatch/DataZoneBatch deployment, watch its status and request_counts, cancel it, and
// download its output and error files.
import { useState } from "react";
import { data, dataRaw, dataUpload, listDataDeployments } from "../api.ts";
import type { Session } from "../api.ts";
import { listDeployments } from "../components/DeployDialog.tsx";
import { Dropzone } from "../components/Dropzone.tsx";
import { CopyButton, ErrorBox, Field, formatBytes, formatTime, Modal, ProgressBar, usePoll, useSession } from "../ui.tsx";

export interface Batch {
  id: string;
  object: "batch";
  endpoint: string;
  model?: string | null;
  status: "validating" | "failed" | "in_progress" | "finalizing" | "completed" | "expired" | "cancelling" | "cancelled";
  input_file_id: string;
  output_file_id: string | null;
  error_file_id: string | null;
  created_at: number;
  in_progress_at?: number | null;
  completed_at?: number | null;
  request_counts: { total: number; completed: number; failed: number };
  errors?: { data: { code: string; message: string; line?: number | null; param?: string | null }[] } | null;
  usage?: { input_tokens: number; output_tokens: number; total_tokens: number };
}

interface BatchFile {
  id: string;
  filename: string;
  bytes: number | null;
  purpose: string;
  status: "uploaded" | "pending" | "running" | "processed" | "error" | "deleted";
  status_details: string | null;
}

const ACTIVE = new Set(["validating", "in_progress", "finalizing", "cancelling"]);
const BATCH_SKUS = new Set(["GlobalBatch", "DataZoneBatch"]);
const ENDPOINTS: { url: string; label: string; capability: "chat" | "embeddings" | "completion" }[] = [
  { url: "/v1/chat/completions", label: "Chat completions", capability: "chat" },
  { url: "/v1/responses", label: "Responses", capability: "chat" },
  { url: "/v1/completions", label: "Completions", capability: "completion" },
  { url: "/v1/embeddings", label: "Embeddings", capability: "embeddings" },
];
const PILL: Record<string, string> = { completed: "ok", failed: "bad", expired: "bad", cancelled: "status-cancelled" };

interface BatchDeployment {
  name: string;
  model: string;
  sku: string;
  ready: boolean;
}

/** The account's batch deployments: ARM with a token, the data plane with a key. */
async function batchDeployments(session: Session): Promise<BatchDeployment[]> {
  if (session.mode === "token")
    return (await listDeployments(session))
      .filter((d) => BATCH_SKUS.has(d.sku?.name))
      .map((d) => ({ name: d.name, model: d.properties.model.name, sku: d.sku.name, ready: d.properties.provisioningState === "Succeeded" }));
  return (await listDataDeployments(session))
    .filter((d) => d.sku && BATCH_SKUS.has(d.sku.name))
    .map((d) => ({ name: d.id, model: d.model, sku: d.sku!.name, ready: d.status === "succeeded" }));
}

/** A few example lines a user can start from: each names the deployment in body.model, as Azure requires. */
export function sampleLines(deployment: string, endpoint: string): string {
  const prompts = ["What is the capital of France?", "Write a haiku about the sea.", "Name three primary colours."];
  const body = (p: string) =>
    endpoint.endsWith("/embeddings")
      ? { model: deployment, input: p }
      : endpoint.endsWith("/responses")
        ? { model: deployment, input: p, max_output_tokens: 64 }
        : endpoint.endsWith("/chat/completions")
          ? { model: deployment, messages: [{ role: "user", content: p }], max_tokens: 64 }
          : { model: deployment, prompt: p, max_tokens: 64 };
  return prompts.map((p, i) => JSON.stringify({ custom_id: `request-${i + 1}`, method: "POST", url: endpoint, body: body(p) })).join("\n") + "\n";
}

/** Saves a file through the browser's download (a data-plane file's content, or text made here). */
async function download(name: string, content: Blob): Promise<void> {
  const url = URL.createObjectURL(content);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

async function downloadFile(session: Session, fileId: string, name: string): Promise<void> {
  const res = await dataRaw(session, `/files/${encodeURIComponent(fileId)}/content`);
  await download(name, await res.blob());
}

export function BatchStatusPill({ status }: { status: string }) {
  return <span className={`pill ${PILL[status] ?? (ACTIVE.has(status) ? "busy" : "")}`}>{status.replace("_", " ")}</span>;
}

/** Lines done of the total: a bar while it runs, the counts always. */
export function BatchProgress({ batch }: { batch: Batch }) {
  const { total, completed, failed } = batch.request_counts;
  const done = completed + failed;
  const label = `${done} of ${total} requests${failed ? ` (${failed} failed)` : ""}`;
  if (batch.status === "validating") return <ProgressBar value={null} label="Validating the input file…" />;
  if (!total) return <span className="small">{ACTIVE.has(batch.status) ? "starting…" : "no requests run"}</span>;
  return <ProgressBar value={Math.round((done / total) * 100)} label={label} />;
}

function CreateBatch({ session, onClose, onCreated }: { session: Session; onClose(): void; onCreated(b: Batch): void }) {
  const deployments = usePoll(() => batchDeployments(session), 60_000, [session.secret]);
  const [deployment, setDeployment] = useState("");
  const [endpoint, setEndpoint] = useState(ENDPOINTS[0].url);
  const [file, setFile] = useState<BatchFile | null>(null);
  const [progress, setProgress] = useState<number | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const chosen = deployment || deployments.value?.find((d) => d.ready)?.name || deployments.value?.[0]?.name || "";

  // The file is checked line by line after upload: poll until it is processed or has errors.
  usePoll(
    async () => {
      if (!file || file.status === "processed" || file.status === "error") return;
      setFile(await data(session, "GET", `/files/${encodeURIComponent(file.id)}`));
    },
    700,
    [file?.id, file?.status],
    !!file && file.status !== "processed" && file.status !== "error",
  );

  const upload = async (f: File) => {
    setError(null);
    setFile(null);
    setProgress(0);
    try {
      const form = new FormData();
      form.append("purpose", "batch");
      form.append("file", f, f.name);
      setFile(await dataUpload(session, "/files", form, setProgress));
    } catch (e) {
      setError(e);
    } finally {
      setProgress(null);
    }
  };

  const create = async () => {
    if (!file) return;
    setBusy(true);
    setError(null);
    try {
      onCreated(await data(session, "POST", "/batches", { input_file_id: file.id, endpoint, completion_window: "24h" }));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  const none = deployments.value && deployments.value.length === 0;
  return (
    <Modal title="Create a batch job" onClose={onClose} className="wide batch-dialog">
      <p className="muted">
        A batch runs a file of requests at low priority on a batch deployment, filling the model's idle capacity; results come back as an output file (and an error file for lines that failed).
      </p>
      <ErrorBox error={deployments.error} />
      {none ? (
        <div className="notice" data-testid="no-batch-deployments">
          No batch deployments yet. Deploy a model with the <b>GlobalBatch</b> (or DataZoneBatch) SKU first, e.g.{" "}
          <code>az cognitiveservices account deployment create … --sku-name GlobalBatch</code>.
        </div>
      ) : null}
      <div className="params">
        <Field label="Batch deployment" hint="Every line's body.model must name it.">
          <select name="batchDeployment" style={{ width: "100%" }} value={chosen} onChange={(e) => setDeployment(e.target.value)}>
            {(deployments.value ?? []).map((d) => (
              <option key={d.name} value={d.name}>
                {d.name} ({d.model}, {d.sku}
                {d.ready ? "" : ", not ready"})
              </option>
            ))}
          </select>
        </Field>
        <Field label="Endpoint" hint="Every line's url must call it.">
          <select name="endpoint" style={{ width: "100%" }} value={endpoint} onChange={(e) => setEndpoint(e.target.value)}>
            {ENDPOINTS.map((e) => (
              <option key={e.url} value={e.url}>
                {e.label} ({e.url})
              </option>
            ))}
          </select>
        </Field>
      </div>
      <p className="small">
        Each line: <code>{'{"custom_id": "…", "method": "POST", "url": "' + endpoint + '", "body": {"model": "' + (chosen || "<deployment>") + '", …}}'}</code>{" "}
        <button type="button" className="link small-link" disabled={!chosen} onClick={() => download(`batch-sample-${chosen}.jsonl`, new Blob([sampleLines(chosen, endpoint)], { type: "application/jsonl" }))}>
          Download a sample file
        </button>
      </p>
      <Dropzone onFile={upload} accept=".jsonl" label="Drag and drop the batch's JSONL file here" testId="batch-dropzone" hint="JSON Lines, one request a line, each with a unique custom_id; up to 512 MB." />
      {progress !== null ? <ProgressBar value={Math.round(progress * 100)} label="Uploading…" /> : null}
      {file ? (
        <div className="card" data-testid="batch-file">
          <div className="row">
            <b className="filename">{file.filename}</b>
            <span className="mono muted small">{file.id}</span>
            <span className="muted small">{formatBytes(file.bytes)}</span>
            <span className="spacer" />
            <span className={`pill ${file.status === "processed" ? "ok" : file.status === "error" ? "bad" : "busy"}`} data-testid="batch-file-status">
              {file.status === "processed" ? "valid" : file.status === "error" ? "has errors" : "checking…"}
            </span>
          </div>
          {file.status === "error" && file.status_details ? (
            <ul className="problems compact" data-testid="batch-file-problems">
              {file.status_details
                .split("\n")
                .filter((l) => l.trim())
                .map((l, i) => (
                  <li key={i}>{l}</li>
                ))}
            </ul>
          ) : null}
        </div>
      ) : null}
      <ErrorBox error={error} onDismiss={() => setError(null)} />
      <div className="row">
        <span className="spacer" />
        <button onClick={onClose}>Close</button>
        <button className="primary" onClick={create} disabled={busy || !file || file.status !== "processed"}>
          {busy ? "Creating…" : "Create batch"}
        </button>
      </div>
    </Modal>
  );
}

function BatchRow({ batch, session, onChanged, onError }: { batch: Batch; session: Session; onChanged(): void; onError(e: unknown): void }) {
  const [open, setOpen] = useState(false);
  const [cancelling, setCancelling] = useState(false);
  const problems = batch.errors?.data ?? [];
  const cancel = async () => {
    setCancelling(true);
    try {
      await data(session, "POST", `/batches/${encodeURIComponent(batch.id)}/cancel`);
      onChanged();
    } catch (e) {
      onError(e);
    } finally {
      setCancelling(false);
    }
  };
  const get = (fileId: string, kind: string) => downloadFile(session, fileId, `${batch.id}-${kind}.jsonl`).catch(onError);
  return (
    <>
      <tr data-batch={batch.id}>
        <td>
          <button className="link mono" style={{ textAlign: "left", padding: 0 }} onClick={() => setOpen(!open)} aria-expanded={open}>
            {batch.id}
          </button>
          <div className="muted small">
            {batch.model ?? "—"} · {batch.endpoint}
          </div>
        </td>
        <td>
          <BatchStatusPill status={batch.status} />
        </td>
        <td className="nowrap">{formatTime(batch.created_at)}</td>
        <td style={{ width: 240 }} data-testid="batch-progress">
          <BatchProgress batch={batch} />
        </td>
        <td className="nowrap actions">
          {ACTIVE.has(batch.status) && batch.status !== "cancelling" ? (
            <button className="small danger" onClick={cancel} disabled={cancelling}>
              {cancelling ? "Cancelling…" : "Cancel"}
            </button>
          ) : null}
          {batch.output_file_id ? (
            <button className="small" onClick={() => get(batch.output_file_id!, "output")}>
              Download output
            </button>
          ) : null}
          {batch.error_file_id ? (
            <button className="small" onClick={() => get(batch.error_file_id!, "errors")}>
              Download errors
            </button>
          ) : null}
        </td>
      </tr>
      {open || (batch.status === "failed" && problems.length) ? (
        <tr className="details">
          <td colSpan={5}>
            <div className="small">
              Input file <span className="mono">{batch.input_file_id}</span> <CopyButton text={batch.id} label="Copy batch id" />
              {batch.usage ? ` · ${batch.usage.input_tokens} input + ${batch.usage.output_tokens} output tokens` : ""}
              {batch.completed_at ? ` · completed ${formatTime(batch.completed_at)}` : ""}
            </div>
            {problems.length ? (
              <ul className="problems compact" data-testid="batch-errors">
                {problems.map((p, i) => (
                  <li key={i}>
                    {p.line ? <span className="lineno">Line {p.line}</span> : null}
                    <span>
                      {p.code}: {p.message}
                    </span>
                  </li>
                ))}
              </ul>
            ) : null}
          </td>
        </tr>
      ) : null}
    </>
  );
}

export function BatchPage() {
  const { session } = useSession();
  const [creating, setCreating] = useState(false);
  const [actionError, setActionError] = useState<unknown>(null);
  const [anyActive, setAnyActive] = useState(false);
  const batches = usePoll(
    async () => {
      const list = (await data(session, "GET", "/batches?limit=100")).data as Batch[];
      setAnyActive(list.some((b) => ACTIVE.has(b.status)));
      return list;
    },
    anyActive ? 1000 : 10_000,
    [session.secret, session.project, anyActive],
  );

  return (
    <div className="ft batch-page">
      <div className="row page-head">
        <h1>Batch jobs</h1>
        <span className="spacer" />
        <button onClick={() => batches.reload()}>Refresh</button>
        <button className="primary" onClick={() => setCreating(true)}>
          Create batch job
        </button>
      </div>
      <p className="muted lead">Send many requests at once at a lower priority: they run on a batch deployment's idle capacity and never slow down online traffic.</p>
      <ErrorBox error={actionError} onDismiss={() => setActionError(null)} />
      <ErrorBox error={batches.error} />
      {batches.value ? (
        batches.value.length === 0 ? (
          <div className="card empty-state">
            <b>No batch jobs yet.</b> Select <i>Create batch job</i> to upload a file of requests.
          </div>
        ) : (
          <table data-testid="batches">
            <thead>
              <tr>
                <th>Batch</th>
                <th>Status</th>
                <th>Created</th>
                <th>Progress</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {batches.value.map((b) => (
                <BatchRow key={b.id} batch={b} session={session} onChanged={batches.reload} onError={setActionError} />
              ))}
            </tbody>
          </table>
        )
      ) : batches.error ? null : (
        <ProgressBar value={null} label="Loading batch jobs…" />
      )}
      {creating ? (
        <CreateBatch
          session={session}
          onClose={() => setCreating(false)}
          onCreated={() => {
            setCreating(false);
            batches.reload();
          }}
        />
      ) : null}
    </div>
  );
}
