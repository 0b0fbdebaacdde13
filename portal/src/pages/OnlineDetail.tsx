// One online endpoint (`#/online/{name}`): scoringUri, state, keys, its deployments (model,
// instance type, instance count = sku.capacity with a Scale dialog, state, delete), the
// traffic split (percents that must add up to 100, saved as a PATCH of properties.traffic),
// Add deployment, code, and delete. Polled quickly while anything is provisioning.
import { useState } from "react";
import { KeysCard } from "../components/MlKeys.tsx";
import { DeleteDialog, EndpointState, usePollWhileBusy } from "../components/MlParts.tsx";
import { CodeTabs, ONLINE_KEY_ENV, onlineSnippets } from "../components/MlSnippets.tsx";
import { CreateDeploymentDialog, InstancesDialog } from "../components/OnlineDialogs.tsx";
import { arm } from "../api.ts";
import { deploymentPath, getOnline, isTerminal, listOnlineDeployments, ML_API_VERSION, onlinePath, shortModel } from "../ml-api.ts";
import type { MlWorkspace, OnlineDeployment, OnlineEndpoint, WorkspaceRef } from "../ml-api.ts";
import { CopyButton, ErrorBox, navigate, ProgressBar, useSession } from "../ui.tsx";

export function OnlineDetail({ workspace, wsRef, name }: { workspace: MlWorkspace; wsRef: WorkspaceRef; name: string }) {
  const { session } = useSession();
  const { value, error, reload } = usePollWhileBusy(
    async () => {
      const [endpoint, deployments] = await Promise.all([getOnline(session, wsRef, name), listOnlineDeployments(session, wsRef, name)]);
      return { endpoint, deployments };
    },
    (v) => !isTerminal(v.endpoint.properties.provisioningState) || v.deployments.some((d) => !isTerminal(d.properties.provisioningState)),
    [session, wsRef.name, name],
  );
  const [adding, setAdding] = useState(false);
  const [scaling, setScaling] = useState<OnlineDeployment | null>(null);
  const [deleting, setDeleting] = useState<OnlineDeployment | "endpoint" | null>(null);
  const e = value?.endpoint;
  const deployments = value?.deployments ?? [];
  const uri = e?.properties.scoringUri ?? "";
  return (
    <>
      <div className="crumbs">
        <a href="#/online">Online endpoints</a> / <span>{name}</span>
      </div>
      <div className="page-head row">
        <h1 data-testid="endpoint-title">{name}</h1>
        {e ? <EndpointState state={e.properties.provisioningState} /> : null}
        <span className="spacer" />
        {e ? <button onClick={() => setAdding(true)}>+ Add deployment</button> : null}
        {e ? (
          <button className="danger" onClick={() => setDeleting("endpoint")}>
            Delete
          </button>
        ) : null}
      </div>
      {error ? (
        <>
          <ErrorBox error={error} />
          <p>
            <a href="#/online">Back to the online endpoints</a>
          </p>
        </>
      ) : null}
      {!value && !error ? <ProgressBar value={null} label="Loading the endpoint…" /> : null}
      {e ? (
        <>
          <div className="grid2">
            <div className="card">
              <h3>Endpoint</h3>
              <dl className="kv">
                <dt>Scoring URI</dt>
                <dd>
                  <code className="url" data-testid="scoring-uri">
                    {uri}
                  </code>{" "}
                  <CopyButton text={uri} />
                </dd>
                <dt>Authentication</dt>
                <dd>{e.properties.authMode}</dd>
                {e.properties.description ? (
                  <>
                    <dt>Description</dt>
                    <dd>{e.properties.description}</dd>
                  </>
                ) : null}
                <dt>Workspace</dt>
                <dd>{workspace.name}</dd>
              </dl>
            </div>
            {e.properties.authMode === "Key" ? (
              <KeysCard path={onlinePath(wsRef, e.name)} apiVersion={ML_API_VERSION} note={<>Send a key as <code>Authorization: Bearer &lt;key&gt;</code>.</>} />
            ) : (
              <div className="card">
                <h3>Tokens</h3>
                <p className="muted small">
                  This endpoint takes Azure ML tokens: <code>POST {onlinePath(wsRef, e.name)}/token</code> returns one that lasts an hour.
                </p>
              </div>
            )}
          </div>
          <h2>Deployments</h2>
          {deployments.length === 0 ? (
            <div className="notice">
              No deployments yet.{" "}
              <button type="button" className="small primary" onClick={() => setAdding(true)}>
                + Add deployment
              </button>
            </div>
          ) : (
            <DeploymentsTable deployments={deployments} traffic={e.properties.traffic ?? {}} onScale={setScaling} onDelete={setDeleting} />
          )}
          {deployments.length > 0 ? <TrafficEditor wsRef={wsRef} endpoint={e} deployments={deployments} onSaved={reload} /> : null}
          <h2>Code</h2>
          <CodeTabs snippets={onlineSnippets(uri, deployments.map((d) => d.name))} keyEnv={ONLINE_KEY_ENV} />
        </>
      ) : null}
      {adding && e ? (
        <CreateDeploymentDialog
          workspace={workspace}
          wsRef={wsRef}
          endpoint={e.name}
          taken={deployments.map((d) => d.name)}
          onClose={() => {
            setAdding(false);
            reload();
          }}
        />
      ) : null}
      {scaling && e ? (
        <InstancesDialog
          wsRef={wsRef}
          endpoint={e.name}
          deployment={scaling}
          onClose={() => {
            setScaling(null);
            reload();
          }}
        />
      ) : null}
      {deleting === "endpoint" && e ? (
        <DeleteDialog title="Delete online endpoint" path={onlinePath(wsRef, e.name)} apiVersion={ML_API_VERSION} onClose={() => setDeleting(null)} onDeleted={() => navigate("/online")}>
          <p>
            Delete <b>{e.name}</b> and its {deployments.length} deployment{deployments.length === 1 ? "" : "s"}? Its scoring URL and keys stop working and its instances stop.
          </p>
        </DeleteDialog>
      ) : null}
      {deleting && deleting !== "endpoint" && e ? (
        <DeleteDialog
          title="Delete deployment"
          path={deploymentPath(wsRef, e.name, deleting.name)}
          apiVersion={ML_API_VERSION}
          onClose={() => setDeleting(null)}
          onDeleted={() => {
            setDeleting(null);
            reload();
          }}
        >
          <p>
            Delete deployment <b>{deleting.name}</b>? Its instances stop. A deployment that still receives traffic cannot be deleted: move its traffic first.
          </p>
        </DeleteDialog>
      ) : null}
    </>
  );
}

function DeploymentsTable({ deployments, traffic, onScale, onDelete }: { deployments: OnlineDeployment[]; traffic: Record<string, number>; onScale(d: OnlineDeployment): void; onDelete(d: OnlineDeployment): void }) {
  return (
    <table data-testid="online-deployments">
      <thead>
        <tr>
          <th scope="col">Deployment</th>
          <th scope="col">Model</th>
          <th scope="col">State</th>
          <th scope="col">Instance type</th>
          <th scope="col">Instances</th>
          <th scope="col">Traffic</th>
          <th scope="col">
            <span className="visually-hidden">Actions</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {deployments.map((d) => (
          <tr key={d.name} data-deployment={d.name}>
            <td>
              <b>{d.name}</b>
            </td>
            <td title={d.properties.model}>{shortModel(d.properties.model)}</td>
            <td className="state-col">
              <EndpointState state={d.properties.provisioningState} />
            </td>
            <td className="small">{d.properties.instanceType ?? "—"}</td>
            <td data-testid="instances">{d.sku?.capacity ?? 1}</td>
            <td>{traffic[d.name] ?? 0}%</td>
            <td>
              <div className="row">
                <button type="button" className="small" aria-label={`Scale ${d.name}`} onClick={() => onScale(d)}>
                  Scale
                </button>
                <button type="button" className="small" aria-label={`Delete ${d.name}`} onClick={() => onDelete(d)}>
                  Delete
                </button>
              </div>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Percent per deployment; Save only when they add up to 100 (or are all 0: no traffic). */
function TrafficEditor({ wsRef, endpoint, deployments, onSaved }: { wsRef: WorkspaceRef; endpoint: OnlineEndpoint; deployments: OnlineDeployment[]; onSaved(): void }) {
  const { session } = useSession();
  const server = endpoint.properties.traffic ?? {};
  const [draft, setDraft] = useState<Record<string, number> | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const values = Object.fromEntries(deployments.map((d) => [d.name, draft?.[d.name] ?? server[d.name] ?? 0]));
  const total = Object.values(values).reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
  const whole = Object.values(values).every((v) => Number.isInteger(v) && v >= 0 && v <= 100);
  const valid = whole && (total === 100 || total === 0);
  const problem = !whole ? "Each percent is a whole number from 0 to 100." : valid ? null : `The split adds up to ${total}%: it must add up to 100%.`;
  const save = async () => {
    setBusy(true);
    setError(null);
    try {
      await arm(session, "PATCH", onlinePath(wsRef, endpoint.name), { properties: { traffic: values } }, ML_API_VERSION);
      setDraft(null);
      setSaved(true);
      onSaved();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="card traffic" aria-labelledby="traffic-title" data-testid="traffic">
      <h3 id="traffic-title">Traffic split</h3>
      <div className="row">
        {deployments.map((d) => (
          <label key={d.name} className="field traffic-field">
            <span className="field-label">{d.name} (%)</span>
            <input
              name={`traffic-${d.name}`}
              type="number"
              min={0}
              max={100}
              value={Number.isFinite(values[d.name]) ? values[d.name] : ""}
              aria-invalid={!valid}
              aria-describedby="traffic-total"
              onChange={(e) => {
                setSaved(false);
                setDraft({ ...values, [d.name]: e.target.valueAsNumber });
              }}
            />
          </label>
        ))}
      </div>
      <p id="traffic-total" className={problem ? "field-error" : "muted small"} role="status" aria-live="polite">
        {problem ?? (saved && !draft ? `Saved: ${total}% routed.` : `Total ${total}%.`)}
      </p>
      <ErrorBox error={error} />
      <div className="row actions">
        <button type="button" onClick={() => {
            setDraft(null);
            setSaved(false);
          }} disabled={busy || !draft}>
          Reset
        </button>
        <button type="button" className="primary" onClick={save} disabled={busy || !draft || !valid}>
          Save traffic
        </button>
      </div>
    </section>
  );
}
