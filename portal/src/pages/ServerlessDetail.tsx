// One serverless endpoint (`#/serverless/{name}`): its state polled until terminal (with the
// model's load progress, Ingot's provisioningDetails), inferenceEndpoint.uri, model, keys
// (masked, reveal, copy, regenerate), code (seed 004's Python `requests` call, curl, openai)
// and delete.
import { useState } from "react";
import { KeysCard } from "../components/MlKeys.tsx";
import { dateText, DeleteDialog, EndpointState, usePollWhileBusy } from "../components/MlParts.tsx";
import { CodeTabs, SERVERLESS_KEY_ENV, serverlessSnippets } from "../components/MlSnippets.tsx";
import { getServerless, isTerminal, SERVERLESS_API_VERSION, serverlessPath, shortModel } from "../ml-api.ts";
import type { MlWorkspace, ServerlessEndpoint, WorkspaceRef } from "../ml-api.ts";
import { CopyButton, ErrorBox, formatBytes, navigate, ProgressBar, useSession } from "../ui.tsx";

function LoadProgress({ e }: { e: ServerlessEndpoint }) {
  const p = e.properties.provisioningDetails ?? {};
  const pct = p.percentComplete ?? 0;
  const bytes = p.bytes !== undefined && p.totalBytes ? ` · ${formatBytes(p.bytes)} of ${formatBytes(p.totalBytes)}` : "";
  return <ProgressBar value={pct > 0 ? pct : null} label={`${p.phase ?? e.properties.provisioningState}${pct > 0 ? ` ${Math.round(pct)}%` : ""}${bytes}`} />;
}

export function ServerlessDetail({ workspace, wsRef, name }: { workspace: MlWorkspace; wsRef: WorkspaceRef; name: string }) {
  const { session } = useSession();
  const [confirmDelete, setConfirmDelete] = useState(false);
  const { value: e, error } = usePollWhileBusy(() => getServerless(session, wsRef, name), (v) => !isTerminal(v.properties.provisioningState), [session, wsRef.name, name], 800);
  const state = e?.properties.provisioningState;
  const uri = e?.properties.inferenceEndpoint?.uri ?? "";
  const modelId = e?.properties.modelSettings?.modelId;
  return (
    <>
      <div className="crumbs">
        <a href="#/serverless">Serverless endpoints</a> / <span>{name}</span>
      </div>
      <div className="page-head row">
        <h1 data-testid="endpoint-title">{name}</h1>
        {e ? <EndpointState state={e.properties.provisioningState} endpointState={e.properties.endpointState} /> : null}
        <span className="spacer" />
        {e ? (
          <button className="danger" onClick={() => setConfirmDelete(true)}>
            Delete
          </button>
        ) : null}
      </div>
      {error ? (
        <>
          <ErrorBox error={error} />
          <p>
            <a href="#/serverless">Back to the serverless endpoints</a>
          </p>
        </>
      ) : null}
      {!e && !error ? <ProgressBar value={null} label="Loading the endpoint…" /> : null}
      {e && !isTerminal(state) ? (
        <div className="card" role="status" aria-live="polite" data-testid="provisioning">
          <LoadProgress e={e} />
        </div>
      ) : null}
      {e && state === "Failed" ? (
        <div className="error" role="alert">
          The endpoint failed to start{e.properties.provisioningDetails?.error ? `: ${e.properties.provisioningDetails.error}` : "."} Delete it and create it again, or pick another model.
        </div>
      ) : null}
      {e ? (
        <>
          <div className="grid2">
            <div className="card">
              <h3>Endpoint</h3>
              <dl className="kv">
                <dt>Target URI</dt>
                <dd>
                  <code className="url" data-testid="endpoint-uri">
                    {uri}
                  </code>{" "}
                  <CopyButton text={uri} />
                </dd>
                <dt>Model</dt>
                <dd>
                  {shortModel(modelId)}
                  <div className="muted small">
                    <code>{modelId}</code>
                  </div>
                </dd>
                <dt>Authentication</dt>
                <dd>{e.properties.authMode === "Key" ? "Key" : e.properties.authMode}</dd>
                <dt>Rate limits</dt>
                <dd>200,000 tokens per minute · 1,000 requests per minute</dd>
                <dt>Content safety</dt>
                <dd>{e.properties.contentSafety?.contentSafetyStatus ?? "—"}</dd>
                {e.properties.marketplaceSubscriptionId ? (
                  <>
                    <dt>Marketplace</dt>
                    <dd className="small">
                      <code className="url">{e.properties.marketplaceSubscriptionId}</code>
                    </dd>
                  </>
                ) : null}
                <dt>Workspace</dt>
                <dd>{workspace.name}</dd>
                <dt>Created</dt>
                <dd>{dateText(e.systemData?.createdAt)}</dd>
              </dl>
            </div>
            <KeysCard
              path={serverlessPath(wsRef, e.name)}
              apiVersion={SERVERLESS_API_VERSION}
              note={
                <>
                  Send a key as <code>Authorization: &lt;key&gt;</code> (as seed 004 does), <code>Authorization: Bearer &lt;key&gt;</code> or <code>api-key</code>. These keys open this endpoint only.
                </>
              }
            />
          </div>
          <h2>Code</h2>
          <CodeTabs snippets={serverlessSnippets(uri, shortModel(modelId).split(" ")[0])} keyEnv={SERVERLESS_KEY_ENV} />
        </>
      ) : null}
      {confirmDelete && e ? (
        <DeleteDialog title="Delete serverless endpoint" path={serverlessPath(wsRef, e.name)} apiVersion={SERVERLESS_API_VERSION} onClose={() => setConfirmDelete(false)} onDeleted={() => navigate("/serverless")}>
          <p>
            Delete <b>{e.name}</b>? Its URL and keys stop working at once. The model stays in the catalog (or the workspace).
          </p>
        </DeleteDialog>
      ) : null}
    </>
  );
}
