// Dialogs of an online endpoint's page: create a deployment (a model, an instance type, an
// instance count = sku.capacity, optionally all the endpoint's traffic) and change a
// deployment's instance count (PATCH sku.capacity).
import { useState } from "react";
import type { FormEvent } from "react";
import { arm } from "../api.ts";
import { deploymentPath, ML_API_VERSION, onlinePath } from "../ml-api.ts";
import type { MlWorkspace, OnlineDeployment, WorkspaceRef } from "../ml-api.ts";
import { ErrorBox, Field, Modal, ProgressBar, useSession } from "../ui.tsx";
import { ModelPicker } from "./MlModelPicker.tsx";
import type { PickedModel } from "./MlModelPicker.tsx";

const NAME = /^[a-zA-Z][a-zA-Z0-9]*(-[a-zA-Z0-9]+)*$/;
/** Azure's names for GPU and CPU instance types; Ingot accepts any and runs local runner processes. */
const INSTANCE_TYPES = ["Standard_DS3_v2", "Standard_E4s_v3", "Standard_NC6s_v3", "Standard_NC24ads_A100_v4"];
export const MAX_INSTANCES = 8;

function nameProblem(name: string, taken: string[]): string | null {
  if (!name) return "Enter a deployment name, e.g. blue.";
  if (name.length < 3 || name.length > 32 || !NAME.test(name)) return "Use 3 to 32 characters: a letter first, then letters, digits and single hyphens (-).";
  if (taken.some((t) => t.toLowerCase() === name.toLowerCase())) return `This endpoint already has a deployment named '${name}'.`;
  return null;
}

const instancesProblem = (n: number) => (Number.isInteger(n) && n >= 1 && n <= MAX_INSTANCES ? null : `Enter a whole number of instances from 1 to ${MAX_INSTANCES}.`);

export function CreateDeploymentDialog({ workspace, wsRef, endpoint, taken, onClose }: { workspace: MlWorkspace; wsRef: WorkspaceRef; endpoint: string; taken: string[]; onClose(created?: string): void }) {
  const { session } = useSession();
  const [name, setName] = useState(taken.length === 0 ? "blue" : taken.some((t) => t.toLowerCase() === "green") ? "" : "green");
  const [touched, setTouched] = useState(false);
  const [model, setModel] = useState<PickedModel | null>(null);
  const [instanceType, setInstanceType] = useState(INSTANCE_TYPES[0]);
  const [instances, setInstances] = useState(1);
  const [allTraffic, setAllTraffic] = useState(taken.length === 0);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const problem = nameProblem(name, taken) ?? instancesProblem(instances);
  const create = async (e: FormEvent) => {
    e.preventDefault();
    setTouched(true);
    if (problem || !model) return;
    setBusy(true);
    setError(null);
    try {
      await arm(
        session,
        "PUT",
        deploymentPath(wsRef, endpoint, name),
        {
          location: workspace.location,
          sku: { name: "Default", capacity: instances },
          properties: { endpointComputeType: "Managed", model: model.modelId, instanceType, scaleSettings: { scaleType: "Default" }, requestSettings: { requestTimeout: "PT90S", maxConcurrentRequestsPerInstance: 1 } },
        },
        ML_API_VERSION,
      );
      if (allTraffic) {
        const others = Object.fromEntries(taken.map((t) => [t, 0]));
        await arm(session, "PATCH", onlinePath(wsRef, endpoint), { properties: { traffic: { ...others, [name]: 100 } } }, ML_API_VERSION);
      }
      onClose(name);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  return (
    <Modal title="Add deployment" onClose={busy ? () => undefined : () => onClose()} className="wizard">
      <form onSubmit={create} className="ml-form">
        <Field label="Deployment name" error={touched ? nameProblem(name, taken) : null}>
          <input name="deploymentName" value={name} data-autofocus onChange={(e) => setName(e.target.value.trim())} onBlur={() => setTouched(true)} />
        </Field>
        <ModelPicker workspace={workspace} wsRef={wsRef} versioned onChange={setModel} />
        <div className="grid2">
          <Field label="Instance type" hint="Accepted for compatibility: each instance is a local runner process of the model.">
            <select name="instanceType" value={instanceType} onChange={(e) => setInstanceType(e.target.value)}>
              {INSTANCE_TYPES.map((t) => (
                <option key={t} value={t}>
                  {t}
                </option>
              ))}
            </select>
          </Field>
          <Field label="Instance count" error={touched ? instancesProblem(instances) : null} hint="Requests are balanced across the instances.">
            <input name="instanceCount" type="number" min={1} max={MAX_INSTANCES} value={Number.isFinite(instances) ? instances : ""} onChange={(e) => setInstances(e.target.valueAsNumber)} />
          </Field>
        </div>
        <label className="row check">
          <input type="checkbox" name="allTraffic" checked={allTraffic} onChange={(e) => setAllTraffic(e.target.checked)} />
          <span>Send 100% of the endpoint's traffic to this deployment</span>
        </label>
        <ErrorBox error={error} />
        {busy ? <ProgressBar value={null} label="Creating…" /> : null}
        <div className="row actions">
          <span className="spacer" />
          <button type="button" onClick={() => onClose()} disabled={busy}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={busy || !model || (touched && !!problem)}>
            Create
          </button>
        </div>
      </form>
    </Modal>
  );
}

export function InstancesDialog({ wsRef, endpoint, deployment, onClose }: { wsRef: WorkspaceRef; endpoint: string; deployment: OnlineDeployment; onClose(): void }) {
  const { session } = useSession();
  const [instances, setInstances] = useState(deployment.sku?.capacity ?? 1);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const problem = instancesProblem(instances);
  const save = async (e: FormEvent) => {
    e.preventDefault();
    if (problem) return;
    setBusy(true);
    setError(null);
    try {
      await arm(session, "PATCH", deploymentPath(wsRef, endpoint, deployment.name), { sku: { ...(deployment.sku ?? {}), capacity: instances } }, ML_API_VERSION);
      onClose();
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  return (
    <Modal title={`Scale ${deployment.name}`} onClose={busy ? () => undefined : onClose}>
      <form onSubmit={save} className="ml-form">
        <Field label="Instance count" error={problem} hint="Scaling up starts runner processes; scaling down stops the last ones after their requests finish.">
          <input name="instanceCount" type="number" min={1} max={MAX_INSTANCES} value={Number.isFinite(instances) ? instances : ""} onChange={(e) => setInstances(e.target.valueAsNumber)} />
        </Field>
        <ErrorBox error={error} />
        <div className="row actions">
          <span className="spacer" />
          <button type="button" onClick={onClose} disabled={busy}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={busy || !!problem}>
            Save
          </button>
        </div>
      </form>
    </Modal>
  );
}
