// The Azure ML workspace the Serverless and Online endpoints pages work in: a picker over the
// subscription's workspaces (GET /subscriptions/{s}/providers/Microsoft.MachineLearningServices/workspaces),
// and a form to create one (Default, Hub or Project under a hub) when there is none or another
// is wanted. The choice is kept for the tab (sessionStorage), as the session is.
import { useEffect, useState } from "react";
import type { ReactNode } from "react";
import { createWorkspace, listWorkspaces, loadWorkspaceRef, refOf, saveWorkspaceRef } from "../ml-api.ts";
import type { MlWorkspace, WorkspaceRef } from "../ml-api.ts";
import { ErrorBox, Field, Modal, ProgressBar, useSession } from "../ui.tsx";

const KINDS: [string, string][] = [
  ["Default", "A standalone workspace with its own AI Services account."],
  ["Hub", "Shares its account and settings with the projects under it."],
  ["Project", "Works inside a hub: its fine-tuning jobs and models use the hub's account."],
];
const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{2,32}$/;

function nameProblem(name: string, taken: string[]): string | null {
  if (!name) return "Enter a workspace name.";
  if (!NAME.test(name)) return "Use 3 to 33 letters, digits, '-' or '_', starting with a letter or digit.";
  if (taken.some((t) => t.toLowerCase() === name.toLowerCase())) return `A workspace named '${name}' already exists. Choose another name.`;
  return null;
}

/** The form that creates a workspace; `onCreated` gets it. */
function CreateWorkspaceForm({ workspaces, onCreated, onCancel }: { workspaces: MlWorkspace[]; onCreated(w: MlWorkspace): void; onCancel?(): void }) {
  const { session } = useSession();
  const hubs = workspaces.filter((w) => w.kind === "Hub");
  const [name, setName] = useState("");
  const [touched, setTouched] = useState(false);
  const [kind, setKind] = useState("Default");
  const [hub, setHub] = useState(hubs[0]?.id ?? "");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const problem = nameProblem(name, workspaces.map((w) => w.name)) ?? (kind === "Project" && !hub ? "A project needs a hub: create a Hub workspace first." : null);
  return (
    <form
      className="ml-create-ws"
      onSubmit={async (e) => {
        e.preventDefault();
        setTouched(true);
        if (problem) return;
        setBusy(true);
        setError(null);
        try {
          const ref: WorkspaceRef = { subscription: session.subscription, resourceGroup: session.resourceGroup, name };
          onCreated(await createWorkspace(session, ref, kind, kind === "Project" ? hub : undefined));
        } catch (err) {
          setError(err);
          setBusy(false);
        }
      }}
    >
      <Field label="Workspace name" error={touched ? problem : null} hint={`Created in resource group '${session.resourceGroup}'.`}>
        <input name="workspaceName" value={name} data-autofocus onChange={(e) => setName(e.target.value.trim())} onBlur={() => setTouched(true)} />
      </Field>
      <fieldset className="options">
        <legend className="field-label">Kind</legend>
        {KINDS.map(([k, note]) => (
          <label key={k} className={kind === k ? "option selected" : "option"}>
            <input type="radio" name="workspaceKind" value={k} checked={kind === k} onChange={() => setKind(k)} />
            <span>
              <b>{k}</b>
              <span className="muted small">{note}</span>
            </span>
          </label>
        ))}
      </fieldset>
      {kind === "Project" ? (
        <Field label="Hub" hint={hubs.length ? undefined : "No hub yet: create a Hub workspace first."}>
          <select name="hub" value={hub} onChange={(e) => setHub(e.target.value)}>
            {hubs.map((h) => (
              <option key={h.id} value={h.id}>
                {h.name}
              </option>
            ))}
          </select>
        </Field>
      ) : null}
      <ErrorBox error={error} />
      <div className="row actions">
        <span className="spacer" />
        {onCancel ? (
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
        ) : null}
        <button type="submit" className="primary" disabled={busy || (touched && !!problem)}>
          {busy ? "Creating…" : "Create workspace"}
        </button>
      </div>
    </form>
  );
}

/**
 * Shows the workspace picker, then `children` with the chosen workspace. A page without a
 * workspace offers to create one; a key session is told these pages need a token.
 */
export function WorkspaceGate({ children }: { children(w: MlWorkspace, ref: WorkspaceRef): ReactNode }) {
  const { session } = useSession();
  const [workspaces, setWorkspaces] = useState<MlWorkspace[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [ref, setRef] = useState<WorkspaceRef | null>(loadWorkspaceRef);
  const [creating, setCreating] = useState(false);
  const choose = (w: MlWorkspace) => {
    const r = refOf(w);
    saveWorkspaceRef(r);
    setRef(r);
  };
  const load = () =>
    listWorkspaces(session).then((list) => {
      setWorkspaces(list);
      return list;
    }, setError);
  useEffect(() => {
    if (session.mode !== "token") return;
    void load();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [session.mode, session.secret, session.subscription]);

  if (session.mode !== "token")
    return <div className="notice">Azure ML endpoints are managed through ARM, which needs a token: sign out and sign in with the output of <code>ingot token</code>.</div>;
  if (error) return <ErrorBox error={error} />;
  if (!workspaces) return <ProgressBar value={null} label="Loading workspaces…" />;
  const current = ref && workspaces.find((w) => w.name.toLowerCase() === ref.name.toLowerCase() && refOf(w).resourceGroup.toLowerCase() === ref.resourceGroup.toLowerCase());
  const created = async (w: MlWorkspace) => {
    setCreating(false);
    await load();
    choose(w);
  };
  if (workspaces.length === 0)
    return (
      <div className="card" data-testid="no-workspace">
        <h2>Create an Azure ML workspace</h2>
        <p>This subscription has no Azure Machine Learning workspace yet. Endpoints live in a workspace: create one to start.</p>
        <CreateWorkspaceForm workspaces={workspaces} onCreated={created} />
      </div>
    );
  const shown = current ?? workspaces[0];
  return (
    <>
      <div className="row ml-workspace-bar">
        <label className="row">
          <span className="field-label">Workspace</span>
          <select
            name="workspace"
            value={shown.id}
            onChange={(e) => {
              const w = workspaces.find((x) => x.id === e.target.value);
              if (w) choose(w);
            }}
          >
            {workspaces.map((w) => (
              <option key={w.id} value={w.id}>
                {w.name} ({w.kind}, {refOf(w).resourceGroup})
              </option>
            ))}
          </select>
        </label>
        <button type="button" className="small" onClick={() => setCreating(true)}>
          + New workspace
        </button>
      </div>
      {creating ? (
        <Modal title="New workspace" onClose={() => setCreating(false)}>
          <CreateWorkspaceForm workspaces={workspaces} onCreated={created} onCancel={() => setCreating(false)} />
        </Modal>
      ) : null}
      <div key={shown.id}>{children(shown, refOf(shown))}</div>
    </>
  );
}
