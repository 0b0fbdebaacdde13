// Custom blocklists (accounts/{a}/raiBlocklists and their raiBlocklistItems, reference
// azure-api-2.md §1.3): the rules on names, patterns and counts, and `match`, which finds an
// account's blocklist items in a text for the content filter.
//
// Matching: a plain item matches case-insensitively where it stands as its own word(s): its ends
// must not run on into letters or digits ("acme" matches "Acme's" but not "acmes"); an item whose
// end is punctuation has no boundary there. A regex item matches case-sensitively (as Azure's do),
// compiled once when its list changes, and only after checkRegexSafety accepted it when written.
// Regexes run over windows of REGEX_WINDOW characters overlapping by REGEX_OVERLAP, so the time
// one item can take on any text is linear in the text's length: a match up to REGEX_OVERLAP
// characters long is found wherever it is; a longer one only where it fits in one window; and
// ^, $ and \b see a window's edges as the text's.
import { errors } from "../errors.ts";
import type { RaiBlocklistItemRecord, RaiBlocklistRecord, RaiStore } from "../ports/rai-store.ts";
import { checkRegexSafety, UnsafeRegex } from "./regex-safety.ts";

export const BLOCKLIST_LIMITS = {
  /** Items per blocklist (Azure's limit). */
  items: 10_000,
  /** Characters per pattern (Azure's limit). */
  pattern: 1_000,
  description: 1_024,
  name: 64,
} as const;

/** Characters a regex sees at once; windows overlap so that a match up to REGEX_OVERLAP long is never cut. */
export const REGEX_WINDOW = 512;
export const REGEX_OVERLAP = 128;

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const WORD_CHAR = /[\p{L}\p{N}_]/u;
const WORDS = /[\p{L}\p{N}_]+/gu;

export interface BlocklistMatch {
  blocklist: string;
  itemId: string;
  /** The text that matched. */
  text: string;
  /** Where it starts in the text, in UTF-16 code units (JavaScript string indexes). */
  offset: number;
}

/** ARM's 400 for a bad resource name. */
export function checkRaiName(kind: string, name: string, target = "name"): void {
  if (!NAME.test(name) || name.length > BLOCKLIST_LIMITS.name)
    throw errors.armInvalid("InvalidResourceName", `${kind} name '${name.slice(0, 80)}' is invalid. Use 1 to ${BLOCKLIST_LIMITS.name} letters, digits, '-', '_' or '.', starting with a letter or digit.`, target);
}

/** The flags a blocklist regex is compiled with: unicode where the pattern allows it, else the legacy syntax. */
function compileFlags(pattern: string): { re: RegExp; flags: string } {
  try {
    return { re: new RegExp(pattern, "gu"), flags: "gu" };
  } catch {
    return { re: new RegExp(pattern, "g"), flags: "g" };
  }
}

/**
 * Validates one item's pattern (400 naming `target` when it is bad) and returns it compiled when
 * it is a regex. Exported for the Content Safety API's blocklists, which are the same lists.
 */
export function checkPattern(pattern: unknown, isRegex: unknown, target = "properties.pattern"): { pattern: string; isRegex: boolean; re?: RegExp } {
  if (typeof pattern !== "string" || pattern.length === 0)
    throw errors.armInvalid("InvalidRequestContent", `${target} is required: a non-empty string of at most ${BLOCKLIST_LIMITS.pattern} characters.`, target);
  if (pattern.length > BLOCKLIST_LIMITS.pattern)
    throw errors.armInvalid("InvalidRequestContent", `${target} is ${pattern.length} characters long; a blocklist pattern may have at most ${BLOCKLIST_LIMITS.pattern}. Split it into several items.`, target);
  const regexTarget = target.replace(/pattern$/, "isRegex");
  if (isRegex !== undefined && isRegex !== null && typeof isRegex !== "boolean") throw errors.armInvalid("InvalidRequestContent", `${regexTarget} must be true or false.`, regexTarget);
  if (isRegex !== true) {
    if (!pattern.trim()) throw errors.armInvalid("InvalidRequestContent", `${target} is only whitespace; give the word or phrase to block.`, target);
    return { pattern, isRegex: false };
  }
  let compiled: { re: RegExp; flags: string };
  try {
    compiled = compileFlags(pattern);
  } catch (e) {
    throw errors.armInvalid("InvalidRegexPattern", `${target} is not a valid regular expression: ${(e as Error).message}. Fix the pattern, or set isRegex to false to match it as plain text.`, target);
  }
  try {
    checkRegexSafety(pattern, compiled.flags, REGEX_WINDOW);
  } catch (e) {
    if (!(e instanceof UnsafeRegex)) throw e;
    throw errors.armInvalid(
      "InvalidRegexPattern",
      `${target} could backtrack catastrophically (time growing exponentially or polynomially with the text), so it is refused: ${e.message}.`,
      target,
    );
  }
  if (compiled.re.test("")) throw errors.armInvalid("InvalidRegexPattern", `${target} matches the empty text, so it would match every prompt; make it match at least one character.`, target);
  compiled.re.lastIndex = 0;
  return { pattern, isRegex: true, re: compiled.re };
}

interface PlainItem {
  item: RaiBlocklistItemRecord;
  lower: string;
  /** The item's last character is a letter or digit: the text must not continue with one. */
  endBoundary: boolean;
}

interface CompiledList {
  name: string;
  /** Plain items starting with a word, by that first word (lower case). */
  byFirstWord: Map<string, PlainItem[]>;
  /** Plain items starting with punctuation: searched for directly. */
  other: PlainItem[];
  regexes: { item: RaiBlocklistItemRecord; re: RegExp }[];
}

/** A copy of `text` in lower case with the same length, so offsets carry over. */
function lowerSameLength(text: string): string {
  const lower = text.toLowerCase();
  if (lower.length === text.length) return lower;
  return Array.from(text, (c) => {
    const l = c.toLowerCase();
    return l.length === c.length ? l : c;
  }).join("");
}

export class RaiBlocklistService {
  #store: RaiStore;
  #clock: () => number;
  /** Compiled lists by account and lower-case name; dropped whenever the list changes. */
  #compiled = new Map<string, CompiledList>();

  constructor(store: RaiStore, opts: { clock?: () => number } = {}) {
    this.#store = store;
    this.#clock = opts.clock ?? Date.now;
  }

  #key = (account: string, name: string) => `${account}\u0000${name.toLowerCase()}`;

  list(account: string): RaiBlocklistRecord[] {
    return this.#store.listBlocklists(account);
  }

  get(account: string, name: string): RaiBlocklistRecord | undefined {
    return this.#store.getBlocklist(account, name);
  }

  require(account: string, name: string): RaiBlocklistRecord {
    const b = this.#store.getBlocklist(account, name);
    if (!b) throw errors.armNotFound(`raiBlocklists/${name}`);
    return b;
  }

  createOrUpdate(account: string, name: string, input: { description?: unknown; tags?: Record<string, string> }): { blocklist: RaiBlocklistRecord; created: boolean } {
    checkRaiName("Blocklist", name);
    if (input.description !== undefined && input.description !== null && typeof input.description !== "string")
      throw errors.armInvalid("InvalidRequestContent", "properties.description must be a string.", "properties.description");
    const description = (input.description as string | undefined | null) ?? undefined;
    if (description && description.length > BLOCKLIST_LIMITS.description)
      throw errors.armInvalid("InvalidRequestContent", `properties.description has ${description.length} characters; at most ${BLOCKLIST_LIMITS.description} are allowed.`, "properties.description");
    const existing = this.#store.getBlocklist(account, name);
    const now = this.#clock();
    const blocklist: RaiBlocklistRecord = {
      account,
      name: existing?.name ?? name,
      description: description ?? existing?.description ?? "",
      tags: input.tags ?? existing?.tags ?? {},
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
    };
    this.#store.putBlocklist(blocklist);
    return { blocklist, created: !existing };
  }

  /** Policies that name the blocklist (a blocklist in use cannot be deleted). */
  policiesUsing(account: string, name: string): string[] {
    const lower = name.toLowerCase();
    return this.#store
      .listPolicies(account)
      .filter((p) => p.customBlocklists.some((b) => b.blocklistName.toLowerCase() === lower))
      .map((p) => p.name);
  }

  /** False when there was nothing to delete. */
  delete(account: string, name: string): boolean {
    const b = this.#store.getBlocklist(account, name);
    if (!b) return false;
    const users = this.policiesUsing(account, b.name);
    if (users.length)
      throw errors.conflict(
        "RaiBlocklistInUse",
        `Blocklist '${b.name}' is used by the content filter polic${users.length === 1 ? "y" : "ies"} ${users.map((u) => `'${u}'`).join(", ")}. Remove it from their customBlocklists (or delete them) first.`,
      );
    this.#store.deleteBlocklist(account, b.name);
    this.#compiled.delete(this.#key(account, b.name));
    return true;
  }

  listItems(account: string, blocklist: string): RaiBlocklistItemRecord[] {
    const b = this.require(account, blocklist);
    return this.#store.listItems(account, b.name);
  }

  getItem(account: string, blocklist: string, name: string): RaiBlocklistItemRecord | undefined {
    const b = this.require(account, blocklist);
    return this.#store.getItem(account, b.name, name);
  }

  /** PUT of one item. */
  putItem(account: string, blocklist: string, name: string, input: { pattern?: unknown; isRegex?: unknown }): { item: RaiBlocklistItemRecord; created: boolean } {
    const b = this.require(account, blocklist);
    checkRaiName("Blocklist item", name);
    const checked = checkPattern(input.pattern, input.isRegex);
    const existing = this.#store.getItem(account, b.name, name);
    if (!existing) this.#checkRoom(account, b.name, 1);
    const now = this.#clock();
    const item: RaiBlocklistItemRecord = { account, blocklist: b.name, name: existing?.name ?? name, pattern: checked.pattern, isRegex: checked.isRegex, createdAt: existing?.createdAt ?? now, updatedAt: now };
    this.#store.putItems([item]);
    this.#compiled.delete(this.#key(account, b.name));
    return { item, created: !existing };
  }

  /** addRaiBlocklistItems: a bare array of {name, properties: {pattern, isRegex}}; all or nothing. */
  addItems(account: string, blocklist: string, body: unknown): RaiBlocklistRecord {
    const b = this.require(account, blocklist);
    if (!Array.isArray(body))
      throw errors.armInvalid("InvalidRequestContent", 'The body of addRaiBlocklistItems is a JSON array of items: [{"name": "item1", "properties": {"pattern": "...", "isRegex": false}}].');
    if (body.length === 0) throw errors.armInvalid("InvalidRequestContent", "The array of items to add is empty; give at least one item.");
    const now = this.#clock();
    const byName = new Map<string, RaiBlocklistItemRecord>();
    body.forEach((entry, k) => {
      const e = entry && typeof entry === "object" && !Array.isArray(entry) ? (entry as Record<string, unknown>) : undefined;
      if (!e) throw errors.armInvalid("InvalidRequestContent", `[${k}] must be an object {"name", "properties": {"pattern", "isRegex"}}.`, `[${k}]`);
      if (typeof e.name !== "string") throw errors.armInvalid("InvalidRequestContent", `[${k}].name is required: the item's name.`, `[${k}].name`);
      checkRaiName("Blocklist item", e.name, `[${k}].name`);
      const props = e.properties && typeof e.properties === "object" && !Array.isArray(e.properties) ? (e.properties as Record<string, unknown>) : {};
      const checked = checkPattern(props.pattern, props.isRegex, `[${k}].properties.pattern`);
      const existing = this.#store.getItem(account, b.name, e.name);
      byName.set(e.name.toLowerCase(), {
        account,
        blocklist: b.name,
        name: existing?.name ?? e.name,
        pattern: checked.pattern,
        isRegex: checked.isRegex,
        // The Content Safety API's item description (ARM items have none: absent keeps the stored one).
        ...(typeof props.description === "string" ? { description: props.description } : {}),
        createdAt: existing?.createdAt ?? now,
        updatedAt: now,
      });
    });
    const items = [...byName.values()];
    const added = items.filter((i) => !this.#store.getItem(account, b.name, i.name)).length;
    this.#checkRoom(account, b.name, added);
    this.#store.putItems(items);
    this.#compiled.delete(this.#key(account, b.name));
    return this.#store.getBlocklist(account, b.name)!;
  }

  #checkRoom(account: string, blocklist: string, adding: number): void {
    const count = this.#store.countItems(account, blocklist);
    if (count + adding <= BLOCKLIST_LIMITS.items) return;
    const room = BLOCKLIST_LIMITS.items - count;
    throw errors.armInvalid(
      "RaiBlocklistItemLimitExceeded",
      `Blocklist '${blocklist}' has ${count} items and may hold at most ${BLOCKLIST_LIMITS.items}; ${adding} new item${adding === 1 ? "" : "s"} would not fit. ${room > 0 ? `Only ${room} more fit: ` : "None more fit: "}delete items, or use another blocklist.`,
      "properties.pattern",
    );
  }

  deleteItem(account: string, blocklist: string, name: string): boolean {
    const b = this.require(account, blocklist);
    if (!this.#store.getItem(account, b.name, name)) return false;
    this.#store.deleteItems(account, b.name, [name]);
    this.#compiled.delete(this.#key(account, b.name));
    return true;
  }

  /** deleteRaiBlocklistItems: a bare array of item names; names not in the list are ignored. */
  deleteItems(account: string, blocklist: string, body: unknown): void {
    const b = this.require(account, blocklist);
    if (!Array.isArray(body) || body.some((n) => typeof n !== "string"))
      throw errors.armInvalid("InvalidRequestContent", 'The body of deleteRaiBlocklistItems is a JSON array of item names: ["item1", "item2"].');
    this.#store.deleteItems(account, b.name, body as string[]);
    this.#compiled.delete(this.#key(account, b.name));
  }

  /** Drops compiled lists of an account (all accounts when none is named): another replica changed them. */
  forgetAccount(account?: string): void {
    for (const k of [...this.#compiled.keys()]) if (account === undefined || k.startsWith(`${account}\u0000`)) this.#compiled.delete(k);
  }

  /** Account deletion: everything of the account goes (policies too: one store). */
  deleteAll(account: string): void {
    this.#store.deleteAll(account);
    for (const k of [...this.#compiled.keys()]) if (k.startsWith(`${account}\u0000`)) this.#compiled.delete(k);
  }

  #compile(account: string, name: string): CompiledList | undefined {
    const key = this.#key(account, name);
    const cached = this.#compiled.get(key);
    if (cached) return cached;
    const b = this.#store.getBlocklist(account, name);
    if (!b) return undefined;
    const list: CompiledList = { name: b.name, byFirstWord: new Map(), other: [], regexes: [] };
    for (const item of this.#store.listItems(account, b.name)) {
      if (item.isRegex) {
        try {
          list.regexes.push({ item, re: compileFlags(item.pattern).re });
        } catch {
          // Checked when written; a pattern this engine no longer accepts is skipped rather than failing every request.
        }
        continue;
      }
      const lower = lowerSameLength(item.pattern.trim());
      const plain: PlainItem = { item, lower, endBoundary: WORD_CHAR.test(lower.at(-1) ?? "") };
      const firstWord = /^[\p{L}\p{N}_]+/u.exec(lower)?.[0];
      if (firstWord) {
        const bucket = list.byFirstWord.get(firstWord) ?? [];
        bucket.push(plain);
        list.byFirstWord.set(firstWord, bucket);
      } else list.other.push(plain);
    }
    this.#compiled.set(key, list);
    return list;
  }

  /**
   * The first occurrence of every item of the named blocklists in `text` that ends after `from`
   * (default 0: anywhere). A caller checking a growing text (a streamed completion) passes the
   * length it already checked, and only the new part, with a pattern's length of context before
   * it, is scanned. Unknown blocklist names are skipped (a policy cannot name one; the Content
   * Safety API checks its own).
   */
  match(account: string, blocklistNames: string[], text: string, from = 0): BlocklistMatch[] {
    const lists = [...new Set(blocklistNames.map((n) => n.toLowerCase()))].map((n) => this.#compile(account, n)).filter((l) => l !== undefined);
    if (!lists.length || !text || from >= text.length) return [];
    // Hits end after `from`, and no pattern is longer than BLOCKLIST_LIMITS.pattern: nothing before `base` can matter.
    const base = Math.max(0, from - BLOCKLIST_LIMITS.pattern);
    const sub = base ? text.slice(base) : text;
    const subFrom = from - base;
    // A scan starting inside a word must not take the word's tail for a word.
    const midWord = base > 0 && WORD_CHAR.test(text[base - 1]!);
    const out: BlocklistMatch[] = [];
    const lower = lists.some((l) => l.byFirstWord.size || l.other.length) ? lowerSameLength(sub) : "";
    const endOk = (p: PlainItem, end: number) => !p.endBoundary || end >= lower.length || !WORD_CHAR.test(lower[end]!);
    const hit = (list: CompiledList, item: RaiBlocklistItemRecord, at: number, length: number) =>
      out.push({ blocklist: list.name, itemId: item.name, text: sub.slice(at, at + length), offset: base + at });
    for (const list of lists) {
      const found = new Set<PlainItem>();
      if (list.byFirstWord.size)
        for (const m of lower.matchAll(WORDS)) {
          if (m.index === 0 && midWord) continue;
          const bucket = list.byFirstWord.get(m[0]);
          if (!bucket) continue;
          for (const p of bucket) {
            const end = m.index + p.lower.length;
            if (found.has(p) || end <= subFrom || !lower.startsWith(p.lower, m.index) || !endOk(p, end)) continue;
            found.add(p);
            hit(list, p.item, m.index, p.lower.length);
          }
        }
      for (const p of list.other) {
        for (let at = lower.indexOf(p.lower, Math.max(0, subFrom - p.lower.length + 1)); at >= 0; at = lower.indexOf(p.lower, at + 1)) {
          // An item starting with punctuation may still need its end to stand apart; its start needs nothing.
          if (!endOk(p, at + p.lower.length)) continue;
          hit(list, p.item, at, p.lower.length);
          break;
        }
      }
      for (const { item, re } of list.regexes) {
        const m = matchBounded(re, sub, subFrom);
        if (m) hit(list, item, m.offset, m.text.length);
      }
    }
    return out.sort((a, b) => a.offset - b.offset);
  }
}

/** The first match of `re` (global flag) in `text` that ends after `from`, looking at REGEX_WINDOW characters at a time. */
export function matchBounded(re: RegExp, text: string, from = 0): { text: string; offset: number } | undefined {
  const step = REGEX_WINDOW - REGEX_OVERLAP;
  for (let start = Math.max(0, from - REGEX_OVERLAP); start < text.length; start += step) {
    const window = text.slice(start, start + REGEX_WINDOW);
    re.lastIndex = 0;
    // The first non-empty match in this window (an empty match cannot be stored: checkPattern refuses patterns that match "", but a lookahead can still match empty mid-text).
    for (let m = re.exec(window); m; m = re.exec(window)) {
      if (m[0].length > 0 && start + m.index + m[0].length > from) return { text: m[0], offset: start + m.index };
      re.lastIndex = m.index + 1;
    }
    if (start + REGEX_WINDOW >= text.length) break;
  }
  return undefined;
}
