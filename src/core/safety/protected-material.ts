// Protected material (issue 14 item 3c): texts the operator registers (song lyrics, articles,
// book passages, licensed code…) and detection of long verbatim copies of them in completions.
//
// Both sides are normalised to words (NFKC, lower case, letters and digits only), so changes of
// case, punctuation, spacing and line breaks do not hide a copy. Every run of SHINGLE_WORDS
// consecutive words of a registered text is hashed into an index; a completion's shingles are
// looked up in order and a copy is a chain of shingles that continue each other in the same
// registered text. It is detected when the chain covers at least minWords words or minChars
// characters (the plan: 40 words or 200 characters), then confirmed word by word (a hash
// collision cannot cause a detection). Indexing and detection are linear in the text's length;
// a shingle that occurs in very many places (boilerplate) keeps only its first MAX_POSTINGS.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

export const SHINGLE_WORDS = 8;
const MAX_POSTINGS = 16;

export interface ProtectedText {
  id: string;
  text: string;
}

export interface ProtectedMaterialOptions {
  /** Words of verbatim overlap that count as a copy (default 40). */
  minWords?: number;
  /** Characters (normalised words and single spaces) that count as a copy (default 200). */
  minChars?: number;
}

export interface ProtectedMaterialResult {
  detected: boolean;
  /** The registered text copied from. */
  id?: string;
  /** Length of the copied run found, in words, when it crossed the threshold (when detected). */
  words?: number;
}

const WORD = /[\p{L}\p{N}]+/gu;

export function protectedWords(text: string): string[] {
  return text.normalize("NFKC").toLowerCase().match(WORD) ?? [];
}

/** FNV-1a over the shingle's words (with a separator), 32 bits. */
function shingleHash(words: readonly string[], at: number): number {
  let h = 0x811c9dc5;
  for (let i = at; i < at + SHINGLE_WORDS; i++) {
    const w = words[i];
    for (let k = 0; k < w.length; k++) {
      h ^= w.charCodeAt(k);
      h = Math.imul(h, 0x01000193);
    }
    h ^= 0x20;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

interface Posting {
  doc: number;
  pos: number;
}

export class ProtectedMaterial {
  private readonly docs: { id: string; words: string[] }[] = [];
  private readonly index = new Map<number, Posting[]>();
  private readonly minWords: number;
  private readonly minChars: number;

  constructor(texts: readonly ProtectedText[], options: ProtectedMaterialOptions = {}) {
    this.minWords = Math.max(SHINGLE_WORDS, options.minWords ?? 40);
    this.minChars = options.minChars ?? 200;
    for (const t of texts) this.add(t);
  }

  get size(): number {
    return this.docs.length;
  }

  add(text: ProtectedText): void {
    const words = protectedWords(text.text);
    const doc = this.docs.length;
    this.docs.push({ id: text.id, words });
    for (let pos = 0; pos + SHINGLE_WORDS <= words.length; pos++) {
      const h = shingleHash(words, pos);
      let list = this.index.get(h);
      if (!list) this.index.set(h, (list = []));
      if (list.length < MAX_POSTINGS) list.push({ doc, pos });
    }
  }

  detect(text: string): ProtectedMaterialResult {
    if (this.docs.length === 0) return { detected: false };
    const words = protectedWords(text);
    // Chains alive after the previous shingle: key doc*2^32+pos(next expected) → chain start (input index).
    let alive = new Map<number, number>();
    for (let i = 0; i + SHINGLE_WORDS <= words.length; i++) {
      const postings = this.index.get(shingleHash(words, i));
      const next = new Map<number, number>();
      if (postings) {
        for (const p of postings) {
          const key = p.doc * 2 ** 32 + p.pos;
          const chainStart = alive.get(key) ?? i;
          next.set(key + 1, chainStart);
          const inputStart = chainStart;
          const docStart = p.pos - (i - chainStart);
          const runWords = i - chainStart + SHINGLE_WORDS;
          if (runWords >= this.minWords || this.runChars(words, inputStart, runWords) >= this.minChars) {
            // The first confirmed copy answers; a chain that fails confirmation (a hash
            // collision) is dropped, so each word is confirmed at most once per chain.
            if (this.confirm(words, inputStart, p.doc, docStart, runWords)) return { detected: true, id: this.docs[p.doc].id, words: runWords };
            next.delete(key + 1);
          }
        }
      }
      alive = next;
    }
    return { detected: false };
  }

  private runChars(words: readonly string[], start: number, n: number): number {
    let chars = n - 1;
    for (let i = start; i < start + n; i++) chars += words[i].length;
    return chars;
  }

  private confirm(words: readonly string[], start: number, doc: number, docStart: number, n: number): boolean {
    const d = this.docs[doc].words;
    if (docStart < 0 || docStart + n > d.length) return false;
    for (let k = 0; k < n; k++) if (words[start + k] !== d[docStart + k]) return false;
    return true;
  }
}

/**
 * The operator's registered texts: every .txt file directly in `dir` (UTF-8), id = the file name
 * without .txt. A missing directory means none. (`ingot up --protected-material DIR`, default
 * DATA_DIR/protected-material/.)
 */
export function loadProtectedMaterialDir(dir: string): ProtectedText[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
  const out: ProtectedText[] = [];
  for (const name of names.sort()) {
    if (!name.toLowerCase().endsWith(".txt")) continue;
    const path = join(dir, name);
    if (!statSync(path).isFile()) continue;
    out.push({ id: name.slice(0, -4), text: readFileSync(path, "utf8") });
  }
  return out;
}
