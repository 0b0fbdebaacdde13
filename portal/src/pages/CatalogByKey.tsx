// The model catalog for a session signed in with an account key: the models the data plane
// lists for the key (GET {project}/openai/v1/models: base models this server runs and the
// account's custom models), searchable, each with its deployments. Deploying needs a token.
import { useMemo, useState } from "react";
import { listDataDeployments, listDataModels } from "../api.ts";
import type { DataModelInfo } from "../api.ts";
import { ErrorBox, formatTime, navigate, ProgressBar, usePoll, useSession } from "../ui.tsx";
import { STATE_OF_STATUS } from "./DeploymentsByKey.tsx";

const CAPS: [keyof DataModelInfo["capabilities"], string][] = [
  ["chat_completion", "Chat completion"],
  ["completion", "Completions"],
  ["embeddings", "Embeddings"],
  ["fine_tune", "Fine-tuning"],
];

const modelPath = (m: DataModelInfo) => `/catalog/${encodeURIComponent(m.owned_by)}/${encodeURIComponent(m.id)}`;

function KeyCatalogNotice() {
  return (
    <div className="notice" data-testid="key-notice">
      Signed in with an account key: these are the models this key's account can use. Deploying one needs a token: run <code>ingot token</code> and sign in with its output.
    </div>
  );
}

export function KeyCatalogList() {
  const { session } = useSession();
  const { value: models, error } = usePoll(() => listDataModels(session), 0, [session], false);
  const [search, setSearch] = useState("");
  const [capability, setCapability] = useState("");
  const shown = useMemo(
    () =>
      (models ?? []).filter((m) => {
        const q = search.trim().toLowerCase();
        if (q && !`${m.id} ${m.owned_by} ${m.model ?? ""}`.toLowerCase().includes(q)) return false;
        return !capability || m.capabilities[capability as keyof DataModelInfo["capabilities"]];
      }),
    [models, search, capability],
  );
  return (
    <>
      <div className="page-head">
        <h1>Model catalog</h1>
      </div>
      <KeyCatalogNotice />
      <div className="filters card">
        <input name="search" type="search" placeholder="Search models, e.g. qwen, embed" value={search} onChange={(e) => setSearch(e.target.value)} className="grow" aria-label="Search models" />
        <select name="capability" value={capability} onChange={(e) => setCapability(e.target.value)} aria-label="Capability">
          <option value="">Any capability</option>
          {CAPS.map(([c, label]) => (
            <option key={c} value={c}>
              {label}
            </option>
          ))}
        </select>
        <span className="muted" data-testid="model-count">
          {models ? `${shown.length} of ${models.length} models` : ""}
        </span>
      </div>
      <ErrorBox error={error} />
      {!models && !error ? <ProgressBar value={null} label="Loading the catalog…" /> : null}
      <div className="cards model-cards">
        {shown.map((m) => (
          <a key={m.id} className="card model-card" href={`#${modelPath(m)}`} data-testid="model-card" data-model={m.id}>
            <div className="model-card-head">
              <b className="model-name">{m.id}</b>
              <span className="muted">{m.owned_by}</span>
            </div>
            {m.model ? <p className="model-desc">Fine-tuned from {m.model}</p> : null}
            <div className="pills">
              {CAPS.filter(([c]) => m.capabilities[c]).map(([c, label]) => (
                <span key={c} className={c === "fine_tune" ? "pill accent" : "pill"}>
                  {label}
                </span>
              ))}
            </div>
            <div className="model-meta muted">
              <span>{m.lifecycle_status}</span>
            </div>
          </a>
        ))}
      </div>
    </>
  );
}

export function KeyModelPage({ id }: { id: string }) {
  const { session } = useSession();
  const { value, error } = usePoll(() => Promise.all([listDataModels(session), listDataDeployments(session)]), 0, [session], false);
  const m = value?.[0].find((x) => x.id === id);
  const deployments = (value?.[1] ?? []).filter((d) => d.model === id);
  return (
    <>
      <div className="crumbs">
        <a href="#/catalog">Model catalog</a> / <span>{id}</span>
      </div>
      <ErrorBox error={error} />
      {!value && !error ? <ProgressBar value={null} label="Loading the model…" /> : null}
      {value && !m ? <ErrorBox error={{ code: "ModelNotFound", message: `This account has no model '${id}'. Pick one from the catalog.` }} /> : null}
      {m ? (
        <>
          <div className="page-head row">
            <div>
              <h1 data-testid="model-title">{m.id}</h1>
              <div className="muted">
                {m.owned_by} · {m.lifecycle_status}
              </div>
            </div>
            <span className="spacer" />
            {m.capabilities.fine_tune ? <button onClick={() => navigate(`/fine-tuning?model=${encodeURIComponent(m.id)}`)}>Fine-tune</button> : null}
          </div>
          <KeyCatalogNotice />
          <div className="grid2">
            <div className="card">
              <h3>Details</h3>
              <dl className="kv" data-testid="model-details">
                <dt>Capabilities</dt>
                <dd className="pills">
                  {CAPS.filter(([c]) => m.capabilities[c]).map(([c, label]) => (
                    <span key={c} className="pill">
                      {label}
                    </span>
                  ))}
                </dd>
                {m.model ? (
                  <>
                    <dt>Base model</dt>
                    <dd>{m.model}</dd>
                  </>
                ) : null}
                <dt>Created</dt>
                <dd>{formatTime(m.created)}</dd>
              </dl>
            </div>
            <div className="card">
              <h3>Deployments of this model</h3>
              {deployments.length === 0 ? (
                <p className="muted">Not deployed in this account.</p>
              ) : (
                <ul className="plain" data-testid="model-deployments">
                  {deployments.map((d) => (
                    <li key={d.id}>
                      <a href={`#/deployments/${encodeURIComponent(d.id)}`}>{d.id}</a> <span className={`state-${STATE_OF_STATUS[d.status]}`}>{STATE_OF_STATUS[d.status]}</span>
                      {d.capabilities?.chat_completion ? (
                        <>
                          {" "}
                          · <a href={`#/playground?deployment=${encodeURIComponent(d.id)}`}>Open in playground</a>
                        </>
                      ) : null}
                    </li>
                  ))}
                </ul>
              )}
            </div>
          </div>
        </>
      ) : null}
    </>
  );
}
