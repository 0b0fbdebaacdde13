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

  /**
   * The text left when generation ends: a tool call cut short (by max_tokens) is not a call;
   * its text is returned so the reply carries what was generated, as content.
   */
  end(): string {
    const rest = this.#buffer;
    this.#buffer = "";
    return rest.trim() ? rest : "";
  }

  #drainCalls(): ScannedPiece[] {
    const out: ScannedPiece[] = [];
    for (;;) {
      const open = this.#buffer.indexOf(TOOL_CALL_OPEN);
      if (open === -1) return out;
      const call = this.#completeCall(open + TOOL_CALL_OPEN.length);
      if (!call) return out;
      let args: string;
      try {
        args = JSON.stringify(call.value.arguments ?? {});
      } catch {
        // Arguments nested beyond what JSON.stringify can recurse (thousands of levels): not a usable call; its text goes out as content.
        out.push({ type: "content", text: this.#buffer.slice(0, call.end + TOOL_CALL_CLOSE.length) });
        this.#buffer = this.#buffer.slice(call.end + TOOL_CALL_CLOSE.length);
        continue;
      }
      out.push({ type: "tool_call", name: call.value.name, arguments: args });
      this.#buffer = this.#buffer.slice(call.end + TOOL_CALL_CLOSE.length);
    }
  }

  /** The first close tag after which the body parses: an argument string may itself contain the tag. */
  #completeCall(bodyStart: number): { value: { name: string; arguments: unknown }; end: number } | undefined {
    for (let close = this.#buffer.indexOf(TOOL_CALL_CLOSE, bodyStart); close !== -1; close = this.#buffer.indexOf(TOOL_CALL_CLOSE, close + 1)) {
      try {
        return { value: JSON.parse(this.#buffer.slice(bodyStart, close)), end: close };
      } catch {
        // Not the real end of the block yet.
      }
    }
    return undefined;
  }
}
