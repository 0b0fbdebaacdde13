// Grammar for tool calling. A call is
//   <tool_call>{"name": "<function>", "arguments": <JSON valid for its parameters>}</tool_call>
// (an optional newline may follow the open tag and precede the close tag).
// Mode "auto": the output is either call block(s) or free text. Up to 4 leading spaces/tabs/
// newlines are allowed; after them the first character decides: '<' starts a call block,
// free text starts with anything but '<' or whitespace (a plain answer never begins with '<').
import { SPACE, complement, union } from "./charSets.ts";
import { alt, chars, lit, opt, rep, seq } from "./gbnf.ts";
import type { GNode } from "./gbnf.ts";
import { buildGrammar } from "./grammarResult.ts";
import type { GrammarResult } from "./grammarResult.ts";
import type { JsonGrammarOptions, JsonRules } from "./jsonRules.ts";
import { compileDocument } from "./schemaCompiler.ts";
import { SchemaError, isObject } from "./schemaKeywords.ts";
import { TOOL_CALL_CLOSE, TOOL_CALL_OPEN } from "../../../core/generation/tool-call-format.ts";
import type { ToolCallMode, ToolDefinition } from "../../../core/generation/tool-call-format.ts";

export { TOOL_CALL_CLOSE, TOOL_CALL_OPEN } from "../../../core/generation/tool-call-format.ts";
export type { ParsedToolCall, ToolCallMode, ToolDefinition } from "../../../core/generation/tool-call-format.ts";
export { parseToolCalls } from "../../../core/generation/tool-call-parser.ts";
export { toolsSystemPrompt } from "../../../core/generation/tools-prompt.ts";
export type { GrammarResult } from "./grammarResult.ts";

export type ToolGrammarOptions = JsonGrammarOptions & {
  /** With parallel calls, the most blocks allowed (default: no limit). */
  readonly maxParallelCalls?: number;
};

const SPACE_CHARS = [[0x20, 0x20], [0x09, 0x0a], [0x0d, 0x0d]] as const;
const ANY_CHAR = chars([[0x01, 0xd7ff], [0xe000, 0x10ffff]]); // no NUL, no lone surrogates
const NOT_TEXT = union(SPACE, [[0x00, 0x00], [0xd800, 0xdfff]]);
// Free text starts with neither '<' nor any whitespace (as String.prototype.trim sees it),
// so "first non-whitespace character is '<'" identifies call blocks exactly.
const TEXT_START = chars(complement(union(NOT_TEXT, [[0x3c, 0x3c]])));

/** The arguments schema as an object schema (a missing schema means "no arguments"). */
function argumentsSchema(parameters: unknown, path: string): unknown {
  if (parameters === undefined) return { type: "object", properties: {} };
  if (parameters === true) return { type: "object" };
  if (!isObject(parameters)) throw new SchemaError(`${path} must be a JSON Schema object describing the arguments`, path);
  const t = parameters.type;
  if (t === undefined) return { ...parameters, type: "object" };
  if (t === "object") return parameters;
  if (Array.isArray(t) && t.includes("object")) return { ...parameters, type: "object" };
  throw new SchemaError(`${path} must describe an object (type "object"): tool arguments are always a JSON object`, path);
}

function callNode(json: JsonRules, name: string, args: GNode): GNode {
  const ws = json.ws();
  const colon = seq(ws, lit(":"), ws);
  return seq(
    lit(TOOL_CALL_OPEN), opt(lit("\n")),
    lit("{"), ws, lit('"name"'), colon, lit(JSON.stringify(name)), json.comma(), lit('"arguments"'), colon, args, ws, lit("}"),
    opt(lit("\n")), lit(TOOL_CALL_CLOSE),
  );
}

/**
 * GBNF for the model's output given OpenAI-style `tools`, a tool_choice `mode` and whether
 * several calls may be made. Errors name the offending field, e.g. `tools[2].function.parameters`.
 */
export function toolCallGrammar(
  tools: readonly ToolDefinition[],
  mode: ToolCallMode,
  parallel: boolean,
  opts: ToolGrammarOptions = {},
): GrammarResult {
  return buildGrammar(opts, (json) => {
    if (!Array.isArray(tools) || tools.length === 0) throw new SchemaError("tools must contain at least one function", "tools");
    const calls = new Map<string, GNode>();
    tools.forEach((tool: unknown, i) => {
      const where = `tools[${i}]`;
      if (!isObject(tool) || tool.type !== "function" || !isObject(tool.function)) {
        throw new SchemaError(`${where} must be {"type": "function", "function": {...}}`, where);
      }
      const { name, parameters } = tool.function;
      if (typeof name !== "string" || name === "") throw new SchemaError(`${where}.function.name must be a non-empty string`, `${where}.function.name`);
      if (calls.has(name)) throw new SchemaError(`${where}.function.name: the function name '${name}' is used twice`, `${where}.function.name`);
      const origin = `${where}.function.parameters`;
      try {
        const args = compileDocument(json, argumentsSchema(parameters, origin), `tool-${name}-args`, origin);
        calls.set(name, json.builder.add(`call-${name}`, callNode(json, name, args), origin));
      } catch (e) {
        if (e instanceof SchemaError) throw new SchemaError(`function '${name}': ${e.message}`, e.path);
        throw e;
      }
    });

    let chosen = [...calls.values()];
    if (typeof mode === "object" && mode !== null) {
      const call = calls.get(mode.name);
      if (!call) throw new SchemaError(`tool_choice names the function '${mode.name}', which is not in tools`, "tool_choice");
      chosen = [call];
    } else if (mode !== "auto" && mode !== "required") {
      throw new SchemaError(`tool_choice must be "auto", "required" or a named function`, "tool_choice");
    }
    const one = chosen.length === 1 ? chosen[0] : json.builder.add("call", alt(...chosen));
    const max = opts.maxParallelCalls ?? null;
    const many = parallel && typeof mode !== "object" ? seq(one, rep(seq(opt(lit("\n")), one), 0, max === null ? null : Math.max(max - 1, 0))) : one;
    const callsNode = json.builder.add("calls", many);
    const lead = rep(chars(SPACE_CHARS), 0, 4);
    const text = json.builder.add("free-text", opt(seq(TEXT_START, rep(ANY_CHAR, 0, null))));
    const body = mode === "auto" ? seq(lead, alt(callsNode, text)) : seq(lead, callsNode);
    json.builder.define(json.builder.reserve("root"), body);
  });
}
