// Content-filter policies (accounts/{a}/raiPolicies, reference azure-api-2.md §1.2): the two
// built-ins, the rules a custom policy's body meets, and `effective`, the rules the content
// filter applies for one deployment.
//
// Built-ins (read-only, properties.type SystemManaged):
//   Microsoft.DefaultV2: Hate, Sexual, Violence, Selfharm at Medium on prompts and completions;
//     Jailbreak on prompts; Protected Material Text and Code on completions; all blocking;
//     Indirect Attack and Profanity off (reference: "DefaultV2 defaults", partly inferred).
//   Microsoft.Default: the same without protected material (Ingot's reading: the older default
//     predates the protected-material filters; it keeps Jailbreak).
// Both report mode "Default" (output held back and checked before it leaves: inferred).
// A custom policy starts from its basePolicyName's filters; each contentFilters entry replaces
// that filter on its side, so a policy may list only what it changes. GET shows the full list.
import { errors } from "../errors.ts";
import type { RaiContentFilterConfig, RaiPolicyRecord, RaiStore } from "../ports/rai-store.ts";
import { checkRaiName } from "./blocklists.ts";

export type FilterName = "hate" | "sexual" | "violence" | "self_harm" | "jailbreak" | "indirect_attack" | "protected_material_text" | "protected_material_code" | "profanity";
export type PolicyMode = "Default" | "Asynchronous_filter" | "Blocking" | "Deferred";
export type Threshold = "Low" | "Medium" | "High";
export type Side = "Prompt" | "Completion";

export interface FilterRule {
  enabled: boolean;
  blocking: boolean;
  /** Multi-level filters only: Low filters low, medium and high; Medium filters medium and high; High filters high. */
  threshold?: Threshold;
}

export interface SideRules {
  filters: Partial<Record<FilterName, FilterRule>>;
  blocklists: { name: string; blocking: boolean }[];
}

export interface EffectivePolicy {
  name: string;
  mode: PolicyMode;
  prompt: SideRules;
  completion: SideRules;
}

export const DEFAULT_POLICY = "Microsoft.DefaultV2";
export const BUILT_IN_POLICIES = ["Microsoft.Default", "Microsoft.DefaultV2"] as const;
const MODES: PolicyMode[] = ["Default", "Asynchronous_filter", "Blocking", "Deferred"];
const THRESHOLDS: Threshold[] = ["Low", "Medium", "High"];

export interface ContentFilterDefinition {
  key: FilterName;
  /** The name policies use (contentFilters[].name) and the catalogue's properties.name. */
  name: string;
  /** Takes a severityThreshold. */
  multiLevel: boolean;
  sides: Side[];
}

/** The catalogue (raiContentFilters): what a policy's contentFilters may name. */
export const CONTENT_FILTERS: ContentFilterDefinition[] = [
  { key: "hate", name: "Hate", multiLevel: true, sides: ["Prompt", "Completion"] },
  { key: "sexual", name: "Sexual", multiLevel: true, sides: ["Prompt", "Completion"] },
  { key: "violence", name: "Violence", multiLevel: true, sides: ["Prompt", "Completion"] },
  { key: "self_harm", name: "Selfharm", multiLevel: true, sides: ["Prompt", "Completion"] },
  { key: "jailbreak", name: "Jailbreak", multiLevel: false, sides: ["Prompt"] },
  { key: "indirect_attack", name: "Indirect Attack", multiLevel: false, sides: ["Prompt"] },
  { key: "protected_material_text", name: "Protected Material Text", multiLevel: false, sides: ["Completion"] },
  { key: "protected_material_code", name: "Protected Material Code", multiLevel: false, sides: ["Completion"] },
  { key: "profanity", name: "Profanity", multiLevel: false, sides: ["Prompt", "Completion"] },
];

/** Names compare case-insensitively, with or without spaces, underscores or hyphens ("Self-harm", "self_harm", "IndirectAttack"). */
const squash = (s: string) => s.toLowerCase().replace(/[\s_-]/g, "");
const FILTER_BY_SQUASHED = new Map(CONTENT_FILTERS.flatMap((f) => [[squash(f.name), f], [squash(f.key), f]] as const));
export const findContentFilter = (name: string) => FILTER_BY_SQUASHED.get(squash(name));
const FILTER_NAMES = CONTENT_FILTERS.map((f) => f.name).join(", ");

/** The built-in policies' filters, in the catalogue's order, prompt side first. */
function builtInFilters(policy: (typeof BUILT_IN_POLICIES)[number]): RaiContentFilterConfig[] {
  const out: RaiContentFilterConfig[] = [];
  for (const source of ["Prompt", "Completion"] as const)
    for (const f of CONTENT_FILTERS) {
      if (!f.sides.includes(source)) continue;
      const on = f.multiLevel || f.key === "jailbreak" || (policy === "Microsoft.DefaultV2" && f.key.startsWith("protected_material"));
      out.push({ name: f.name, source, enabled: on, blocking: on, ...(f.multiLevel ? { severityThreshold: "Medium" as const } : {}) });
    }
  return out;
}

export const builtInName = (name: string) => BUILT_IN_POLICIES.find((b) => b.toLowerCase() === name.toLowerCase());

/** A built-in as a record, so both kinds are shaped alike. */
export function builtInRecord(account: string, name: (typeof BUILT_IN_POLICIES)[number]): RaiPolicyRecord {
  return { account, name, basePolicyName: "", mode: "Default", contentFilters: builtInFilters(name), customBlocklists: [], tags: {}, createdAt: Date.UTC(2024, 0, 1), updatedAt: Date.UTC(2024, 0, 1) };
}

function effectiveOf(p: RaiPolicyRecord): EffectivePolicy {
  const side = (source: Side): SideRules => {
    const filters: SideRules["filters"] = {};
    for (const c of p.contentFilters) {
      if (c.source !== source) continue;
      const def = findContentFilter(c.name);
      if (!def) continue;
      filters[def.key] = { enabled: c.enabled, blocking: c.blocking, ...(def.multiLevel ? { threshold: c.severityThreshold ?? "Medium" } : {}) };
    }
    return { filters, blocklists: p.customBlocklists.filter((b) => b.source === source).map((b) => ({ name: b.blocklistName, blocking: b.blocking })) };
  };
  return { name: p.name, mode: p.mode, prompt: side("Prompt"), completion: side("Completion") };
}

const invalid = (message: string, target: string) => errors.armInvalid("InvalidRequestContent", message, target);
const objectAt = (v: unknown) => (v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);

function optionalBoolean(v: unknown, target: string, fallback: boolean): boolean {
  if (v === undefined || v === null) return fallback;
  if (typeof v !== "boolean") throw invalid(`${target} must be true or false, not ${JSON.stringify(v)}.`, target);
  return v;
}

function sideOf(v: unknown, target: string): Side | undefined {
  if (v === undefined || v === null) return undefined;
  const s = typeof v === "string" ? (["Prompt", "Completion"] as const).find((x) => x.toLowerCase() === v.toLowerCase()) : undefined;
  if (!s) throw invalid(`${target} must be Prompt or Completion, not ${JSON.stringify(v)}.`, target);
  return s;
}

export interface RaiPolicyInput {
  basePolicyName?: unknown;
  mode?: unknown;
  contentFilters?: unknown;
  customBlocklists?: unknown;
  promptBlocklists?: unknown;
  completionBlocklists?: unknown;
}

export class RaiPolicyService {
  #store: RaiStore;
  #clock: () => number;
  #deploymentsUsing: (account: string, policy: string) => string[];
  /** Effective policies by account and lower-case name: read on every request, dropped on every write. */
  #effective = new Map<string, EffectivePolicy>();
  #builtIns = new Map(BUILT_IN_POLICIES.map((b) => [b, effectiveOf(builtInRecord("", b))]));

  constructor(store: RaiStore, opts: { clock?: () => number; deploymentsUsing?: (account: string, policy: string) => string[] } = {}) {
    this.#store = store;
    this.#clock = opts.clock ?? Date.now;
    this.#deploymentsUsing = opts.deploymentsUsing ?? (() => []);
  }

  #key = (account: string, name: string) => `${account}\u0000${name.toLowerCase()}`;

  /** Built-ins first, then the account's own. */
  list(account: string): RaiPolicyRecord[] {
    return [...BUILT_IN_POLICIES.map((b) => builtInRecord(account, b)), ...this.#store.listPolicies(account)];
  }

  get(account: string, name: string): RaiPolicyRecord | undefined {
    const b = builtInName(name);
    return b ? builtInRecord(account, b) : this.#store.getPolicy(account, name);
  }

  /**
   * The rules for a deployment whose raiPolicyName is `policyName` (undefined: Microsoft.DefaultV2).
   * A name that is no longer a policy (written before names were checked) gets Microsoft.DefaultV2:
   * filtering never silently turns off.
   */
  effective(account: string, policyName: string | undefined): EffectivePolicy {
    const builtIn = builtInName(policyName ?? DEFAULT_POLICY);
    if (builtIn) return this.#builtIns.get(builtIn)!;
    const key = this.#key(account, policyName!);
    let e = this.#effective.get(key);
    if (!e) {
      const p = this.#store.getPolicy(account, policyName!);
      if (!p) return this.#builtIns.get(DEFAULT_POLICY)!;
      e = effectiveOf(p);
      this.#effective.set(key, e);
    }
    return e;
  }

  /** A deployment's properties.raiPolicyName: undefined stays undefined (Microsoft.DefaultV2); otherwise the policy's name as stored, or ARM's 400 naming the policies there are. */
  resolveName(account: string, name: unknown, target = "properties.raiPolicyName"): string | undefined {
    if (name === undefined || name === null) return undefined;
    if (typeof name !== "string") throw invalid(`${target} must be a string: the name of a content filter policy, e.g. "${DEFAULT_POLICY}".`, target);
    const found = this.get(account, name);
    if (found) return found.name;
    throw errors.armInvalid(
      "RaiPolicyNotFound",
      `${target} '${name}' is not a content filter policy of account '${account}'. Use one of: ${this.list(account).map((p) => p.name).join(", ")}; or create it first (PUT …/accounts/${account}/raiPolicies/${name}).`,
      target,
    );
  }

  #readOnly(name: string) {
    return errors.armInvalid(
      "RaiPolicyReadOnly",
      `'${name}' is a built-in content filter policy and cannot be changed or deleted. Create a custom policy under another name with properties.basePolicyName '${name}' and the filters you want changed.`,
      "name",
    );
  }

  createOrUpdate(account: string, name: string, input: RaiPolicyInput, tags?: Record<string, string>): { policy: RaiPolicyRecord; created: boolean } {
    const builtIn = builtInName(name);
    if (builtIn) throw this.#readOnly(builtIn);
    checkRaiName("Policy", name);

    let base: (typeof BUILT_IN_POLICIES)[number] = DEFAULT_POLICY;
    if (input.basePolicyName !== undefined && input.basePolicyName !== null) {
      const b = typeof input.basePolicyName === "string" ? builtInName(input.basePolicyName) : undefined;
      if (!b) throw invalid(`properties.basePolicyName ${JSON.stringify(input.basePolicyName)} is not a built-in policy; use ${BUILT_IN_POLICIES.join(" or ")}.`, "properties.basePolicyName");
      base = b;
    }

    let mode: PolicyMode = "Default";
    if (input.mode !== undefined && input.mode !== null) {
      const m = typeof input.mode === "string" ? MODES.find((x) => squash(x) === squash(input.mode as string)) : undefined;
      if (!m) throw invalid(`properties.mode ${JSON.stringify(input.mode)} is not a mode; use one of ${MODES.join(", ")}.`, "properties.mode");
      mode = m;
    }

    const filters = builtInFilters(base);
    if (input.contentFilters !== undefined && input.contentFilters !== null) {
      if (!Array.isArray(input.contentFilters)) throw invalid("properties.contentFilters must be an array of {name, enabled, blocking, severityThreshold, source}.", "properties.contentFilters");
      const seen = new Set<string>();
      input.contentFilters.forEach((entry, k) => {
        const at = `properties.contentFilters[${k}]`;
        const e = objectAt(entry);
        if (!e) throw invalid(`${at} must be an object {name, enabled, blocking, severityThreshold, source}.`, at);
        if (typeof e.name !== "string") throw invalid(`${at}.name is required: one of ${FILTER_NAMES}.`, `${at}.name`);
        const def = findContentFilter(e.name);
        if (!def) throw invalid(`${at}.name '${e.name}' is not a content filter. Use one of: ${FILTER_NAMES}.`, `${at}.name`);
        let source = sideOf(e.source, `${at}.source`);
        if (!source) {
          if (def.sides.length > 1)
            throw invalid(`${at}.source is required for ${def.name}: Prompt or Completion (give one entry per side to set both).`, `${at}.source`);
          source = def.sides[0];
        }
        if (!def.sides.includes(source))
          throw invalid(
            `${at}: ${def.name} applies to ${def.sides[0] === "Prompt" ? "prompts" : "completions"} only; set source to ${def.sides[0]}.`,
            `${at}.source`,
          );
        if (seen.has(`${def.key}/${source}`)) throw invalid(`${at}: ${def.name} on ${source} is given twice; give each filter once per side.`, at);
        seen.add(`${def.key}/${source}`);
        const rawThreshold = e.severityThreshold ?? e.allowedContentLevel; // 2023-05-01 bodies say allowedContentLevel
        let threshold: Threshold | undefined;
        if (rawThreshold !== undefined && rawThreshold !== null) {
          threshold = typeof rawThreshold === "string" ? THRESHOLDS.find((t) => t.toLowerCase() === rawThreshold.toLowerCase()) : undefined;
          if (!threshold) throw invalid(`${at}.severityThreshold ${JSON.stringify(rawThreshold)} is not a threshold; use Low, Medium or High.`, `${at}.severityThreshold`);
        }
        const i = filters.findIndex((f) => f.name === def.name && f.source === source);
        const current = filters[i];
        filters[i] = {
          name: def.name,
          source,
          enabled: optionalBoolean(e.enabled, `${at}.enabled`, true),
          blocking: optionalBoolean(e.blocking, `${at}.blocking`, true),
          ...(def.multiLevel ? { severityThreshold: threshold ?? current.severityThreshold ?? "Medium" } : {}),
        };
      });
    }

    const blocklists = this.#blocklists(account, input);
    const existing = this.#store.getPolicy(account, name);
    const now = this.#clock();
    const policy: RaiPolicyRecord = {
      account,
      name: existing?.name ?? name,
      basePolicyName: base,
      mode,
      contentFilters: filters,
      ...blocklists,
      tags: tags ?? existing?.tags ?? {},
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
    };
    this.#store.putPolicy(policy);
    this.#effective.delete(this.#key(account, policy.name));
    return { policy, created: !existing };
  }

  /** customBlocklists and the older promptBlocklists/completionBlocklists, each naming a blocklist of the account. */
  #blocklists(account: string, input: RaiPolicyInput): Pick<RaiPolicyRecord, "customBlocklists" | "promptBlocklists" | "completionBlocklists"> {
    const known = this.#store.listBlocklists(account);
    const resolve = (v: unknown, target: string): string => {
      if (typeof v !== "string" || !v) throw invalid(`${target} is required: the name of a blocklist of the account.`, target);
      const b = known.find((x) => x.name.toLowerCase() === v.toLowerCase());
      if (!b)
        throw invalid(
          `${target} '${v}' is not a blocklist of account '${account}'. ${known.length ? `Its blocklists are: ${known.map((x) => x.name).join(", ")}.` : "It has no blocklists."} Create it first (PUT …/accounts/${account}/raiBlocklists/${v}).`,
          target,
        );
      return b.name;
    };
    const arrayAt = (v: unknown, field: string): unknown[] => {
      if (v === undefined || v === null) return [];
      if (!Array.isArray(v)) throw invalid(`properties.${field} must be an array of {blocklistName, blocking${field === "customBlocklists" ? ", source" : ""}}.`, `properties.${field}`);
      return v;
    };
    const custom: RaiPolicyRecord["customBlocklists"] = [];
    const add = (entry: RaiPolicyRecord["customBlocklists"][number], at: string) => {
      if (custom.some((c) => c.blocklistName === entry.blocklistName && c.source === entry.source))
        throw invalid(`${at}: blocklist '${entry.blocklistName}' on ${entry.source} is given twice; give each blocklist once per side.`, at);
      custom.push(entry);
    };
    arrayAt(input.customBlocklists, "customBlocklists").forEach((entry, k) => {
      const at = `properties.customBlocklists[${k}]`;
      const e = objectAt(entry);
      if (!e) throw invalid(`${at} must be an object {blocklistName, blocking, source}.`, at);
      const source = sideOf(e.source, `${at}.source`);
      if (!source) throw invalid(`${at}.source is required: Prompt or Completion.`, `${at}.source`);
      add({ blocklistName: resolve(e.blocklistName, `${at}.blocklistName`), blocking: optionalBoolean(e.blocking, `${at}.blocking`, true), source }, at);
    });
    const legacy = (field: "promptBlocklists" | "completionBlocklists", source: Side) => {
      if (input[field] === undefined || input[field] === null) return undefined;
      return arrayAt(input[field], field).map((entry, k) => {
        const at = `properties.${field}[${k}]`;
        const e = objectAt(entry);
        if (!e) throw invalid(`${at} must be an object {blocklistName, blocking}.`, at);
        const item = { blocklistName: resolve(e.blocklistName, `${at}.blocklistName`), blocking: optionalBoolean(e.blocking, `${at}.blocking`, true) };
        add({ ...item, source }, at);
        return item;
      });
    };
    const promptBlocklists = legacy("promptBlocklists", "Prompt");
    const completionBlocklists = legacy("completionBlocklists", "Completion");
    return { customBlocklists: custom, ...(promptBlocklists ? { promptBlocklists } : {}), ...(completionBlocklists ? { completionBlocklists } : {}) };
  }

  /** False when there was nothing to delete. */
  delete(account: string, name: string): boolean {
    const builtIn = builtInName(name);
    if (builtIn) throw this.#readOnly(builtIn);
    const p = this.#store.getPolicy(account, name);
    if (!p) return false;
    const users = this.#deploymentsUsing(account, p.name);
    if (users.length)
      throw errors.conflict(
        "RaiPolicyInUse",
        `Content filter policy '${p.name}' is used by deployment${users.length === 1 ? "" : "s"} ${users.map((u) => `'${u}'`).join(", ")}. Give ${users.length === 1 ? "it" : "them"} another properties.raiPolicyName (or delete ${users.length === 1 ? "it" : "them"}) first.`,
      );
    this.#store.deletePolicy(account, p.name);
    this.#effective.delete(this.#key(account, p.name));
    return true;
  }

  /** Account deletion (the store rows go with the blocklists': RaiBlocklistService.deleteAll), or another replica's write (no account: all). */
  forgetAccount(account?: string): void {
    for (const k of [...this.#effective.keys()]) if (account === undefined || k.startsWith(`${account}\u0000`)) this.#effective.delete(k);
  }
}
