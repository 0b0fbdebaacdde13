// Bounds on the JSON Schemas a request may carry (response_format.json_schema.schema and each
// tools[i].function.parameters), checked before anything recursive walks them: a schema nested
// 2,000 levels deep overflowed the grammar compiler's stack, and compile time grows faster than
// the number of properties (about 0.2 s for 1,000 bounded integer properties on one core).
//
// OpenAI's structured outputs allow 5,000 object properties in total, 10 levels of object
// nesting and 1,000 enum values. Ingot allows up to 1,000 properties and 1,000 enum values per
// request (all schemas together), and 64 levels of JSON nesting per schema, which holds 10
// levels of objects even with anyOf/$defs around each (an object level is two JSON levels:
// the schema and its `properties`).
import { errors } from "../errors.ts";

export const SCHEMA_LIMITS = {
  /** JSON nesting levels of one schema document (objects and arrays). */
  depth: 64,
  /** Keys of all `properties` objects of the request's schemas together. */
  properties: 1000,
  /** Members of all `enum` arrays (and `const`s) together. */
  enumValues: 1000,
  /** JSON values (objects, arrays, strings, numbers...) in all the schemas together. */
  values: 50_000,
} as const;

export interface SchemaBudget {
  properties: number;
  enumValues: number;
  values: number;
}

export const newSchemaBudget = (): SchemaBudget => ({ properties: 0, enumValues: 0, values: 0 });

/**
 * Throws a 400 naming the limit when `schema` (found at `param`) is nested too deep or, with
 * what `budget` already counted for the request's other schemas, too large. Iterative, so any
 * depth is measured without recursion.
 */
export function checkSchemaLimits(schema: unknown, param: string, budget: SchemaBudget = newSchemaBudget()): void {
  const stack: [value: unknown, depth: number, key: string | null][] = [[schema, 1, null]];
  while (stack.length) {
    const [value, depth, key] = stack.pop()!;
    if (++budget.values > SCHEMA_LIMITS.values)
      throw tooLarge(param, `more than ${SCHEMA_LIMITS.values} JSON values in all schemas of the request`);
    if (typeof value !== "object" || value === null) continue;
    if (depth > SCHEMA_LIMITS.depth)
      throw errors.invalid(
        `Invalid schema for '${param}': it is nested more than ${SCHEMA_LIMITS.depth} levels deep (objects and arrays). Flatten the schema, or use '$defs' and '$ref' for recursive structures.`,
        param,
        "invalid_json_schema",
      );
    if (Array.isArray(value)) {
      if (key === "enum") budget.enumValues += value.length;
      for (const item of value) stack.push([item, depth + 1, null]);
    } else {
      if (key === "properties") budget.properties += Object.keys(value).length;
      for (const [k, v] of Object.entries(value)) {
        // A property named "enum" or "properties" is a name, not the keyword: only schema objects' keys count.
        stack.push([v, depth + 1, key === "properties" ? null : k]);
        if (k === "const" && key !== "properties") budget.enumValues++;
      }
    }
    if (budget.properties > SCHEMA_LIMITS.properties)
      throw tooLarge(param, `more than ${SCHEMA_LIMITS.properties} object properties in all schemas of the request`);
    if (budget.enumValues > SCHEMA_LIMITS.enumValues)
      throw tooLarge(param, `more than ${SCHEMA_LIMITS.enumValues} enum values in all schemas of the request`);
  }
}

const tooLarge = (param: string, what: string) =>
  errors.invalid(`Invalid schema for '${param}': the schemas are too large (${what}). Reduce the schema or split the task into several requests.`, param, "invalid_json_schema");
