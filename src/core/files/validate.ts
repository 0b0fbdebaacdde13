// Validation of fine-tuning datasets on arrival (reference §4.3): JSON Lines in UTF-8 (with or
// without a BOM), every line a chat example or a prompt/completion pair, one format per file,
// at least 10 examples. Streams line by line, so a 512 MB file is never held in memory; token
// counts against the base model's context need a model and are checked when a job is created.
//
// Blank lines (empty or whitespace only, e.g. a trailing newline) are skipped: they are neither
// examples nor errors. CRLF line ends are accepted. Each bad line reports its first problem.
import type { DatasetFormat } from "./types.ts";

export const MIN_EXAMPLES = 10;
export const ROLES = ["system", "user", "assistant", "tool"] as const;
const ROLE_LIST = "system, user, assistant or tool";

export interface ValidationResult {
  ok: boolean;
  format: DatasetFormat | null;
  /** Non-blank lines (each one example, well-formed or not). */
  examples: number;
  /** The first problems, each naming its line; file-level problems first. */
  problems: string[];
  /** All problems found, including those not listed. */
  problemCount: number;
  /** `status_details`: the listed problems, one a line, then "and N more"; null when ok. */
  details: string | null;
}

export interface ValidateOptions {
  minExamples?: number;
  /** How many problems to list (default 10); the rest are counted. */
  maxListed?: number;
  /** A longer line is an error without being buffered (default 64 MiB). */
  maxLineBytes?: number;
  signal?: AbortSignal;
}

export interface Line {
  /** 1-based. */
  number: number;
  /** Byte offset of the line's first byte in the file. */
  offset: number;
  bytes: Uint8Array;
  /** Longer than maxLineBytes: `bytes` is empty. */
  tooLong: boolean;
}

/** Splits a byte stream at '\n' without decoding (no multi-byte UTF-8 sequence holds 0x0A). */
export async function* splitLines(chunks: AsyncIterable<Uint8Array>, maxLineBytes = 64 * 1024 * 1024): AsyncGenerator<Line> {
  let parts: Uint8Array[] = [];
  let partBytes = 0;
  let tooLong = false;
  let number = 1;
  let lineStart = 0;
  let position = 0;
  const take = (last: Uint8Array): Uint8Array => {
    if (tooLong) return new Uint8Array(0);
    if (parts.length === 0) return last;
    const out = new Uint8Array(partBytes + last.length);
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    out.set(last, o);
    return out;
  };
  for await (const chunk of chunks) {
    let start = 0;
    for (let nl = chunk.indexOf(10, start); nl !== -1; nl = chunk.indexOf(10, start)) {
      const piece = chunk.subarray(start, nl);
      if (!tooLong && partBytes + piece.length > maxLineBytes) tooLong = true;
      yield { number, offset: lineStart, bytes: take(piece), tooLong };
      number++;
      lineStart = position + nl + 1;
      parts = [];
      partBytes = 0;
      tooLong = false;
      start = nl + 1;
    }
    const rest = chunk.subarray(start);
    if (!tooLong && rest.length > 0) {
      if (partBytes + rest.length > maxLineBytes) {
        tooLong = true;
        parts = [];
        partBytes = 0;
      } else {
        parts.push(rest);
        partBytes += rest.length;
      }
    }
    position += chunk.length;
  }
  if (partBytes > 0 || tooLong) yield { number, offset: lineStart, bytes: take(new Uint8Array(0)), tooLong };
}

/** Index of the first byte that does not start a valid UTF-8 sequence, or -1. */
export function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    const n = c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : 0;
    if (n === 0) return i;
    for (let k = 1; k <= n; k++) {
      const x = b[i + k];
      // Second-byte ranges that exclude overlongs, surrogates and code points past U+10FFFF.
      let lo = 0x80;
      let hi = 0xbf;
      if (k === 1 && c === 0xe0) lo = 0xa0;
      if (k === 1 && c === 0xed) hi = 0x9f;
      if (k === 1 && c === 0xf0) lo = 0x90;
      if (k === 1 && c === 0xf4) hi = 0x8f;
      if (x === undefined || x < lo || x > hi) return i;
    }
    i += n + 1;
  }
  return -1;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
const isObject = (v: unknown): v is Record<string, Json> => typeof v === "object" && v !== null && !Array.isArray(v);
const typeName = (v: unknown) => (v === null ? "null" : Array.isArray(v) ? "an array" : typeof v === "object" ? "an object" : `a ${typeof v}`);
const show = (v: unknown) => {
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    // Nested deeper than JSON.stringify can recurse: a problem to report, not a failure of the validator.
    return `${typeName(v)} nested too deeply to show`;
  }
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
};

/** The problem with a text content (a string or text parts), or undefined. */
function contentProblem(content: unknown, at: string): string | undefined {
  if (typeof content === "string") return undefined;
  if (!Array.isArray(content)) return `${at} must be a string or an array of text parts, not ${typeName(content)}`;
  for (let j = 0; j < content.length; j++) {
    const part = content[j];
    if (!isObject(part)) return `${at}[${j}] must be a part object like {"type": "text", "text": "..."}`;
    if (part.type !== "text")
      return `${at}[${j}] is ${typeof part.type === "string" ? `a '${part.type}' part` : "a part without a 'type'"}; only text parts ({"type": "text", "text": "..."}) can be trained on`;
    if (typeof part.text !== "string") return `${at}[${j}].text must be a string`;
  }
  return undefined;
}

function toolCallsProblem(calls: unknown, at: string): string | undefined {
  if (!Array.isArray(calls)) return `${at} must be an array of tool calls`;
  for (let j = 0; j < calls.length; j++) {
    const call = calls[j];
    const fn = isObject(call) ? call.function : undefined;
    if (!isObject(call) || !isObject(fn)) return `${at}[${j}] must be {"id": "...", "type": "function", "function": {"name": "...", "arguments": "..."}}`;
    if (call.type !== undefined && call.type !== "function") return `${at}[${j}].type is ${show(call.type)}; use "function"`;
    if (typeof fn.name !== "string" || !fn.name) return `${at}[${j}].function.name must be a non-empty string`;
    if (typeof fn.arguments !== "string") return `${at}[${j}].function.arguments must be a string (the arguments as JSON text)`;
  }
  return undefined;
}

function toolsProblem(tools: unknown): string | undefined {
  if (!Array.isArray(tools)) return `'tools' must be an array of tool definitions, not ${typeName(tools)}`;
  for (let j = 0; j < tools.length; j++) {
    const t = tools[j];
    const fn = isObject(t) ? t.function : undefined;
    if (!isObject(t) || t.type !== "function" || !isObject(fn))
      return `tools[${j}] must be {"type": "function", "function": {"name": "...", "parameters": {...}}}`;
    if (typeof fn.name !== "string" || !fn.name) return `tools[${j}].function.name must be a non-empty string`;
    if (fn.parameters !== undefined && !isObject(fn.parameters)) return `tools[${j}].function.parameters must be a JSON Schema object`;
  }
  return undefined;
}

/** The first problem of a chat example, or undefined. */
export function chatProblem(example: Record<string, Json>): string | undefined {
  const messages = example.messages;
  if (!Array.isArray(messages)) return `'messages' must be an array of messages, not ${typeName(messages)}`;
  if (messages.length === 0) return "'messages' is empty; an example needs at least one assistant message to learn from";
  let trainable = 0;
  let assistants = 0;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i];
    const at = `messages[${i}]`;
    if (!isObject(m)) return `${at} must be an object with 'role' and 'content', not ${typeName(m)}`;
    if (m.role === undefined) return `${at} has no 'role'; use ${ROLE_LIST}`;
    if (typeof m.role !== "string" || !(ROLES as readonly string[]).includes(m.role)) return `unknown role ${typeof m.role === "string" ? `'${m.role}'` : show(m.role)} in ${at}; use ${ROLE_LIST}`;
    if (m.weight !== undefined) {
      if (m.role !== "assistant") return `${at} is a ${m.role} message with a 'weight'; only assistant messages take a weight`;
      if (m.weight !== 0 && m.weight !== 1) return `${at}.weight is ${show(m.weight)}; use 0 (do not train on this message) or 1 (train on it)`;
    }
    if (m.role === "assistant") {
      assistants++;
      if (m.weight !== 0) trainable++;
      const hasCalls = m.tool_calls !== undefined && m.tool_calls !== null;
      if (hasCalls) {
        const p = toolCallsProblem(m.tool_calls, `${at}.tool_calls`);
        if (p) return p;
      }
      if (m.content === undefined || m.content === null) {
        if (!hasCalls) return `${at} (assistant) has no 'content'; give the reply as a string (or 'tool_calls')`;
      } else {
        const p = contentProblem(m.content, `${at}.content`);
        if (p) return p;
      }
    } else {
      if (m.content === undefined || m.content === null) return `${at} (${m.role}) has no 'content'; give it as a string`;
      const p = contentProblem(m.content, `${at}.content`);
      if (p) return p;
      if (m.role === "tool" && m.tool_call_id !== undefined && typeof m.tool_call_id !== "string") return `${at}.tool_call_id must be a string`;
    }
  }
  if (assistants === 0) return "no assistant message; each example needs at least one assistant message to learn from";
  if (trainable === 0) return "every assistant message has weight 0, so there is nothing to learn from; set weight 1 (or leave it out) on at least one";
  if (example.tools !== undefined && example.tools !== null) return toolsProblem(example.tools);
  return undefined;
}

export function promptCompletionProblem(example: Record<string, Json>): string | undefined {
  for (const key of ["prompt", "completion"] as const) {
    if (example[key] === undefined) return `'${key}' is missing; a prompt/completion example needs both 'prompt' and 'completion' as strings`;
    if (typeof example[key] !== "string") return `'${key}' must be a string, not ${typeName(example[key])}`;
  }
  if (example.completion === "") return "'completion' is empty; there is nothing to learn from";
  return undefined;
}

const FORMAT_WORDS: Record<DatasetFormat, string> = { chat: "a chat example", prompt_completion: "a prompt/completion example" };

/** Checks one line at a time; `finish` gives the verdict. Pure: feed it lines from anywhere. */
export class DatasetValidator {
  #min: number;
  #maxListed: number;
  #lineProblems: string[] = [];
  #lineProblemCount = 0;
  #fileProblems: string[] = [];
  #examples = 0;
  #format: { format: DatasetFormat; line: number } | undefined;
  /** Set when the file is not UTF-8 at all: its lines are not worth a problem each. */
  #notUtf8 = false;
  #decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

  constructor(opts: Pick<ValidateOptions, "minExamples" | "maxListed"> = {}) {
    this.#min = opts.minExamples ?? MIN_EXAMPLES;
    this.#maxListed = opts.maxListed ?? 10;
  }

  #problem(line: number, message: string): void {
    this.#lineProblemCount++;
    if (this.#lineProblems.length < this.#maxListed) this.#lineProblems.push(`line ${line}: ${message}`);
  }

  /** Checks one line (without its '\n'). */
  line(line: Line): void {
    if (this.#notUtf8) return;
    let bytes = line.bytes;
    let offset = line.offset;
    if (line.number === 1) {
      if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
        this.#fileProblems.push("the file is UTF-16 (it starts with a UTF-16 byte-order mark); save it as UTF-8");
        this.#notUtf8 = true;
        return;
      }
      if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
        bytes = bytes.subarray(3);
        offset += 3;
      }
    }
    if (bytes[bytes.length - 1] === 0x0d) bytes = bytes.subarray(0, -1);
    if (line.tooLong) {
      this.#examples++;
      this.#problem(line.number, "the line is too long to be one example; each example must be a single line of JSON");
      return;
    }
    let text: string;
    try {
      text = this.#decoder.decode(bytes);
    } catch {
      const at = firstInvalidUtf8(bytes);
      const b = bytes[at];
      this.#examples++;
      this.#problem(
        line.number,
        `invalid UTF-8 at byte offset ${offset + at} of the file (byte ${at + 1} of the line, 0x${b.toString(16).toUpperCase().padStart(2, "0")}); save the file as UTF-8`,
      );
      return;
    }
    if (text.trim() === "") return;
    this.#examples++;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      const reason = (e as Error).message.replace(/\s+/g, " ");
      this.#problem(line.number, `invalid JSON (${reason.length > 160 ? `${reason.slice(0, 157)}...` : reason}); each line must be one complete JSON object`);
      return;
    }
    if (!isObject(value)) {
      this.#problem(line.number, `expected a JSON object, got ${typeName(value)}`);
      return;
    }
    const format: DatasetFormat | undefined =
      value.messages !== undefined ? "chat" : value.prompt !== undefined || value.completion !== undefined ? "prompt_completion" : undefined;
    if (!format) {
      const keys = Object.keys(value);
      const hint = value.preferred_output !== undefined ? " (preference/DPO examples are not supported)" : "";
      this.#problem(
        line.number,
        `expected a chat example {"messages": [...]} or a prompt/completion pair {"prompt": "...", "completion": "..."}${hint}; found ${keys.length ? `keys ${keys.slice(0, 5).map((k) => `'${k}'`).join(", ")}` : "an empty object"}`,
      );
      return;
    }
    if (!this.#format) this.#format = { format, line: line.number };
    else if (this.#format.format !== format) {
      this.#problem(line.number, `${FORMAT_WORDS[format]} in a file whose line ${this.#format.line} is ${FORMAT_WORDS[this.#format.format]}; use one format per file`);
      return;
    }
    const p = format === "chat" ? chatProblem(value) : promptCompletionProblem(value);
    if (p) this.#problem(line.number, p);
  }

  finish(): ValidationResult {
    const fileProblems = [...this.#fileProblems];
    if (this.#examples < this.#min && !this.#notUtf8)
      fileProblems.push(`${this.#examples} example${this.#examples === 1 ? "" : "s"}: a training file needs at least ${this.#min}`);
    const all = [...fileProblems, ...this.#lineProblems];
    const problemCount = fileProblems.length + this.#lineProblemCount;
    const problems = all.slice(0, this.#maxListed);
    const more = problemCount - problems.length;
    const ok = problemCount === 0;
    return {
      ok,
      format: this.#format?.format ?? null,
      examples: this.#examples,
      problems,
      problemCount,
      details: ok ? null : problems.join("\n") + (more > 0 ? `\nand ${more} more problem${more === 1 ? "" : "s"}` : ""),
    };
  }
}

/** Validates a JSONL dataset from a byte stream. */
export async function validateDataset(chunks: AsyncIterable<Uint8Array>, opts: ValidateOptions = {}): Promise<ValidationResult> {
  const v = new DatasetValidator(opts);
  for await (const line of splitLines(chunks, opts.maxLineBytes)) {
    opts.signal?.throwIfAborted();
    v.line(line);
  }
  return v.finish();
}
