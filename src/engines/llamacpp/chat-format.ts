// How the llamacpp engine realises chat features that a plain chat template lacks:
// tool definitions become a system instruction, tool calls and results become tagged text,
// and structured output and tool calls are enforced by a GBNF grammar.
import { errors } from "../../core/errors.ts";
import type { ChatMessage } from "../../core/generation/types.ts";
import type { GenerateInput } from "../../core/ports/index.ts";
import { jsonObjectGrammar } from "./grammars/jsonSchemaToGbnf.ts";
import { compileGrammar, GrammarTimeout } from "./grammars/off-thread.ts";
import type { GrammarJob } from "./grammars/off-thread.ts";
import { TOOL_CALL_CLOSE, TOOL_CALL_OPEN, toolsSystemPrompt } from "./grammars/toolCallGrammar.ts";
import type { RunnerPrompt } from "./protocol.ts";

type ChatInput = Extract<GenerateInput, { kind: "chat" }>;

export interface PreparedChat {
  prompt: RunnerPrompt;
  grammar?: string;
  /** Output is parsed for tool-call blocks. */
  toolsActive: boolean;
}

/** Grammars are compiled off the event loop when large (grammars/off-thread.ts). */
export async function prepareChat(input: ChatInput): Promise<PreparedChat> {
  const toolsActive = input.tools.length > 0 && input.toolChoice !== "none";
  let grammar: string | undefined;
  if (toolsActive) {
    const choice = input.toolChoice;
    const mode = choice === "auto" || choice === "required" ? choice : { name: (choice as { name: string }).name };
    const compiled = await compile({ kind: "tools", tools: input.tools.map((t) => ({ type: "function" as const, function: t })), mode, parallel: input.parallelToolCalls });
    if (!compiled.ok) throw errors.invalid(`Invalid tools: ${compiled.reason}`, "tools", "invalid_function_parameters");
    grammar = compiled.gbnf;
  } else if (input.responseFormat.type === "json_object") {
    grammar = jsonObjectGrammar();
  } else if (input.responseFormat.type === "json_schema") {
    const compiled = await compile({ kind: "schema", schema: input.responseFormat.schema });
    if (!compiled.ok) throw errors.invalid(`Invalid schema for response_format '${input.responseFormat.name}': ${compiled.reason}`, "response_format", "invalid_json_schema");
    grammar = compiled.gbnf;
  }
  const messages = input.messages.map(toTemplateMessage);
  if (toolsActive) {
    const instruction = toolsSystemPrompt(input.tools.map((t) => ({ type: "function" as const, function: t })));
    if (messages[0]?.role === "system") messages[0] = { role: "system", content: `${messages[0].content}\n\n${instruction}` };
    else messages.unshift({ role: "system", content: instruction });
  }
  return { prompt: { kind: "chat", messages: mergeSystemMessages(messages) }, grammar, toolsActive };
}

async function compile(job: GrammarJob) {
  try {
    return await compileGrammar(job);
  } catch (e) {
    if (e instanceof GrammarTimeout)
      throw errors.invalid(`The ${job.kind === "tools" ? "tools' parameter schemas" : "response_format schema"} took too long to compile into a grammar (${e.message}). Simplify the schema.`, job.kind === "tools" ? "tools" : "response_format", "invalid_json_schema");
    throw e;
  }
}

function toTemplateMessage(m: ChatMessage): { role: "system" | "user" | "assistant"; content: string } {
  switch (m.role) {
    case "system":
    case "developer":
      return { role: "system", content: m.content };
    case "user":
      return { role: "user", content: m.content };
    case "tool":
      return { role: "user", content: `<tool_response>\n${m.content}\n</tool_response>` };
    case "assistant": {
      const calls = (m.toolCalls ?? []).map((c) => `${TOOL_CALL_OPEN}${JSON.stringify({ name: c.name, arguments: JSON.parse(c.arguments || "{}") })}${TOOL_CALL_CLOSE}`);
      return { role: "assistant", content: [m.content, ...calls].filter(Boolean).join("\n") };
    }
  }
}

/** Chat templates expect one leading system turn; later system/developer turns become user-visible context. */
function mergeSystemMessages(messages: { role: "system" | "user" | "assistant"; content: string }[]) {
  const leading: string[] = [];
  let i = 0;
  while (i < messages.length && messages[i].role === "system") leading.push(messages[i++].content);
  const rest = messages.slice(i).map((m) => (m.role === "system" ? { role: "user" as const, content: `[system] ${m.content}` } : m));
  return leading.length ? [{ role: "system" as const, content: leading.join("\n\n") }, ...rest] : rest;
}
