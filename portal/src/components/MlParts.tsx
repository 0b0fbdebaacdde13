// Parts the ML endpoint pages share: the state cell (ARM provisioningState, and the endpoint's
// own state beside it), the delete dialog (DELETE, then wait until a GET answers 404:
// a 202 means the service is still removing it), polling that slows down once nothing is
// provisioning, and the created date.
import { useEffect, useState } from "react";
import type { ReactNode } from "react";
import { arm, sleep } from "../api.ts";
import type { Session } from "../api.ts";
import { ErrorBox, Modal, ProgressBar, usePoll, useSession } from "../ui.tsx";

/** An ARM timestamp in the reader's locale; "—" when there is none. */
export const dateText = (iso?: string) => (iso ? new Date(iso).toLocaleString() : "—");

/** Polls `load` every `fastMs` while `busy(value)` (something is still provisioning), every 5 s once it is not. */
export function usePollWhileBusy<T>(load: () => Promise<T>, busy: (value: T) => boolean, deps: unknown[], fastMs = 1000): ReturnType<typeof usePoll<T>> {
  const [fast, setFast] = useState(true);
  const poll = usePoll(load, fast ? fastMs : 5000, [...deps, fast]);
  useEffect(() => {
    if (poll.value) setFast(busy(poll.value));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [poll.value]);
  return poll;
}

export function EndpointState({ state, endpointState }: { state: string; endpointState?: string }) {
  return (
    <div className="state-cell">
      <span className={`state-${state}`} data-testid="state">
        {state}
      </span>
      {endpointState ? <span className="muted small"> · {endpointState}</span> : null}
    </div>
  );
}

/** Deletes the resource at `path` after a confirmation; `onDeleted` runs once it is gone. */
export function DeleteDialog({ title, children, path, apiVersion, onClose, onDeleted }: { title: string; children: ReactNode; path: string; apiVersion: string; onClose(): void; onDeleted(): void }) {
  const { session } = useSession();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const remove = async () => {
    setBusy(true);
    setError(null);
    try {
      await arm(session, "DELETE", path, undefined, apiVersion);
      await waitGone(session, path, apiVersion);
      onDeleted();
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  return (
    <Modal title={title} onClose={busy ? () => undefined : onClose}>
      {children}
      <ErrorBox error={error} />
      {busy ? <ProgressBar value={null} label="Deleting…" /> : null}
      <div className="row actions">
        <span className="spacer" />
        <button type="button" onClick={onClose} disabled={busy}>
          Cancel
        </button>
        <button type="button" className="danger" onClick={remove} disabled={busy}>
          Delete
        </button>
      </div>
    </Modal>
  );
}

async function waitGone(s: Session, path: string, apiVersion: string): Promise<void> {
  for (let i = 0; i < 240; i++) {
    try {
      await arm(s, "GET", path, undefined, apiVersion);
    } catch (err) {
      if ((err as { status?: number }).status === 404) return;
      throw err;
    }
    await sleep(500);
  }
  throw new Error("The service accepted the delete but the resource is still there after two minutes. Reload the page to see whether it is gone.");
}
