// Which JSON Schema keywords we enforce, ignore or refuse, plus typed keyword readers
// that fail with a message telling the user what to change.

export class SchemaError extends Error {
  readonly path: string;
  constructor(reason: string, path: string) {
    super(reason);
    this.name = "SchemaError";
    this.path = path;
  }
}

export type JsonObject = Record<string, unknown>;

export const isObject = (v: unknown): v is JsonObject => typeof v === "object" && v !== null && !Array.isArray(v);

/** JSON pointer child path, e.g. child("#/properties", "a/b") = "#/properties/a~1b". */
export const child = (path: string, ...segments: (string | number)[]): string =>
  [path, ...segments.map((s) => String(s).replace(/~/g, "~0").replace(/\//g, "~1"))].join("/");

export const JSON_TYPES = ["string", "number", "integer", "boolean", "null", "object", "array"] as const;
export type JsonType = (typeof JSON_TYPES)[number];

/** No effect on which values validate; skipped. */
export const ANNOTATIONS: ReadonlySet<string> = new Set([
  "title", "description", "examples", "default", "$schema", "$id", "id", "$comment", "deprecated", "readOnly", "writeOnly",
  "$anchor", "$dynamicAnchor", "$vocabulary", "contentEncoding", "contentMediaType", "contentSchema", "$defs", "definitions",
]);

/** Keywords (or values of them) we cannot enforce, with advice on what to do instead. */
const UNSUPPORTED: Record<string, string> = {
  not: "remove it or express the constraint with enum/anyOf",
  if: "remove the conditional or express the alternatives with anyOf",
  then: "remove the conditional or express the alternatives with anyOf",
  else: "remove the conditional or express the alternatives with anyOf",
  patternProperties: "list the allowed keys in 'properties', or use 'additionalProperties' with a schema",
  propertyNames: "remove it, or list the allowed keys in 'properties'",
  dependentSchemas: "remove it or express the alternatives with anyOf",
  dependentRequired: "remove it or express the alternatives with anyOf and 'required'",
  dependencies: "remove it or express the alternatives with anyOf and 'required'",
  unevaluatedProperties: "use 'additionalProperties' instead (Ingot never generates undeclared properties)",
  unevaluatedItems: "use 'items' instead",
  contains: "remove it, or describe the items with 'items'/'prefixItems'",
  minContains: "remove it, or describe the items with 'items'/'prefixItems'",
  maxContains: "remove it, or describe the items with 'items'/'prefixItems'",
  uniqueItems: "remove 'uniqueItems' (uniqueness cannot be guaranteed while generating)",
  $dynamicRef: "use '$ref' to '#/$defs/...' instead",
  $recursiveRef: "use '$ref' to '#/$defs/...' instead",
};

/** Keywords that constrain values and that we understand (enforced here or elsewhere). */
const ENFORCED = [
  "type", "enum", "const", "$ref", "allOf", "anyOf", "oneOf",
  "minLength", "maxLength", "pattern", "format",
  "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
  "properties", "required", "additionalProperties", "minProperties", "maxProperties",
  "items", "prefixItems", "additionalItems", "minItems", "maxItems",
];

/** Keywords that only apply to one instance type; used to infer a missing `type`. */
export const KEYWORD_TYPE: Record<string, JsonType> = {
  minLength: "string", maxLength: "string", pattern: "string", format: "string",
  minimum: "number", maximum: "number", exclusiveMinimum: "number", exclusiveMaximum: "number", multipleOf: "number",
  properties: "object", required: "object", additionalProperties: "object", minProperties: "object", maxProperties: "object",
  items: "array", prefixItems: "array", additionalItems: "array", minItems: "array", maxItems: "array", uniqueItems: "array",
};

export const unsupported = (keyword: string, path: string, advice: string): SchemaError =>
  new SchemaError(`'${keyword}' at ${path} is not supported by Ingot's structured output; ${advice}`, path);

/** Throws for keywords we refuse. Unknown keywords are annotations in JSON Schema and ignored. */
export function checkKeywords(schema: JsonObject, path: string): void {
  for (const key of Object.keys(schema)) {
    if (!Object.hasOwn(UNSUPPORTED, key)) continue;
    if (key === "uniqueItems" && schema[key] === false) continue;
    throw unsupported(key, path, UNSUPPORTED[key]);
  }
}

/** True when the schema has any keyword that constrains values. */
export function constrains(schema: JsonObject): boolean {
  return Object.keys(schema).some((k) => ENFORCED.includes(k) || (Object.hasOwn(UNSUPPORTED, k) && !(k === "uniqueItems" && schema[k] === false)));
}

/** The schema without annotations and without the given keywords. */
export function without(schema: JsonObject, ...keys: string[]): JsonObject {
  return Object.fromEntries(Object.entries(schema).filter(([k]) => !keys.includes(k)));
}

export function readCount(schema: JsonObject, key: string, path: string): number | null {
  const v = schema[key];
  if (v === undefined) return null;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0) {
    throw new SchemaError(`'${key}' at ${path} must be a non-negative integer`, path);
  }
  return v;
}

export function readNumber(schema: JsonObject, key: string, path: string): number | null {
  const v = schema[key];
  if (v === undefined) return null;
  if (typeof v !== "number" || !Number.isFinite(v)) throw new SchemaError(`'${key}' at ${path} must be a number`, path);
  return v;
}

/** The allowed types from `type`, or null when the keyword is absent. */
export function readTypes(schema: JsonObject, path: string): JsonType[] | null {
  const t = schema.type;
  if (t === undefined) return null;
  const list = Array.isArray(t) ? t : [t];
  if (list.length === 0) throw new SchemaError(`'type' at ${path} is an empty array; give at least one type`, path);
  for (const item of list) {
    if (typeof item !== "string" || !(JSON_TYPES as readonly string[]).includes(item)) {
      throw new SchemaError(
        `'type' at ${path} has the unknown type ${JSON.stringify(item)}; use one of ${JSON_TYPES.join(", ")}`,
        path,
      );
    }
  }
  return [...new Set(list as JsonType[])];
}

/** Types implied by type-specific keywords when `type` is absent; null = no hint (any value). */
export function inferTypes(schema: JsonObject): JsonType[] | null {
  const found = new Set<JsonType>();
  for (const key of Object.keys(schema)) if (Object.hasOwn(KEYWORD_TYPE, key)) found.add(KEYWORD_TYPE[key]);
  return found.size === 0 ? null : [...found];
}
