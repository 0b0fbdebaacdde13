// Schemas that cannot be enforced must be rejected with a reason naming the keyword and
// the place, never compiled into a looser grammar.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { compileJsonSchema } from "../../src/engines/llamacpp/grammars/index.ts";

type Rejection = { name: string; schema: unknown; mentions: string[]; path: string };

const obj = (props: Record<string, unknown>): unknown => ({ type: "object", properties: props });

const REJECTIONS: Rejection[] = [
  { name: "not", schema: obj({ x: { not: { type: "string" } } }), mentions: ["'not'", "#/properties/x", "enum/anyOf"], path: "#/properties/x" },
  { name: "if/then/else", schema: { if: { type: "string" }, then: { minLength: 1 }, else: { type: "null" } }, mentions: ["'if'", "anyOf"], path: "#" },
  { name: "patternProperties", schema: { type: "object", patternProperties: { "^x": {} } }, mentions: ["'patternProperties'"], path: "#" },
  { name: "propertyNames", schema: { type: "object", propertyNames: { maxLength: 3 } }, mentions: ["'propertyNames'"], path: "#" },
  { name: "dependentSchemas", schema: { dependentSchemas: { a: { required: ["b"] } } }, mentions: ["'dependentSchemas'"], path: "#" },
  { name: "dependentRequired", schema: { dependentRequired: { a: ["b"] } }, mentions: ["'dependentRequired'"], path: "#" },
  { name: "dependencies", schema: { dependencies: { a: ["b"] } }, mentions: ["'dependencies'"], path: "#" },
  { name: "unevaluatedProperties", schema: { unevaluatedProperties: false }, mentions: ["'unevaluatedProperties'"], path: "#" },
  { name: "unevaluatedItems", schema: { unevaluatedItems: false }, mentions: ["'unevaluatedItems'"], path: "#" },
  { name: "contains", schema: { type: "array", contains: { const: 1 } }, mentions: ["'contains'"], path: "#" },
  { name: "minContains", schema: { type: "array", items: {}, minContains: 2 }, mentions: ["'minContains'"], path: "#" },
  { name: "uniqueItems: true", schema: obj({ tags: { type: "array", uniqueItems: true } }), mentions: ["'uniqueItems'", "#/properties/tags"], path: "#/properties/tags" },
  { name: "$dynamicRef", schema: { $dynamicRef: "#meta" }, mentions: ["'$dynamicRef'"], path: "#" },
  { name: "$recursiveRef", schema: { $recursiveRef: "#" }, mentions: ["'$recursiveRef'"], path: "#" },
  { name: "external $ref", schema: obj({ a: { $ref: "https://example.com/s.json" } }), mentions: ["'$ref'", "https://example.com/s.json", "#/properties/a", "local"], path: "#/properties/a" },
  { name: "relative $ref", schema: { $ref: "other.json#/x" }, mentions: ["'$ref'", "other.json"], path: "#" },
  { name: "$ref to a missing definition", schema: { $ref: "#/$defs/missing" }, mentions: ["#/$defs/missing", "does not point"], path: "#" },
  { name: "unknown format", schema: obj({ site: { type: "string", format: "uri" } }), mentions: ["'format'", '"uri"', "#/properties/site", "date-time"], path: "#/properties/site" },
  { name: "pattern lookahead", schema: { type: "string", pattern: "^(?=a)a+$" }, mentions: ["'pattern'", "lookahead"], path: "#" },
  { name: "pattern backreference", schema: { type: "string", pattern: "^(a)\\1$" }, mentions: ["'pattern'", "backreference"], path: "#" },
  { name: "pattern word boundary", schema: { type: "string", pattern: "\\bword\\b" }, mentions: ["'pattern'", "\\b"], path: "#" },
  { name: "pattern unicode property", schema: { type: "string", pattern: "^\\p{L}+$" }, mentions: ["'pattern'", "\\p{"], path: "#" },
  { name: "invalid pattern", schema: { type: "string", pattern: "([a-z]" }, mentions: ["'pattern'", "not a valid"], path: "#" },
  { name: "anchor in the middle of a pattern", schema: { type: "string", pattern: "a^b" }, mentions: ["'pattern'", "'^'"], path: "#" },
  { name: "pattern with maxLength", schema: { type: "string", pattern: "^a+$", maxLength: 5 }, mentions: ["'pattern'", "maxLength"], path: "#" },
  { name: "format with narrower maxLength", schema: { type: "string", format: "email", maxLength: 20 }, mentions: ["'format'", "maxLength"], path: "#" },
  { name: "multipleOf", schema: obj({ price: { type: "number", multipleOf: 0.01 } }), mentions: ["'multipleOf'", "#/properties/price"], path: "#/properties/price" },
  { name: "fractional minimum on number", schema: { type: "number", minimum: 0.5 }, mentions: ["'minimum'", "0.5", "whole"], path: "#" },
  { name: "allOf that does not merge", schema: { type: "string", allOf: [{ pattern: "^a" }, { pattern: "b$" }] }, mentions: ["'pattern'", "allOf"], path: "#" },
  { name: "anyOf together with oneOf", schema: { anyOf: [{ type: "string" }], oneOf: [{ type: "null" }] }, mentions: ["'anyOf'", "'oneOf'"], path: "#" },
  { name: "a number is not a schema", schema: 5, mentions: ["must be a JSON object or a boolean", "number"], path: "#" },
  { name: "an array is not a schema", schema: [{ type: "string" }], mentions: ["must be a JSON object or a boolean", "array"], path: "#" },
  { name: "a string is not a schema", schema: "string", mentions: ["must be a JSON object or a boolean"], path: "#" },
  { name: "null is not a schema", schema: null, mentions: ["must be a JSON object or a boolean", "null"], path: "#" },
  { name: "misspelled type", schema: { type: "strng" }, mentions: ["'type'", '"strng"', "string, number"], path: "#" },
  { name: "nested misspelled type", schema: obj({ a: { type: ["string", "nul"] } }), mentions: ['"nul"', "#/properties/a"], path: "#/properties/a" },
  { name: "empty type array", schema: { type: [] }, mentions: ["'type'", "empty"], path: "#" },
  { name: "bad minLength", schema: { type: "string", minLength: -1 }, mentions: ["'minLength'", "non-negative integer"], path: "#" },
  { name: "bad required", schema: { type: "object", required: "a" }, mentions: ["'required'", "array"], path: "#" },
  { name: "required property that is false", schema: { type: "object", properties: { a: false }, required: ["a"] }, mentions: ["'a'", "no value"], path: "#/properties/a" },
  { name: "required property forbidden by additionalProperties", schema: { type: "object", properties: {}, required: ["a"], additionalProperties: false }, mentions: ["'a'", "additionalProperties"], path: "#" },
  { name: "false schema", schema: false, mentions: ["cannot be satisfied"], path: "#" },
  { name: "empty enum", schema: { enum: [] }, mentions: ["'enum'", "non-empty"], path: "#" },
  { name: "enum where no value has the type", schema: { type: "integer", enum: ["a"] }, mentions: ["cannot be satisfied"], path: "#" },
  { name: "enum with structural keywords", schema: { enum: [{}], properties: { a: {} } }, mentions: ["'enum'", "'properties'"], path: "#" },
  { name: "contradictory bounds", schema: { type: "integer", minimum: 5, maximum: 1 }, mentions: ["cannot be satisfied"], path: "#" },
  { name: "minProperties beyond required", schema: { type: "object", properties: { a: {}, b: {} }, minProperties: 1 }, mentions: ["'minProperties'", "required"], path: "#" },
  {
    name: "infinitely deep required recursion",
    schema: { $defs: { n: { type: "object", properties: { c: { $ref: "#/$defs/n" } }, required: ["c"] } }, $ref: "#/$defs/n" },
    mentions: ["no finite JSON value", "optional"], path: "#/$defs/n",
  },
  {
    name: "left recursion through anyOf",
    schema: { $defs: { a: { anyOf: [{ $ref: "#/$defs/a" }, { type: "string" }] } }, $ref: "#/$defs/a" },
    mentions: ["refers back to itself", "#/$defs/a"], path: "#/$defs/a",
  },
  { name: "$ref cycle", schema: { $defs: { a: { $ref: "#/$defs/b" }, b: { $ref: "#/$defs/a" } }, $ref: "#/$defs/a" }, mentions: ["refers back to itself"], path: "#/$defs/a" },
  { name: "allOf including itself", schema: { type: "object", allOf: [{ $ref: "#" }] }, mentions: ["refers to itself"], path: "#" },
  { name: "overlong pattern", schema: { type: "string", pattern: "a".repeat(2001) }, mentions: ["'pattern'", "longer than"], path: "#" },
];

describe("compileJsonSchema: rejections", () => {
  for (const r of REJECTIONS) {
    test(r.name, () => {
      const result = compileJsonSchema(r.schema);
      assert.equal(result.ok, false, result.ok ? `compiled unexpectedly:\n${result.gbnf}` : "");
      if (result.ok) return;
      for (const m of r.mentions) assert.ok(result.reason.includes(m), `reason should mention ${m}: ${result.reason}`);
      assert.equal(result.path, r.path, result.reason);
    });
  }

  test("unsupported keywords explain what to change", () => {
    const result = compileJsonSchema(obj({ x: { not: { type: "string" } } }));
    assert.equal(result.ok, false);
    if (!result.ok) {
      assert.equal(
        result.reason,
        "'not' at #/properties/x is not supported by Ingot's structured output; remove it or express the constraint with enum/anyOf",
      );
    }
  });
});
