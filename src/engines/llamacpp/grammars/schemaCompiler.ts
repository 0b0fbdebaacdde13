// Walks a JSON Schema and builds grammar rules for it (see index.ts for what is supported).
// Errors are thrown as SchemaError(reason, path) and turned into results by the callers.
import { NEVER, alt, isNever, ref } from "./gbnf.ts";
import type { GNode } from "./gbnf.ts";
import type { JsonRules } from "./jsonRules.ts";
import { enumNode, enumValues } from "./enumRules.ts";
import { numberNode, stringNode } from "./scalarRules.ts";
import { canonical, mergeAll, mergeTwo } from "./schemaMerge.ts";
import type { Deref } from "./schemaMerge.ts";
import {
  ANNOTATIONS, SchemaError, checkKeywords, child, constrains, inferTypes, isObject, readTypes, without,
} from "./schemaKeywords.ts";
import type { JsonObject, JsonType } from "./schemaKeywords.ts";
import { arrayNode, objectNode } from "./structureRules.ts";

type Ctx = {
  readonly json: JsonRules;
  readonly doc: unknown; // the document `$ref`s are resolved in
  readonly prefix: string; // rule name prefix for $ref targets
  readonly origin: string; // prepended to "#/..." paths in messages, e.g. "tools[0].function.parameters"
  readonly refRules: Map<string, GNode>; // $ref (+ sibling keywords) -> rule reference
  depth: number; // nesting of inline merges, to stop self-referencing allOf
  nesting: number; // nesting of compileSchema calls, bounded so no schema can overflow the stack
};

const MAX_INLINE_DEPTH = 32;
/**
 * Requests are checked first (core/generation/schema-limits.ts: 64 JSON levels); this bound
 * only keeps the recursion of a schema that reached here some other way from the stack limit.
 */
const MAX_SCHEMA_NESTING = 256;

/**
 * Compiles a whole schema document into a rule named `rootName` (or a unique variant) and
 * returns a reference. Error paths are `${origin}#/json/pointer`.
 */
export function compileDocument(json: JsonRules, schema: unknown, rootName: string, origin = ""): GNode {
  const ctx: Ctx = { json, doc: schema, prefix: rootName, origin, refRules: new Map(), depth: 0, nesting: 0 };
  return refRule(ctx, "#", `${origin}#`, rootName);
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  return `a ${typeof v} (${JSON.stringify(v)?.slice(0, 40)})`;
}

function resolvePointer(doc: unknown, pointer: unknown, path: string): unknown {
  if (typeof pointer !== "string") throw new SchemaError(`'$ref' at ${path} must be a string`, path);
  if (pointer !== "#" && !pointer.startsWith("#/")) {
    throw new SchemaError(
      `'$ref' ${JSON.stringify(pointer)} at ${path} is not supported by Ingot's structured output: only local references such as '#/$defs/Name' or '#/definitions/Name' are supported; inline the referenced schema`,
      path,
    );
  }
  let cur = doc;
  for (const raw of pointer === "#" ? [] : pointer.slice(2).split("/")) {
    let seg: string | null;
    try {
      seg = decodeURIComponent(raw).replace(/~1/g, "/").replace(/~0/g, "~");
    } catch {
      seg = null;
    }
    if (seg !== null && Array.isArray(cur) && /^\d+$/.test(seg) && Number(seg) < cur.length) cur = cur[Number(seg)];
    else if (seg !== null && isObject(cur) && Object.hasOwn(cur, seg)) cur = cur[seg];
    else throw new SchemaError(`'$ref' ${JSON.stringify(pointer)} at ${path} does not point to anything in this schema`, path);
  }
  return cur;
}

/** A rule for a `$ref` target (optionally merged with sibling keywords); memoized, so recursion works. */
function refRule(ctx: Ctx, pointer: string, path: string, exactName?: string, siblings?: JsonObject): GNode {
  const key = siblings ? `${pointer} ${canonical(siblings)}` : pointer;
  const known = ctx.refRules.get(key);
  if (known) return known;
  const target = resolvePointer(ctx.doc, pointer, path);
  const last = pointer.split("/").pop() ?? "";
  const targetPath = ctx.origin + pointer;
  const name = ctx.json.builder.reserve(exactName ?? `${ctx.prefix}-${last}`, siblings ? path : targetPath);
  const node = ref(name);
  ctx.refRules.set(key, node);
  const body = siblings
    ? inline(ctx, () => mergeTwo(target, siblings, path, derefFor(ctx), 0), path, name)
    : compileSchema(ctx, target, targetPath, name);
  if (isNever(body)) {
    const where = siblings ? path : targetPath;
    throw new SchemaError(`the schema at ${where} cannot be satisfied by any JSON value (for example 'false', an empty enum, or conflicting constraints)`, where);
  }
  ctx.json.builder.define(name, body);
  return node;
}

function derefFor(ctx: Ctx): Deref {
  const deref: Deref = (schema, path, depth) => {
    let cur = schema;
    for (let i = 0; isObject(cur) && cur.$ref !== undefined; i++) {
      if (i > MAX_INLINE_DEPTH) throw new SchemaError(`'$ref' at ${path} forms a cycle of references`, path);
      const target = resolvePointer(ctx.doc, cur.$ref, path);
      const siblings = without(cur, "$ref");
      cur = constrains(siblings) ? mergeTwo(target, siblings, path, deref, depth + 1) : target;
    }
    return cur;
  };
  return deref;
}

function inline(ctx: Ctx, merge: () => unknown, path: string, hint: string): GNode {
  if (ctx.depth >= MAX_INLINE_DEPTH) {
    throw new SchemaError(`the schema at ${path} refers to itself through allOf/$ref without an enclosing object or array; this cannot be compiled`, path);
  }
  ctx.depth++;
  try {
    return compileSchema(ctx, merge(), path, hint);
  } finally {
    ctx.depth--;
  }
}

function named(ctx: Ctx, hint: string, node: GNode, path: string): GNode {
  if (isNever(node) || node.kind === "ref" || node.kind === "lit" || node.kind === "set") return node;
  return ctx.json.builder.add(hint, node, path);
}

function compileSchema(ctx: Ctx, schema: unknown, path: string, hint: string): GNode {
  if (ctx.nesting >= MAX_SCHEMA_NESTING)
    throw new SchemaError(`the schema at ${path} is nested more than ${MAX_SCHEMA_NESTING} levels deep; flatten it or use '$defs' and '$ref'`, path);
  ctx.nesting++;
  try {
    return compileSchemaNode(ctx, schema, path, hint);
  } finally {
    ctx.nesting--;
  }
}

function compileSchemaNode(ctx: Ctx, schema: unknown, path: string, hint: string): GNode {
  if (schema === true) return ctx.json.value();
  if (schema === false) return NEVER;
  if (!isObject(schema)) {
    throw new SchemaError(`the schema at ${path} must be a JSON object or a boolean, not ${describe(schema)}`, path);
  }
  checkKeywords(schema, path);
  if (schema.$ref !== undefined) {
    const siblings = without(schema, "$ref", ...ANNOTATIONS);
    if (typeof schema.$ref === "string") resolvePointer(ctx.doc, schema.$ref, path); // validate early
    return refRule(ctx, String(schema.$ref), path, undefined, constrains(siblings) ? siblings : undefined);
  }
  if (schema.allOf !== undefined) {
    const parts = schema.allOf;
    if (!Array.isArray(parts) || parts.length === 0) throw new SchemaError(`'allOf' at ${path} must be a non-empty array of schemas`, path);
    return inline(ctx, () => mergeAll([without(schema, "allOf"), ...parts], path, derefFor(ctx)), path, hint);
  }
  if (schema.anyOf !== undefined || schema.oneOf !== undefined) return compileUnion(ctx, schema, path, hint);
  if (schema.enum !== undefined || schema.const !== undefined) return enumNode(enumValues(schema, path));

  let types: JsonType[] | null = readTypes(schema, path) ?? inferTypes(schema);
  if (types === null) return ctx.json.value();
  if (types.includes("number")) types = types.filter((t) => t !== "integer");
  const sub = (s: unknown, p: string, h: string): GNode => named(ctx, h, compileSchema(ctx, s, p, h), p);
  const name = (h: string, n: GNode, p: string): GNode => named(ctx, h, n, p);
  return alt(
    ...types.map((t): GNode => {
      switch (t) {
        case "string":
          return stringNode(ctx.json, schema, path);
        case "number":
        case "integer":
          return numberNode(ctx.json, schema, path, t === "integer");
        case "boolean":
          return ctx.json.boolean();
        case "null":
          return ctx.json.null();
        case "object":
          return objectNode(ctx.json, schema, path, hint, sub, name);
        case "array":
          return arrayNode(ctx.json, schema, path, hint, sub);
      }
    }),
  );
}

/** anyOf / oneOf (oneOf is treated like anyOf: overlapping branches are not detected). */
function compileUnion(ctx: Ctx, schema: JsonObject, path: string, hint: string): GNode {
  if (schema.anyOf !== undefined && schema.oneOf !== undefined) {
    throw new SchemaError(`'anyOf' and 'oneOf' together at ${path} are not supported by Ingot's structured output; combine them into a single anyOf`, path);
  }
  const key = schema.anyOf !== undefined ? "anyOf" : "oneOf";
  const branches = schema[key];
  if (!Array.isArray(branches) || branches.length === 0) {
    throw new SchemaError(`'${key}' at ${path} must be a non-empty array of schemas`, path);
  }
  const siblings = without(schema, "anyOf", "oneOf");
  const merge = constrains(siblings);
  const nodes = branches.map((branch, i) => {
    const p = child(path, key, i);
    const h = `${hint}-${i}`;
    const node = merge ? inline(ctx, () => mergeTwo(siblings, branch, p, derefFor(ctx), 0), p, h) : compileSchema(ctx, branch, p, h);
    return named(ctx, h, node, p);
  });
  return alt(...nodes);
}
