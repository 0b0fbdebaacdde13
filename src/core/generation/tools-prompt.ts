// The system-prompt block that tells a model which functions exist and how to call them.
import { TOOL_CALL_CLOSE, TOOL_CALL_OPEN } from "./tool-call-format.ts";
import type { ToolDefinition } from "./tool-call-format.ts";

/** A short instruction block listing the functions (name, description, parameter schema) and the call format. */
export function toolsSystemPrompt(tools: readonly ToolDefinition[]): string {
  const lines = tools.map((t) => {
    const { name, description, parameters } = t.function;
    return JSON.stringify({ name, ...(description ? { description } : {}), parameters: parameters ?? { type: "object", properties: {} } });
  });
  return [
    "# Tools",
    "",
    "You may call one or more of these functions. Each line gives a function's name, what it does, and a JSON Schema for its arguments:",
    "<tools>",
    ...lines,
    "</tools>",
    "",
    "To call a function, reply with only a block like this for each call, and nothing before it:",
    TOOL_CALL_OPEN,
    '{"name": "<function name>", "arguments": <arguments as a JSON object>}',
    TOOL_CALL_CLOSE,
    "If no function is needed, reply normally; such a reply must not begin with '<'.",
  ].join("\n");
}
