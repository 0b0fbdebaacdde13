// Content filters (`#/content-filters`): the account's RAI policies (built-ins read-only, custom
// ones created and edited: per-category thresholds per side, jailbreak and protected-material
// toggles, blocking or annotate only, mode, attached blocklists), its blocklists and their items,
// and which deployment uses which policy. All over ARM, as the Foundry portal does.
import { useEffect, useState } from "react";
import type { ArmDeployment } from "../components/DeployDialog.tsx";
import { listDeployments } from "../components/DeployDialog.tsx";
import {
  addItems,
  DEFAULT_POLICY,
  deleteBlocklist,
  deleteItems,
  deletePolicy,
  itemNameOf,
  listBlocklists,
  listItems,
  listPolicies,
  putBlocklist,
} from "../components/ContentFilterParts.tsx";
import type { RaiBlocklist, RaiBlocklistItem, RaiPolicy } from "../components/ContentFilterParts.tsx";
import { PolicyEditor } from "../components/PolicyEditor.tsx";
import { ErrorBox, Field, useSession } from "../ui.tsx";

export function ContentFiltersPage() {
  const { session } = useSession();
  const [policies, setPolicies] = useState<RaiPolicy[] | null>(null);
  const [blocklists, setBlocklists] = useState<RaiBlocklist[] | null>(null);
  const [deployments, setDeployments] = useState<ArmDeployment[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [editing, setEditing] = useState<{ policy?: RaiPolicy; readOnly?: boolean } | null>(null);
  const [openList, setOpenList] = useState<string | null>(null);
  const [newList, setNewList] = useState({ name: "", description: "" });

  const reload = () => {
    Promise.all([listPolicies(session), listBlocklists(session), listDeployments(session)]).then(([p, b, d]) => {
      setPolicies(p);
      setBlocklists(b);
      setDeployments(d);
    }, setError);
  };
  useEffect(reload, [session]);

  const usedBy = (policy: string) => deployments.filter((d) => (d.properties.raiPolicyName ?? DEFAULT_POLICY).toLowerCase() === policy.toLowerCase()).map((d) => d.name);
  const act = (f: () => Promise<unknown>) => f().then(reload, setError);

  return (
    <>
      <div className="page-head row">
        <h1>Content filters</h1>
      </div>
      <p className="lead">
        Each deployment's prompts and completions pass through its content-filter policy (Microsoft.DefaultV2 unless it names another). Create custom policies with your own thresholds and blocklists, then pick
        one when you deploy a model.
      </p>
      <ErrorBox error={error} onDismiss={() => setError(null)} />
      <section className="card" aria-labelledby="policies-h">
        <div className="row">
          <h2 id="policies-h">Policies</h2>
          <span className="spacer" />
          <button className="primary" onClick={() => setEditing({})} disabled={!policies}>
            Create policy
          </button>
        </div>
        <table data-testid="policies">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Type</th>
              <th scope="col">Mode</th>
              <th scope="col">Blocklists</th>
              <th scope="col">Used by</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {(policies ?? []).map((p) => {
              const builtIn = p.properties.type === "SystemManaged";
              return (
                <tr key={p.name}>
                  <th scope="row">{p.name}</th>
                  <td>{builtIn ? "Built-in" : `Custom (from ${p.properties.basePolicyName || "—"})`}</td>
                  <td>{p.properties.mode}</td>
                  <td>{p.properties.customBlocklists.map((b) => `${b.blocklistName} (${b.source.toLowerCase()})`).join(", ") || "—"}</td>
                  <td>{usedBy(p.name).join(", ") || "—"}</td>
                  <td className="row">
                    <button className="small" onClick={() => setEditing({ policy: p, readOnly: builtIn })} aria-label={`${builtIn ? "View" : "Edit"} policy ${p.name}`}>
                      {builtIn ? "View" : "Edit"}
                    </button>
                    {builtIn ? null : (
                      <button className="small danger" onClick={() => confirm(`Delete policy ${p.name}?`) && act(() => deletePolicy(session, p.name))} aria-label={`Delete policy ${p.name}`}>
                        Delete
                      </button>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </section>
      <section className="card" aria-labelledby="blocklists-h">
        <h2 id="blocklists-h">Blocklists</h2>
        <form
          className="row"
          onSubmit={(e) => {
            e.preventDefault();
            if (!newList.name.trim()) return;
            const name = newList.name.trim();
            act(() => putBlocklist(session, name, newList.description).then(() => (setNewList({ name: "", description: "" }), setOpenList(name))));
          }}
        >
          <Field label="New blocklist name">
            <input name="blocklistName" value={newList.name} onChange={(e) => setNewList({ ...newList, name: e.target.value })} />
          </Field>
          <Field label="Description">
            <input name="blocklistDescription" value={newList.description} onChange={(e) => setNewList({ ...newList, description: e.target.value })} />
          </Field>
          <button type="submit" disabled={!newList.name.trim()}>
            Create blocklist
          </button>
        </form>
        <table data-testid="blocklists">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Description</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {(blocklists ?? []).map((b) => (
              <tr key={b.name}>
                <th scope="row">{b.name}</th>
                <td>{b.properties.description || "—"}</td>
                <td className="row">
                  <button className="small" aria-expanded={openList === b.name} onClick={() => setOpenList(openList === b.name ? null : b.name)} aria-label={`Items of blocklist ${b.name}`}>
                    Items
                  </button>
                  <button className="small danger" onClick={() => confirm(`Delete blocklist ${b.name}?`) && act(() => deleteBlocklist(session, b.name))} aria-label={`Delete blocklist ${b.name}`}>
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {blocklists && blocklists.length === 0 ? <p className="muted">No blocklists yet.</p> : null}
        {openList ? <BlocklistItems key={openList} list={openList} onError={setError} /> : null}
      </section>
      <section className="card" aria-labelledby="usage-h">
        <h2 id="usage-h">Deployments</h2>
        <table data-testid="deployment-policies">
          <thead>
            <tr>
              <th scope="col">Deployment</th>
              <th scope="col">Model</th>
              <th scope="col">Content filter</th>
            </tr>
          </thead>
          <tbody>
            {deployments.map((d) => (
              <tr key={d.name}>
                <th scope="row">{d.name}</th>
                <td>{d.properties.model.name}</td>
                <td>{d.properties.raiPolicyName ?? DEFAULT_POLICY}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      {editing && policies ? (
        <PolicyEditor
          policy={editing.policy}
          readOnly={!!editing.readOnly}
          policies={policies}
          blocklists={blocklists ?? []}
          onClose={() => setEditing(null)}
          onSaved={() => {
            setEditing(null);
            reload();
          }}
        />
      ) : null}
    </>
  );
}

function BlocklistItems({ list, onError }: { list: string; onError(e: unknown): void }) {
  const { session } = useSession();
  const [items, setItems] = useState<RaiBlocklistItem[] | null>(null);
  const [pattern, setPattern] = useState("");
  const [regex, setRegex] = useState(false);
  const [batch, setBatch] = useState("");
  const [selected, setSelected] = useState<string[]>([]);
  const [error, setError] = useState<unknown>(null);
  const reload = () => listItems(session, list).then(setItems, onError);
  useEffect(() => void reload(), [list]);
  const add = (patterns: string[]) => {
    const taken = new Set((items ?? []).map((i) => i.name));
    setError(null);
    addItems(session, list, patterns.map((p) => ({ name: itemNameOf(p, taken), properties: { pattern: p, isRegex: regex } }))).then(() => {
      setPattern("");
      setBatch("");
      return reload();
    }, setError);
  };
  return (
    <div className="card" data-testid="blocklist-items" aria-label={`Items of ${list}`} role="region">
      <h3>Items of {list}</h3>
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          if (pattern.trim()) add([pattern.trim()]);
        }}
      >
        <Field label="Pattern">
          <input name="pattern" value={pattern} maxLength={1000} onChange={(e) => setPattern(e.target.value)} />
        </Field>
        <label className="check">
          <input name="isRegex" type="checkbox" checked={regex} onChange={(e) => setRegex(e.target.checked)} /> Regular expression
        </label>
        <button type="submit" disabled={!pattern.trim()}>
          Add item
        </button>
      </form>
      <Field label="Add several (one pattern per line)">
        <textarea name="batch" rows={3} value={batch} onChange={(e) => setBatch(e.target.value)} />
      </Field>
      <div className="row">
        <button disabled={!batch.trim()} onClick={() => add(batch.split("\n").map((l) => l.trim()).filter(Boolean))}>
          Add all
        </button>
        <button className="danger" disabled={selected.length === 0} onClick={() => deleteItems(session, list, selected).then(() => (setSelected([]), reload()), setError)}>
          Delete selected ({selected.length})
        </button>
      </div>
      <ErrorBox error={error} onDismiss={() => setError(null)} />
      <table>
        <thead>
          <tr>
            <th scope="col">Select</th>
            <th scope="col">Name</th>
            <th scope="col">Pattern</th>
            <th scope="col">Kind</th>
          </tr>
        </thead>
        <tbody>
          {(items ?? []).map((i) => (
            <tr key={i.name}>
              <td>
                <input type="checkbox" aria-label={`Select item ${i.name}`} checked={selected.includes(i.name)} onChange={(e) => setSelected(e.target.checked ? [...selected, i.name] : selected.filter((n) => n !== i.name))} />
              </td>
              <th scope="row">{i.name}</th>
              <td>
                <code>{i.properties.pattern}</code>
              </td>
              <td>{i.properties.isRegex ? "regex" : "plain"}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {items && items.length === 0 ? <p className="muted">No items yet.</p> : null}
    </div>
  );
}
