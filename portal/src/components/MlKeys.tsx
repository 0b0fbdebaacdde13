// An ML endpoint's two keys (serverless or online: both answer POST …/listKeys with
// {primaryKey, secondaryKey}): masked until revealed, copyable, and each one regenerated with
// POST …/regenerateKeys {keyType} after a confirmation (clients using it stop working); a new
// key shows masked again.
import { useEffect, useState } from "react";
import type { ReactNode } from "react";
import { arm, mask } from "../api.ts";
import type { EndpointKeys } from "../ml-api.ts";
import { CopyButton, ErrorBox, Modal, ProgressBar, useSession } from "../ui.tsx";

type KeyType = "Primary" | "Secondary";

function KeyRow({ label, value, onRegenerate }: { label: string; value: string; onRegenerate(): void }) {
  const [shown, setShown] = useState(false);
  return (
    <div className="key-row row">
      <span className="key-label">{label}</span>
      <code className="key" data-testid="key" data-key={label}>
        {shown ? value : mask(value)}
      </code>
      <button type="button" className="small" aria-pressed={shown} aria-label={`${shown ? "Hide" : "Show"} ${label.toLowerCase()}`} onClick={() => setShown(!shown)}>
        {shown ? "Hide" : "Show"}
      </button>
      <CopyButton text={value} />
      <button type="button" className="small" aria-label={`Regenerate ${label.toLowerCase()}`} onClick={onRegenerate}>
        Regenerate
      </button>
    </div>
  );
}

/** `path` is the endpoint's ARM path; `note` says how to send a key. */
export function KeysCard({ path, apiVersion, note }: { path: string; apiVersion: string; note: ReactNode }) {
  const { session } = useSession();
  const [keys, setKeys] = useState<EndpointKeys | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [regenerating, setRegenerating] = useState<KeyType | null>(null);
  const [busy, setBusy] = useState(false);
  const load = () => arm(session, "POST", `${path}/listKeys`, undefined, apiVersion).then(setKeys, setError);
  useEffect(() => {
    void load();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [session, path]);
  const regenerate = async (keyType: KeyType) => {
    setBusy(true);
    setError(null);
    try {
      await arm(session, "POST", `${path}/regenerateKeys`, { keyType }, apiVersion);
      await load();
      setRegenerating(null);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="card ml-keys" data-testid="keys">
      <h3>Keys</h3>
      {!regenerating ? <ErrorBox error={error} /> : null}
      {keys ? (
        <>
          <KeyRow key={keys.primaryKey} label="Primary key" value={keys.primaryKey} onRegenerate={() => setRegenerating("Primary")} />
          <KeyRow key={keys.secondaryKey} label="Secondary key" value={keys.secondaryKey} onRegenerate={() => setRegenerating("Secondary")} />
          <p className="muted small">{note}</p>
        </>
      ) : !error ? (
        <ProgressBar value={null} label="Loading keys…" />
      ) : null}
      {regenerating ? (
        <Modal title={`Regenerate the ${regenerating.toLowerCase()} key`} onClose={() => !busy && setRegenerating(null)}>
          <p>
            Clients that send the current {regenerating.toLowerCase()} key get <code>401</code> from now on. Move them to the other key first, then regenerate this one.
          </p>
          <ErrorBox error={error} />
          <div className="row actions">
            <span className="spacer" />
            <button type="button" onClick={() => setRegenerating(null)} disabled={busy}>
              Cancel
            </button>
            <button type="button" className="danger" onClick={() => regenerate(regenerating)} disabled={busy}>
              {busy ? "Regenerating…" : "Regenerate"}
            </button>
          </div>
        </Modal>
      ) : null}
    </div>
  );
}
