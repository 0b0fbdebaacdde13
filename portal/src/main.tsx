// Portal entry: sign-in, then a shell (account/project switcher, navigation) around the pages.
import { StrictMode, useEffect, useState } from "react";
import { createRoot } from "react-dom/client";
import { accountId, arm, DEFAULT_SUBSCRIPTION, loadSession, saveSession, signIn, signInWithLink, switchAccount } from "./api.ts";
import type { Session } from "./api.ts";
import { BatchPage } from "./pages/Batch.tsx";
import { CatalogPage } from "./pages/Catalog.tsx";
import { ContentFiltersPage } from "./pages/ContentFilters.tsx";
import { DeploymentsPage } from "./pages/Deployments.tsx";
import { FineTuningPage } from "./pages/FineTuning.tsx";
import { JobPage } from "./pages/Job.tsx";
import { OnlinePage } from "./pages/Online.tsx";
import { PlaygroundPage } from "./pages/Playground.tsx";
import { ServerlessPage } from "./pages/Serverless.tsx";
import { UsagePage } from "./pages/Usage.tsx";
import { ErrorBox, Field, navigate, SessionContext, useRoute, useSession } from "./ui.tsx";
import "./styles.css";

const NEW_PROJECT = "\u0000new";

const NAV: [string, string][] = [
  ["catalog", "Model catalog"],
  ["deployments", "Deployments"],
  ["playground", "Playground"],
  ["content-filters", "Content filters"],
  ["fine-tuning", "Fine-tuning"],
  ["batch", "Batch jobs"],
  ["serverless", "Serverless endpoints"],
  ["online", "Online endpoints"],
  ["usage", "Usage"],
];

const LOCAL_ACCOUNT = { subscription: DEFAULT_SUBSCRIPTION, resourceGroup: "ingot", account: "ingot", project: "default" };

/** The one-time code of a sign-in link (`/?signin=…`, printed by `ingot up`), taken out of the address bar at once. */
function takeLinkCode(): string | null {
  const params = new URLSearchParams(location.search);
  const code = params.get("signin");
  if (code === null) return null;
  params.delete("signin");
  const rest = params.toString();
  // Out of the address bar and the history, so a reload or Back does not replay a spent code.
  history.replaceState(null, "", `${location.pathname}${rest ? `?${rest}` : ""}${location.hash}`);
  return code;
}
const linkCode = takeLinkCode();
/** Redeemed once per page load (React may run effects twice). */
let linkSignIn: Promise<Session> | null = null;

function SignIn({ onSignedIn }: { onSignedIn(s: Session): void }) {
  const [draft, setDraft] = useState<Session>({ mode: "token", secret: "", ...LOCAL_ACCOUNT });
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [viaLink, setViaLink] = useState(linkCode !== null);
  useEffect(() => {
    if (linkCode === null) return;
    linkSignIn ??= signInWithLink(linkCode, LOCAL_ACCOUNT);
    linkSignIn.then(onSignedIn, (e) => {
      setError(e);
      setViaLink(false);
    });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  if (viaLink)
    return (
      <main className="signin">
        <h1>
          <span className="logo" /> Ingot
        </h1>
        <p data-testid="signin-link">Signing in with the link from 'ingot up'…</p>
      </main>
    );
  const set = (patch: Partial<Session>) => setDraft((d) => ({ ...d, ...patch }));
  return (
    <main className="signin">
      <h1>
        <span className="logo" /> Ingot
      </h1>
      <p>Sign in to your Ingot server with a token or an account key.</p>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          setError(null);
          try {
            onSignedIn(await signIn(draft));
          } catch (err) {
            setError(err);
          } finally {
            setBusy(false);
          }
        }}
      >
        <div className="tabs" role="tablist">
          <button type="button" role="tab" aria-selected={draft.mode === "token"} onClick={() => set({ mode: "token" })}>
            Token
          </button>
          <button type="button" role="tab" aria-selected={draft.mode === "key"} onClick={() => set({ mode: "key" })}>
            Account key
          </button>
        </div>
        {draft.mode === "token" ? (
          <Field label="Access token" hint={<>Print one with <code>ingot token</code> (or <code>az account get-access-token</code>'s equivalent). A token opens every page.</>}>
            <textarea name="token" rows={4} value={draft.secret} onChange={(e) => set({ secret: e.target.value })} placeholder="eyJhbGciOi…" />
          </Field>
        ) : (
          <Field label="Account key" hint={<>Printed at first start, or <code>ingot keys list</code>. A key shows its account's deployments and models and opens the playground, files and fine-tuning; deploying and managing need a token.</>}>
            <input name="key" type="password" value={draft.secret} onChange={(e) => set({ secret: e.target.value })} />
          </Field>
        )}
        <details>
          <summary>Account and project</summary>
          <Field label="Subscription">
            <input name="subscription" value={draft.subscription} onChange={(e) => set({ subscription: e.target.value })} />
          </Field>
          <Field label="Resource group">
            <input name="resourceGroup" value={draft.resourceGroup} onChange={(e) => set({ resourceGroup: e.target.value })} />
          </Field>
          <Field label="Account">
            <input name="account" value={draft.account} onChange={(e) => set({ account: e.target.value })} />
          </Field>
          <Field label="Project">
            <input name="project" value={draft.project} onChange={(e) => set({ project: e.target.value })} />
          </Field>
        </details>
        <ErrorBox error={error} />
        <button type="submit" className="primary" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}

function AccountSwitcher() {
  const { session, setSession } = useSession();
  const [accounts, setAccounts] = useState<{ name: string; resourceGroup: string }[]>([]);
  const [projects, setProjects] = useState<string[]>([]);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    if (session.mode !== "token") return;
    arm(session, "GET", `${accountId(session)}/projects`)
      .then((list) => setProjects(list.value.map((p: { name: string }) => p.name)))
      .catch(() => setProjects([]));
  }, [session.mode, session.secret, session.account, session.project]);
  useEffect(() => {
    if (session.mode !== "token") return;
    arm(session, "GET", `/subscriptions/${encodeURIComponent(session.subscription)}/providers/Microsoft.CognitiveServices/accounts`)
      .then((list) => setAccounts(list.value.map((a: { name: string; id: string }) => ({ name: a.name, resourceGroup: a.id.split("/")[4] }))))
      .catch(setError);
  }, [session.mode, session.secret, session.subscription]);
  return (
    <div className="switcher">
      <label>
        Account{" "}
        {session.mode === "token" && accounts.length > 0 ? (
          <select
            name="account"
            value={`${session.resourceGroup}/${session.account}`}
            onChange={async (e) => {
              const [resourceGroup, account] = e.target.value.split("/");
              try {
                setSession(await switchAccount({ ...session, resourceGroup }, account));
              } catch (err) {
                setError(err);
              }
            }}
          >
            {accounts.map((a) => (
              <option key={`${a.resourceGroup}/${a.name}`} value={`${a.resourceGroup}/${a.name}`}>
                {a.name} ({a.resourceGroup})
              </option>
            ))}
          </select>
        ) : (
          <b title={accountId(session)}>{session.account}</b>
        )}
      </label>
      <label>
        Project{" "}
        {session.mode === "token" && projects.length > 0 ? (
          <select
            name="project"
            value={session.project}
            onChange={async (e) => {
              if (e.target.value !== NEW_PROJECT) return setSession({ ...session, project: e.target.value });
              const name = window.prompt("New project name (letters, digits, '-', '_', '.'):")?.trim();
              if (!name) return;
              try {
                await arm(session, "PUT", `${accountId(session)}/projects/${encodeURIComponent(name)}`, { location: "local", identity: { type: "SystemAssigned" }, properties: { displayName: name } });
                setSession({ ...session, project: name });
              } catch (err) {
                setError(err);
              }
            }}
          >
            {projects.map((p) => (
              <option key={p} value={p}>
                {p}
              </option>
            ))}
            <option value={NEW_PROJECT}>+ New project…</option>
          </select>
        ) : (
          <input
            name="project"
            className="narrow"
            defaultValue={session.project}
            onBlur={(e) => e.target.value.trim() && e.target.value !== session.project && setSession({ ...session, project: e.target.value.trim() })}
            onKeyDown={(e) => e.key === "Enter" && (e.target as HTMLInputElement).blur()}
          />
        )}
      </label>
      <span className="badge">{session.mode === "token" ? "token" : "key"}</span>
      <button className="small" onClick={() => setSession(null)}>
        Sign out
      </button>
      {error ? <ErrorBox error={error} onDismiss={() => setError(null)} /> : null}
    </div>
  );
}

function Page() {
  const { parts } = useRoute();
  switch (parts[0]) {
    case "catalog":
      return <CatalogPage />;
    case "deployments":
      return <DeploymentsPage />;
    case "playground":
      return <PlaygroundPage />;
    case "content-filters":
      return <ContentFiltersPage />;
    case "fine-tuning":
      return parts[1] === "jobs" && parts[2] ? <JobPage id={parts[2]} /> : <FineTuningPage />;
    case "usage":
      return <UsagePage />;
    case "batch":
      return <BatchPage />;
    case "serverless":
      return <ServerlessPage />;
    case "online":
      return <OnlinePage />;
    default:
      navigate("/catalog");
      return null;
  }
}

function App() {
  // A sign-in link starts a new session, whatever this tab held before.
  const [session, setSessionState] = useState<Session | null>(() => (linkCode === null ? loadSession() : null));
  const { parts } = useRoute();
  const setSession = (s: Session | null) => {
    saveSession(s);
    setSessionState(s);
  };
  if (!session) return <SignIn onSignedIn={setSession} />;
  return (
    <SessionContext.Provider value={{ session, setSession }}>
      <header className="top">
        <a href="#/catalog" className="brand">
          <span className="logo" /> Ingot
        </a>
        <AccountSwitcher key={`${session.account}/${session.project}`} />
      </header>
      <nav className="side">
        {NAV.map(([id, label]) => (
          <a key={id} href={`#/${id}`} className={parts[0] === id ? "active" : ""}>
            {label}
          </a>
        ))}
      </nav>
      <main className="content" key={`${session.account}/${session.project}`}>
        <Page />
      </main>
    </SessionContext.Provider>
  );
}

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
