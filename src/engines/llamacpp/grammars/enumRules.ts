// enum/const: the output is one of the listed values, written as compact JSON.
// Sibling keywords are applied by filtering the listed values (type, string length,
// pattern, numeric bounds); structural siblings are refused.
import { alt, lit } from "./gbnf.ts";
import type { GNode } from "./gbnf.ts";
import { canonical } from "./schemaMerge.ts";
import { SchemaError, readCount, readNumber, readTypes } from "./schemaKeywords.ts";
import type { JsonObject, JsonType } from "./schemaKeywords.ts";

const STRUCTURAL = new Set([
  "properties", "required", "additionalProperties", "minProperties", "maxProperties",
  "items", "prefixItems", "additionalItems", "minItems", "maxItems", "format",
]);

function typeOf(v: unknown): JsonType[] {
  if (v === null) return ["null"];
  if (typeof v === "boolean") return ["boolean"];
  if (typeof v === "string") return ["string"];
  if (typeof v === "number") return Number.isInteger(v) ? ["integer", "number"] : ["number"];
  return Array.isArray(v) ? ["array"] : ["object"];
}

/** The enum/const values of `schema` that satisfy its other keywords. */
export function enumValues(schema: JsonObject, path: string): unknown[] {
  let values: unknown[];
  if (schema.enum !== undefined) {
    if (!Array.isArray(schema.enum) || schema.enum.length === 0) {
      throw new SchemaError(`'enum' at ${path} must be a non-empty array`, path);
    }
    values = schema.enum;
    if (schema.const !== undefined) values = values.filter((v) => canonical(v) === canonical(schema.const));
  } else {
    values = [schema.const];
  }
  for (const key of Object.keys(schema)) {
    if (STRUCTURAL.has(key)) {
      throw new SchemaError(
        `'enum'/'const' combined with '${key}' at ${path} is not supported by Ingot's structured output; list only values that already satisfy '${key}' and remove it`,
        path,
      );
    }
  }
  const types = readTypes(schema, path);
  const minLength = readCount(schema, "minLength", path) ?? 0;
  const maxLength = readCount(schema, "maxLength", path);
  const pattern = typeof schema.pattern === "string" ? toRegExp(schema.pattern, path) : null;
  const minimum = readNumber(schema, "minimum", path);
  const maximum = readNumber(schema, "maximum", path);
  const multipleOf = readNumber(schema, "multipleOf", path);
  const [exMin, exMax] = [schema.exclusiveMinimum, schema.exclusiveMaximum];
  return values.filter((v) => {
    if (types && !typeOf(v).some((t) => types.includes(t))) return false;
    if (typeof v === "string") {
      const len = Array.from(v).length;
      if (len < minLength || (maxLength !== null && len > maxLength)) return false;
      if (pattern && !pattern.test(v)) return false;
    }
    if (typeof v === "number") {
      if (minimum !== null && (exMin === true ? v <= minimum : v < minimum)) return false;
      if (maximum !== null && (exMax === true ? v >= maximum : v > maximum)) return false;
      if (typeof exMin === "number" && v <= exMin) return false;
      if (typeof exMax === "number" && v >= exMax) return false;
      if (multipleOf !== null && !Number.isInteger(v / multipleOf)) return false;
    }
    return true;
  });
}

function toRegExp(pattern: string, path: string): RegExp {
  for (const flags of ["u", ""]) {
    try {
      return new RegExp(pattern, flags);
    } catch {
      // try without the u flag
    }
  }
  throw new SchemaError(`'pattern' at ${path} is not a valid regular expression`, path);
}

/** Grammar for exactly the given JSON values. */
export function enumNode(values: readonly unknown[]): GNode {
  return alt(...values.map((v) => lit(JSON.stringify(v))));
}

