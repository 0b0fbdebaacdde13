// Content filtering in the portal: the account's RAI policies and blocklists over ARM
// (raiPolicies, raiBlocklists, raiBlocklistItems), the policy picker of the Deploy dialog, and how
// the playground shows a reply's annotations (prompt_filter_results, content_filter_results) and
// a filtered prompt (the 400 content_filter's innererror.content_filter_result).
import { useEffect, useState } from "react";
import { accountId, arm } from "../api.ts";
import type { Session } from "../api.ts";

export const DEFAULT_POLICY = "Microsoft.DefaultV2";

export interface RaiContentFilter {
  name: string;
  source: "Prompt" | "Completion";
  enabled: boolean;
  blocking: boolean;
  severityThreshold?: "Low" | "Medium" | "High";
}
export interface RaiBlocklistRef {
  blocklistName: string;
  source: "Prompt" | "Completion";
  blocking: boolean;
}
export interface RaiPolicy {
  name: string;
  properties: {
    type: "SystemManaged" | "UserManaged";
    mode: string;
    basePolicyName?: string;
    contentFilters: RaiContentFilter[];
    customBlocklists: RaiBlocklistRef[];
  };
}
export interface RaiBlocklist {
  name: string;
  properties: { description?: string };
}
export interface RaiBlocklistItem {
  name: string;
  properties: { pattern: string; isRegex: boolean };
}

const base = (s: Session) => accountId(s);
export const listPolicies = async (s: Session): Promise<RaiPolicy[]> => (await arm(s, "GET", `${base(s)}/raiPolicies`)).value;
export const putPolicy = (s: Session, name: string, properties: Record<string, unknown>): Promise<RaiPolicy> => arm(s, "PUT", `${base(s)}/raiPolicies/${encodeURIComponent(name)}`, { properties });
export const deletePolicy = (s: Session, name: string) => arm(s, "DELETE", `${base(s)}/raiPolicies/${encodeURIComponent(name)}`);
export const listBlocklists = async (s: Session): Promise<RaiBlocklist[]> => (await arm(s, "GET", `${base(s)}/raiBlocklists`)).value;
export const putBlocklist = (s: Session, name: string, description: string) => arm(s, "PUT", `${base(s)}/raiBlocklists/${encodeURIComponent(name)}`, { properties: { description } });
export const deleteBlocklist = (s: Session, name: string) => arm(s, "DELETE", `${base(s)}/raiBlocklists/${encodeURIComponent(name)}`);
const itemsPath = (s: Session, list: string) => `${base(s)}/raiBlocklists/${encodeURIComponent(list)}`;
export const listItems = async (s: Session, list: string): Promise<RaiBlocklistItem[]> => (await arm(s, "GET", `${itemsPath(s, list)}/raiBlocklistItems`)).value;
export const addItems = (s: Session, list: string, items: { name: string; properties: { pattern: string; isRegex: boolean } }[]) => arm(s, "POST", `${itemsPath(s, list)}/addRaiBlocklistItems`, items);
export const deleteItems = (s: Session, list: string, names: string[]) => arm(s, "POST", `${itemsPath(s, list)}/deleteRaiBlocklistItems`, names);

/** An item name from its pattern (names allow letters, digits, _ . -), not one already taken. */
export function itemNameOf(pattern: string, taken: Set<string>): string {
  const stem = pattern.toLowerCase().replace(/[^a-z0-9_.-]+/g, "-").replace(/^[^a-z0-9]+|-+$/g, "").slice(0, 48) || "item";
  let name = stem;
  for (let i = 2; taken.has(name); i++) name = `${stem}-${i}`;
  taken.add(name);
  return name;
}

/** The Deploy dialog's content-filter picker: the built-ins and the account's custom policies. */
export function RaiPolicyPicker({ session, value, onChange }: { session: Session; value: string; onChange(name: string): void }) {
  const [policies, setPolicies] = useState<RaiPolicy[] | null>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    listPolicies(session).then(setPolicies, () => setFailed(true));
  }, [session]);
  const names = policies?.map((p) => p.name) ?? [DEFAULT_POLICY];
  const current = policies?.find((p) => p.name === value);
  return (
    <label className="field">
      <span className="field-label">Content filter</span>
      <select name="raiPolicy" value={value} onChange={(e) => onChange(e.target.value)}>
        {(names.includes(value) ? names : [value, ...names]).map((n) => (
          <option key={n} value={n}>
            {n}
            {n === DEFAULT_POLICY ? " (default)" : ""}
          </option>
        ))}
      </select>
      <span className="field-hint">
        {failed
          ? "Could not list the account's policies; the default applies."
          : current
            ? `${current.properties.type === "SystemManaged" ? "Built-in" : "Custom"} policy, mode ${current.properties.mode}. Manage policies on the Content filters page.`
            : "The policy that filters this deployment's prompts and completions (raiPolicyName)."}
      </span>
    </label>
  );
}

/** Annotation keys, as Azure names them on the wire, and how the portal labels them. */
const LABELS: [string, string][] = [
  ["hate", "Hate"],
  ["sexual", "Sexual"],
  ["violence", "Violence"],
  ["self_harm", "Self-harm"],
  ["jailbreak", "Jailbreak"],
  ["indirect_attack", "Indirect attack"],
  ["protected_material_text", "Protected material (text)"],
  ["protected_material_code", "Protected material (code)"],
  ["profanity", "Profanity"],
];

type Results = Record<string, any>;

function outcome(r: any): string {
  if (!r) return "";
  if (r.error) return `error: ${r.error.message ?? r.error.code}`;
  const what = r.severity !== undefined ? r.severity : r.detected ? "detected" : "not detected";
  return r.filtered ? `${what}, filtered` : what;
}

/** Merges a stream's annotation chunks: a later result replaces an earlier one, but filtered stays filtered. */
export function mergeResults(into: Results | undefined, next: Results | undefined): Results | undefined {
  if (!next || Object.keys(next).length === 0) return into;
  const out: Results = { ...(into ?? {}) };
  for (const [k, v] of Object.entries(next)) {
    if (k === "custom_blocklists") {
      // Prompt side: {filtered, details}; a choice's completion side: [{filtered, id}].
      const add = Array.isArray(v) ? { filtered: v.some((d: any) => d.filtered), details: v } : v;
      const prev = out[k] ?? { filtered: false, details: [] };
      const details = [...(prev.details ?? []), ...(add.details ?? [])].filter((d: any, i: number, all: any[]) => all.findIndex((x) => x.id === d.id) === i);
      out[k] = { filtered: !!prev.filtered || !!add.filtered, details };
    } else out[k] = out[k]?.filtered && !v?.filtered ? out[k] : v;
  }
  return out;
}

/** The categories that filtered, e.g. "violence (medium), blocklist competitors". */
export function filteredText(r: Results | undefined): string {
  if (!r) return "";
  const parts: string[] = [];
  for (const [key, label] of LABELS) if (r[key]?.filtered) parts.push(r[key].severity ? `${label.toLowerCase()} (${r[key].severity})` : label.toLowerCase());
  for (const d of r.custom_blocklists?.details ?? []) if (d.filtered) parts.push(`blocklist ${d.id}`);
  return parts.join(", ");
}

/** One side's annotations as a small table (the Azure playground's content-filter details). */
export function FilterResultsTable({ title, results }: { title: string; results: Results | undefined }) {
  if (!results || Object.keys(results).length === 0) return null;
  const lists = results.custom_blocklists;
  return (
    <table className="filter-results" data-testid={`filter-${title.toLowerCase().replace(/\W+/g, "-")}`}>
      <caption>{title}</caption>
      <thead>
        <tr>
          <th scope="col">Category</th>
          <th scope="col">Result</th>
        </tr>
      </thead>
      <tbody>
        {LABELS.filter(([k]) => results[k]).map(([k, label]) => (
          <tr key={k} className={results[k].filtered ? "bad" : ""}>
            <th scope="row">{label}</th>
            <td>{outcome(results[k])}</td>
          </tr>
        ))}
        {lists ? (
          <tr className={lists.filtered ? "bad" : ""}>
            <th scope="row">Custom blocklists</th>
            <td>{lists.details?.length ? lists.details.map((d: any) => `${d.id}${d.filtered ? " (filtered)" : ""}`).join(", ") : "no match"}</td>
          </tr>
        ) : null}
      </tbody>
    </table>
  );
}

/** The annotations under an assistant message, folded away until asked for. */
export function Annotations({ prompt, completion, finishReason }: { prompt?: Results; completion?: Results; finishReason?: string | null }) {
  if (!prompt && !completion && finishReason !== "content_filter") return null;
  const cut = finishReason === "content_filter";
  return (
    <details className="annotations" data-testid="annotations" open={cut}>
      <summary>{cut ? `Content filtered: the answer was cut here${filteredText(completion) ? ` (${filteredText(completion)})` : ""}` : "Content filtering: passed"}</summary>
      <FilterResultsTable title="Prompt" results={prompt} />
      <FilterResultsTable title="Completion" results={completion} />
    </details>
  );
}

/** A prompt the policy refused (HTTP 400 content_filter), as Azure's playground says it. */
export function FilteredPrompt({ result }: { result: Results | undefined }) {
  const why = filteredText(result);
  return (
    <div className="msg filtered" role="alert" data-testid="filtered-prompt">
      <strong>This prompt was filtered by the deployment's content filter{why ? `: ${why}` : ""}.</strong> Modify your prompt and retry.
      <FilterResultsTable title="Prompt" results={result} />
    </div>
  );
}
