// The result shape shared by all grammar compilers, and the final checks before rendering.
import { GrammarBuilder } from "./grammarBuilder.ts";
import { JSON_RULE_NAMES, JsonRules } from "./jsonRules.ts";
import type { JsonGrammarOptions } from "./jsonRules.ts";
import { SchemaError } from "./schemaKeywords.ts";

export type GrammarResult =
  | { readonly ok: true; readonly gbnf: string; readonly rootRule: string }
  | { readonly ok: false; readonly reason: string; readonly path: string };

/**
 * Runs `build` (which defines the rule named "root") on a fresh builder, checks the
 * grammar and renders it. SchemaErrors become `{ok: false}`; other errors are bugs and propagate.
 */
export function buildGrammar(opts: JsonGrammarOptions, build: (json: JsonRules) => void): GrammarResult {
  const builder = new GrammarBuilder(JSON_RULE_NAMES);
  const json = new JsonRules(builder, opts);
  try {
    build(json);
    for (const problem of builder.problems()) {
      const where = problem.origin || "#";
      if (problem.kind === "left-recursion") {
        throw new SchemaError(
          `the schema at ${where} refers back to itself (through $ref/anyOf/allOf) before any object or array is opened; this recursion cannot be expressed as a grammar — restructure the recursive definition`,
          where,
        );
      }
      throw new SchemaError(
        `the schema at ${where} has no finite JSON value: it requires itself recursively (for example through a required property or minItems); make the recursive part optional`,
        where,
      );
    }
    return { ok: true, gbnf: builder.render("root"), rootRule: "root" };
  } catch (e) {
    if (e instanceof SchemaError) return { ok: false, reason: e.message, path: e.path };
    throw e;
  }
}
