// Content filtering of generations (issue 14 item 2): one code path for every surface. For a
// call on (account, deployment) the deployment's RAI policy decides which filters run; the
// prompt is checked before generating (annotations, or the 400 content_filter error), and the
// generation stream is wrapped so that completions are checked segment by segment: in the
// Default mode output is held back until its segment passed, in Asynchronous_filter it flows at
// once and annotations follow. Translators (http/) only render what this produces.
import { IngotError } from "../errors.ts";
import type { GenerationStream } from "../generation/service.ts";
import type { ChatChunk } from "../generation/types.ts";
import type { Classification, ContentClassifier, HarmCategory, SeverityLevel } from "../ports/content-classifier.ts";
import { HARM_CATEGORIES, severityLevel } from "../ports/content-classifier.ts";
import type { DeploymentRecord } from "../ports/index.ts";

// The policy contract of PLAN14.md (POLICY's src/core/safety/policies.ts), structurally.
export type FilterName = "hate" | "sexual" | "violence" | "self_harm" | "jailbreak" | "indirect_attack" | "protected_material_text" | "protected_material_code" | "profanity";
export type FilterMode = "Default" | "Asynchronous_filter" | "Blocking" | "Deferred";
export interface FilterRule {
  enabled: boolean;
  blocking: boolean;
  threshold?: "Low" | "Medium" | "High";
}
export interface SideRules {
  filters: Partial<Record<FilterName, FilterRule>>;
  blocklists: { name: string; blocking: boolean }[];
}
export interface EffectivePolicy {
  name: string;
  mode: FilterMode;
  prompt: SideRules;
  completion: SideRules;
}
export interface PolicySource {
  effective(account: string, policyName: string | undefined): EffectivePolicy;
}
export interface BlocklistHit {
  blocklist: string;
  itemId: string;
  text: string;
  offset: number;
}
export interface BlocklistMatcher {
  match(account: string, blocklistNames: string[], text: string): BlocklistHit[];
}
export interface ProtectedMaterialDetector {
  detect(text: string): { detected: boolean; id?: string };
}

// Azure's annotation shapes (reference azure-api.md §2.4).
export interface SeverityResult {
  filtered: boolean;
  severity: SeverityLevel;
}
export interface DetectedResult {
  filtered: boolean;
  detected: boolean;
}
export interface ContentFilterResults {
  hate?: SeverityResult;
  sexual?: SeverityResult;
  violence?: SeverityResult;
  self_harm?: SeverityResult;
  jailbreak?: DetectedResult;
  protected_material_text?: DetectedResult;
  protected_material_code?: DetectedResult;
  custom_blocklists?: { filtered: boolean; details: { filtered: boolean; id: string }[] };
  /** The classifier could not classify: nothing above is claimed for the harm categories. */
  error?: { code: string; message: string };
}
export interface PromptFilterResult {
  prompt_index: number;
  content_filter_results: ContentFilterResults;
}
/** Asynchronous_filter's annotation chunks say which characters of the choice they cover. */
export interface FilterOffsets {
  check_offset: number;
  start_offset: number;
  end_offset: number;
}

/**
 * What the filter adds to a generation stream. `inline` (Default mode): the results of the
 * segment whose content chunks follow, rendered on those chunks; otherwise (Asynchronous_filter)
 * an annotation chunk of its own, after the content it covers, with its offsets.
 */
export interface FilterEvent {
  type: "content_filter";
  index: number;
  results: ContentFilterResults;
  inline: boolean;
  offsets?: FilterOffsets;
}

export type FilteredChunk = ChatChunk | FilterEvent;

export interface FilteredStream extends Omit<GenerationStream, "chunks"> {
  chunks: AsyncIterable<FilteredChunk>;
  /** The prompt's annotations (absent when the deployment is not filtered). */
  promptFilterResults?: PromptFilterResult[];
  /** Per choice, the worst of its segments' results; complete once `chunks` is drained (absent: not filtered). */
  completionResults?: Map<number, ContentFilterResults>;
}

/** Filtered requests, for Prometheus and Azure Monitor. */
export interface FilterMetricsSink {
  filtered(entry: { account: string; deployment: string; model: string; side: "prompt" | "completion"; categories: string[] }): void;
  classifierError?(entry: { account: string; deployment: string; model: string; side: "prompt" | "completion" }): void;
}

export interface ContentFilterDeps {
  policies: PolicySource;
  blocklists?: BlocklistMatcher;
  /** The default classifier (the embedded one). */
  classifier: ContentClassifier;
  protectedMaterial?: ProtectedMaterialDetector;
  deployments: { get(account: string, name: string): DeploymentRecord | undefined };
  /** True when the deployment's owner turned filtering off (an Azure ML serverless endpoint with contentSafetyStatus Disabled). */
  filteringOff?: (record: DeploymentRecord) => boolean;
  /** A guard-model classifier over a chat deployment of the account (guard-model.ts). */
  guard?: (account: string, deployment: string) => ContentClassifier;
  metrics?: FilterMetricsSink;
  log?: (msg: string, fields: Record<string, unknown>) => void;
}

/** The deployment tag naming the chat deployment of the same account that classifies for it (guard-model backend). */
export const GUARD_DEPLOYMENT_TAG = "ingot-guard-deployment";

/** Segments of completion text checked at once: closed at a sentence end once this long, or at MAX at the last space. */
export const SEGMENT_MIN_CHARS = 60;
export const SEGMENT_MAX_CHARS = 300;
/** Already-checked text classified again with each segment, so that a phrase across a boundary is seen whole. */
const CONTEXT_CHARS = 200;
/** Protected material needs long overlaps: it is looked for in this much of the choice's latest text. */
const PROTECTED_WINDOW_CHARS = 4000;

export const CLASSIFIER_ERROR = { code: "content_filter_error", message: "The contents are not filtered" } as const;
export const PROMPT_FILTERED_MESSAGE =
  "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry. To learn more about our content filtering policies please read our documentation: https://go.microsoft.com/fwlink/?linkid=2198766";

/** The 400 of a filtered prompt: code content_filter, param prompt, innererror with the results (wire form `content_filter_result`). */
export class ContentFilterError extends IngotError {
  readonly innererror: { code: "ResponsibleAIPolicyViolation"; content_filter_result: ContentFilterResults };
  constructor(results: ContentFilterResults) {
    super("invalid_request", "content_filter", PROMPT_FILTERED_MESSAGE, { param: "prompt" });
    this.innererror = { code: "ResponsibleAIPolicyViolation", content_filter_result: results };
  }
}

/** One prompt to check: `text` is what the caller asks (checked for jailbreaks too), `context` the rest (system, history). */
export interface PromptText {
  text: string;
  context?: string;
}

export interface FilterPlan {
  account: string;
  deployment: string;
  model: string;
  policy: EffectivePolicy;
  classifier: ContentClassifier;
}

const THRESHOLD_RANK = { Low: 1, Medium: 2, High: 3 } as const;
const LEVEL_RANK: Record<SeverityLevel, number> = { safe: 0, low: 1, medium: 2, high: 3 };

/** Whether a level is filtered under a threshold: Low filters low and up, Medium medium and up, High only high; safe never. */
export function overThreshold(level: SeverityLevel, threshold: FilterRule["threshold"] = "Medium"): boolean {
  return LEVEL_RANK[level] > 0 && LEVEL_RANK[level] >= THRESHOLD_RANK[threshold];
}

/** The filters that blocked in a set of results (categories for metrics), or none. */
export function filteredCategories(r: ContentFilterResults): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(r)) if (k !== "error" && (v as { filtered?: boolean }).filtered) out.push(k);
  return out;
}

/** The worst of two results: higher severity, any filtered or detected, blocklist details joined; an error stays. */
export function mergeResults(a: ContentFilterResults, b: ContentFilterResults): ContentFilterResults {
  const out: ContentFilterResults = { ...a };
  for (const c of HARM_CATEGORIES) {
    const x = a[c];
    const y = b[c];
    if (!x || !y) {
      if (y) out[c] = y;
      continue;
    }
    out[c] = { filtered: x.filtered || y.filtered, severity: LEVEL_RANK[y.severity] > LEVEL_RANK[x.severity] ? y.severity : x.severity };
  }
  for (const k of ["jailbreak", "protected_material_text", "protected_material_code"] as const) {
    const x = a[k];
    const y = b[k];
    if (x && y) out[k] = { filtered: x.filtered || y.filtered, detected: x.detected || y.detected };
    else if (y) out[k] = y;
  }
  if (a.custom_blocklists || b.custom_blocklists) {
    const details = [...(a.custom_blocklists?.details ?? [])];
    for (const d of b.custom_blocklists?.details ?? []) if (!details.some((e) => e.id === d.id && e.filtered === d.filtered)) details.push(d);
    out.custom_blocklists = { filtered: !!(a.custom_blocklists?.filtered || b.custom_blocklists?.filtered), details };
  }
  if (b.error) out.error = b.error;
  return out;
}

export class ContentFilter {
  #d: ContentFilterDeps;

  constructor(deps: ContentFilterDeps) {
    this.#d = deps;
  }

  /**
   * The filter plan for a call, or null when nothing is filtered: an unknown deployment (the
   * generation service answers its 404) or one whose owner turned filtering off.
   */
  planFor(account: string, deployment: string): FilterPlan | null {
    const record = this.#d.deployments.get(account, deployment);
    if (!record) return null;
    if (this.#d.filteringOff?.(record)) return null;
    // Serverless endpoints and online deployments (ml:<guid> accounts) have no raiPolicyName: Microsoft.DefaultV2.
    const policy = this.#d.policies.effective(account, record.options?.raiPolicyName);
    const guard = record.tags?.[GUARD_DEPLOYMENT_TAG] ?? (policy as { classifier?: { deployment?: string } }).classifier?.deployment;
    const classifier = guard && this.#d.guard ? this.#d.guard(account, guard) : this.#d.classifier;
    return { account, deployment: record.name, model: record.model.name, policy, classifier };
  }

  /** Checks the prompts; throws ContentFilterError when a blocking filter or blocklist fires, else returns their annotations. */
  async checkPrompts(plan: FilterPlan, prompts: PromptText[], signal?: AbortSignal): Promise<PromptFilterResult[]> {
    const rules = plan.policy.prompt;
    const out: PromptFilterResult[] = [];
    for (let i = 0; i < prompts.length; i++) {
      const p = prompts[i];
      const results = await this.#checkPrompt(plan, rules, p, signal);
      const blocked = filteredCategories(results);
      if (blocked.length) {
        this.#d.metrics?.filtered({ account: plan.account, deployment: plan.deployment, model: plan.model, side: "prompt", categories: blocked });
        throw new ContentFilterError(results);
      }
      out.push({ prompt_index: i, content_filter_results: results });
    }
    return out;
  }

  async #checkPrompt(plan: FilterPlan, rules: SideRules, p: PromptText, signal?: AbortSignal): Promise<ContentFilterResults> {
    const wantsJailbreak = !!rules.filters.jailbreak?.enabled;
    const wantsHarm = HARM_CATEGORIES.some((c) => rules.filters[c]?.enabled);
    let classification: Classification | undefined;
    let failed = false;
    if (wantsHarm || wantsJailbreak) {
      try {
        const asked = await plan.classifier.classify(p.text, { side: "prompt", detectJailbreak: wantsJailbreak, signal });
        classification = asked;
        // System prompts and history: harm only (prompt shields look at what the user asks).
        if (p.context?.trim() && wantsHarm) {
          const ctx = await plan.classifier.classify(p.context, { side: "prompt", detectJailbreak: false, signal });
          classification = { ...asked, harm: Object.fromEntries(HARM_CATEGORIES.map((c) => [c, Math.max(asked.harm[c], ctx.harm[c])])) as Record<HarmCategory, number> };
        }
      } catch (e) {
        failed = true;
        this.#classifierFailed(plan, "prompt", e);
      }
    }
    const results = this.#harmResults(rules, classification, failed);
    if (wantsJailbreak && classification) {
      const detected = !!classification.jailbreak;
      results.jailbreak = { filtered: detected && rules.filters.jailbreak!.blocking, detected };
    }
    const lists = this.#blocklistResults(plan, rules, [p.context ?? "", p.text].join("\n"), 0);
    if (lists) results.custom_blocklists = lists;
    return results;
  }

  #harmResults(rules: SideRules, c: Classification | undefined, failed: boolean): ContentFilterResults {
    // Never "safe" without having classified: a failed classifier gives Azure's error object instead.
    if (failed) return { error: { ...CLASSIFIER_ERROR } };
    const out: ContentFilterResults = {};
    if (!c) return out;
    for (const cat of HARM_CATEGORIES) {
      const rule = rules.filters[cat];
      if (!rule?.enabled) continue;
      const severity = severityLevel(c.harm[cat]);
      out[cat] = { filtered: rule.blocking && overThreshold(severity, rule.threshold), severity };
    }
    return out;
  }

  /** Blocklist matches in `text` that end after `from` (what was checked before is not matched again). */
  #blocklistResults(plan: FilterPlan, rules: SideRules, text: string, from: number): ContentFilterResults["custom_blocklists"] | undefined {
    if (!rules.blocklists.length || !this.#d.blocklists) return undefined;
    const hits = this.#d.blocklists.match(plan.account, rules.blocklists.map((b) => b.name), text).filter((h) => h.offset + h.text.length > from);
    const details: { filtered: boolean; id: string }[] = [];
    for (const h of hits) {
      const blocking = rules.blocklists.find((b) => b.name.toLowerCase() === h.blocklist.toLowerCase())?.blocking ?? true;
      if (!details.some((d) => d.id === h.blocklist)) details.push({ filtered: blocking, id: h.blocklist });
    }
    return { filtered: details.some((d) => d.filtered), details };
  }

  #classifierFailed(plan: FilterPlan, side: "prompt" | "completion", e: unknown): void {
    this.#d.log?.("content classifier failed; the content passes unfiltered with an error annotation, as Azure's does", { deployment: plan.deployment, side, err: (e as Error)?.message });
    this.#d.metrics?.classifierError?.({ account: plan.account, deployment: plan.deployment, model: plan.model, side });
  }

  /** Checks one segment of a choice's completion: `context` is already-checked text before it. */
  async checkCompletionSegment(plan: FilterPlan, context: string, segment: string, whole: string, signal?: AbortSignal): Promise<ContentFilterResults> {
    const rules = plan.policy.completion;
    const wantsHarm = HARM_CATEGORIES.some((c) => rules.filters[c]?.enabled);
    let classification: Classification | undefined;
    let failed = false;
    if (wantsHarm) {
      try {
        classification = await plan.classifier.classify(context + segment, { side: "completion", detectJailbreak: false, signal });
      } catch (e) {
        failed = true;
        this.#classifierFailed(plan, "completion", e);
      }
    }
    const results = this.#harmResults(rules, classification, failed);
    const pm = this.#d.protectedMaterial;
    const textRule = rules.filters.protected_material_text;
    const codeRule = rules.filters.protected_material_code;
    if (pm && (textRule?.enabled || codeRule?.enabled)) {
      const found = pm.detect(whole.slice(-PROTECTED_WINDOW_CHARS));
      const isCode = found.detected && /\.(js|ts|py|java|c|cc|cpp|h|cs|go|rs|rb|php|sh|sql|kt|swift)$/i.test(found.id ?? "");
      if (textRule?.enabled) results.protected_material_text = { filtered: found.detected && !isCode && textRule.blocking, detected: found.detected && !isCode };
      if (codeRule?.enabled) results.protected_material_code = { filtered: isCode && codeRule.blocking, detected: isCode };
    }
    const lists = this.#blocklistResults(plan, rules, context + segment, context.length);
    if (lists) results.custom_blocklists = lists;
    return results;
  }

  /**
   * Wraps a generation: completions checked segment by segment. Default (and Blocking):
   * a segment leaves only once checked, a blocked one never does and its choice ends with
   * finish_reason content_filter. Asynchronous_filter (and Deferred) when streaming: content
   * leaves at once, annotation events follow the text they cover, a violation ends the choice.
   */
  filterCompletions(plan: FilterPlan, stream: GenerationStream, opts: { streaming: boolean; choices?: number; promptFilterResults?: PromptFilterResult[]; signal?: AbortSignal }): FilteredStream {
    const asyncMode = opts.streaming && (plan.policy.mode === "Asynchronous_filter" || plan.policy.mode === "Deferred");
    const completionResults = new Map<number, ContentFilterResults>();
    const out: FilteredStream = {
      id: stream.id,
      created: stream.created,
      model: stream.model,
      usage: stream.usage,
      promptFilterResults: opts.promptFilterResults,
      completionResults,
      chunks: undefined as unknown as AsyncIterable<FilteredChunk>,
    };
    const self = this;
    const record = (index: number, r: ContentFilterResults) => completionResults.set(index, mergeResults(completionResults.get(index) ?? {}, r));
    const reportCut = (r: ContentFilterResults) =>
      this.#d.metrics?.filtered({ account: plan.account, deployment: plan.deployment, model: plan.model, side: "completion", categories: filteredCategories(r) });
    // A completion side with nothing to check holds nothing back.
    const rules = plan.policy.completion;
    const checksNothing = !Object.values(rules.filters).some((f) => f?.enabled) && !rules.blocklists.length;
    out.chunks = checksNothing ? stream.chunks : asyncMode ? asyncFiltered() : heldBack();
    return out;

    interface ChoiceBuffer {
      /** Text already checked (and released). */
      checked: string;
      /** Chunks of the open segment, held back (Default) or already sent (async). */
      held: ChatChunk[];
      pending: string;
      /** Cut by the filter: its further chunks are dropped. */
      cut: boolean;
    }

    async function* heldBack(): AsyncGenerator<FilteredChunk> {
      const choices = new Map<number, ChoiceBuffer>();
      const choice = (i: number) => choices.get(i) ?? choices.set(i, { checked: "", held: [], pending: "", cut: false }).get(i)!;
      const iterator = stream.chunks[Symbol.asyncIterator]();
      let ended = 0;
      try {
        while (true) {
          const next = await iterator.next();
          if (next.done) break;
          const c = next.value;
          const s = choice(c.index);
          if (s.cut) continue;
          if (c.type === "content") {
            s.held.push(c);
            s.pending += c.text;
            const end = segmentEnd(s.pending);
            if (end > 0) yield* release(c.index, s, end);
          } else if (c.type === "tool_call") {
            s.held.push(c);
          } else {
            // The choice's end: check what is left, then let the finish through (unless cut).
            yield* release(c.index, s, s.pending.length, true);
            if (!s.cut) yield c;
          }
          if (c.type === "finish" || s.cut) ended++;
          // Every choice over (some cut): closing the source stops the engine generating what nobody will see.
          if (opts.choices !== undefined && ended >= opts.choices) return;
        }
      } finally {
        await iterator.return?.();
      }
    }

    /** Checks the first `end` pending characters of a choice; yields its held chunks (split at `end`) or cuts it. */
    async function* release(index: number, s: ChoiceBuffer, end: number, final = false): AsyncGenerator<FilteredChunk> {
      const segment = s.pending.slice(0, end);
      if (!segment && !final) return;
      const context = s.checked.slice(-CONTEXT_CHARS);
      const results = segment || !s.checked ? await self.checkCompletionSegment(plan, context, segment, s.checked + segment, opts.signal) : null;
      if (results) record(index, results);
      if (results && filteredCategories(results).length) {
        s.cut = true;
        s.held = [];
        s.pending = "";
        reportCut(results);
        yield { type: "content_filter", index, results, inline: true };
        yield { type: "finish", index, reason: "content_filter" };
        return;
      }
      if (results) yield { type: "content_filter", index, results, inline: true };
      // Release the held chunks that make up `segment`; a chunk straddling `end` is split.
      let left = segment.length;
      const keep: ChatChunk[] = [];
      for (const c of s.held) {
        if (c.type !== "content") {
          if (left > 0 || final) yield c;
          else keep.push(c);
          continue;
        }
        if (left <= 0) {
          keep.push(c);
          continue;
        }
        if (c.text.length <= left) {
          yield c;
          left -= c.text.length;
        } else {
          yield { ...c, text: c.text.slice(0, left) };
          keep.push({ ...c, text: c.text.slice(left), logprobs: undefined });
          left = 0;
        }
      }
      s.held = keep;
      s.checked += segment;
      s.pending = s.pending.slice(end);
    }

    async function* asyncFiltered(): AsyncGenerator<FilteredChunk> {
      const choices = new Map<number, ChoiceBuffer & { last: Promise<unknown> }>();
      const choice = (i: number) => choices.get(i) ?? choices.set(i, { checked: "", held: [], pending: "", cut: false, last: Promise.resolve() }).get(i)!;
      const iterator = stream.chunks[Symbol.asyncIterator]();
      // Checks run beside the stream; their results leave as soon as they are known, after the
      // text they cover, in order per choice (each choice's checks are chained).
      const ready: FilteredChunk[] = [];
      let running = 0;
      let wake = () => {};
      // One pending "a check finished" promise at a time (not one handler per chunk on it).
      const newWoken = () => new Promise<void>((r) => (wake = r)).then(() => null);
      let woken = newWoken();
      let ended = 0;
      const check = (index: number, s: ChoiceBuffer & { last: Promise<unknown> }, finish?: ChatChunk) => {
        const segment = s.pending;
        const start = s.checked.length;
        const context = s.checked.slice(-CONTEXT_CHARS);
        s.checked += segment;
        s.pending = "";
        const whole = s.checked;
        running++;
        s.last = s.last
          .then(() => self.checkCompletionSegment(plan, context, segment, whole, opts.signal))
          .then((results) => {
            if (s.cut) return;
            record(index, results);
            ready.push({ type: "content_filter", index, results, inline: false, offsets: { check_offset: start, start_offset: start, end_offset: start + segment.length } });
            if (filteredCategories(results).length) {
              s.cut = true;
              ended++;
              reportCut(results);
              ready.push({ type: "finish", index, reason: "content_filter" });
            } else if (finish) {
              ended++;
              ready.push(finish);
            }
          })
          .finally(() => {
            running--;
            wake();
          });
      };
      let next: Promise<IteratorResult<ChatChunk>> | undefined = iterator.next();
      try {
        while (true) {
          while (ready.length) yield ready.shift()!;
          if (opts.choices !== undefined && ended >= opts.choices) return;
          if (!next && running === 0) break;
          const raced = await Promise.race([...(next ? [next] : []), woken]);
          if (raced === null) {
            woken = newWoken();
            continue;
          }
          if (raced.done) {
            next = undefined;
            continue;
          }
          next = iterator.next();
          const c = raced.value;
          const s = choice(c.index);
          if (s.cut) continue;
          if (c.type === "content") {
            yield c;
            s.pending += c.text;
            if (segmentEnd(s.pending) > 0) check(c.index, s);
          } else if (c.type === "tool_call") yield c;
          // The finish leaves after the last segment's annotation (or not at all when that cuts the choice).
          else check(c.index, s, c);
        }
      } finally {
        // An abandoned iterator.next() (returning early) is settled by return().
        await iterator.return?.();
      }
    }
  }
}

/** Where the open segment of pending text closes (0: not yet): a sentence end past SEGMENT_MIN_CHARS, or the last space before SEGMENT_MAX_CHARS. */
export function segmentEnd(pending: string): number {
  if (pending.length < SEGMENT_MIN_CHARS) return 0;
  const re = /[.!?。！？](?=\s)|\n/g;
  re.lastIndex = SEGMENT_MIN_CHARS - 1;
  const m = re.exec(pending);
  if (m && m.index < SEGMENT_MAX_CHARS) return m.index + 1;
  if (pending.length < SEGMENT_MAX_CHARS) return 0;
  const space = pending.lastIndexOf(" ", SEGMENT_MAX_CHARS);
  return space > SEGMENT_MIN_CHARS ? space + 1 : SEGMENT_MAX_CHARS;
}

/**
 * Whether an Azure ML serverless endpoint turned filtering off: its deployment record names the
 * endpoint's ARM id in `managedBy`; `find` looks the endpoint up (contentSafety.contentSafetyStatus).
 */
export function serverlessContentSafetyOff(record: DeploymentRecord, find: (subscription: string, resourceGroup: string, workspace: string, endpoint: string) => { contentSafetyStatus: string } | undefined): boolean {
  const m = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.MachineLearningServices\/workspaces\/([^/]+)\/serverlessEndpoints\/([^/]+)$/i.exec(record.options?.managedBy ?? "");
  return !!m && find(m[1], m[2], m[3], m[4])?.contentSafetyStatus === "Disabled";
}

/** A chat's prompt as the filter checks it: what users wrote (jailbreak checked too), and the rest (system, history, tools) as context. */
export function chatPromptText(messages: { role: string; content: string }[]): PromptText {
  const user = messages.filter((m) => m.role === "user").map((m) => m.content);
  const other = messages.filter((m) => m.role !== "user").map((m) => m.content);
  return { text: user.join("\n"), context: other.join("\n") };
}

/** An unfiltered generation in the filtered shape: no annotations (none are made up). */
export function unfiltered(stream: GenerationStream): FilteredStream {
  return { id: stream.id, created: stream.created, model: stream.model, usage: stream.usage, chunks: stream.chunks, completionResults: new Map() };
}

/**
 * The one path every generation surface takes: the prompts checked (a blocked one throws the
 * 400 before anything is generated), then the generation started and its stream wrapped.
 * `filter` undefined or a deployment without filtering: the generation as it is.
 */
export async function filteredGeneration(
  filter: ContentFilter | undefined,
  call: { account: string; deployment: string; prompts: PromptText[]; streaming: boolean; choices: number; signal?: AbortSignal },
  generate: () => Promise<GenerationStream>,
): Promise<FilteredStream> {
  const plan = filter?.planFor(call.account, call.deployment);
  if (!filter || !plan) return unfiltered(await generate());
  const promptFilterResults = await filter.checkPrompts(plan, call.prompts, call.signal);
  const stream = await generate();
  return filter.filterCompletions(plan, stream, { streaming: call.streaming, choices: call.choices, promptFilterResults, signal: call.signal });
}
