// The Azure AI Content Safety data plane's rules (issue 14 item 4; reference azure-api-2.md §2):
// text:analyze, text:shieldPrompt, text:detectProtectedMaterial and text blocklists, answered by
// the same classifier, protected-material index and blocklists as the content filter. The
// blocklists ARE the account's raiBlocklists: an item added here is a raiBlocklistItem whose
// name is its blocklistItemId and whose pattern is its text (plain, not a regex).
//
// Errors carry Azure.Core's codes (InvalidRequestBody, InvalidResourceName, ResourceNotFound);
// the http layer shapes them.
import { randomUUID } from "node:crypto";
import { IngotError } from "../errors.ts";
import type { ContentClassifier, HarmCategory } from "../ports/content-classifier.ts";
import type { RaiBlocklistItemRecord, RaiBlocklistRecord } from "../ports/rai-store.ts";
import type { RaiBlocklistService } from "./blocklists.ts";
import { BLOCKLIST_LIMITS } from "./blocklists.ts";

export const CONTENT_SAFETY_LIMITS = {
  /** text:analyze and a shieldPrompt userPrompt (Azure's limit). */
  text: 10_000,
  /** shieldPrompt documents: how many, and their characters together (Azure's documented limits). */
  documents: 5,
  documentsChars: 10_000,
  /** text:detectProtectedMaterial (Azure's documented limit). */
  protectedMaterialText: 1_000,
  itemText: 128,
  itemsPerCall: 100,
  description: 1_024,
  /** Page size of blocklistItems lists when the caller names none. */
  pageSize: 100,
} as const;

/** Content Safety's category names, in the order Azure answers them, and the classifier's names. */
export const CS_CATEGORIES = ["Hate", "SelfHarm", "Sexual", "Violence"] as const;
export type CsCategory = (typeof CS_CATEGORIES)[number];
const HARM_OF: Record<CsCategory, HarmCategory> = { Hate: "hate", SelfHarm: "self_harm", Sexual: "sexual", Violence: "violence" };

export type OutputType = "FourSeverityLevels" | "EightSeverityLevels";

/** Content Safety's names: letters, digits and ._~- (≤ 64); the ARM raiBlocklists rule is stricter, and these lists are both. */
const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export const csErrors = {
  invalid: (message: string, target?: string) => new IngotError("invalid_request", "InvalidRequestBody", message, { param: target ?? null }),
  badName: (message: string, target = "blocklistName") => new IngotError("invalid_request", "InvalidResourceName", message, { param: target }),
  notFound: (message: string) => new IngotError("not_found", "ResourceNotFound", message),
};

/**
 * The reported severity: EightSeverityLevels gives the classifier's 0–7 as is; FourSeverityLevels
 * (the default) gives 0, 2, 4 or 6, the low end of the level the score falls in (0–1 safe, 2–3
 * low, 4–5 medium, 6–7 high).
 */
export function reportedSeverity(score: number, outputType: OutputType): number {
  const s = Math.max(0, Math.min(7, Math.floor(score)));
  return outputType === "EightSeverityLevels" ? s : s - (s % 2);
}

export interface AnalyzeTextInput {
  text: string;
  categories?: CsCategory[];
  outputType?: OutputType;
  blocklistNames?: string[];
  haltOnBlocklistHit?: boolean;
}

export interface AnalyzeTextResult {
  blocklistsMatch: { blocklistName: string; blocklistItemId: string; blocklistItemText: string }[];
  categoriesAnalysis: { category: CsCategory; severity: number }[];
}

export interface TextBlocklist {
  blocklistName: string;
  description?: string;
}
export interface TextBlocklistItem {
  blocklistItemId: string;
  text: string;
  description?: string;
  /** Present (true) only for regex items written through ARM. */
  isRegex?: true;
}

export interface ContentSafetyDeps {
  classifier: ContentClassifier;
  protectedMaterial?: { detect(text: string): { detected: boolean } };
  blocklists: RaiBlocklistService;
}

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === "object" && !Array.isArray(v);

function requireBody(body: unknown): Record<string, unknown> {
  if (!isObject(body)) throw csErrors.invalid("The request body must be a JSON object.");
  return body;
}

function textField(body: Record<string, unknown>, field: string, max: number, required: boolean, target = field): string | undefined {
  const v = body[field];
  const limit = max.toLocaleString("en-US");
  if (v === undefined || v === null) {
    if (required) throw csErrors.invalid(`'${target}' is required: a string of 1 to ${limit} characters.`, target);
    return undefined;
  }
  if (typeof v !== "string") throw csErrors.invalid(`'${target}' must be a string.`, target);
  if (required && v.length === 0) throw csErrors.invalid(`'${target}' is empty; send 1 to ${limit} characters.`, target);
  if (v.length > max) throw csErrors.invalid(`'${target}' has ${v.length.toLocaleString("en-US")} characters; the maximum is ${limit}. Split the text into several requests.`, target);
  return v;
}

export class ContentSafetyService {
  #d: ContentSafetyDeps;

  constructor(deps: ContentSafetyDeps) {
    this.#d = deps;
  }

  /** Reads and checks a text:analyze body (400s name the field). */
  parseAnalyzeText(raw: unknown): AnalyzeTextInput {
    const body = requireBody(raw);
    const text = textField(body, "text", CONTENT_SAFETY_LIMITS.text, true)!;
    const input: AnalyzeTextInput = { text };
    if (body.categories !== undefined && body.categories !== null) {
      if (!Array.isArray(body.categories)) throw csErrors.invalid(`'categories' must be an array of ${CS_CATEGORIES.join(", ")}.`, "categories");
      input.categories = body.categories.map((c, i) => {
        const found = typeof c === "string" ? CS_CATEGORIES.find((k) => k.toLowerCase() === c.toLowerCase()) : undefined;
        if (!found) throw csErrors.invalid(`categories[${i}] '${String(c).slice(0, 40)}' is not a category. Use ${CS_CATEGORIES.join(", ")}.`, `categories[${i}]`);
        return found;
      });
    }
    if (body.outputType !== undefined && body.outputType !== null) {
      if (body.outputType !== "FourSeverityLevels" && body.outputType !== "EightSeverityLevels")
        throw csErrors.invalid(`'outputType' '${String(body.outputType).slice(0, 40)}' is not supported. Use FourSeverityLevels (0, 2, 4, 6; the default) or EightSeverityLevels (0 to 7).`, "outputType");
      input.outputType = body.outputType;
    }
    if (body.blocklistNames !== undefined && body.blocklistNames !== null) {
      if (!Array.isArray(body.blocklistNames) || body.blocklistNames.some((n) => typeof n !== "string"))
        throw csErrors.invalid("'blocklistNames' must be an array of blocklist names (strings).", "blocklistNames");
      input.blocklistNames = body.blocklistNames as string[];
    }
    if (body.haltOnBlocklistHit !== undefined && body.haltOnBlocklistHit !== null) {
      if (typeof body.haltOnBlocklistHit !== "boolean") throw csErrors.invalid("'haltOnBlocklistHit' must be true or false.", "haltOnBlocklistHit");
      input.haltOnBlocklistHit = body.haltOnBlocklistHit;
    }
    return input;
  }

  /**
   * text:analyze. Blocklists first; with haltOnBlocklistHit and a hit, no category is analysed
   * (categoriesAnalysis is empty), as Azure's does. Unknown blocklist names are a 404 naming them.
   */
  async analyzeText(account: string, input: AnalyzeTextInput, signal?: AbortSignal): Promise<AnalyzeTextResult> {
    const names = [...new Map((input.blocklistNames ?? []).map((n) => [n.toLowerCase(), n])).values()];
    const lists = names.map((n) => {
      const b = this.#d.blocklists.get(account, n);
      if (!b) throw csErrors.notFound(`The blocklist '${n}' does not exist. Create it with PATCH /contentsafety/text/blocklists/${encodeURIComponent(n)}, or remove it from blocklistNames.`);
      return b;
    });
    const blocklistsMatch: AnalyzeTextResult["blocklistsMatch"] = [];
    if (lists.length) {
      for (const hit of this.#d.blocklists.match(account, lists.map((b) => b.name), input.text)) {
        const item = this.#d.blocklists.getItem(account, hit.blocklist, hit.itemId);
        blocklistsMatch.push({ blocklistName: hit.blocklist, blocklistItemId: hit.itemId, blocklistItemText: item?.pattern ?? hit.text });
      }
    }
    if (input.haltOnBlocklistHit && blocklistsMatch.length) return { blocklistsMatch, categoriesAnalysis: [] };
    const categories = input.categories?.length ? [...new Set(input.categories)] : [...CS_CATEGORIES];
    const outputType = input.outputType ?? "FourSeverityLevels";
    const c = await this.#d.classifier.classify(input.text, { side: "prompt", detectJailbreak: false, signal });
    return { blocklistsMatch, categoriesAnalysis: categories.map((category) => ({ category, severity: reportedSeverity(c.harm[HARM_OF[category]], outputType) })) };
  }

  /** text:shieldPrompt: a jailbreak in the user prompt, a prompt injection (indirect attack) in each document. */
  async shieldPrompt(raw: unknown, signal?: AbortSignal): Promise<{ userPromptAnalysis?: { attackDetected: boolean }; documentsAnalysis: { attackDetected: boolean }[] }> {
    const body = requireBody(raw);
    const userPrompt = textField(body, "userPrompt", CONTENT_SAFETY_LIMITS.text, false);
    let documents: string[] = [];
    if (body.documents !== undefined && body.documents !== null) {
      if (!Array.isArray(body.documents) || body.documents.some((d) => typeof d !== "string"))
        throw csErrors.invalid("'documents' must be an array of strings.", "documents");
      documents = body.documents as string[];
      if (documents.length > CONTENT_SAFETY_LIMITS.documents)
        throw csErrors.invalid(`'documents' has ${documents.length} entries; at most ${CONTENT_SAFETY_LIMITS.documents} are checked per request.`, "documents");
      const total = documents.reduce((n, d) => n + d.length, 0);
      if (total > CONTENT_SAFETY_LIMITS.documentsChars)
        throw csErrors.invalid(`'documents' have ${total.toLocaleString("en-US")} characters together; the maximum is ${CONTENT_SAFETY_LIMITS.documentsChars.toLocaleString("en-US")}. Send fewer or shorter documents per request.`, "documents");
    }
    if (userPrompt === undefined && documents.length === 0) throw csErrors.invalid("Send 'userPrompt', 'documents' or both.", "userPrompt");
    const attack = async (text: string) => (text.trim() ? !!(await this.#d.classifier.classify(text, { side: "prompt", detectJailbreak: true, signal })).jailbreak : false);
    const out: { userPromptAnalysis?: { attackDetected: boolean }; documentsAnalysis: { attackDetected: boolean }[] } = { documentsAnalysis: [] };
    if (userPrompt !== undefined) out.userPromptAnalysis = { attackDetected: await attack(userPrompt) };
    for (const d of documents) out.documentsAnalysis.push({ attackDetected: await attack(d) });
    return out;
  }

  /** text:detectProtectedMaterial against the operator's registered texts. */
  detectProtectedMaterial(raw: unknown): { protectedMaterialAnalysis: { detected: boolean } } {
    const body = requireBody(raw);
    const text = textField(body, "text", CONTENT_SAFETY_LIMITS.protectedMaterialText, true)!;
    return { protectedMaterialAnalysis: { detected: !!this.#d.protectedMaterial?.detect(text).detected } };
  }

  // ---- blocklists (the account's raiBlocklists) ----

  checkName(name: string): void {
    if (!NAME.test(name) || name.length > BLOCKLIST_LIMITS.name)
      throw csErrors.badName(
        `The blocklist name '${name.slice(0, 80)}' is invalid. Use 1 to ${BLOCKLIST_LIMITS.name} letters, digits, '-', '_' or '.', starting with a letter or digit (these lists are also the account's raiBlocklists, which allow no other characters).`,
      );
  }

  #require(account: string, name: string): RaiBlocklistRecord {
    this.checkName(name);
    const b = this.#d.blocklists.get(account, name);
    if (!b) throw csErrors.notFound(`The blocklist '${name}' does not exist. Create it with PATCH /contentsafety/text/blocklists/${name}.`);
    return b;
  }

  listBlocklists(account: string): TextBlocklist[] {
    return this.#d.blocklists.list(account).map(toBlocklist);
  }

  getBlocklist(account: string, name: string): TextBlocklist {
    return toBlocklist(this.#require(account, name));
  }

  /** PATCH (merge-patch): creates the list when absent; `description` replaces the old one when sent. */
  patchBlocklist(account: string, name: string, raw: unknown): { blocklist: TextBlocklist; created: boolean } {
    this.checkName(name);
    const body = raw === undefined ? {} : requireBody(raw);
    const description = body.description;
    if (description !== undefined && description !== null) {
      if (typeof description !== "string") throw csErrors.invalid("'description' must be a string.", "description");
      if (description.length > CONTENT_SAFETY_LIMITS.description)
        throw csErrors.invalid(`'description' has ${description.length} characters; the maximum is ${CONTENT_SAFETY_LIMITS.description}.`, "description");
    }
    // merge-patch: null removes the description.
    const { blocklist, created } = this.#d.blocklists.createOrUpdate(account, name, { description: description === null ? "" : description });
    return { blocklist: toBlocklist(blocklist), created };
  }

  /** False when there was nothing to delete. A list that a content-filter policy names is a 409 naming the policies. */
  deleteBlocklist(account: string, name: string): boolean {
    this.checkName(name);
    return this.#d.blocklists.delete(account, name);
  }

  /**
   * addOrUpdateBlocklistItems: at most 100 items of ≤128 characters. An item whose text is
   * already in the list (same text, case-insensitively, as matching is) keeps its id; others get
   * a new UUID. All or nothing.
   */
  addOrUpdateItems(account: string, name: string, raw: unknown): { blocklistItems: TextBlocklistItem[] } {
    const b = this.#require(account, name);
    const body = requireBody(raw);
    const items = body.blocklistItems;
    if (!Array.isArray(items) || items.length === 0)
      throw csErrors.invalid(`'blocklistItems' is required: an array of 1 to ${CONTENT_SAFETY_LIMITS.itemsPerCall} items {"text": "...", "description": "..."}.`, "blocklistItems");
    if (items.length > CONTENT_SAFETY_LIMITS.itemsPerCall)
      throw csErrors.invalid(`'blocklistItems' has ${items.length} items; at most ${CONTENT_SAFETY_LIMITS.itemsPerCall} can be added per call. Send them in several calls.`, "blocklistItems");
    const existing = this.#d.blocklists.listItems(account, b.name).filter((i) => !i.isRegex);
    const byText = new Map(existing.map((i) => [i.pattern.toLowerCase(), i.name]));
    const out: TextBlocklistItem[] = [];
    const toAdd: { name: string; properties: { pattern: string; isRegex: false; description: string } }[] = [];
    items.forEach((entry, k) => {
      const target = `blocklistItems[${k}]`;
      if (!isObject(entry)) throw csErrors.invalid(`${target} must be an object {"text": "...", "description": "..."}.`, target);
      const text = textField(entry, "text", CONTENT_SAFETY_LIMITS.itemText, true, `${target}.text`);
      if (!text?.trim()) throw csErrors.invalid(`${target}.text is only whitespace; give the word or phrase to block.`, `${target}.text`);
      if (entry.description !== undefined && entry.description !== null && typeof entry.description !== "string")
        throw csErrors.invalid(`${target}.description must be a string.`, `${target}.description`);
      const description = (entry.description as string | null | undefined) ?? "";
      if (description.length > CONTENT_SAFETY_LIMITS.description)
        throw csErrors.invalid(`${target}.description has ${description.length} characters; the maximum is ${CONTENT_SAFETY_LIMITS.description}.`, `${target}.description`);
      const key = text.toLowerCase();
      const id = byText.get(key) ?? randomUUID();
      byText.set(key, id);
      // The same text twice in one call: the last one wins.
      const same = toAdd.find((a) => a.name === id);
      if (same) same.properties = { pattern: text, isRegex: false, description };
      else toAdd.push({ name: id, properties: { pattern: text, isRegex: false, description } });
      out.push(description ? { blocklistItemId: id, text, description } : { blocklistItemId: id, text });
    });
    this.#d.blocklists.addItems(account, b.name, toAdd);
    return { blocklistItems: out };
  }

  /** removeBlocklistItems: ids not in the list are ignored. */
  removeItems(account: string, name: string, raw: unknown): void {
    const b = this.#require(account, name);
    const body = requireBody(raw);
    const ids = body.blocklistItemIds;
    if (!Array.isArray(ids) || ids.length === 0 || ids.some((i) => typeof i !== "string"))
      throw csErrors.invalid(`'blocklistItemIds' is required: an array of 1 to ${CONTENT_SAFETY_LIMITS.itemsPerCall} item ids (strings).`, "blocklistItemIds");
    if (ids.length > CONTENT_SAFETY_LIMITS.itemsPerCall)
      throw csErrors.invalid(`'blocklistItemIds' has ${ids.length} ids; at most ${CONTENT_SAFETY_LIMITS.itemsPerCall} can be removed per call.`, "blocklistItemIds");
    this.#d.blocklists.deleteItems(account, b.name, ids as string[]);
  }

  /** One page of the list's items: `skip` items passed over, then at most `top` (or the page size). `next` is the skip of the next page. */
  listItems(account: string, name: string, page: { top?: number; skip?: number; maxpagesize?: number }): { value: TextBlocklistItem[]; next?: { skip: number; top?: number } } {
    const b = this.#require(account, name);
    const all = this.#d.blocklists.listItems(account, b.name);
    const skip = page.skip ?? 0;
    const pageSize = page.maxpagesize ?? CONTENT_SAFETY_LIMITS.pageSize;
    const remaining = page.top === undefined ? all.length - skip : Math.min(page.top, all.length - skip);
    const count = Math.max(0, Math.min(pageSize, remaining));
    const value = all.slice(skip, skip + count).map(toItem);
    if (remaining > count) return { value, next: { skip: skip + count, ...(page.top !== undefined ? { top: page.top - count } : {}) } };
    return { value };
  }

  getItem(account: string, name: string, id: string): TextBlocklistItem {
    const b = this.#require(account, name);
    const item = this.#d.blocklists.getItem(account, b.name, id);
    if (!item) throw csErrors.notFound(`The blocklist '${b.name}' has no item '${id}'. List its items with GET /contentsafety/text/blocklists/${b.name}/blocklistItems.`);
    return toItem(item);
  }
}

function toBlocklist(b: RaiBlocklistRecord): TextBlocklist {
  return b.description ? { blocklistName: b.name, description: b.description } : { blocklistName: b.name };
}

function toItem(i: RaiBlocklistItemRecord): TextBlocklistItem {
  const item: TextBlocklistItem = { blocklistItemId: i.name, text: i.pattern };
  if (i.description) item.description = i.description;
  if (i.isRegex) item.isRegex = true;
  return item;
}
