// The content-filter policy editor of the Content filters page: per-category thresholds per side
// (Low/Medium/High/Off), on/off for the binary filters, block or annotate only, the mode, the base
// built-in and the attached blocklists. Built-ins open read-only.
import { useState } from "react";
import { DEFAULT_POLICY, putPolicy } from "./ContentFilterParts.tsx";
import type { RaiBlocklist, RaiBlocklistRef, RaiContentFilter, RaiPolicy } from "./ContentFilterParts.tsx";
import { ErrorBox, Field, Modal, useSession } from "../ui.tsx";

const MULTI = ["Hate", "Sexual", "Violence", "Selfharm"];
const CATEGORIES: { name: string; label: string; sides: ("Prompt" | "Completion")[] }[] = [
  { name: "Hate", label: "Hate", sides: ["Prompt", "Completion"] },
  { name: "Sexual", label: "Sexual", sides: ["Prompt", "Completion"] },
  { name: "Violence", label: "Violence", sides: ["Prompt", "Completion"] },
  { name: "Selfharm", label: "Self-harm", sides: ["Prompt", "Completion"] },
  { name: "Jailbreak", label: "Jailbreak (prompt shields)", sides: ["Prompt"] },
  { name: "Indirect Attack", label: "Indirect attack", sides: ["Prompt"] },
  { name: "Protected Material Text", label: "Protected material (text)", sides: ["Completion"] },
  { name: "Protected Material Code", label: "Protected material (code)", sides: ["Completion"] },
  { name: "Profanity", label: "Profanity", sides: ["Prompt", "Completion"] },
];
const MODES = ["Default", "Asynchronous_filter", "Blocking", "Deferred"];
const squash = (s: string) => s.toLowerCase().replace(/[\s_-]/g, "");

type Level = "Low" | "Medium" | "High" | "Off";

export function PolicyEditor({ policy, readOnly, policies, blocklists, onClose, onSaved }: { policy?: RaiPolicy; readOnly: boolean; policies: RaiPolicy[]; blocklists: RaiBlocklist[]; onClose(): void; onSaved(): void }) {
  const { session } = useSession();
  const builtIns = policies.filter((p) => p.properties.type === "SystemManaged").map((p) => p.name);
  const [name, setName] = useState(policy?.name ?? "");
  const [basePolicy, setBasePolicy] = useState(policy?.properties.basePolicyName || DEFAULT_POLICY);
  const [mode, setMode] = useState(policy?.properties.mode ?? "Default");
  const startFrom = policy ?? policies.find((p) => p.name === DEFAULT_POLICY);
  const [filters, setFilters] = useState<RaiContentFilter[]>(() => structuredClone(startFrom?.properties.contentFilters ?? []));
  const [lists, setLists] = useState<RaiBlocklistRef[]>(() => structuredClone(policy?.properties.customBlocklists ?? []));
  const [error, setError] = useState<unknown>(null);
  const [saving, setSaving] = useState(false);

  const find = (cat: string, side: string) => filters.find((f) => squash(f.name) === squash(cat) && f.source === side);
  const update = (cat: string, side: "Prompt" | "Completion", change: Partial<RaiContentFilter>) => {
    const current = find(cat, side) ?? { name: cat, source: side, enabled: false, blocking: false, ...(MULTI.includes(cat) ? { severityThreshold: "Medium" as const } : {}) };
    setFilters([...filters.filter((f) => f !== find(cat, side)), { ...current, ...change }]);
  };
  const hasList = (list: string, side: string) => lists.some((b) => b.blocklistName === list && b.source === side);
  const toggleList = (list: string, side: "Prompt" | "Completion", on: boolean) =>
    setLists(on ? [...lists, { blocklistName: list, source: side, blocking: true }] : lists.filter((b) => !(b.blocklistName === list && b.source === side)));
  const save = async () => {
    setSaving(true);
    setError(null);
    try {
      await putPolicy(session, name.trim(), { basePolicyName: basePolicy, mode, contentFilters: filters, customBlocklists: lists });
      onSaved();
    } catch (e) {
      setError(e);
      setSaving(false);
    }
  };

  return (
    <Modal title={readOnly ? `Policy ${policy?.name}` : policy ? `Edit policy ${policy.name}` : "Create content-filter policy"} onClose={onClose} className="wide">
      <form
        className="form-grid"
        onSubmit={(e) => {
          e.preventDefault();
          if (!readOnly) void save();
        }}
      >
        {readOnly ? <div className="notice">Built-in policies are read-only. Create a custom policy to change thresholds or attach blocklists.</div> : null}
        <div className="params">
          <Field label="Policy name">
            <input name="policyName" value={name} required disabled={!!policy} autoFocus={!policy} onChange={(e) => setName(e.target.value)} />
          </Field>
          <Field label="Mode" hint="Default holds streamed output back until checked; Asynchronous_filter streams at once and annotates after.">
            <select name="mode" value={mode} disabled={readOnly} onChange={(e) => setMode(e.target.value)}>
              {MODES.map((m) => (
                <option key={m}>{m}</option>
              ))}
            </select>
          </Field>
        </div>
        {readOnly ? null : (
          <Field label="Base policy">
            <select name="basePolicy" value={basePolicy} onChange={(e) => setBasePolicy(e.target.value)}>
              {builtIns.map((b) => (
                <option key={b}>{b}</option>
              ))}
            </select>
          </Field>
        )}
        <fieldset disabled={readOnly}>
          <legend>Filters (severity threshold: the lowest severity that is filtered)</legend>
          <table className="policy-filters" data-testid="policy-filters">
            <thead>
              <tr>
                <th scope="col">Category</th>
                <th scope="col">Prompt</th>
                <th scope="col">Completion</th>
              </tr>
            </thead>
            <tbody>
              {CATEGORIES.map((c) => (
                <tr key={c.name}>
                  <th scope="row">{c.label}</th>
                  {(["Prompt", "Completion"] as const).map((side) => {
                    if (!c.sides.includes(side)) return <td key={side} className="muted">—</td>;
                    const f = find(c.name, side);
                    const level: Level = !f?.enabled ? "Off" : (f.severityThreshold ?? "Medium");
                    const label = `${c.label} ${side.toLowerCase()}`;
                    return (
                      <td key={side}>
                        <div className="row">
                          {MULTI.includes(c.name) ? (
                            <select aria-label={`${label} threshold`} value={level} onChange={(e) => update(c.name, side, e.target.value === "Off" ? { enabled: false, blocking: false } : { enabled: true, blocking: f?.enabled ? f.blocking : true, severityThreshold: e.target.value as RaiContentFilter["severityThreshold"] })}>
                              {["Low", "Medium", "High", "Off"].map((l) => (
                                <option key={l}>{l}</option>
                              ))}
                            </select>
                          ) : (
                            <label className="check">
                              <input type="checkbox" aria-label={`${label} on`} checked={!!f?.enabled} onChange={(e) => update(c.name, side, { enabled: e.target.checked, blocking: e.target.checked })} /> On
                            </label>
                          )}
                          <select aria-label={`${label} action`} value={f?.enabled && f.blocking ? "block" : "annotate"} disabled={!f?.enabled} onChange={(e) => update(c.name, side, { blocking: e.target.value === "block" })}>
                            <option value="block">Block</option>
                            <option value="annotate">Annotate only</option>
                          </select>
                        </div>
                      </td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </fieldset>
        <fieldset disabled={readOnly}>
          <legend>Blocklists</legend>
          {blocklists.length === 0 ? <p className="muted">No blocklists on this account: create one on this page first.</p> : null}
          {blocklists.map((b) => (
            <div className="row" key={b.name}>
              <span className="grow">{b.name}</span>
              {(["Prompt", "Completion"] as const).map((side) => (
                <label className="check" key={side}>
                  <input type="checkbox" aria-label={`Blocklist ${b.name} on ${side.toLowerCase()}s`} checked={hasList(b.name, side)} onChange={(e) => toggleList(b.name, side, e.target.checked)} /> {side}s
                </label>
              ))}
            </div>
          ))}
        </fieldset>
        <ErrorBox error={error} onDismiss={() => setError(null)} />
        <div className="row actions">
          <span className="spacer" />
          <button type="button" onClick={onClose}>
            {readOnly ? "Close" : "Cancel"}
          </button>
          {readOnly ? null : (
            <button type="submit" className="primary" disabled={saving || !name.trim()}>
              {policy ? "Save policy" : "Create policy"}
            </button>
          )}
        </div>
      </form>
    </Modal>
  );
}
