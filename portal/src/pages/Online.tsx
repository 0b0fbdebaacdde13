// Online endpoints (`#/online`, `#/online/{name}`): Azure ML managed online endpoints of a
// workspace (managed compute, reference azure-ml.md §10). The list with scoring URL, traffic
// split and state, and the Create endpoint dialog; the endpoint's page is OnlineDetail.tsx.
import { useState } from "react";
import type { FormEvent } from "react";
import { dateText, EndpointState, usePollWhileBusy } from "../components/MlParts.tsx";
import { WorkspaceGate } from "../components/MlWorkspace.tsx";
import { arm } from "../api.ts";
import { isTerminal, listOnline, ML_API_VERSION, onlinePath, trafficText } from "../ml-api.ts";
import type { MlWorkspace, OnlineEndpoint, WorkspaceRef } from "../ml-api.ts";
import { ErrorBox, Field, Modal, navigate, ProgressBar, useRoute, useSession } from "../ui.tsx";
import { OnlineDetail } from "./OnlineDetail.tsx";

const NAME = /^[a-zA-Z][a-zA-Z0-9-]{2,31}$/;

export function OnlinePage() {
  const { parts } = useRoute();
  return (
    <WorkspaceGate>
      {(w, ref) => (parts[1] ? <OnlineDetail key={parts[1]} workspace={w} wsRef={ref} name={parts[1]} /> : <OnlineList workspace={w} wsRef={ref} />)}
    </WorkspaceGate>
  );
}

function OnlineList({ workspace, wsRef }: { workspace: MlWorkspace; wsRef: WorkspaceRef }) {
  const { session } = useSession();
  const [creating, setCreating] = useState(false);
  const { value, error } = usePollWhileBusy(() => listOnline(session, wsRef), (list) => list.some((e) => !isTerminal(e.properties.provisioningState)), [session, wsRef.name]);
  return (
    <>
      <div className="page-head row">
        <h1>Online endpoints</h1>
        <span className="spacer" />
        <button className="primary" onClick={() => setCreating(true)}>
          + Create endpoint
        </button>
      </div>
      <p className="muted">
        Managed online endpoints of workspace <b>{workspace.name}</b>: dedicated instances of a model behind one scoring URL, with the traffic split across deployments (blue/green).
      </p>
      <ErrorBox error={error} />
      {!value && !error ? <ProgressBar value={null} label="Loading endpoints…" /> : null}
      {value && value.length === 0 ? <div className="notice">No online endpoints yet. Create one, then add a deployment of a model to it.</div> : null}
      {value && value.length > 0 ? (
        <table data-testid="online-endpoints">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">State</th>
              <th scope="col">Traffic</th>
              <th scope="col">Scoring URI</th>
              <th scope="col">Created</th>
            </tr>
          </thead>
          <tbody>
            {value.map((e: OnlineEndpoint) => (
              <tr key={e.name} data-endpoint={e.name}>
                <td>
                  <a href={`#/online/${encodeURIComponent(e.name)}`}>
                    <b>{e.name}</b>
                  </a>
                </td>
                <td className="state-col">
                  <EndpointState state={e.properties.provisioningState} />
                </td>
                <td>{trafficText(e.properties.traffic)}</td>
                <td className="small">
                  <code className="url">{e.properties.scoringUri ?? "—"}</code>
                </td>
                <td className="small muted">{dateText(e.systemData?.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {creating ? <CreateEndpointDialog wsRef={wsRef} taken={(value ?? []).map((e) => e.name)} onClose={() => setCreating(false)} /> : null}
    </>
  );
}

function nameProblem(name: string, taken: string[]): string | null {
  if (!name) return "Enter an endpoint name: it is part of the scoring URL.";
  if (!NAME.test(name)) return "Use 3 to 32 characters: a letter first, then letters, digits and hyphens (-).";
  if (taken.some((t) => t.toLowerCase() === name.toLowerCase())) return `An endpoint named '${name}' already exists. Choose another name.`;
  return null;
}

function CreateEndpointDialog({ wsRef, taken, onClose }: { wsRef: WorkspaceRef; taken: string[]; onClose(): void }) {
  const { session } = useSession();
  const [name, setName] = useState("");
  const [authMode, setAuthMode] = useState("Key");
  const [description, setDescription] = useState("");
  const [touched, setTouched] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const problem = nameProblem(name, taken);
  const create = async (e: FormEvent) => {
    e.preventDefault();
    setTouched(true);
    if (problem) return;
    setBusy(true);
    setError(null);
    try {
      await arm(session, "PUT", onlinePath(wsRef, name), { identity: { type: "SystemAssigned" }, properties: { authMode, description } }, ML_API_VERSION);
      onClose();
      navigate(`/online/${encodeURIComponent(name)}`);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  return (
    <Modal title="Create online endpoint" onClose={busy ? () => undefined : onClose}>
      <form onSubmit={create} className="ml-form">
        <Field label="Endpoint name" error={touched ? problem : null} hint="Names are unique across workspaces: the scoring URL is global.">
          <input name="endpointName" value={name} data-autofocus onChange={(ev) => setName(ev.target.value.trim())} onBlur={() => setTouched(true)} />
        </Field>
        <Field label="Authentication" hint={authMode === "Key" ? "Two keys that do not expire (listKeys)." : "Tokens that expire after an hour (POST …/token)."}>
          <select name="authMode" value={authMode} onChange={(ev) => setAuthMode(ev.target.value)}>
            <option value="Key">Key</option>
            <option value="AMLToken">Azure ML token</option>
          </select>
        </Field>
        <Field label="Description (optional)">
          <input name="description" value={description} onChange={(ev) => setDescription(ev.target.value)} />
        </Field>
        <ErrorBox error={error} />
        {busy ? <ProgressBar value={null} label="Creating…" /> : null}
        <div className="row actions">
          <span className="spacer" />
          <button type="button" onClick={onClose} disabled={busy}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={busy || (touched && !!problem)}>
            Create
          </button>
        </div>
      </form>
    </Modal>
  );
}
