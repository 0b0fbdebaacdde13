// Deployments for a session signed in with an account key: what the data plane lists for a key
// (GET /openai/deployments?api-version=2022-12-01): each deployment's model and state, its
// endpoints and code, and the key in use. Creating, editing and deleting need ARM (a token).
import { useState } from "react";
import { getDataDeployment, listDataDeployments, mask } from "../api.ts";
import type { DataDeployment } from "../api.ts";
import { DeploymentEndpoints, DeploymentHead, DeploymentTable, StateCell } from "../components/DeploymentParts.tsx";
import type { DeploymentKind } from "../components/Snippets.tsx";
import { CopyButton, ErrorBox, formatTime, ProgressBar, usePoll, useSession } from "../ui.tsx";

/** The data plane's status in ARM's words, as the token pages show it. */
export const STATE_OF_STATUS: Record<DataDeployment["status"], string> = {
  notRunning: "Accepted",
  running: "Creating",
  succeeded: "Succeeded",
  canceled: "Canceled",
  failed: "Failed",
  deleted: "Deleting",
};

const kindOf = (d: DataDeployment): DeploymentKind => (d.capabilities?.embeddings ? "embeddings" : d.capabilities?.chat_completion ? "chat" : "completions");

function KeyModeNotice() {
  const { setSession } = useSession();
  return (
    <div className="notice" data-testid="key-notice">
      Signed in with an account key: these are the deployments this key can call. Creating, editing and deleting deployments needs a token: run <code>ingot token</code> and sign in with its
      output.{" "}
      <button className="small" onClick={() => setSession(null)}>
        Sign out
      </button>
    </div>
  );
}

function State({ d }: { d: DataDeployment }) {
  return <StateCell state={STATE_OF_STATUS[d.status] ?? d.status}>{d.error ? <div className="field-error">{d.error.message}</div> : null}</StateCell>;
}

export function KeyDeploymentList() {
  const { session } = useSession();
  const { value, error } = usePoll(() => listDataDeployments(session), 4000, [session]);
  return (
    <>
      <div className="page-head row">
        <h1>Deployments</h1>
      </div>
      <KeyModeNotice />
      <ErrorBox error={error} />
      {!value && !error ? <ProgressBar value={null} label="Loading deployments…" /> : null}
      {value && value.length === 0 ? <div className="notice">This account has no deployments yet. Deploying a model needs a token.</div> : null}
      {value && value.length > 0 ? (
        <DeploymentTable
          rows={value.map((d) => ({
            name: d.id,
            model: d.model,
            state: <State d={d} />,
            type: d.sku?.name ?? "—",
            capacity: d.sku ? d.sku.capacity.toLocaleString("en-US") : "—",
            created: formatTime(d.created_at),
          }))}
        />
      ) : null}
    </>
  );
}

export function KeyDeploymentDetail({ name }: { name: string }) {
  const { session } = useSession();
  const { value: d, error } = usePoll(() => getDataDeployment(session, name), 4000, [session, name]);
  const [shown, setShown] = useState(false);
  const kind = d ? kindOf(d) : "chat";
  return (
    <>
      <DeploymentHead name={name} state={d ? <State d={d} /> : null} chat={!!d?.capabilities?.chat_completion} />
      <ErrorBox error={error} />
      {!d && !error ? <ProgressBar value={null} label="Loading the deployment…" /> : null}
      {d ? (
        <>
          <div className="grid2">
            <div className="card">
              <h3>Deployment info</h3>
              <dl className="kv">
                <dt>Model</dt>
                <dd>{d.model}</dd>
                <dt>Type</dt>
                <dd>{d.sku?.name ?? "—"}</dd>
                <dt>Capacity</dt>
                <dd>{d.sku ? d.sku.capacity.toLocaleString("en-US") : "—"}</dd>
                <dt>Created</dt>
                <dd>{formatTime(d.created_at)}</dd>
              </dl>
            </div>
            <div className="card" data-testid="keys">
              <h3>Key</h3>
              <div className="key-row row">
                <span className="key-label">Signed in with</span>
                <code className="key" data-testid="key">
                  {shown ? session.secret : mask(session.secret)}
                </code>
                <button className="small" onClick={() => setShown(!shown)}>
                  {shown ? "Hide" : "Show"}
                </button>
                <CopyButton text={session.secret} />
              </div>
              <p className="muted small">
                Send it as <code>api-key: …</code>. Both keys of the account work; listing and regenerating them needs a token.
              </p>
            </div>
          </div>
          <DeploymentEndpoints origin={location.origin} project={session.project} name={name} kind={kind} />
        </>
      ) : null}
    </>
  );
}
