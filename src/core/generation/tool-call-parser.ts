// Parses completed tool-call output: one or more <tool_call>{...}</tool_call> blocks,
// separated only by whitespace. Strict on purpose: the grammar produces exactly this.
import { TOOL_CALL_CLOSE, TOOL_CALL_OPEN } from "./tool-call-format.ts";
import type { ParsedToolCall } from "./tool-call-format.ts";

const isSpace = (c: string | undefined): boolean => c === " " || c === "\n" || c === "\r" || c === "\t";

function skipSpace(text: string, i: number): number {
  while (isSpace(text[i])) i++;
  return i;
}

/** End index (exclusive) of the JSON object starting at `start`, or -1. Strings may contain braces or tags. */
function objectEnd(text: string, start: number): number {
  if (text[start] !== "{") return -1;
  let depth = 0;
  let inString = false;
  for (let j = start; j < text.length; j++) {
    const c = text[j];
    if (inString) {
      if (c === "\\") j++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === "{" || c === "[") depth++;
    else if (c === "}" || c === "]") {
      depth--;
      if (depth === 0) return j + 1;
    }
  }
  return -1;
}

function toCall(value: unknown): ParsedToolCall | null {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return null;
  const { name } = value as Record<string, unknown>;
  let args = (value as Record<string, unknown>).arguments ?? (value as Record<string, unknown>).parameters ?? {};
  if (typeof name !== "string" || name === "") return null;
  if (typeof args === "string") {
    try {
      args = JSON.parse(args); // some models send arguments as a JSON string
    } catch {
      return null;
    }
  }
  if (typeof args !== "object" || args === null || Array.isArray(args)) return null;
  return { name, arguments: JSON.stringify(args) };
}

/**
 * The calls in `text`, or null when it is not (only) well-formed tool-call blocks, e.g.
 * free text, a truncated block, or text around the blocks. Leading/trailing whitespace is fine.
 */
export function parseToolCalls(text: string): ParsedToolCall[] | null {
  const calls: ParsedToolCall[] = [];
  let i = skipSpace(text, 0);
  if (!text.startsWith(TOOL_CALL_OPEN, i)) return null;
  while (i < text.length) {
    if (!text.startsWith(TOOL_CALL_OPEN, i)) return null;
    i = skipSpace(text, i + TOOL_CALL_OPEN.length);
    const end = objectEnd(text, i);
    if (end < 0) return null;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text.slice(i, end));
    } catch {
      return null;
    }
    const call = toCall(parsed);
    if (!call) return null;
    calls.push(call);
    i = skipSpace(text, end);
    if (!text.startsWith(TOOL_CALL_CLOSE, i)) return null;
    i = skipSpace(text, i + TOOL_CALL_CLOSE.length);
  }
  return calls;
}
