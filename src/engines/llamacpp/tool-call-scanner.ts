// Splits a tools-mode output stream into content or tool calls. The grammar guarantees the
// first character decides: a tool-call block opens with '<', free text never does.
import { TOOL_CALL_CLOSE, TOOL_CALL_OPEN } from "./grammars/toolCallGrammar.ts";

export type ScannedPiece = { type: "content"; text: string } | { type: "tool_call"; name: string; arguments: string };

export class ToolCallScanner {
  #mode: "undecided" | "content" | "calls" = "undecided";
  #buffer = "";

  get sawCalls(): boolean {
    return this.#mode === "calls";
  }

  push(text: string): ScannedPiece[] {
    if (this.#mode === "content") return text ? [{ type: "content", text }] : [];
    this.#buffer += text;
    if (this.#mode === "undecided") {
      const trimmed = this.#buffer.trimStart();
      if (!trimmed) return [];
      if (!trimmed.startsWith("<")) {
        this.#mode = "content";
        const out = this.#buffer;
        this.#buffer = "";
        return [{ type: "content", text: out }];
      }
      this.#mode = "calls";
    }
    return this.#drainCalls();
  }

  #drainCalls(): ScannedPiece[] {
    const out: ScannedPiece[] = [];
    for (;;) {
      const open = this.#buffer.indexOf(TOOL_CALL_OPEN);
      const close = this.#buffer.indexOf(TOOL_CALL_CLOSE, open + 1);
      if (open === -1 || close === -1) return out;
      const body = this.#buffer.slice(open + TOOL_CALL_OPEN.length, close);
      this.#buffer = this.#buffer.slice(close + TOOL_CALL_CLOSE.length);
      const parsed = JSON.parse(body) as { name: string; arguments: unknown };
      out.push({ type: "tool_call", name: parsed.name, arguments: JSON.stringify(parsed.arguments ?? {}) });
    }
  }
}
