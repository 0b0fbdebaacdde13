// The Create custom model wizard (seed 004): base model → training data → validation data →
// task parameters → review → start. Each step says what it still needs before Next.
import { useEffect, useRef, useState } from "react";
import type { ReactNode } from "react";
import { data } from "../api.ts";
import type { Session } from "../api.ts";
import { ErrorBox, Field, Modal, ProgressBar } from "../ui.tsx";
import { DatasetPicker } from "./DatasetPicker.tsx";
import type { DataModel, FtFile, FtJob } from "./finetune.ts";

const STEPS = ["Base model", "Training data", "Validation data", "Task parameters", "Review"] as const;

interface Draft {
  model: string | null;
  training: FtFile | null;
  validationMode: "none" | "split" | "file";
  split: string;
  validation: FtFile | null;
  paramsMode: "default" | "custom";
  n_epochs: string;
  batch_size: string;
  learning_rate_multiplier: string;
  suffix: string;
  seed: string;
}

/** The API's ranges (src/core/finetuning/request.ts); blank means "auto" / none. */
const RULES = {
  n_epochs: { label: "Number of epochs", integer: true, min: 1, max: 50 },
  batch_size: { label: "Batch size", integer: true, min: 1, max: 256 },
  learning_rate_multiplier: { label: "Learning rate multiplier", integer: false, min: 0.000001, max: 100 },
  seed: { label: "Seed", integer: true, min: 0, max: 2147483647 },
} as const;

function numberError(value: string, rule: { label: string; integer: boolean; min: number; max: number }): string | null {
  if (value.trim() === "") return null;
  const n = Number(value);
  if (!Number.isFinite(n)) return `${rule.label} must be a number.`;
  if (rule.integer && !Number.isInteger(n)) return `${rule.label} must be a whole number.`;
  if (n < rule.min || n > rule.max) return `${rule.label} must be from ${rule.min} to ${rule.max}.`;
  return null;
}

const suffixError = (v: string) => (v === "" || /^[A-Za-z0-9_-]{1,40}$/.test(v) ? null : "Use at most 40 letters, digits, '-' or '_'.");

function splitError(v: string): string | null {
  const n = Number(v);
  if (v.trim() === "" || !Number.isFinite(n)) return "Enter the fraction of training examples to hold out, e.g. 0.2.";
  if (!(n > 0 && n <= 0.5)) return "The fraction must be above 0 and at most 0.5.";
  return null;
}

function paramErrors(d: Draft): Record<string, string | null> {
  if (d.paramsMode === "default") return {};
  return {
    n_epochs: numberError(d.n_epochs, RULES.n_epochs),
    batch_size: numberError(d.batch_size, RULES.batch_size),
    learning_rate_multiplier: numberError(d.learning_rate_multiplier, RULES.learning_rate_multiplier),
    seed: numberError(d.seed, RULES.seed),
    suffix: suffixError(d.suffix),
  };
}

/** What keeps a step from going on, in words; null when it may. */
function blocker(step: number, d: Draft): string | null {
  switch (step) {
    case 0:
      return d.model ? null : "Choose a base model to continue.";
    case 1:
      if (!d.training) return "Upload a training file or choose one already uploaded.";
      if (d.training.status === "error") return "This file failed validation: fix it and upload it again, or choose another file.";
      if (d.training.status !== "processed") return "Wait for the file's validation to finish.";
      return null;
    case 2:
      if (d.validationMode === "split") return splitError(d.split);
      if (d.validationMode === "file") {
        if (!d.validation) return "Upload a validation file or choose one, or pick another option.";
        if (d.validation.status === "error") return "The validation file failed validation: fix it and upload it again, or choose another option.";
        if (d.validation.status !== "processed") return "Wait for the validation file's validation to finish.";
      }
      return null;
    case 3:
      return Object.values(paramErrors(d)).find(Boolean) ? "Fix the highlighted parameters to continue." : null;
    default:
      return null;
  }
}

const num = (v: string) => (v.trim() === "" ? "auto" : Number(v));

function requestBody(d: Draft): Record<string, unknown> {
  const body: Record<string, unknown> = { model: d.model, training_file: d.training?.id };
  if (d.validationMode === "file" && d.validation) body.validation_file = d.validation.id;
  if (d.validationMode === "split") body.validation_split = Number(d.split);
  if (d.paramsMode === "custom") {
    body.hyperparameters = { n_epochs: num(d.n_epochs), batch_size: num(d.batch_size), learning_rate_multiplier: num(d.learning_rate_multiplier) };
    if (d.suffix) body.suffix = d.suffix;
    if (d.seed.trim() !== "") body.seed = Number(d.seed);
  }
  return body;
}

export function FineTuneWizard({ session, initialModel, onClose, onCreated }: { session: Session; initialModel?: string | null; onClose(): void; onCreated(job: FtJob): void }) {
  const [step, setStep] = useState(0);
  const [d, setD] = useState<Draft>({
    model: initialModel ?? null,
    training: null,
    validationMode: "none",
    split: "0.2",
    validation: null,
    paramsMode: "default",
    n_epochs: "",
    batch_size: "",
    learning_rate_multiplier: "",
    suffix: "",
    seed: "",
  });
  const [models, setModels] = useState<DataModel[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const set = (patch: Partial<Draft>) => setD((x) => ({ ...x, ...patch }));
  const heading = useRef<HTMLHeadingElement>(null);
  // Each step starts at its heading, so Tab walks that step's controls from the top (and a screen reader reads where it is).
  useEffect(() => heading.current?.focus(), [step]);

  useEffect(() => {
    data(session, "GET", "/models")
      .then((r) => setModels((r.data as DataModel[]).filter((m) => m.capabilities?.fine_tune && !m.id.startsWith("ftchkpt-"))))
      .catch(setError);
  }, [session]);

  const block = blocker(step, d);
  const errors = paramErrors(d);
  const start = async () => {
    setBusy(true);
    setError(null);
    try {
      const job: FtJob = await data(session, "POST", "/fine_tuning/jobs", requestBody(d));
      onCreated(job);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  const bases = (models ?? []).filter((m) => !m.model);
  const customs = (models ?? []).filter((m) => m.model);
  const modelChoice = (m: DataModel) => (
    <label key={m.id} className={`choice model-choice${d.model === m.id ? " selected" : ""}`}>
      <input type="radio" name="base-model" value={m.id} checked={d.model === m.id} onChange={() => set({ model: m.id })} />
      <span className="choice-main">
        <b>{m.id}</b>
        <span className="muted">{m.model ? `fine-tuned from ${m.model}` : m.owned_by}</span>
      </span>
      <span className="muted">{m.capabilities.chat_completion ? "chat completion" : m.capabilities.completion ? "completion" : ""}</span>
      <span className="pill">{m.lifecycle_status}</span>
    </label>
  );

  let body: ReactNode;
  if (step === 0)
    body = (
      <>
        <p className="muted">Choose the model to customize. Only models whose weights run on this server can be fine-tuned here; a custom model continues from its adapter.</p>
        {models === null && !error ? <ProgressBar value={null} label="Loading models…" /> : null}
        {models !== null && bases.length + customs.length === 0 ? <p className="notice">No model of this account can be fine-tuned. Add a fine-tunable model (for example tiny-chat) to the catalog.</p> : null}
        {bases.length ? (
          <div className="file-choices" role="radiogroup" aria-label="Base models">
            {bases.map(modelChoice)}
          </div>
        ) : null}
        {customs.length ? (
          <>
            <h3>Continue fine-tuning a custom model</h3>
            <div className="file-choices" role="radiogroup" aria-label="Custom models">
              {customs.map(modelChoice)}
            </div>
          </>
        ) : null}
      </>
    );
  else if (step === 1)
    body = (
      <>
        <p className="muted">
          Training data is a JSON Lines file: one chat example <code>{'{"messages": [...]}'}</code> or prompt/completion pair a line, at least 10 examples. Each example must fit the base model's context.
        </p>
        <DatasetPicker session={session} role="training" value={d.training} onChange={(f) => set({ training: f })} />
      </>
    );
  else if (step === 2)
    body = (
      <>
        <p className="muted">Validation data measures how well the model generalizes while it trains: its loss and token accuracy appear beside the training figures.</p>
        <div className="options" role="radiogroup" aria-label="Validation data">
          <label className={`option${d.validationMode === "none" ? " selected" : ""}`}>
            <input type="radio" name="validation-mode" value="none" checked={d.validationMode === "none"} onChange={() => set({ validationMode: "none" })} />
            <span>
              <b>No validation data</b>
              <span className="muted">Train on every example; only training loss is reported.</span>
            </span>
          </label>
          <label className={`option${d.validationMode === "split" ? " selected" : ""}`}>
            <input type="radio" name="validation-mode" value="split" checked={d.validationMode === "split"} onChange={() => set({ validationMode: "split" })} />
            <span>
              <b>Automatic split of training data</b>
              <span className="muted">Hold out a fraction of the training examples for validation.</span>
            </span>
          </label>
          <label className={`option${d.validationMode === "file" ? " selected" : ""}`}>
            <input type="radio" name="validation-mode" value="file" checked={d.validationMode === "file"} onChange={() => set({ validationMode: "file" })} />
            <span>
              <b>Validation file</b>
              <span className="muted">Upload a separate JSONL file or choose one already uploaded.</span>
            </span>
          </label>
        </div>
        {d.validationMode === "split" ? (
          <Field label="Fraction held out for validation" hint={`${Math.round((Number(d.split) || 0) * 100)}% of the training examples (above 0, at most 0.5). At least one example must be held out.`} error={splitError(d.split)}>
            <input name="validation_split" type="number" step="0.05" min="0.01" max="0.5" value={d.split} onChange={(e) => set({ split: e.target.value })} className="narrow" />
          </Field>
        ) : null}
        {d.validationMode === "file" ? <DatasetPicker session={session} role="validation" value={d.validation} onChange={(f) => set({ validation: f })} exclude={d.training?.id} /> : null}
      </>
    );
  else if (step === 3)
    body = (
      <>
        <div className="options two" role="radiogroup" aria-label="Task parameters">
          <label className={`option${d.paramsMode === "default" ? " selected" : ""}`}>
            <input type="radio" name="params-mode" value="default" checked={d.paramsMode === "default"} onChange={() => set({ paramsMode: "default" })} />
            <span>
              <b>Default</b>
              <span className="muted">Values are chosen from your training data when the job starts.</span>
            </span>
          </label>
          <label className={`option${d.paramsMode === "custom" ? " selected" : ""}`}>
            <input type="radio" name="params-mode" value="custom" checked={d.paramsMode === "custom"} onChange={() => set({ paramsMode: "custom" })} />
            <span>
              <b>Custom</b>
              <span className="muted">Set the hyperparameters, the model name's suffix and the seed yourself.</span>
            </span>
          </label>
        </div>
        {d.paramsMode === "custom" ? (
          <div className="param-grid">
            <Field label="Number of epochs (n_epochs)" hint="Full passes over the training data: 1 to 50. Blank: auto." error={errors.n_epochs}>
              <input name="n_epochs" type="number" min={1} max={50} step={1} placeholder="auto" value={d.n_epochs} onChange={(e) => set({ n_epochs: e.target.value })} />
            </Field>
            <Field label="Batch size (batch_size)" hint="Examples per training step: 1 to 256. Larger is steadier, updates less often. Blank: auto." error={errors.batch_size}>
              <input name="batch_size" type="number" min={1} max={256} step={1} placeholder="auto" value={d.batch_size} onChange={(e) => set({ batch_size: e.target.value })} />
            </Field>
            <Field label="Learning rate multiplier (learning_rate_multiplier)" hint="Scales the base model's fine-tuning rate; above 0, at most 100. Smaller values help against overfitting. Blank: auto (1)." error={errors.learning_rate_multiplier}>
              <input name="learning_rate_multiplier" type="number" min={0.000001} max={100} step="any" placeholder="auto" value={d.learning_rate_multiplier} onChange={(e) => set({ learning_rate_multiplier: e.target.value })} />
            </Field>
            <Field label="Suffix" hint="Added to the fine-tuned model's name: up to 40 letters, digits, '-' or '_'. Optional." error={errors.suffix}>
              <input name="suffix" maxLength={40} placeholder="e.g. support-v1" value={d.suffix} onChange={(e) => set({ suffix: e.target.value })} />
            </Field>
            <Field label="Seed" hint="0 to 2147483647; the same seed and data train the same model. Blank: random." error={errors.seed}>
              <input name="seed" type="number" min={0} max={2147483647} step={1} placeholder="random" value={d.seed} onChange={(e) => set({ seed: e.target.value })} />
            </Field>
          </div>
        ) : null}
      </>
    );
  else {
    const hp = d.paramsMode === "custom" ? requestBody(d).hyperparameters as Record<string, unknown> : null;
    body = (
      <>
        <p className="muted">Check your choices, then start the training job. You can follow it on its page.</p>
        <dl className="kv review" data-testid="review">
          <dt>Base model</dt>
          <dd>{d.model}</dd>
          <dt>Training data</dt>
          <dd>
            {d.training?.filename} <span className="muted">({d.training?.id})</span>
          </dd>
          <dt>Validation data</dt>
          <dd>
            {d.validationMode === "none" ? "None" : d.validationMode === "split" ? `Automatic split: ${Math.round(Number(d.split) * 100)}% of the training examples held out (validation_split ${Number(d.split)})` : <>{d.validation?.filename} <span className="muted">({d.validation?.id})</span></>}
          </dd>
          <dt>Task parameters</dt>
          <dd>{hp ? "Custom" : "Default (chosen from the training data when the job starts)"}</dd>
          {hp ? (
            <>
              <dt>Number of epochs</dt>
              <dd>{String(hp.n_epochs)}</dd>
              <dt>Batch size</dt>
              <dd>{String(hp.batch_size)}</dd>
              <dt>Learning rate multiplier</dt>
              <dd>{String(hp.learning_rate_multiplier)}</dd>
              <dt>Suffix</dt>
              <dd>{d.suffix || "—"}</dd>
              <dt>Seed</dt>
              <dd>{d.seed || "random"}</dd>
            </>
          ) : null}
          <dt>Fine-tuned model name</dt>
          <dd>
            <code>
              {d.model}.ft-&lt;job id&gt;{d.paramsMode === "custom" && d.suffix ? `-${d.suffix}` : ""}
            </code>
          </dd>
        </dl>
      </>
    );
  }

  return (
    // A stray click outside must not throw away a half-filled wizard: only Close, Cancel and Escape close it.
    <Modal title="Fine-tune a model" className="wizard ft" onClose={onClose} closeOnBackdrop={false}>
        <nav className="steps" aria-label="Wizard steps">
          {STEPS.map((s, i) =>
            i < step ? (
              <button key={s} type="button" className="step done" onClick={() => setStep(i)} aria-label={`${i + 1}. ${s} (done; go back to this step)`}>
                {i + 1}. {s}
              </button>
            ) : (
              <span key={s} className={i === step ? "current" : ""} aria-current={i === step ? "step" : undefined}>
                {i + 1}. {s}
              </span>
            ),
          )}
        </nav>
        <section className="wizard-body" data-testid={`wizard-step-${step}`}>
          <h3 ref={heading} tabIndex={-1} data-autofocus>
            {STEPS[step]}
          </h3>
          {body}
        </section>
        <ErrorBox error={error} onDismiss={() => setError(null)} />
        <footer className="wizard-footer">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <span className="spacer" />
          {block ? <span className="blocker muted" data-testid="wizard-blocker">{block}</span> : null}
          <button type="button" onClick={() => setStep(step - 1)} disabled={step === 0 || busy}>
            Back
          </button>
          {step < STEPS.length - 1 ? (
            <button type="button" className="primary" onClick={() => setStep(step + 1)} disabled={!!block}>
              Next
            </button>
          ) : (
            <button type="button" className="primary" onClick={start} disabled={busy || !!block}>
              {busy ? "Starting…" : "Start training job"}
            </button>
          )}
        </footer>
    </Modal>
  );
}
