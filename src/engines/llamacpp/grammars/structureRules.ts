// Objects and arrays for one schema.
// Objects with `properties`: required properties first, then optional ones, each group in
// declared order; undeclared properties are never generated (valid whatever
// additionalProperties says). Arrays: prefixItems are always generated in full
// (up to maxItems), then `items` repeated within minItems/maxItems.
import { EMPTY, NEVER, alt, isNever, lit, opt, seq } from "./gbnf.ts";
import type { GNode } from "./gbnf.ts";
import type { JsonRules } from "./jsonRules.ts";
import { SchemaError, child, isObject, readCount, unsupported } from "./schemaKeywords.ts";
import type { JsonObject } from "./schemaKeywords.ts";

/** Compiles a subschema into a (usually named) node. */
export type SubCompile = (schema: unknown, path: string, hint: string) => GNode;
/** Turns a node into a named rule (for readability and sharing). */
export type NameNode = (hint: string, node: GNode, path: string) => GNode;

function readSubschema(schema: JsonObject, key: string, path: string): unknown {
  const v = schema[key];
  if (v !== undefined && typeof v !== "boolean" && !isObject(v)) {
    throw new SchemaError(`'${key}' at ${path} must be a schema (an object or a boolean)`, path);
  }
  return v;
}

function readRequired(schema: JsonObject, path: string): string[] {
  const r = schema.required ?? [];
  if (!Array.isArray(r) || r.some((x) => typeof x !== "string")) {
    throw new SchemaError(`'required' at ${path} must be an array of property names`, path);
  }
  return [...new Set(r as string[])];
}

export function objectNode(json: JsonRules, schema: JsonObject, path: string, hint: string, sub: SubCompile, name: NameNode): GNode {
  const props = schema.properties;
  if (props !== undefined && !isObject(props)) {
    throw new SchemaError(`'properties' at ${path} must be an object mapping property names to schemas`, path);
  }
  const required = readRequired(schema, path);
  const extra = readSubschema(schema, "additionalProperties", path);
  const minProps = readCount(schema, "minProperties", path);
  const maxProps = readCount(schema, "maxProperties", path);
  const ws = json.ws();
  const kv = (key: string, value: GNode): GNode => seq(lit(JSON.stringify(key)), ws, lit(":"), ws, value);

  if (props === undefined && required.length === 0) {
    // A map: any keys, values from additionalProperties.
    if (extra === false) return (minProps ?? 0) > 0 ? NEVER : json.objectOf(EMPTY, 0, 0);
    if ((extra === undefined || extra === true) && minProps === null && maxProps === null) return json.object();
    const value = sub(extra ?? true, child(path, "additionalProperties"), `${hint}-value`);
    const member = name(`${hint}-member`, seq(json.string(), ws, lit(":"), ws, value), path);
    if (isNever(value)) return (minProps ?? 0) > 0 ? NEVER : json.objectOf(EMPTY, 0, 0);
    if (maxProps !== null && minProps !== null && maxProps < minProps) return NEVER;
    return json.objectOf(member, minProps ?? 0, maxProps);
  }

  const entries: [string, unknown, string][] = Object.entries(props ?? {}).map(([k, s]) => [k, s, child(path, "properties", k)]);
  for (const key of required) {
    if (entries.some(([k]) => k === key)) continue;
    if (extra === false) {
      throw new SchemaError(`required property '${key}' at ${path} is not in 'properties' and 'additionalProperties' is false, so no object can satisfy the schema`, path);
    }
    entries.push([key, extra ?? true, child(path, "additionalProperties")]);
  }
  const requiredKvs: GNode[] = [];
  const optionalKvs: GNode[] = [];
  for (const [key, s, p] of entries) {
    const value = sub(s, p, `${hint}-${key}`);
    const isRequired = required.includes(key);
    if (isNever(value)) {
      if (isRequired) throw new SchemaError(`required property '${key}' at ${path} has a schema that no value satisfies`, p);
      continue; // an optional property that can never be valid is simply left out
    }
    (isRequired ? requiredKvs : optionalKvs).push(kv(key, value));
  }
  if (minProps !== null && minProps > requiredKvs.length) {
    throw unsupported("minProperties", path, "list the properties that must be present in 'required' instead");
  }
  if (maxProps !== null && maxProps < requiredKvs.length + optionalKvs.length) {
    throw unsupported("maxProperties", path, "declare at most that many properties (Ingot may generate every declared property)");
  }
  const comma = json.comma();
  if (requiredKvs.length > 0) {
    const body = seq(
      requiredKvs[0],
      ...requiredKvs.slice(1).map((p) => seq(comma, p)),
      ...optionalKvs.map((p) => opt(seq(comma, p))),
    );
    return seq(lit("{"), ws, body, ws, lit("}"));
  }
  if (optionalKvs.length === 0) return json.objectOf(EMPTY, 0, 0);
  // No required property: whichever optional property comes first has no leading comma.
  // after[i] = the optional properties after the i-th one, each with its comma.
  const after: GNode[] = [];
  let tail: GNode = EMPTY;
  for (let i = optionalKvs.length - 1; i >= 0; i--) {
    after[i] = tail;
    tail = name(`${hint}-after`, seq(opt(seq(comma, optionalKvs[i])), tail), path);
  }
  const first = alt(...optionalKvs.map((p, i) => seq(p, after[i])));
  return seq(lit("{"), ws, opt(seq(first, ws)), lit("}"));
}

export function arrayNode(json: JsonRules, schema: JsonObject, path: string, hint: string, sub: SubCompile): GNode {
  const { items, prefixItems } = schema;
  if (prefixItems !== undefined && !Array.isArray(prefixItems)) {
    throw new SchemaError(`'prefixItems' at ${path} must be an array of schemas`, path);
  }
  let prefix: unknown[] = [];
  let prefixKey = "prefixItems";
  let rest: unknown;
  let restPath: string;
  if (prefixItems !== undefined) {
    prefix = prefixItems;
    rest = readSubschema(schema, "items", path);
    restPath = child(path, "items");
  } else if (Array.isArray(items)) {
    // draft-04..2019-09 tuple form
    prefix = items;
    prefixKey = "items";
    rest = readSubschema(schema, "additionalItems", path);
    restPath = child(path, "additionalItems");
  } else {
    rest = readSubschema(schema, "items", path);
    restPath = child(path, "items");
  }
  const minItems = readCount(schema, "minItems", path) ?? 0;
  const maxItems = readCount(schema, "maxItems", path);
  if (maxItems !== null && maxItems < minItems) return NEVER;

  const prefixNodes: GNode[] = [];
  const limit = maxItems === null ? prefix.length : Math.min(prefix.length, maxItems);
  for (let i = 0; i < limit; i++) {
    const node = sub(prefix[i], child(path, prefixKey, i), `${hint}-${i}`);
    if (isNever(node)) break; // no valid value at position i: arrays stop before it
    prefixNodes.push(node);
  }
  const k = prefixNodes.length;
  const restNode = k === prefix.length ? sub(rest ?? true, restPath, `${hint}-item`) : NEVER;
  const restMin = Math.max(0, minItems - k);
  const restMax = isNever(restNode) ? 0 : maxItems === null ? null : maxItems - k;
  if (restMax !== null && restMax < restMin) return NEVER;
  return json.arrayOf(prefixNodes, restNode, restMin, restMax);
}
