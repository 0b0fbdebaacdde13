// Serverless endpoints (`#/serverless`, `#/serverless/{name}`): Azure ML's Models-as-a-Service
// deployments of a workspace (reference azure-ml.md §9). The list with state and URL, and the
// Create dialog: a name, then a catalog model (versionless azureml registry id) or a fine-tuned
// model of the workspace. A third-party model without the workspace's marketplace subscription
// is refused with a 400; the dialog shows its message and offers to subscribe
// (PUT ~/workspaces/{ws}/marketplaceSubscriptions/{name} with properties.modelId).
import { useState } from "react";
import { ModelPicker } from "../components/MlModelPicker.tsx";
import type { PickedModel } from "../components/MlModelPicker.tsx";
import { dateText, EndpointState, usePollWhileBusy } from "../components/MlParts.tsx";
import { WorkspaceGate } from "../components/MlWorkspace.tsx";
import { createServerless, isTerminal, listServerless, needsMarketplaceSubscription, registryModelId, shortModel, subscribeMarketplace, subscriptionNameFor } from "../ml-api.ts";
import type { MlWorkspace, ServerlessEndpoint, WorkspaceRef } from "../ml-api.ts";
import { ErrorBox, Field, Modal, navigate, ProgressBar, useRoute, useSession } from "../ui.tsx";
import { ServerlessDetail } from "./ServerlessDetail.tsx";

const NAME = /^[a-zA-Z][a-zA-Z0-9-]{0,51}$/;

export function ServerlessPage() {
  const { parts } = useRoute();
  return (
    <WorkspaceGate>
      {(w, ref) => (parts[1] ? <ServerlessDetail key={parts[1]} workspace={w} wsRef={ref} name={parts[1]} /> : <ServerlessList workspace={w} wsRef={ref} />)}
    </WorkspaceGate>
  );
}

function ServerlessList({ workspace, wsRef }: { workspace: MlWorkspace; wsRef: WorkspaceRef }) {
  const { session } = useSession();
  const [creating, setCreating] = useState(false);
  const { value, error } = usePollWhileBusy(() => listServerless(session, wsRef), (list) => list.some((e) => !isTerminal(e.properties.provisioningState)), [session, wsRef.name]);
  return (
    <>
      <div className="page-head row">
        <h1>Serverless endpoints</h1>
        <span className="spacer" />
        <button className="primary" onClick={() => setCreating(true)}>
          + Create endpoint
        </button>
      </div>
      <p className="muted">
        Pay-per-token endpoints of workspace <b>{workspace.name}</b>: each serves one model at its own URL with its own keys (200,000 tokens and 1,000 requests per minute).
      </p>
      <ErrorBox error={error} />
      {!value && !error ? <ProgressBar value={null} label="Loading endpoints…" /> : null}
      {value && value.length === 0 ? <div className="notice">No serverless endpoints yet. Create one from a catalog model or a model you fine-tuned.</div> : null}
      {value && value.length > 0 ? (
        <table data-testid="serverless-endpoints">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Model</th>
              <th scope="col">State</th>
              <th scope="col">Endpoint</th>
              <th scope="col">Created</th>
            </tr>
          </thead>
          <tbody>
            {value.map((e: ServerlessEndpoint) => (
              <tr key={e.name} data-endpoint={e.name}>
                <td>
                  <a href={`#/serverless/${encodeURIComponent(e.name)}`}>
                    <b>{e.name}</b>
                  </a>
                </td>
                <td title={e.properties.modelSettings?.modelId}>{shortModel(e.properties.modelSettings?.modelId)}</td>
                <td className="state-col">
                  <EndpointState state={e.properties.provisioningState} endpointState={e.properties.endpointState} />
                </td>
                <td className="small">
                  <code className="url">{e.properties.inferenceEndpoint?.uri ?? "—"}</code>
                </td>
                <td className="small muted">{dateText(e.systemData?.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {creating ? <CreateServerlessDialog workspace={workspace} wsRef={wsRef} taken={(value ?? []).map((e) => e.name)} onClose={() => setCreating(false)} /> : null}
    </>
  );
}

function nameProblem(name: string, taken: string[]): string | null {
  if (!name) return "Enter an endpoint name: it becomes part of the endpoint's URL.";
  if (!NAME.test(name)) return name.length > 52 ? `At most 52 characters (this one is ${name.length}).` : "Start with a letter, then use letters, digits and hyphens (-).";
  if (taken.some((t) => t.toLowerCase() === name.toLowerCase())) return `An endpoint named '${name}' already exists in this workspace. Choose another name.`;
  return null;
}

function CreateServerlessDialog({ workspace, wsRef, taken, onClose }: { workspace: MlWorkspace; wsRef: WorkspaceRef; taken: string[]; onClose(): void }) {
  const { session } = useSession();
  const [name, setName] = useState("");
  const [touched, setTouched] = useState(false);
  const [model, setModel] = useState<PickedModel | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [subscribed, setSubscribed] = useState<string | null>(null);
  const problem = nameProblem(name, taken);
  const create = async () => {
    setTouched(true);
    if (problem || !model) return;
    setBusy(true);
    setError(null);
    try {
      await createServerless(session, wsRef, name, model.modelId);
      onClose();
      navigate(`/serverless/${encodeURIComponent(name)}`);
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };
  const subscribe = async () => {
    if (!model) return;
    setBusy(true);
    try {
      const sub = subscriptionNameFor(model.name);
      await subscribeMarketplace(session, wsRef, sub, registryModelId(model.name));
      setSubscribed(sub);
      setError(null);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const marketplace = needsMarketplaceSubscription(error) && model?.source === "catalog";
  return (
    <Modal title="Create serverless endpoint" onClose={busy ? () => undefined : onClose} className="wizard">
      <Field label="Endpoint name" error={touched ? problem : null} hint="Letters, digits and hyphens; the URL adds a random 5-letter suffix.">
        <input name="endpointName" value={name} data-autofocus onChange={(e) => setName(e.target.value.trim())} onBlur={() => setTouched(true)} />
      </Field>
      <ModelPicker
        workspace={workspace}
        wsRef={wsRef}
        versioned={false}
        onChange={(m) => {
          setModel(m);
          setSubscribed(null);
          if (needsMarketplaceSubscription(error)) setError(null);
        }}
      />
      {model ? (
        <p className="small">
          Model id: <code data-testid="model-id">{model.modelId}</code>
        </p>
      ) : null}
      <ErrorBox error={error} />
      {marketplace ? (
        <div className="notice" data-testid="marketplace-offer">
          <b>{model!.name}</b> is a third-party model: this workspace needs a marketplace subscription to it (Ingot records one; nothing is billed).{" "}
          <button type="button" className="primary small" onClick={subscribe} disabled={busy}>
            Subscribe to {model!.name}
          </button>
        </div>
      ) : null}
      {subscribed ? (
        <div className="notice" role="status" data-testid="subscribed">
          Subscribed ({subscribed}). Create the endpoint now.
        </div>
      ) : null}
      {busy ? <ProgressBar value={null} label="Working…" /> : null}
      <div className="row actions">
        <span className="spacer" />
        <button type="button" onClick={onClose} disabled={busy}>
          Cancel
        </button>
        <button type="button" className="primary" onClick={create} disabled={busy || !model || (touched && !!problem)}>
          Create
        </button>
      </div>
    </Modal>
  );
}
