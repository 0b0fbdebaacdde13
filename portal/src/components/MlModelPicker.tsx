// Picks the model an ML endpoint serves: a catalog model of the `azureml` registry (the registry
// data plane Python's MLClient reads, src/http/ml/registries.ts) or a fine-tuned model of the
// workspace (~/workspaces/{ws}/models). Reports the modelId the endpoint's PUT names:
// versionless `azureml://registries/azureml/models/{name}` for serverless (its SDK refuses
// versions), `…/versions/{v}` for online deployments, and
// `azureml://locations/{loc}/workspaces/{guid}/models/{name}/versions/{v}` for fine-tuned models.
import { useEffect, useState } from "react";
import { listRegistryModels, listRegistryVersions, listWorkspaceModels, listWorkspaceModelVersions, registryModelId, workspaceModelId } from "../ml-api.ts";
import type { MlWorkspace, RegistryModel, RegistryModelVersion, WorkspaceModel, WorkspaceRef } from "../ml-api.ts";
import { ErrorBox, Field, useSession } from "../ui.tsx";

export interface PickedModel {
  modelId: string;
  /** The model's name (what a marketplace subscription is named after). */
  name: string;
  source: "catalog" | "workspace";
}

export function ModelPicker({ workspace, wsRef, versioned, onChange }: { workspace: MlWorkspace; wsRef: WorkspaceRef; versioned: boolean; onChange(m: PickedModel | null): void }) {
  const { session } = useSession();
  const [source, setSource] = useState<"catalog" | "workspace">("catalog");
  const [catalog, setCatalog] = useState<RegistryModel[] | null>(null);
  const [own, setOwn] = useState<WorkspaceModel[] | null>(null);
  const [model, setModel] = useState("");
  const [versions, setVersions] = useState<{ name: string; tags?: Record<string, string>; description?: string | null }[]>([]);
  const [version, setVersion] = useState("");
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    listRegistryModels(session).then(setCatalog, setError);
    listWorkspaceModels(session, wsRef).then(setOwn, () => setOwn([]));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [session, wsRef.name]);

  useEffect(() => {
    setVersions([]);
    setVersion("");
    if (!model) return;
    let stale = false;
    const load =
      source === "catalog"
        ? listRegistryVersions(session, model).then((v: RegistryModelVersion[]) => v.map((x) => ({ name: x.name, tags: x.properties.tags, description: x.properties.description })))
        : listWorkspaceModelVersions(session, wsRef, model).then((v) => v.map((x) => ({ name: x.name, description: x.properties.description })));
    load.then((v) => {
      if (stale) return;
      setVersions(v);
      setVersion(v[0]?.name ?? "");
    }, setError);
    return () => {
      stale = true;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [model, source]);

  useEffect(() => {
    if (!model || !version) return onChange(null);
    onChange(
      source === "catalog"
        ? { modelId: registryModelId(model, versioned ? version : undefined), name: model, source }
        : { modelId: workspaceModelId(workspace, model, version), name: model, source },
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [model, version, source, versioned]);

  const names = (source === "catalog" ? catalog : own) ?? [];
  const chosen = versions.find((v) => v.name === version);
  return (
    <div className="ml-model-picker">
      <fieldset className="options two">
        <legend className="field-label">Model source</legend>
        <label className={source === "catalog" ? "option selected" : "option"}>
          <input type="radio" name="modelSource" value="catalog" checked={source === "catalog"} onChange={() => {
              setSource("catalog");
              setModel("");
            }} />
          <span>
            <b>Model catalog</b>
            <span className="muted small">The {`'azureml'`} registry</span>
          </span>
        </label>
        <label className={source === "workspace" ? "option selected" : "option"}>
          <input type="radio" name="modelSource" value="workspace" checked={source === "workspace"} onChange={() => {
              setSource("workspace");
              setModel("");
            }} />
          <span>
            <b>Fine-tuned model</b>
            <span className="muted small">Registered in workspace {workspace.name}</span>
          </span>
        </label>
      </fieldset>
      <Field
        label="Model"
        hint={
          source === "workspace" && own && own.length === 0
            ? "This workspace has no models yet: a completed fine-tuning job registers its output here."
            : source === "catalog" && !versioned
              ? "Serverless endpoints serve the catalog's latest version of the model."
              : undefined
        }
      >
        <select name="model" value={model} onChange={(e) => setModel(e.target.value)} disabled={!names.length}>
          <option value="">{(source === "catalog" ? catalog : own) === null ? "Loading…" : "Choose a model…"}</option>
          {names.map((m) => (
            <option key={m.name} value={m.name}>
              {m.name}
            </option>
          ))}
        </select>
      </Field>
      {model && (versioned || source === "workspace") ? (
        <Field label="Version">
          <select name="modelVersion" value={version} onChange={(e) => setVersion(e.target.value)}>
            {versions.map((v) => (
              <option key={v.name} value={v.name}>
                {v.name}
              </option>
            ))}
          </select>
        </Field>
      ) : null}
      {chosen ? (
        <p className="muted small" data-testid="model-summary">
          {[chosen.tags?.task, chosen.tags?.author && `by ${chosen.tags.author}`, chosen.tags?.license && `license ${chosen.tags.license}`].filter(Boolean).join(" · ")}
          {chosen.description ? <span className="ml-desc"> {chosen.description}</span> : null}
        </p>
      ) : null}
      <ErrorBox error={error} />
    </div>
  );
}
