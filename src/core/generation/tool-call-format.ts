// The tool-call wire format inside model output (Hermes/Qwen style), shared by serving
// (the llama.cpp engine's grammar, the parser, the prompt) and by training (the trainer
// renders tool calls in examples the same way), so it lives in neither.

export const TOOL_CALL_OPEN = "<tool_call>";
export const TOOL_CALL_CLOSE = "</tool_call>";

/** An OpenAI-style tool definition. */
export type ToolDefinition = {
  readonly type: "function";
  readonly function: {
    readonly name: string;
    readonly description?: string;
    readonly parameters?: object;
    readonly strict?: boolean;
  };
};

/** tool_choice: "auto" (text or calls), "required" (calls only) or one named function. */
export type ToolCallMode = "auto" | "required" | { readonly name: string };

/** One completed call: `arguments` is compact JSON text of an object. */
export type ParsedToolCall = { name: string; arguments: string };
