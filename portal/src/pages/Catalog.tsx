// Model catalog (`#/catalog`) and model page (`#/catalog/{format}/{name}`): the account's
// models from ARM (GET {account}/models), searchable and filtered by publisher, capability and
// fine-tunability; a model's versions, deployment types with capacity ranges, context length,
// license, weights (size, on this machine or not) and a Deploy button.
import { useMemo, useState } from "react";
import { DeployDialog, limitsText, listDeployments, listModels, skuLabel } from "../components/DeployDialog.tsx";
import type { ArmModel } from "../components/DeployDialog.tsx";
import { ErrorBox, formatBytes, navigate, ProgressBar, usePoll, useRoute, useSession } from "../ui.tsx";
import { KeyCatalogList, KeyModelPage } from "./CatalogByKey.tsx";

export const CAPABILITY_LABELS: Record<string, string> = {
  chatCompletion: "Chat completion",
  completion: "Completions",
  embeddings: "Embeddings",
  fineTune: "Fine-tuning",
  jsonSchema: "Structured outputs",
  tools: "Tool calling",
};
const FILTER_CAPABILITIES = ["chatCompletion", "completion", "embeddings", "jsonSchema", "tools"];

const has = (m: ArmModel, cap: string) => m.capabilities[cap] === "true";
export const isFineTunable = (m: ArmModel) => !!m.finetuneCapabilities || has(m, "fineTune");
const modelPath = (m: { format: string; name: string }) => `/catalog/${encodeURIComponent(m.format)}/${encodeURIComponent(m.name)}`;

/** One entry per format/name; the default (else newest) version represents it. */
interface Family {
  format: string;
  name: string;
  main: ArmModel;
  versions: ArmModel[];
}

function families(models: ArmModel[]): Family[] {
  const by = new Map<string, ArmModel[]>();
  for (const m of models) {
    const k = `${m.format}\u0000${m.name}`;
    by.set(k, [...(by.get(k) ?? []), m]);
  }
  return [...by.values()].map((versions) => {
    const main = versions.find((v) => v.isDefaultVersion) ?? versions[versions.length - 1];
    return { format: main.format, name: main.name, main, versions };
  });
}

/** Shown on ARM pages to a session signed in with a key. */
export function TokenNotice({ what }: { what: string }) {
  const { setSession } = useSession();
  return (
    <div className="notice" data-testid="token-notice">
      <b>Sign in with a token to see {what}.</b> You signed in with an account key, which opens the data plane (playground, files, fine-tuning) only; {what} come from the
      management API, which needs a token. Run <code>ingot token</code> and sign in with its output.{" "}
      <button className="small" onClick={() => setSession(null)}>
        Sign out
      </button>
    </div>
  );
}

export function WeightsBadge({ m }: { m: ArmModel }) {
  switch (m.weightsStatus) {
    case "cached":
      return <span className="pill ok" title="The weights are on this server: deploying loads them at once.">Cached</span>;
    case "partial":
      return <span className="pill warn" title="A download was interrupted; deploying resumes it.">Partly downloaded</span>;
    case "missing":
      return <span className="pill" title="Downloaded (and checksummed) on first deploy.">Downloads on deploy</span>;
    case "not-built":
      return <span className="pill" title="Ingot builds this model on first deploy.">Built on deploy</span>;
    case "upstream":
      return <span className="pill muted-pill" title="No open weights: served only through an upstream endpoint.">No open weights</span>;
    default:
      return null;
  }
}

export function CatalogPage() {
  const { parts } = useRoute();
  const { session } = useSession();
  // A key sees the models its account can use through the data plane; ARM's catalog (with SKUs and Deploy) needs a token.
  if (session.mode !== "token") return parts[1] && parts[2] ? <KeyModelPage key={parts[2]} id={parts[2]} /> : <KeyCatalogList />;
  if (parts[1] && parts[2]) return <ModelPage format={parts[1]} name={parts[2]} />;
  return <CatalogList />;
}

function CatalogList() {
  const { session } = useSession();
  const { query } = useRoute();
  const { value: models, error } = usePoll(() => listModels(session), 0, [session], false);
  const [search, setSearch] = useState(query.get("q") ?? "");
  const [publisher, setPublisher] = useState("");
  const [capability, setCapability] = useState("");
  const [fineTunable, setFineTunable] = useState(false);

  const all = useMemo(() => families(models ?? []), [models]);
  const publishers = useMemo(() => [...new Set(all.map((f) => f.format))].sort(), [all]);
  const shown = all.filter((f) => {
    const q = search.trim().toLowerCase();
    if (q && !`${f.name} ${f.format} ${f.main.description ?? ""} ${f.main.publisher ?? ""}`.toLowerCase().includes(q)) return false;
    if (publisher && f.format !== publisher) return false;
    if (capability && !f.versions.some((v) => has(v, capability))) return false;
    if (fineTunable && !f.versions.some(isFineTunable)) return false;
    return true;
  });

  return (
    <>
      <div className="page-head">
        <h1>Model catalog</h1>
        <span className="muted">Open-weight models run on this server with llama.cpp; deploy one to call it with the Azure OpenAI, OpenAI and model inference APIs.</span>
      </div>
      <div className="filters card">
        <input name="search" type="search" placeholder="Search models, e.g. qwen, embed" value={search} onChange={(e) => setSearch(e.target.value)} className="grow" aria-label="Search models" />
        <select name="publisher" value={publisher} onChange={(e) => setPublisher(e.target.value)} aria-label="Publisher">
          <option value="">All publishers</option>
          {publishers.map((p) => (
            <option key={p} value={p}>
              {p}
            </option>
          ))}
        </select>
        <select name="capability" value={capability} onChange={(e) => setCapability(e.target.value)} aria-label="Capability">
          <option value="">Any capability</option>
          {FILTER_CAPABILITIES.map((c) => (
            <option key={c} value={c}>
              {CAPABILITY_LABELS[c]}
            </option>
          ))}
        </select>
        <label className="check">
          <input name="fineTunable" type="checkbox" checked={fineTunable} onChange={(e) => setFineTunable(e.target.checked)} /> Fine-tunable
        </label>
        <span className="muted" data-testid="model-count">
          {models ? `${shown.length} of ${all.length} models` : ""}
        </span>
      </div>
      <ErrorBox error={error} />
      {!models && !error ? <ProgressBar value={null} label="Loading the catalog…" /> : null}
      {models && shown.length === 0 ? (
        <div className="notice">
          No model matches these filters.{" "}
          <button
            className="small"
            onClick={() => {
              setSearch("");
              setPublisher("");
              setCapability("");
              setFineTunable(false);
            }}
          >
            Clear filters
          </button>
        </div>
      ) : null}
      <div className="cards model-cards">
        {shown.map((f) => (
          <a key={`${f.format}/${f.name}`} className="card model-card" href={`#${modelPath(f)}`} data-testid="model-card" data-model={f.name}>
            <div className="model-card-head">
              <b className="model-name">{f.name}</b>
              <span className="muted">{f.format}</span>
            </div>
            {f.main.description ? <p className="model-desc">{f.main.description}</p> : null}
            <div className="pills">
              {Object.keys(CAPABILITY_LABELS)
                .filter((c) => f.versions.some((v) => has(v, c)) || (c === "fineTune" && f.versions.some(isFineTunable)))
                .map((c) => (
                  <span key={c} className={c === "fineTune" ? "pill accent" : "pill"}>
                    {CAPABILITY_LABELS[c]}
                  </span>
                ))}
            </div>
            <div className="model-meta muted">
              {f.main.contextLength ? <span>{f.main.contextLength.toLocaleString("en-US")} tokens context</span> : null}
              {f.main.weightsSizeBytes ? <span>{formatBytes(f.main.weightsSizeBytes)}</span> : null}
              {f.versions.length > 1 ? <span>{f.versions.length} versions</span> : null}
              <WeightsBadge m={f.main} />
            </div>
          </a>
        ))}
      </div>
    </>
  );
}

function ModelPage({ format, name }: { format: string; name: string }) {
  const { session } = useSession();
  const { value, error, reload } = usePoll(() => Promise.all([listModels(session), listDeployments(session)]), 0, [session], false);
  const [version, setVersion] = useState<string | null>(null);
  const [deploying, setDeploying] = useState(false);
  const versions = (value?.[0] ?? []).filter((m) => m.format === format && m.name === name);
  const m = versions.find((v) => v.version === version) ?? versions.find((v) => v.isDefaultVersion) ?? versions[versions.length - 1];
  const deployments = (value?.[1] ?? []).filter((d) => d.properties.model.format === format && d.properties.model.name === name);

  return (
    <>
      <div className="crumbs">
        <a href="#/catalog">Model catalog</a> / <span>{name}</span>
      </div>
      <ErrorBox error={error} />
      {!value && !error ? <ProgressBar value={null} label="Loading the model…" /> : null}
      {value && !m ? (
        <ErrorBox error={{ code: "ModelNotFound", message: `The catalog has no model ${format}/${name}. Names and publishers are case-sensitive; pick one from the catalog.` }} />
      ) : null}
      {m ? (
        <>
          <div className="page-head row">
            <div>
              <h1 data-testid="model-title">{m.name}</h1>
              <div className="muted">
                {m.format}
                {m.publisher && m.publisher !== m.format ? ` · ${m.publisher}` : ""} · {m.lifecycleStatus === "GenerallyAvailable" ? "Generally available" : m.lifecycleStatus}
              </div>
            </div>
            <span className="spacer" />
            {versions.length > 1 ? (
              <label className="check">
                Version{" "}
                <select name="version" value={m.version} onChange={(e) => setVersion(e.target.value)}>
                  {versions.map((v) => (
                    <option key={v.version} value={v.version}>
                      {v.version}
                      {v.isDefaultVersion ? " (default)" : ""}
                    </option>
                  ))}
                </select>
              </label>
            ) : null}
            <button className="primary" onClick={() => setDeploying(true)} disabled={m.weightsStatus === "upstream" || m.lifecycleStatus === "Deprecated"}>
              Deploy
            </button>
            {isFineTunable(m) ? (
              // Seed 004: the model's details page opens the Create custom model wizard with this base model.
              <button onClick={() => navigate(`/fine-tuning?model=${encodeURIComponent(m.name)}`)} disabled={m.weightsStatus === "upstream"}>
                Fine-tune
              </button>
            ) : null}
          </div>
          {m.description ? <p className="lead">{m.description}</p> : null}
          {m.weightsStatus === "upstream" ? (
            <div className="notice">This model has no open weights: Ingot serves it only through an upstream endpoint, so it cannot be deployed on this server.</div>
          ) : null}
          <div className="grid2">
            <div className="card">
              <h3>Details</h3>
              <dl className="kv" data-testid="model-details">
                <dt>Version</dt>
                <dd>
                  {m.version}
                  {m.isDefaultVersion ? <span className="muted"> (default)</span> : null}
                  {versions.length > 1 ? <span className="muted"> · also {versions.filter((v) => v !== m).map((v) => v.version).join(", ")}</span> : null}
                </dd>
                <dt>Capabilities</dt>
                <dd className="pills">
                  {Object.keys(CAPABILITY_LABELS)
                    .filter((c) => has(m, c))
                    .map((c) => (
                      <span key={c} className="pill">
                        {CAPABILITY_LABELS[c]}
                      </span>
                    ))}
                </dd>
                <dt>Context length</dt>
                <dd>{m.contextLength ? `${m.contextLength.toLocaleString("en-US")} tokens` : (m.capabilities.maxContextToken ?? "—")}</dd>
                <dt>Fine-tuning</dt>
                <dd>{isFineTunable(m) ? <>Supported (<a href="#/fine-tuning">Fine-tuning</a>)</> : "Not supported"}</dd>
                <dt>License</dt>
                <dd>{m.license ?? "—"}</dd>
                <dt>Weights</dt>
                <dd>
                  {m.weightsSizeBytes ? formatBytes(m.weightsSizeBytes) : m.weightsStatus === "upstream" ? "None (upstream only)" : "Size known after first download"}{" "}
                  <WeightsBadge m={m} />
                  {m.weightsStatus === "partial" && m.weightsDownloadedBytes ? <span className="muted"> {formatBytes(m.weightsDownloadedBytes)} so far</span> : null}
                </dd>
                {m.baseModel ? (
                  <>
                    <dt>Base model</dt>
                    <dd>
                      <a href={`#${modelPath(m.baseModel)}`}>{m.baseModel.name}</a>
                    </dd>
                  </>
                ) : null}
              </dl>
            </div>
            <div className="card">
              <h3>Deployments of this model</h3>
              {deployments.length === 0 ? (
                <p className="muted">Not deployed in this account yet.</p>
              ) : (
                <ul className="plain">
                  {deployments.map((d) => (
                    <li key={d.name}>
                      <a href={`#/deployments/${encodeURIComponent(d.name)}`}>{d.name}</a> <span className={`state-${d.properties.provisioningState}`}>{d.properties.provisioningState}</span>{" "}
                      <span className="muted">
                        {skuLabel(d.sku.name)} · {d.sku.capacity.toLocaleString("en-US")}
                      </span>
                    </li>
                  ))}
                </ul>
              )}
            </div>
          </div>
          <h2>Deployment types</h2>
          <table data-testid="skus">
            <thead>
              <tr>
                <th>Type</th>
                <th>Capacity</th>
                <th>Default</th>
                <th>Rate limits at default capacity</th>
                <th>Quota</th>
              </tr>
            </thead>
            <tbody>
              {m.skus.map((s) => (
                <tr key={s.name}>
                  <td>
                    <b>{skuLabel(s.name)}</b> <span className="muted">{s.name}</span>
                    {s.name === "DeveloperTier" && !m.baseModel ? <div className="muted small">fine-tuned models only</div> : null}
                  </td>
                  <td>
                    {s.capacity.minimum.toLocaleString("en-US")} – {s.capacity.maximum.toLocaleString("en-US")}
                    {(s.capacity.step ?? 1) > 1 ? ` (steps of ${s.capacity.step})` : ""}
                  </td>
                  <td>{s.capacity.default.toLocaleString("en-US")}</td>
                  <td>{limitsText(s.name, s.capacity.default)}</td>
                  <td className="muted small">{s.usageName}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {deploying ? (
            <DeployDialog
              model={{ format: m.format, name: m.name, version: m.version }}
              onClose={() => {
                setDeploying(false);
                reload();
              }}
              onDeployed={() => reload()}
            />
          ) : null}
        </>
      ) : null}
    </>
  );
}

