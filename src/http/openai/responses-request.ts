// Wire → core for the Responses API: a `POST /responses` body becomes the chat request of the
// one generation model, plus what the response object echoes and what is stored. Every
// malformed item is a 400 whose `param` names its path (input[2].content[0].type).
import { randomBytes } from "node:crypto";
import { errors } from "../../core/errors.ts";
import type { ChatMessage, ChatRequest, ResponseFormat, ToolCall, ToolChoice, ToolDefinition } from "../../core/generation/types.ts";
import type { Body } from "../validate.ts";
import { asBody, optBoolean, optNumber, optObject, optString, wrongType } from "../validate.ts";

const MAX_ITEMS = 2048;
const MAX_TOOLS = 128;
const NAME = /^[a-zA-Z0-9_-]{1,64}$/;
const INPUT_ROLES = ["user", "system", "developer", "assistant"] as const;

/** Ids as OpenAI writes them: a prefix and 48 hex characters. */
export const newId = (prefix: "resp" | "msg" | "fc" | "fco") => `${prefix}_${randomBytes(24).toString("hex")}`;

export interface ResponsesRequest {
  chat: ChatRequest;
  /** This request's input as chat messages (no instructions, no chain). */
  input: ChatMessage[];
  /** The input as input_items lists it (ids added). */
  inputItems: Record<string, unknown>[];
  /** For each tool message of `input`, its item's path (to name it when its call is unknown). */
  outputPaths: Map<ChatMessage, string>;
  instructions: string | null;
  previousResponseId: string | null;
  store: boolean;
  stream: boolean;
  metadata: Record<string, string>;
  /** The request's fields as the response object echoes them. */
  echo: ResponseEcho;
}

/** The request's fields a response object echoes (responses-events.ts ResponseBase adds id, created_at, model). */
export interface ResponseEcho {
  instructions: string | null;
  max_output_tokens: number | null;
  temperature: number;
  top_p: number;
  tools: object[];
  tool_choice: unknown;
  text: { format: object };
  parallel_tool_calls: boolean;
  metadata: Record<string, string>;
  previous_response_id: string | null;
  store: boolean;
}

export function parseResponsesRequest(raw: unknown, deployment: string): ResponsesRequest {
  const body = asBody(raw);
  const instructions = optString(body, "instructions") ?? null;
  const { messages, items, outputPaths } = parseInput(body.input);
  const maxOutput = optNumber(body, "max_output_tokens", { min: 1, integer: true });
  const temperature = optNumber(body, "temperature", { min: 0, max: 2 }) ?? 1;
  const topP = optNumber(body, "top_p", { min: 0, max: 1 }) ?? 1;
  const { tools, wire: toolsWire } = parseTools(body.tools);
  const { choice, wire: choiceWire } = parseToolChoice(body.tool_choice, tools);
  const { format, wire: formatWire } = parseTextFormat(body);
  const metadata = parseMetadata(body.metadata);
  const previousResponseId = optString(body, "previous_response_id") ?? null;
  if (previousResponseId === "") throw errors.invalid("Invalid 'previous_response_id': empty string. Send the id of a stored response (resp_…), or leave it out.", "previous_response_id");
  const store = optBoolean(body, "store") ?? true;
  const stream = optBoolean(body, "stream") ?? false;
  const parallel = optBoolean(body, "parallel_tool_calls") ?? true;
  if (body.background === true) throw errors.invalid("'background' responses are not supported by Ingot. Leave 'background' out (or false) and use 'stream': true for long generations.", "background");
  if (body.reasoning !== undefined && body.reasoning !== null && typeof body.reasoning !== "object") throw wrongType("reasoning", "an object", body.reasoning);
  return {
    chat: {
      deployment,
      messages,
      maxTokens: maxOutput,
      sampling: { temperature, topP, presencePenalty: 0, frequencyPenalty: 0, logitBias: {} },
      stop: [],
      n: 1,
      logprobs: false,
      topLogprobs: 0,
      responseFormat: format,
      tools,
      toolChoice: choice,
      parallelToolCalls: parallel,
      user: optString(body, "user"),
    },
    input: messages,
    inputItems: items,
    outputPaths,
    instructions,
    previousResponseId,
    store,
    stream,
    metadata,
    echo: {
      instructions,
      max_output_tokens: maxOutput ?? null,
      temperature,
      top_p: topP,
      tools: toolsWire,
      tool_choice: choiceWire,
      text: { format: formatWire },
      parallel_tool_calls: parallel,
      metadata,
      previous_response_id: previousResponseId,
      store,
    },
  };
}

/** The messages the model sees: instructions (not carried along a chain), the chain, this input; every function_call_output answering a call made before it. */
export function conversationFor(req: ResponsesRequest, chain: ChatMessage[]): ChatMessage[] {
  const calls = new Set<string>();
  for (const m of chain) for (const c of m.toolCalls ?? []) calls.add(c.id);
  for (const m of req.input) {
    for (const c of m.toolCalls ?? []) calls.add(c.id);
    if (m.role === "tool" && !calls.has(m.toolCallId!)) {
      const path = req.outputPaths.get(m) ?? "input";
      throw errors.invalid(
        `No tool call found for function call output with call_id '${m.toolCallId}'. A function_call_output must answer a function_call earlier in the input, or in the response named by 'previous_response_id'.`,
        `${path}.call_id`,
      );
    }
  }
  return [...(req.instructions !== null ? [{ role: "system" as const, content: req.instructions }] : []), ...chain, ...req.input];
}

function parseInput(value: unknown): { messages: ChatMessage[]; items: Record<string, unknown>[]; outputPaths: Map<ChatMessage, string> } {
  const outputPaths = new Map<ChatMessage, string>();
  if (value === undefined || value === null) throw errors.missing("input");
  if (typeof value === "string") {
    return { messages: [{ role: "user", content: value }], items: [{ id: newId("msg"), type: "message", role: "user", status: "completed", content: [{ type: "input_text", text: value }] }], outputPaths };
  }
  if (!Array.isArray(value)) throw wrongType("input", "a string or an array of input items", value);
  if (value.length === 0) throw errors.invalid("Invalid 'input': empty array. Send a string, or at least one item such as {\"role\": \"user\", \"content\": \"Hello\"}.", "input", "empty_array");
  if (value.length > MAX_ITEMS) throw errors.invalid(`Invalid 'input': at most ${MAX_ITEMS} items are allowed, got ${value.length}.`, "input", "array_above_max_length");
  const messages: ChatMessage[] = [];
  const items: Record<string, unknown>[] = [];
  value.forEach((v, i) => {
    const path = `input[${i}]`;
    if (typeof v !== "object" || v === null || Array.isArray(v)) throw wrongType(path, "an object (an input item)", v);
    const item = v as Body;
    const type = item.type ?? "message";
    if (type === "message") {
      const { message, wire } = parseMessageItem(item, path);
      messages.push(message);
      items.push(wire);
    } else if (type === "function_call") {
      const call = parseFunctionCall(item, path);
      const last = messages.at(-1);
      // Consecutive calls are one assistant turn (parallel tool calls).
      if (last?.role === "assistant" && last.toolCalls?.length && !last.content) last.toolCalls.push(call);
      else messages.push({ role: "assistant", content: "", toolCalls: [call] });
      items.push({ id: typeof item.id === "string" && item.id ? item.id : newId("fc"), type: "function_call", call_id: call.id, name: call.name, arguments: call.arguments, status: "completed" });
    } else if (type === "function_call_output") {
      if (typeof item.call_id !== "string" || !item.call_id) throw errors.missing(`${path}.call_id`);
      const output = item.output;
      if (output === undefined) throw errors.missing(`${path}.output`);
      const text = typeof output === "string" ? output : Array.isArray(output) ? contentText(output, `${path}.output`) : undefined;
      if (text === undefined) throw wrongType(`${path}.output`, "a string (the function's result, e.g. JSON text)", output);
      const message: ChatMessage = { role: "tool", content: text, toolCallId: item.call_id };
      outputPaths.set(message, path);
      messages.push(message);
      items.push({ id: typeof item.id === "string" && item.id ? item.id : newId("fco"), type: "function_call_output", call_id: item.call_id, output: text, status: "completed" });
    } else {
      throw errors.invalid(
        `Invalid value for '${path}.type': '${String(type)}'. Supported input item types are 'message' (or an item with 'role' and 'content'), 'function_call' and 'function_call_output'.`,
        `${path}.type`,
      );
    }
  });
  return { messages, items, outputPaths };
}

function parseMessageItem(item: Body, path: string): { message: ChatMessage; wire: Record<string, unknown> } {
  if (item.role === undefined) throw errors.invalid(`Missing required parameter: '${path}.role'. Write one of 'user', 'system', 'developer' or 'assistant'.`, `${path}.role`, "missing_required_parameter");
  if (typeof item.role !== "string" || !(INPUT_ROLES as readonly string[]).includes(item.role))
    throw errors.invalid(`Invalid value for '${path}.role': '${String(item.role)}'. Supported values are: 'user', 'system', 'developer' and 'assistant'.`, `${path}.role`);
  const role = item.role as (typeof INPUT_ROLES)[number];
  if (item.content === undefined || item.content === null) throw errors.missing(`${path}.content`);
  let text: string;
  if (typeof item.content === "string") text = item.content;
  else if (Array.isArray(item.content)) text = contentText(item.content, `${path}.content`);
  else throw wrongType(`${path}.content`, "a string or an array of content parts", item.content);
  const partType = role === "assistant" ? "output_text" : "input_text";
  const wire = {
    id: typeof item.id === "string" && item.id ? item.id : newId("msg"),
    type: "message",
    role,
    status: "completed",
    content: [role === "assistant" ? { type: partType, text, annotations: [] } : { type: partType, text }],
  };
  return { message: { role, content: text }, wire };
}

function contentText(parts: unknown[], path: string): string {
  return parts
    .map((p, j) => {
      const part = p as Body;
      const at = `${path}[${j}]`;
      if (typeof part !== "object" || part === null || Array.isArray(part)) throw wrongType(at, "a content part object", part);
      if (part.type === undefined) throw errors.invalid(`Missing required parameter: '${at}.type'. Write {"type": "input_text", "text": "..."}.`, `${at}.type`, "missing_required_parameter");
      if (part.type === "input_text" || part.type === "output_text" || part.type === "text") {
        if (typeof part.text !== "string") throw wrongType(`${at}.text`, "a string", part.text);
        return part.text;
      }
      if (part.type === "refusal") {
        if (typeof part.refusal !== "string") throw wrongType(`${at}.refusal`, "a string", part.refusal);
        return part.refusal;
      }
      if (part.type === "input_image" || part.type === "input_file" || part.type === "input_audio")
        throw errors.invalid(`Content of type '${String(part.type)}' at '${at}' is not supported by this model; send {"type": "input_text", "text": "..."} parts only.`, `${at}.type`);
      throw errors.invalid(`Invalid value for '${at}.type': '${String(part.type)}'. Supported content part types are 'input_text' and 'output_text'.`, `${at}.type`);
    })
    .join("");
}

function parseFunctionCall(item: Body, path: string): ToolCall {
  if (typeof item.call_id !== "string" || !item.call_id) throw errors.missing(`${path}.call_id`);
  if (typeof item.name !== "string" || !item.name) throw errors.missing(`${path}.name`);
  if (typeof item.arguments !== "string") throw wrongType(`${path}.arguments`, "a string (the call's arguments as JSON text)", item.arguments);
  try {
    JSON.parse(item.arguments || "{}");
  } catch {
    throw errors.invalid(`Invalid '${path}.arguments': not valid JSON. Send the arguments as the model produced them, e.g. "{\\"city\\": \\"Paris\\"}".`, `${path}.arguments`);
  }
  return { id: item.call_id, name: item.name, arguments: item.arguments };
}

function parseTools(value: unknown): { tools: ToolDefinition[]; wire: object[] } {
  if (value === undefined || value === null) return { tools: [], wire: [] };
  if (!Array.isArray(value)) throw wrongType("tools", "an array", value);
  if (value.length > MAX_TOOLS) throw errors.invalid(`Invalid 'tools': at most ${MAX_TOOLS} tools are allowed, got ${value.length}.`, "tools", "array_above_max_length");
  const names = new Set<string>();
  const tools: ToolDefinition[] = [];
  const wire: object[] = [];
  value.forEach((t, i) => {
    const path = `tools[${i}]`;
    if (typeof t !== "object" || t === null || Array.isArray(t)) throw wrongType(path, "an object", t);
    const tool = t as Body;
    if (tool.type !== "function")
      throw errors.invalid(`Invalid value for '${path}.type': '${String(tool.type)}'. Ingot supports function tools only: {"type": "function", "name": ..., "parameters": {...}}.`, `${path}.type`);
    if (typeof tool.function === "object" && tool.name === undefined)
      throw errors.invalid(`Invalid '${path}': the Responses API takes function tools flat, {"type": "function", "name": ..., "parameters": {...}}, not nested under 'function' as chat completions do.`, `${path}.name`);
    if (typeof tool.name !== "string" || !NAME.test(tool.name)) throw errors.invalid(`Invalid '${path}.name': must be 1-64 letters, digits, underscores or dashes.`, `${path}.name`);
    if (names.has(tool.name)) throw errors.invalid(`Duplicate function name '${tool.name}' in 'tools'; names must be unique.`, `${path}.name`);
    names.add(tool.name);
    if (tool.parameters !== undefined && tool.parameters !== null && (typeof tool.parameters !== "object" || Array.isArray(tool.parameters)))
      throw wrongType(`${path}.parameters`, "a JSON Schema object", tool.parameters);
    if (tool.description !== undefined && tool.description !== null && typeof tool.description !== "string") throw wrongType(`${path}.description`, "a string", tool.description);
    const parameters = (tool.parameters ?? undefined) as Record<string, unknown> | undefined;
    const strict = tool.strict === undefined || tool.strict === null ? true : tool.strict === true;
    tools.push({ name: tool.name, description: tool.description as string | undefined, parameters, strict });
    wire.push({ type: "function", name: tool.name, description: tool.description ?? null, parameters: parameters ?? null, strict });
  });
  return { tools, wire };
}

function parseToolChoice(v: unknown, tools: ToolDefinition[]): { choice: ToolChoice; wire: unknown } {
  if (v === undefined || v === null) return { choice: tools.length ? "auto" : "none", wire: "auto" };
  if (v === "auto" || v === "none" || v === "required") {
    if (v === "required" && tools.length === 0) throw errors.invalid(`Invalid value for 'tool_choice': 'required' requires 'tools' to be set.`, "tool_choice");
    return { choice: v === "auto" && !tools.length ? "none" : v, wire: v };
  }
  const c = v as Body;
  if (c?.type === "function" && typeof c.name === "string") {
    if (!tools.some((t) => t.name === c.name)) throw errors.invalid(`Invalid 'tool_choice': function '${c.name}' is not in 'tools'.`, "tool_choice.name");
    return { choice: { name: c.name }, wire: { type: "function", name: c.name } };
  }
  throw errors.invalid(`Invalid 'tool_choice': expected 'none', 'auto', 'required' or {"type": "function", "name": ...}.`, "tool_choice");
}

function parseTextFormat(body: Body): { format: ResponseFormat; wire: object } {
  const text = optObject(body, "text");
  const f = text ? optObject(text, "format") : undefined;
  if (!f || f.type === "text") return { format: { type: "text" }, wire: { type: "text" } };
  if (f.type === "json_object") return { format: { type: "json_object" }, wire: { type: "json_object" } };
  if (f.type === "json_schema") {
    if (f.name === undefined) throw errors.missing("text.format.name");
    if (typeof f.name !== "string" || !NAME.test(f.name)) throw errors.invalid("Invalid 'text.format.name': must be 1-64 letters, digits, underscores or dashes.", "text.format.name");
    if (f.schema === undefined) throw errors.missing("text.format.schema");
    if (typeof f.schema !== "object" || f.schema === null || Array.isArray(f.schema))
      throw errors.invalid("Invalid 'text.format.schema': expected a JSON Schema object.", "text.format.schema", "invalid_json_schema");
    const strict = f.strict === true;
    return {
      format: { type: "json_schema", name: f.name, schema: f.schema as Record<string, unknown>, strict },
      wire: { type: "json_schema", name: f.name, schema: f.schema, strict, ...(typeof f.description === "string" ? { description: f.description } : {}) },
    };
  }
  throw errors.invalid(`Invalid value for 'text.format.type': '${String(f.type)}'. Supported values are: 'text', 'json_object' and 'json_schema'.`, "text.format.type");
}

function parseMetadata(v: unknown): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (typeof v !== "object" || Array.isArray(v)) throw wrongType("metadata", "an object of string values", v);
  const entries = Object.entries(v as Body);
  if (entries.length > 16) throw errors.invalid(`Invalid 'metadata': at most 16 keys are allowed, got ${entries.length}.`, "metadata");
  for (const [k, val] of entries) {
    if (k.length > 64) throw errors.invalid(`Invalid 'metadata': key '${k.slice(0, 64)}…' is longer than 64 characters.`, `metadata.${k.slice(0, 64)}`);
    if (typeof val !== "string") throw wrongType(`metadata.${k}`, "a string", val);
    if (val.length > 512) throw errors.invalid(`Invalid 'metadata.${k}': values are at most 512 characters.`, `metadata.${k}`);
  }
  return v as Record<string, string>;
}
