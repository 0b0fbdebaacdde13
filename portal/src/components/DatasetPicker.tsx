// Choosing a dataset for a fine-tuning job: upload a local file (drag and drop or a picker) or
// pick one already uploaded. After an upload it waits for the server's validation and shows
// the result: ready, or the problems with their line numbers.
import { useEffect, useRef, useState } from "react";
import { dataImport } from "../api.ts";
import type { Session } from "../api.ts";
import { ErrorBox, formatBytes, formatTime, ProgressBar } from "../ui.tsx";
import { Dropzone } from "./Dropzone.tsx";
import { isFileSettling, listFiles, problemsOf, STATUS_LABEL, uploadDataset, waitForFile } from "./finetune.ts";
import type { FtFile } from "./finetune.ts";

export function FileStatusPill({ file }: { file: FtFile }) {
  const cls = file.status === "processed" ? "ok" : file.status === "error" ? "bad" : "busy";
  return <span className={`pill ${cls}`}>{STATUS_LABEL[file.status] ?? file.status}</span>;
}

/** The validation verdict of one file: ready, still validating, or its problems by line. */
export function ValidationResult({ file, role }: { file: FtFile; role: string }) {
  if (isFileSettling(file))
    return (
      <div className="file-result" data-testid="file-validating">
        <ProgressBar value={null} label={`Validating ${file.filename}…`} />
      </div>
    );
  if (file.status === "processed")
    return (
      <div className="file-result ok" data-testid="file-ok">
        <span className="check" aria-hidden>
          ✓
        </span>{" "}
        <b>{file.filename}</b> passed validation and is ready to use as {role} data. <span className="muted">({file.id}, {formatBytes(file.bytes)})</span>
      </div>
    );
  const problems = problemsOf(file.status_details);
  return (
    <div className="file-result bad" data-testid="validation-errors" role="alert">
      <div>
        <b>{file.filename}</b> failed validation and cannot be used. Fix {problems.length === 1 ? "this problem" : "these problems"} in the file and upload it again:
      </div>
      <ul className="problems">
        {problems.map((p, i) => (
          <li key={i}>
            {p.line !== null ? <span className="lineno">Line {p.line}</span> : <span className="lineno file">File</span>}
            <span>{p.message}</span>
          </li>
        ))}
        {problems.length === 0 ? <li>The server gave no details; check that the file is JSON Lines in UTF-8.</li> : null}
      </ul>
    </div>
  );
}

export function DatasetPicker({ session, role, value, onChange, exclude }: { session: Session; role: "training" | "validation"; value: FtFile | null; onChange(f: FtFile | null): void; exclude?: string | null }) {
  const [mode, setMode] = useState<"upload" | "url" | "existing">("upload");
  const [url, setUrl] = useState("");
  const [importing, setImporting] = useState(false);
  const [files, setFiles] = useState<FtFile[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [upload, setUpload] = useState<{ name: string; fraction: number } | null>(null);
  const abort = useRef<AbortController | null>(null);

  const reload = () =>
    listFiles(session)
      .then((all) => setFiles(all.filter((f) => f.purpose === "fine-tune")))
      .catch(setError);
  useEffect(() => {
    void reload();
    return () => abort.current?.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [session.secret, session.project]);

  // A chosen file that is still validating (picked from the list while settling): keep polling it.
  useEffect(() => {
    if (!value || !isFileSettling(value) || upload) return;
    const ac = new AbortController();
    waitForFile(session, value.id, ac.signal)
      .then((f) => {
        if (ac.signal.aborted) return;
        onChange(f);
        void reload();
      })
      .catch((e) => !ac.signal.aborted && setError(e));
    return () => ac.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [value?.id, value?.status, upload]);

  const start = async (file: File) => {
    setError(null);
    onChange(null);
    if (file.size === 0) {
      setError(new Error(`${file.name} is empty. Choose a JSONL file with at least 10 examples.`));
      return;
    }
    const ac = new AbortController();
    abort.current = ac;
    setUpload({ name: file.name, fraction: 0 });
    try {
      const created = await uploadDataset(session, file, (fraction) => setUpload({ name: file.name, fraction }), ac.signal);
      setUpload(null);
      // Small files are settled in the reply; larger ones are polled by the effect above.
      onChange(created);
      void reload();
    } catch (e) {
      if (!ac.signal.aborted) setError(e);
      setUpload(null);
    }
  };

  // Seed 004's "Azure blob or other shared web locations": the server downloads the file, then validates it.
  const importUrl = async () => {
    setError(null);
    onChange(null);
    let filename: string;
    try {
      filename = decodeURIComponent(new URL(url).pathname.split("/").pop() || "") || "import.jsonl";
    } catch {
      setError(new Error("Enter a full URL, e.g. https://account.blob.core.windows.net/data/train.jsonl?<SAS token>."));
      return;
    }
    setImporting(true);
    try {
      onChange(await dataImport(session, { purpose: "fine-tune", filename, content_url: url }));
      void reload();
    } catch (e) {
      setError(e);
    } finally {
      setImporting(false);
    }
  };

  const choices = (files ?? []).filter((f) => f.id !== exclude);
  return (
    <div className="dataset-picker">
      <div className="tabs" role="tablist">
        <button type="button" role="tab" aria-selected={mode === "upload"} onClick={() => setMode("upload")}>
          Upload a local file
        </button>
        <button type="button" role="tab" aria-selected={mode === "url"} onClick={() => setMode("url")}>
          Azure blob or web URL
        </button>
        <button type="button" role="tab" aria-selected={mode === "existing"} onClick={() => setMode("existing")}>
          Files already uploaded{files ? ` (${choices.length})` : ""}
        </button>
      </div>
      {mode === "url" ? (
        <div className="row">
          <input name={`${role}-url`} type="url" className="grow" placeholder="https://account.blob.core.windows.net/container/train.jsonl?sv=…" value={url} onChange={(e) => setUrl(e.target.value)} />
          <button type="button" className="primary" disabled={!url.trim() || importing} onClick={importUrl}>
            {importing ? "Importing…" : "Import"}
          </button>
        </div>
      ) : mode === "upload" ? (
        upload ? (
          <div className="upload-progress" data-testid="upload-progress">
            <ProgressBar value={Math.round(upload.fraction * 100)} label={`Uploading ${upload.name}: ${Math.round(upload.fraction * 100)}%`} />
            <button type="button" className="small" onClick={() => abort.current?.abort()}>
              Cancel upload
            </button>
          </div>
        ) : (
          <Dropzone onFile={start} testId={`${role}-dropzone`} label={`Drag and drop your ${role} file (JSONL) here`} />
        )
      ) : files === null ? (
        <ProgressBar value={null} label="Loading files…" />
      ) : choices.length === 0 ? (
        <p className="muted">No fine-tuning files have been uploaded to this account yet. Upload one instead.</p>
      ) : (
        <div className="file-choices" role="radiogroup" aria-label={`Uploaded ${role} files`}>
          {choices.map((f) => (
            <label key={f.id} className={`choice${value?.id === f.id ? " selected" : ""}${f.status === "error" ? " invalid" : ""}`}>
              <input type="radio" name={`${role}-file`} value={f.id} checked={value?.id === f.id} onChange={() => (setError(null), onChange(f))} />
              <span className="choice-main">
                <b>{f.filename}</b> <span className="muted">{f.id}</span>
              </span>
              <span className="muted">{formatBytes(f.bytes)}</span>
              <span className="muted">{formatTime(f.created_at)}</span>
              <FileStatusPill file={f} />
            </label>
          ))}
        </div>
      )}
      <ErrorBox error={error} onDismiss={() => setError(null)} />
      {value ? <ValidationResult file={value} role={role} /> : null}
    </div>
  );
}
