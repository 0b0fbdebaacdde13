// Grammars that constrain llama.cpp sampling for structured output and tool calls.
//
// JSON Schema support (compileJsonSchema). A schema that cannot be enforced is rejected
// with a reason and a path; output is never left unconstrained.
//   Enforced: type (incl. arrays of types), enum, const, properties, required,
//     additionalProperties (false / true / schema; with no `properties` a schema makes a map),
//     minProperties/maxProperties only when implied by required/declared properties,
//     items, prefixItems, additionalItems (tuple form), minItems, maxItems,
//     anyOf, oneOf (as anyOf), allOf (when its parts merge trivially), $ref to local
//     "#..." pointers (recursion included), minLength, maxLength, pattern (regular subset),
//     format: date, time, date-time, uuid, email, ipv4 (int32/int64 on integers),
//     minimum/maximum/exclusiveMinimum/exclusiveMaximum (any bound for integer;
//     whole-number bounds for number), multipleOf: 1, uniqueItems: false, `true` and `{}`.
//   Ignored annotations: title, description, examples, default, $schema, $id, $comment,
//     deprecated, readOnly, writeOnly, $anchor, content*, $defs/definitions containers,
//     and unknown keywords (JSON Schema treats them as annotations).
//   Rejected: not, if/then/else, patternProperties, propertyNames, dependentSchemas,
//     dependentRequired, dependencies, unevaluated*, contains/minContains/maxContains,
//     uniqueItems: true, $dynamicRef/$recursiveRef, non-local $ref, unknown formats,
//     pattern with lookaround/backreferences/\b/\p{..}, pattern combined with
//     minLength/maxLength/format, other multipleOf, fractional bounds on type number,
//     enum/const next to structural keywords, anyOf together with oneOf, and schemas that
//     no value (or no finite value) satisfies.
// What is generated is a subset of the valid JSON texts:
//   - whitespace: none, one space, or a newline plus up to 20 spaces/tabs between tokens;
//   - numbers: at most 19 integer digits, 16 fraction digits, 3 exponent digits (no exponent
//     when bounds apply); no "-0"; strings: short escapes or \uXXXX (no raw DEL);
//   - objects: declared properties only, required first then optional, each in declared order;
//   - arrays: all prefixItems (up to maxItems) are generated even when minItems is smaller;
//   - type is inferred from type-specific keywords when absent (e.g. `properties` => object).
export { compileJsonSchema, jsonObjectGrammar } from "./jsonSchemaToGbnf.ts";
export type { GrammarResult, JsonGrammarOptions } from "./jsonSchemaToGbnf.ts";
export { TOOL_CALL_CLOSE, TOOL_CALL_OPEN, parseToolCalls, toolCallGrammar, toolsSystemPrompt } from "./toolCallGrammar.ts";
export type { ParsedToolCall, ToolCallMode, ToolDefinition, ToolGrammarOptions } from "./toolCallGrammar.ts";
