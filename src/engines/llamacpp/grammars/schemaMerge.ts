// "Trivial" merging of schemas for allOf and for $ref with sibling keywords.
// Two schemas merge when each keyword is set by one side only, is equal on both sides, or
// has an obvious intersection (type, required, enum, min/max bounds, nested properties).
// Anything else (two different patterns, two anyOfs, ...) is refused.
import { ANNOTATIONS, SchemaError, child, isObject, without } from "./schemaKeywords.ts";
import type { JsonObject } from "./schemaKeywords.ts";

/** Resolves a top-level `$ref` (keeping sibling keywords); returns the schema unchanged otherwise. */
export type Deref = (schema: unknown, path: string, depth: number) => unknown;

const MAX_DEPTH = 32;

/** Stable JSON text, for comparing schemas and enum values. */
export function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (isObject(v)) {
    const keys = Object.keys(v).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(",")}}`;
  }
  return JSON.stringify(v) ?? "null";
}

const equal = (a: unknown, b: unknown): boolean => canonical(a) === canonical(b);

const cannotMerge = (keyword: string, path: string): SchemaError =>
  new SchemaError(
    `'${keyword}' at ${path} is set differently by schemas that must be combined (allOf, or keywords next to $ref/anyOf/oneOf); Ingot's structured output only combines schemas that merge trivially (for example parts with different properties) — write the combined schema out instead`,
    path,
  );

export function mergeAll(schemas: readonly unknown[], path: string, deref: Deref, depth = 0): unknown {
  return schemas.reduce((acc: unknown, s) => mergeTwo(acc, s, path, deref, depth), true);
}

function expand(s: unknown, path: string, deref: Deref, depth: number): unknown {
  if (depth > MAX_DEPTH) {
    throw new SchemaError(`'allOf'/'$ref' at ${path} is nested too deeply or refers to itself; it cannot be merged`, path);
  }
  const d = deref(s, path, depth);
  if (!isObject(d) || d.allOf === undefined) return d;
  if (!Array.isArray(d.allOf)) throw new SchemaError(`'allOf' at ${path} must be an array of schemas`, path);
  return mergeAll([without(d, "allOf"), ...d.allOf], path, deref, depth + 1);
}

function typeList(t: unknown): string[] {
  return Array.isArray(t) ? t.map(String) : [String(t)];
}

export function mergeTwo(x: unknown, y: unknown, path: string, deref: Deref, depth: number): unknown {
  const a = expand(x, path, deref, depth);
  const b = expand(y, path, deref, depth);
  if (a === false || b === false) return false;
  if (a === true) return b;
  if (b === true || equal(a, b)) return a;
  if (!isObject(a) || !isObject(b)) throw new SchemaError(`'allOf' at ${path} contains something that is not a schema`, path);
  const out: JsonObject = { ...a };
  for (const [k, bv] of Object.entries(b)) {
    const av = out[k];
    if (av === undefined || ANNOTATIONS.has(k)) {
      if (av === undefined) out[k] = bv;
      continue;
    }
    if (equal(av, bv)) continue;
    switch (k) {
      case "type": {
        const ta = typeList(av);
        const tb = typeList(bv);
        const both = [
          ...ta.filter((t) => tb.includes(t) || (t === "integer" && tb.includes("number"))),
          ...tb.filter((t) => t === "integer" && ta.includes("number") && !ta.includes("integer")),
        ];
        if (both.length === 0) return false;
        out.type = [...new Set(both)];
        break;
      }
      case "required":
        out.required = [...new Set([...(av as unknown[]), ...(bv as unknown[])])];
        break;
      case "enum": {
        if (!Array.isArray(av) || !Array.isArray(bv)) throw cannotMerge(k, path);
        out.enum = av.filter((v) => bv.some((w) => equal(v, w)));
        if ((out.enum as unknown[]).length === 0) return false;
        break;
      }
      case "const":
        return false; // both set and not equal
      case "minLength": case "minItems": case "minProperties": case "minimum":
        out[k] = Math.max(Number(av), Number(bv));
        break;
      case "maxLength": case "maxItems": case "maxProperties": case "maximum":
        out[k] = Math.min(Number(av), Number(bv));
        break;
      case "exclusiveMinimum": case "exclusiveMaximum":
        if (typeof av !== "number" || typeof bv !== "number") throw cannotMerge(k, path);
        out[k] = k === "exclusiveMinimum" ? Math.max(av, bv) : Math.min(av, bv);
        break;
      case "properties": {
        if (!isObject(av) || !isObject(bv)) throw cannotMerge(k, path);
        const props: JsonObject = { ...av };
        for (const [name, s] of Object.entries(bv)) {
          props[name] = name in props ? mergeTwo(props[name], s, child(path, "properties", name), deref, depth + 1) : s;
        }
        out.properties = props;
        break;
      }
      case "items":
      case "additionalProperties":
        if (Array.isArray(av) || Array.isArray(bv)) throw cannotMerge(k, path);
        out[k] = mergeTwo(av, bv, child(path, k), deref, depth + 1);
        break;
      default:
        throw cannotMerge(k, path);
    }
  }
  return restrictToDeclared(out, [a, b], path, deref, depth);
}

/** A side's `additionalProperties` also governs properties that only the other side declares. */
function restrictToDeclared(out: JsonObject, sides: JsonObject[], path: string, deref: Deref, depth: number): unknown {
  const required = Array.isArray(out.required) ? out.required.map(String) : [];
  for (const side of sides) {
    const extra = side.additionalProperties;
    if (extra === undefined || extra === true) continue;
    const declared = isObject(side.properties) ? side.properties : {};
    const props: JsonObject = isObject(out.properties) ? { ...out.properties } : {};
    for (const name of Object.keys(props)) {
      if (Object.hasOwn(declared, name)) continue;
      if (extra === false) {
        if (required.includes(name)) return false;
        delete props[name];
      } else {
        props[name] = mergeTwo(props[name], extra, child(path, "properties", name), deref, depth + 1);
      }
    }
    if (extra === false && required.some((name) => !Object.hasOwn(declared, name))) return false;
    if (out.properties !== undefined) out.properties = props;
  }
  return out;
}
