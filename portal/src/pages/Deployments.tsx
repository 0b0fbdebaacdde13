// Deployments (`#/deployments`, `#/deployments/{name}`): the account's deployments with their
// provisioning state (live progress while creating), model and SKU; a deployment's endpoints on
// every surface, its keys (masked, copyable), ready-to-paste code, capacity edits and deletion.
import { useEffect, useState } from "react";
import { accountId, arm, mask, sleep } from "../api.ts";
import { DeploymentProgress, getDeployment, isSettled, limitsText, listDeployments, skuFamily, skuLabel } from "../components/DeployDialog.tsx";
import type { ArmDeployment } from "../components/DeployDialog.tsx";
import { DeploymentEndpoints, DeploymentHead, DeploymentTable, StateCell } from "../components/DeploymentParts.tsx";
import type { DeploymentKind } from "../components/Snippets.tsx";
import { CopyButton, ErrorBox, Field, Modal, navigate, ProgressBar, usePoll, useRoute, useSession } from "../ui.tsx";
import { KeyDeploymentDetail, KeyDeploymentList } from "./DeploymentsByKey.tsx";

export const kindOf = (d: ArmDeployment): DeploymentKind => (d.properties.capabilities?.embeddings === "true" ? "embeddings" : d.properties.capabilities?.chatCompletion === "true" ? "chat" : "completions");
const isChat = (d: ArmDeployment) => d.properties.capabilities?.chatCompletion === "true";
const date = (iso?: string) => (iso ? new Date(iso).toLocaleString() : "—");

export function DeploymentsPage() {
  const { parts } = useRoute();
  const { session } = useSession();
  // A key lists deployments through the data plane; managing them needs ARM, hence a token.
  if (session.mode !== "token") return parts[1] ? <KeyDeploymentDetail key={parts[1]} name={parts[1]} /> : <KeyDeploymentList />;
  return parts[1] ? <DeploymentDetail key={parts[1]} name={parts[1]} /> : <DeploymentList />;
}

function State({ d }: { d: ArmDeployment }) {
  const state = d.properties.provisioningState;
  return (
    <StateCell state={state}>
      {!isSettled(state) ? <DeploymentProgress deployment={d} /> : null}
      {state === "Failed" && d.properties.provisioningDetails?.error ? <div className="field-error">{d.properties.provisioningDetails.error}</div> : null}
    </StateCell>
  );
}

function DeploymentList() {
  const { session } = useSession();
  const [fast, setFast] = useState(true);
  const { value, error } = usePoll(() => listDeployments(session), fast ? 800 : 4000, [session, fast]);
  useEffect(() => {
    if (value) setFast(value.some((d) => !isSettled(d.properties.provisioningState)));
  }, [value]);
  return (
    <>
      <div className="page-head row">
        <h1>Deployments</h1>
        <span className="spacer" />
        <button className="primary" onClick={() => navigate("/catalog")}>
          + Deploy model
        </button>
      </div>
      <ErrorBox error={error} />
      {!value && !error ? <ProgressBar value={null} label="Loading deployments…" /> : null}
      {value && value.length === 0 ? (
        <div className="notice">
          No deployments yet. Pick a model in the <a href="#/catalog">model catalog</a> and deploy it.
        </div>
      ) : null}
      {value && value.length > 0 ? (
        <DeploymentTable
          showLimits
          rows={value.map((d) => ({
            name: d.name,
            model: (
              <>
                {d.properties.model.name} <span className="muted">v{d.properties.model.version}</span>
                <div className="muted small">{d.properties.model.format}</div>
              </>
            ),
            state: <State d={d} />,
            type: skuLabel(d.sku.name),
            capacity: d.sku.capacity.toLocaleString("en-US"),
            limits: limitsText(d.sku.name, d.sku.capacity),
            created: date(d.systemData?.createdAt),
          }))}
        />
      ) : null}
    </>
  );
}

function DeploymentDetail({ name }: { name: string }) {
  const { session } = useSession();
  const [settled, setSettled] = useState(false);
  const { value: d, error, reload } = usePoll(() => getDeployment(session, name), settled ? 5000 : 800, [session, name, settled]);
  const [keys, setKeys] = useState<{ key1: string; key2: string } | null>(null);
  const [keysError, setKeysError] = useState<unknown>(null);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [editing, setEditing] = useState(false);
  useEffect(() => {
    if (d) setSettled(isSettled(d.properties.provisioningState));
  }, [d]);
  useEffect(() => {
    arm(session, "POST", `${accountId(session)}/listKeys`).then(setKeys, setKeysError);
  }, [session]);

  const origin = location.origin;
  const kind = d ? kindOf(d) : "chat";
  return (
    <>
      <DeploymentHead name={name} state={d ? <State d={d} /> : null} chat={!!d && isChat(d)}>
        {d ? <button onClick={() => setEditing(true)}>Edit capacity</button> : null}
        {d ? (
          <button className="danger" onClick={() => setConfirmDelete(true)}>
            Delete
          </button>
        ) : null}
      </DeploymentHead>
      {error ? (
        <>
          <ErrorBox error={error} />
          <p>
            <a href="#/deployments">Back to the deployments</a>
          </p>
        </>
      ) : null}
      {!d && !error ? <ProgressBar value={null} label="Loading the deployment…" /> : null}
      {d ? (
        <>
          <div className="grid2">
            <div className="card">
              <h3>Deployment info</h3>
              <dl className="kv">
                <dt>Model</dt>
                <dd>
                  <a href={`#/catalog/${encodeURIComponent(d.properties.model.format)}/${encodeURIComponent(d.properties.model.name)}`}>{d.properties.model.name}</a>{" "}
                  <span className="muted">
                    version {d.properties.model.version} · {d.properties.model.format}
                  </span>
                </dd>
                <dt>Type</dt>
                <dd>
                  {skuLabel(d.sku.name)} <span className="muted">({d.sku.name})</span>
                </dd>
                <dt>Capacity</dt>
                <dd>
                  {d.sku.capacity.toLocaleString("en-US")} {skuFamily(d.sku.name) === "provisioned" ? "PTU" : "K tokens per minute"}
                </dd>
                <dt>Rate limits</dt>
                <dd>{limitsText(d.sku.name, d.sku.capacity)}</dd>
                <dt>Content filter</dt>
                <dd>
                  <a href="#/content-filters">{d.properties.raiPolicyName ?? "Microsoft.DefaultV2"}</a>
                </dd>
                <dt>Created</dt>
                <dd>{date(d.systemData?.createdAt)}</dd>
                <dt>Resource id</dt>
                <dd className="small">
                  <code className="url">{d.id}</code>
                </dd>
              </dl>
            </div>
            <div className="card" data-testid="keys">
              <h3>Keys</h3>
              <ErrorBox error={keysError} />
              {keys ? (
                <>
                  <KeyRow label="Key 1" value={keys.key1} />
                  <KeyRow label="Key 2" value={keys.key2} />
                  <p className="muted small">
                    Send a key as <code>api-key: …</code> (or <code>Authorization: Bearer …</code>). Both work; regenerate one while clients use the other.
                  </p>
                </>
              ) : !keysError ? (
                <ProgressBar value={null} label="Loading keys…" />
              ) : null}
            </div>
          </div>
          <DeploymentEndpoints origin={origin} project={session.project} name={name} kind={kind} />
        </>
      ) : null}
      {confirmDelete && d ? <DeleteDialog name={name} onClose={() => setConfirmDelete(false)} /> : null}
      {editing && d ? (
        <EditCapacityDialog
          deployment={d}
          onClose={() => {
            setEditing(false);
            reload();
          }}
        />
      ) : null}
    </>
  );
}

function KeyRow({ label, value }: { label: string; value: string }) {
  const [shown, setShown] = useState(false);
  return (
    <div className="key-row row">
      <span className="key-label">{label}</span>
      <code className="key" data-testid="key">
        {shown ? value : mask(value)}
      </code>
      <button className="small" onClick={() => setShown(!shown)}>
        {shown ? "Hide" : "Show"}
      </button>
      <CopyButton text={value} />
    </div>
  );
}

function DeleteDialog({ name, onClose }: { name: string; onClose(): void }) {
  const { session } = useSession();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const remove = async () => {
    setBusy(true);
    setError(null);
    try {
      await arm(session, "DELETE", `${accountId(session)}/deployments/${encodeURIComponent(name)}`);
      // DELETE answers 202 while the model unloads: wait until the deployment is gone.
      for (let i = 0; i < 120; i++) {
        try {
          await getDeployment(session, name);
        } catch (e) {
          if ((e as { status?: number }).status === 404) break;
          throw e;
        }
        await sleep(500);
      }
      onClose();
      navigate("/deployments");
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };
  return (
    <Modal title="Delete deployment" onClose={busy ? () => undefined : onClose}>
      <p>
        Delete <b>{name}</b>? Apps that call it will get <code>404 DeploymentNotFound</code> until you deploy a model under this name again. The model stays in the catalog.
      </p>
      <ErrorBox error={error} />
      {busy ? <ProgressBar value={null} label="Deleting…" /> : null}
      <div className="row actions">
        <span className="spacer" />
        <button onClick={onClose} disabled={busy}>
          Cancel
        </button>
        <button className="danger" onClick={remove} disabled={busy}>
          Delete
        </button>
      </div>
    </Modal>
  );
}

function EditCapacityDialog({ deployment, onClose }: { deployment: ArmDeployment; onClose(): void }) {
  const { session } = useSession();
  const [capacity, setCapacity] = useState(deployment.sku.capacity);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const save = async () => {
    setBusy(true);
    setError(null);
    try {
      await arm(session, "PATCH", `${accountId(session)}/deployments/${encodeURIComponent(deployment.name)}`, { sku: { name: deployment.sku.name, capacity } });
      onClose();
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };
  return (
    <Modal title={`Edit ${deployment.name}`} onClose={onClose}>
      <Field label={`Capacity (${skuLabel(deployment.sku.name)})`} hint={Number.isFinite(capacity) ? limitsText(deployment.sku.name, capacity) : "Enter a whole number."}>
        <input name="capacity" type="number" min={1} value={Number.isFinite(capacity) ? capacity : ""} onChange={(e) => setCapacity(e.target.valueAsNumber)} />
      </Field>
      <p className="muted small">The new limits apply at once; nothing reloads.</p>
      <ErrorBox error={error} />
      <div className="row actions">
        <span className="spacer" />
        <button onClick={onClose}>Cancel</button>
        <button className="primary" onClick={save} disabled={busy || !Number.isInteger(capacity)}>
          Save
        </button>
      </div>
    </Modal>
  );
}
