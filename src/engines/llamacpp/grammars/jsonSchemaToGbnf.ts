// Public entry points for JSON output: response_format json_schema and json_object.
import { buildGrammar } from "./grammarResult.ts";
import type { GrammarResult } from "./grammarResult.ts";
import type { JsonGrammarOptions } from "./jsonRules.ts";
import { compileDocument } from "./schemaCompiler.ts";

export type { GrammarResult } from "./grammarResult.ts";
export type { JsonGrammarOptions } from "./jsonRules.ts";

/**
 * A GBNF grammar (root rule "root") whose strings are JSON texts valid for `schema`,
 * or the reason the schema cannot be enforced and where (a JSON pointer such as "#/properties/x").
 */
export function compileJsonSchema(schema: unknown, opts: JsonGrammarOptions = {}): GrammarResult {
  return buildGrammar(opts, (json) => {
    const root = compileDocument(json, schema, "root");
    if (root.kind !== "ref" || root.name !== "root") throw new Error("internal: root rule was not named root");
  });
}

/** Grammar for response_format {type: "json_object"}: any JSON object at the top level. */
export function jsonObjectGrammar(opts: JsonGrammarOptions = {}): string {
  const result = buildGrammar(opts, (json) => {
    json.builder.define(json.builder.reserve("root"), json.object());
  });
  if (!result.ok) throw new Error(`internal: ${result.reason}`);
  return result.gbnf;
}
