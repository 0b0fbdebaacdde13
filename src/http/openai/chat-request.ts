// Wire → core: an OpenAI-shaped chat completions body becomes a ChatRequest. Shared by the
// Azure OpenAI, OpenAI v1, project and model-inference surfaces.
import { errors } from "../../core/errors.ts";
import type { ChatMessage, ChatRequest, ResponseFormat, Role, ToolCall, ToolChoice, ToolDefinition } from "../../core/generation/types.ts";
import type { Body } from "../validate.ts";
import { asBody, optBoolean, optNumber, optObject, optString, stopSequences, wrongType } from "../validate.ts";
import { sampling } from "./sampling.ts";

const ROLES: Role[] = ["system", "developer", "user", "assistant", "tool"];
const MAX_MESSAGES = 2048;
const MAX_TOOLS = 128;
/** JSON nesting levels of an assistant message's tool-call arguments. */
const MAX_ARGUMENT_DEPTH = 128;

/** Iterative, so any depth is measured without recursion. */
function nestedDeeperThan(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== "object" || v === null) continue;
    if (depth > max) return true;
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
  return false;
}

export function parseChatRequest(raw: unknown, deployment: string): ChatRequest & { stream: boolean; includeUsage: boolean } {
  const body = asBody(raw);
  const messages = parseMessages(body.messages);
  const maxCompletion = optNumber(body, "max_completion_tokens", { min: 1, integer: true });
  const maxTokens = optNumber(body, "max_tokens", { min: 1, integer: true });
  if (maxCompletion !== undefined && maxTokens !== undefined)
    throw errors.invalid("Set either 'max_tokens' or 'max_completion_tokens', not both. 'max_completion_tokens' is the current name.", "max_tokens");
  const logprobs = optBoolean(body, "logprobs") ?? false;
  const topLogprobs = optNumber(body, "top_logprobs", { min: 0, max: 20, integer: true });
  if (topLogprobs !== undefined && !logprobs) throw errors.invalid("'top_logprobs' requires 'logprobs' to be true.", "top_logprobs");
  const stream = optBoolean(body, "stream") ?? false;
  const streamOptions = optObject(body, "stream_options");
  if (streamOptions && !stream) throw errors.invalid("'stream_options' is only allowed when 'stream' is true.", "stream_options");
  const tools = parseTools(body.tools);
  return {
    deployment,
    messages,
    maxTokens: maxCompletion ?? maxTokens,
    sampling: sampling(body),
    stop: stopSequences(body),
    n: optNumber(body, "n", { min: 1, max: 128, integer: true }) ?? 1,
    logprobs,
    topLogprobs: topLogprobs ?? 0,
    responseFormat: parseResponseFormat(body),
    tools,
    toolChoice: parseToolChoice(body, tools),
    parallelToolCalls: optBoolean(body, "parallel_tool_calls") ?? true,
    user: optString(body, "user"),
    stream,
    includeUsage: streamOptions?.include_usage === true,
  };
}

function parseMessages(value: unknown): ChatMessage[] {
  if (value === undefined) throw errors.missing("messages");
  if (!Array.isArray(value)) throw wrongType("messages", "an array", value);
  if (value.length === 0) throw errors.invalid("Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.", "messages", "empty_array");
  if (value.length > MAX_MESSAGES) throw errors.invalid(`Invalid 'messages': at most ${MAX_MESSAGES} messages are allowed, got ${value.length}.`, "messages", "array_above_max_length");
  return value.map((m, i) => parseMessage(m, `messages[${i}]`));
}

function parseMessage(value: unknown, path: string): ChatMessage {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw wrongType(path, "an object", value);
  const m = value as Body;
  if (m.role === undefined) throw errors.missing(`${path}.role`);
  if (typeof m.role !== "string" || !ROLES.includes(m.role as Role))
    throw errors.invalid(`Invalid value: '${String(m.role)}'. Supported values are: 'system', 'assistant', 'user', 'tool', and 'developer'.`, `${path}.role`, "invalid_value");
  const role = m.role as Role;
  const toolCalls = role === "assistant" ? parseAssistantToolCalls(m.tool_calls, `${path}.tool_calls`) : undefined;
  const content = parseContent(m.content, `${path}.content`, role === "assistant" && !!toolCalls?.length);
  const message: ChatMessage = { role, content };
  if (typeof m.name === "string") message.name = m.name;
  if (toolCalls?.length) message.toolCalls = toolCalls;
  if (role === "tool") {
    if (typeof m.tool_call_id !== "string") throw errors.missing(`${path}.tool_call_id`);
    message.toolCallId = m.tool_call_id;
  }
  return message;
}

function parseContent(value: unknown, path: string, optional: boolean): string {
  if (value === undefined || value === null) {
    if (optional) return "";
    throw errors.missing(path);
  }
  if (typeof value === "string") return value;
  if (!Array.isArray(value)) throw wrongType(path, "a string or an array of content parts", value);
  return value
    .map((part, i) => {
      const p = part as Body;
      if (p?.type === "text" && typeof p.text === "string") return p.text;
      if (p?.type === "refusal" && typeof p.refusal === "string") return p.refusal;
      if (p?.type === "image_url" || p?.type === "input_audio")
        throw errors.invalid(`${path}[${i}]: content of type '${String(p.type)}' is not supported by this model; send text parts only.`, `${path}[${i}].type`);
      throw errors.invalid(`Invalid content part at ${path}[${i}]: expected {"type": "text", "text": "..."}.`, `${path}[${i}]`);
    })
    .join("");
}

function parseAssistantToolCalls(value: unknown, path: string): ToolCall[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw wrongType(path, "an array", value);
  return value.map((c, i) => {
    const call = c as Body;
    const fn = call?.function as Body | undefined;
    if (typeof fn?.name !== "string" || typeof fn.arguments !== "string")
      throw errors.invalid(`${path}[${i}] must be {"id", "type": "function", "function": {"name", "arguments"}} with 'arguments' as a JSON string.`, `${path}[${i}]`);
    let args: unknown;
    try {
      args = JSON.parse(fn.arguments || "{}");
    } catch {
      throw errors.invalid(`${path}[${i}].function.arguments is not valid JSON.`, `${path}[${i}].function.arguments`);
    }
    // The arguments are written into the prompt again (JSON.stringify recurses: ~5,000 levels overflow it).
    if (nestedDeeperThan(args, MAX_ARGUMENT_DEPTH))
      throw errors.invalid(`${path}[${i}].function.arguments is nested more than ${MAX_ARGUMENT_DEPTH} levels deep; flatten it.`, `${path}[${i}].function.arguments`);
    return { id: typeof call.id === "string" ? call.id : `call_${i}`, name: fn.name, arguments: fn.arguments };
  });
}

function parseTools(value: unknown): ToolDefinition[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw wrongType("tools", "an array", value);
  if (value.length > MAX_TOOLS) throw errors.invalid(`Invalid 'tools': at most ${MAX_TOOLS} tools are allowed, got ${value.length}.`, "tools", "array_above_max_length");
  const names = new Set<string>();
  return value.map((t, i) => {
    const tool = t as Body;
    const fn = tool?.function as Body | undefined;
    if (tool?.type !== "function" || typeof fn !== "object" || fn === null)
      throw errors.invalid(`Invalid 'tools[${i}]': expected {"type": "function", "function": {"name": ..., "parameters": {...}}}.`, `tools[${i}]`);
    if (typeof fn.name !== "string" || !/^[a-zA-Z0-9_-]{1,64}$/.test(fn.name))
      throw errors.invalid(`Invalid 'tools[${i}].function.name': must be 1-64 letters, digits, underscores or dashes.`, `tools[${i}].function.name`);
    if (names.has(fn.name)) throw errors.invalid(`Duplicate function name '${fn.name}' in 'tools'; names must be unique.`, `tools[${i}].function.name`);
    names.add(fn.name);
    if (fn.parameters !== undefined && (typeof fn.parameters !== "object" || fn.parameters === null || Array.isArray(fn.parameters)))
      throw wrongType(`tools[${i}].function.parameters`, "a JSON Schema object", fn.parameters);
    return {
      name: fn.name,
      description: typeof fn.description === "string" ? fn.description : undefined,
      parameters: fn.parameters as Record<string, unknown> | undefined,
      strict: fn.strict === true,
    };
  });
}

function parseToolChoice(body: Body, tools: ToolDefinition[]): ToolChoice {
  const v = body.tool_choice;
  if (v === undefined || v === null) return tools.length ? "auto" : "none";
  if (v === "auto" || v === "none" || v === "required") {
    if (v !== "none" && tools.length === 0) throw errors.invalid(`Invalid value for 'tool_choice': '${v}' requires 'tools' to be set.`, "tool_choice");
    return v;
  }
  const name = ((v as Body)?.function as Body | undefined)?.name;
  if ((v as Body)?.type === "function" && typeof name === "string") {
    if (!tools.some((t) => t.name === name)) throw errors.invalid(`Invalid 'tool_choice': function '${name}' is not in 'tools'.`, "tool_choice");
    return { name };
  }
  throw errors.invalid(`Invalid 'tool_choice': expected 'none', 'auto', 'required' or {"type": "function", "function": {"name": ...}}.`, "tool_choice");
}

function parseResponseFormat(body: Body): ResponseFormat {
  const v = optObject(body, "response_format");
  if (!v || v.type === "text") return { type: "text" };
  if (v.type === "json_object") return { type: "json_object" };
  if (v.type === "json_schema") {
    const js = v.json_schema as Body | undefined;
    if (typeof js !== "object" || js === null) throw errors.missing("response_format.json_schema");
    if (typeof js.name !== "string" || !/^[a-zA-Z0-9_-]{1,64}$/.test(js.name))
      throw errors.invalid("Invalid 'response_format.json_schema.name': must be 1-64 letters, digits, underscores or dashes.", "response_format.json_schema.name");
    const schema = js.schema ?? {};
    if (typeof schema !== "object" || schema === null || Array.isArray(schema))
      throw errors.invalid("Invalid 'response_format.json_schema.schema': expected a JSON Schema object.", "response_format.json_schema.schema", "invalid_json_schema");
    return { type: "json_schema", name: js.name, schema: schema as Record<string, unknown>, strict: js.strict === true };
  }
  throw errors.invalid(`Invalid value: '${String(v.type)}'. Supported values are: 'text', 'json_object' and 'json_schema'.`, "response_format.type");
}
