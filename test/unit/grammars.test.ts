// JSON Schema -> GBNF: every supported construct must compile, be accepted by llama.cpp's
// grammar parser, accept the listed valid texts and refuse the invalid ones (checked with
// llama.cpp's own matcher). Random texts drawn from the grammar must validate with Ajv.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import AjvModule from "ajv";
import Ajv2020Module from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import { useLlama } from "./grammar-llama.ts";
import type { Matcher } from "./grammar-llama.ts";
import { compileJsonSchema, jsonObjectGrammar } from "../../src/engines/llamacpp/grammars/index.ts";
import type { GNode } from "../../src/engines/llamacpp/grammars/gbnf.ts";
import { GrammarBuilder } from "../../src/engines/llamacpp/grammars/grammarBuilder.ts";
import { JSON_RULE_NAMES, JsonRules } from "../../src/engines/llamacpp/grammars/jsonRules.ts";
import { compileDocument } from "../../src/engines/llamacpp/grammars/schemaCompiler.ts";

type Case = { name: string; schema: unknown; valid?: string[]; invalid?: string[]; ajv?: "2020" | "07" | "none" };

const getLlama = useLlama();

async function matcher(gbnf: string): Promise<Matcher> {
  return (await getLlama().createGrammar({ grammar: gbnf })) as unknown as Matcher;
}

const validators = {
  "2020": new Ajv2020Module.default({ strict: false }),
  "07": new AjvModule.default({ strict: false }),
};
addFormatsModule.default(validators["2020"]);
addFormatsModule.default(validators["07"]);

// ---- random texts from the grammar's own rules (terminating: prefers shallow choices when deep) ----
function sampler(rules: ReadonlyMap<string, GNode>, seed: number): () => string {
  let state = seed;
  const rnd = (n: number): number => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return Math.floor((state / 2147483648) * n);
  };
  const height = new Map<string, number>();
  const h = (n: GNode): number => {
    switch (n.kind) {
      case "lit": case "set": return 0;
      case "ref": return (height.get(n.name) ?? Infinity) + 1;
      case "seq": return Math.max(0, ...n.items.map(h));
      case "alt": return Math.min(...n.items.map(h));
      case "rep": return n.min === 0 ? 0 : h(n.item);
    }
  };
  for (let changed = true; changed; ) {
    changed = false;
    for (const [name, body] of rules) {
      const v = h(body);
      if (v < (height.get(name) ?? Infinity)) { height.set(name, v); changed = true; }
    }
  }
  const pickChar = (ranges: readonly (readonly [number, number])[]): string => {
    const ascii = ranges.flatMap(([a, b]) => (a <= 0x7e && b >= 0x20 ? [[Math.max(a, 0x20), Math.min(b, 0x7e)] as const] : []));
    const pool = ascii.length > 0 && rnd(10) < 8 ? ascii : ranges;
    const [a, b] = pool[rnd(pool.length)];
    return String.fromCodePoint(a + rnd(Math.min(b - a + 1, 5000)));
  };
  const gen = (n: GNode, depth: number): string => {
    switch (n.kind) {
      case "lit": return n.text;
      case "set": return pickChar(n.ranges);
      case "ref": return gen(rules.get(n.name)!, depth + 1);
      case "seq": return n.items.map((i) => gen(i, depth)).join("");
      case "alt": {
        const best = Math.min(...n.items.map(h));
        const options = depth > 8 ? n.items.filter((i) => h(i) === best) : n.items;
        return gen(options[rnd(options.length)], depth);
      }
      case "rep": {
        const top = depth > 8 ? n.min : Math.min(n.max ?? n.min + 3, n.min + 3);
        let out = "";
        for (let i = n.min + rnd(top - n.min + 1); i > 0; i--) out += gen(n.item, depth);
        return out;
      }
    }
  };
  return () => gen(rules.get("root")!, 0);
}

function samplesOf(schema: unknown, count: number): string[] {
  const b = new GrammarBuilder(JSON_RULE_NAMES);
  compileDocument(new JsonRules(b), schema, "root");
  const next = sampler(b.rules(), 42);
  return Array.from({ length: count }, next);
}

const str = (s: string): string => JSON.stringify(s);

const CASES: Case[] = [
  { name: "empty schema = any JSON", schema: {}, valid: ['{"a":[1,2.5,-3e10,true,null,"x\\u00e9"]}', '"s"', "1", "null", "[ ]"], invalid: ["{a:1}", "'x'", "[1,]", "01", ""] },
  { name: "true = any JSON", schema: true, valid: ["[]", "false"], invalid: ["nul"] },
  { name: "string", schema: { type: "string" }, valid: ['"hello"', '"esc \\" \\\\ \\/ \\n \\u0041"', '"é😀"', '""'], invalid: ["hello", '"a\nb"', "1", '"\\x"'] },
  { name: "number", schema: { type: "number" }, valid: ["0", "-1.5", "1e5", "2.5E-3", "1234567890123456789.5"], invalid: ["01", ".5", "1.", "+1", "NaN", "1e1234", "12345678901234567890"] },
  { name: "integer", schema: { type: "integer" }, valid: ["0", "-42", "1234567890123456789"], invalid: ["1.0", "1e3", "01", "12345678901234567890"] },
  { name: "boolean", schema: { type: "boolean" }, valid: ["true", "false"], invalid: ["True", "1"] },
  { name: "null", schema: { type: "null" }, valid: ["null"], invalid: ["nil", '"null"'] },
  { name: "type array", schema: { type: ["string", "null"] }, valid: ['"x"', "null"], invalid: ["1"] },
  { name: "enum", schema: { enum: ["a", 1, null, { k: [1] }] }, valid: ['"a"', "1", "null", '{"k":[1]}'], invalid: ['"b"', "2", '{"k":[2]}'] },
  { name: "enum filtered by type", schema: { type: "string", enum: ["a", 1] }, valid: ['"a"'], invalid: ["1"] },
  { name: "const", schema: { const: "fixed" }, valid: ['"fixed"'], invalid: ['"other"'] },
  {
    name: "properties + required (declared order, required first)",
    schema: { type: "object", properties: { a: { type: "string" }, b: { type: "integer" }, c: { type: "boolean" } }, required: ["a"] },
    valid: ['{"a":"x"}', '{"a":"x","b":1}', '{"a":"x","c":true}', '{"a":"x","b":1,"c":false}', '{ "a" : "x" }', '{\n  "a": "x",\n  "b": 2\n}'],
    invalid: ["{}", '{"b":1,"a":"x"}', '{"a":"x","d":1}', '{"a":"x",}', '{"a":"x"  }', '{"a":"x"}\n'],
  },
  {
    name: "required property listed later than optional ones comes first",
    schema: { type: "object", properties: { opt: { type: "integer" }, req: { type: "integer" } }, required: ["req"] },
    valid: ['{"req":1}', '{"req":1,"opt":2}'], invalid: ['{"opt":2,"req":1}'],
  },
  {
    name: "only optional properties",
    schema: { type: "object", properties: { a: { type: "integer" }, b: { type: "integer" }, c: { type: "integer" } } },
    valid: ["{}", '{"a":1}', '{"b":2}', '{"a":1,"c":3}', '{"b":1,"c":3}', '{"a":1,"b":2,"c":3}'], invalid: ['{"b":2,"a":1}', '{,"a":1}', '{"a":1,}'],
  },
  { name: "additionalProperties schema = map", schema: { type: "object", additionalProperties: { type: "integer" } }, valid: ["{}", '{"x":1,"y":2}'], invalid: ['{"x":"s"}'] },
  { name: "additionalProperties false without properties", schema: { type: "object", additionalProperties: false }, valid: ["{}", "{ }"], invalid: ['{"a":1}'] },
  { name: "properties with additionalProperties true", schema: { type: "object", properties: { a: { type: "null" } }, additionalProperties: true }, valid: ["{}", '{"a":null}'], invalid: ['{"b":1}'] },
  {
    name: "map with minProperties/maxProperties",
    schema: { additionalProperties: { type: "boolean" }, minProperties: 1, maxProperties: 2 },
    valid: ['{"a":true}', '{"a":true,"b":false}'], invalid: ["{}", '{"a":true,"b":true,"c":true}'],
  },
  {
    name: "required property only allowed by additionalProperties",
    schema: { type: "object", properties: { a: { type: "integer" } }, required: ["z"], additionalProperties: { type: "string" } },
    valid: ['{"z":"s"}', '{"z":"s","a":1}'], invalid: ['{"a":1}', '{"z":1}'],
  },
  { name: "items + minItems/maxItems", schema: { type: "array", items: { type: "integer" }, minItems: 1, maxItems: 3 }, valid: ["[1]", "[1,2,3]", "[ 1, 2 ]"], invalid: ["[]", "[1,2,3,4]", "[1,]", '["a"]'] },
  { name: "items false", schema: { type: "array", items: false }, valid: ["[]"], invalid: ["[1]"] },
  { name: "prefixItems + items false", schema: { type: "array", prefixItems: [{ type: "string" }, { type: "number" }], items: false }, valid: ['["a",1]'], invalid: ['["a",1,2]', "[1,1]"] },
  { name: "prefixItems + items + maxItems", schema: { prefixItems: [{ const: "cmd" }], items: { type: "integer" }, maxItems: 3 }, valid: ['["cmd"]', '["cmd",1,2]'], invalid: ['["cmd",1,2,3]', '["x"]'] },
  { name: "tuple items + additionalItems (draft-07)", schema: { type: "array", items: [{ type: "boolean" }], additionalItems: { type: "null" } }, valid: ["[true]", "[false,null,null]"], invalid: ["[true,1]"], ajv: "07" },
  { name: "anyOf", schema: { anyOf: [{ type: "string", maxLength: 2 }, { type: "integer", minimum: 10 }] }, valid: ['"ab"', "10"], invalid: ['"abc"', "9"] },
  {
    name: "oneOf (as anyOf), discriminated objects",
    schema: {
      oneOf: [
        { type: "object", properties: { kind: { const: "circle" }, r: { type: "number" } }, required: ["kind", "r"], additionalProperties: false },
        { type: "object", properties: { kind: { const: "square" }, side: { type: "number" } }, required: ["kind", "side"], additionalProperties: false },
      ],
    },
    valid: ['{"kind":"circle","r":1}', '{"kind":"square","side":2.5}'], invalid: ['{"kind":"circle","side":1}'],
  },
  {
    name: "allOf that merges",
    schema: { allOf: [{ type: "object", properties: { a: { type: "string" } }, required: ["a"] }, { properties: { b: { type: "integer" } }, required: ["b"] }] },
    valid: ['{"a":"x","b":1}'], invalid: ['{"a":"x"}', '{"b":1}'],
  },
  {
    name: "anyOf with sibling keywords",
    schema: { type: "object", properties: { a: { type: "string" }, b: { type: "string" } }, anyOf: [{ required: ["a"] }, { required: ["b"] }] },
    valid: ['{"a":"x"}', '{"b":"y"}', '{"a":"x","b":"y"}'], invalid: ["{}"],
  },
  {
    name: "$ref to $defs with recursion",
    schema: {
      $ref: "#/$defs/node",
      $defs: { node: { type: "object", properties: { value: { type: "integer" }, children: { type: "array", items: { $ref: "#/$defs/node" } } }, required: ["value"] } },
    },
    valid: ['{"value":1,"children":[{"value":2,"children":[]}]}', '{"value":1}'], invalid: ['{"value":1,"children":[{}]}'],
  },
  { name: "$ref to definitions", schema: { definitions: { id: { type: "integer", minimum: 1 } }, properties: { id: { $ref: "#/definitions/id" } }, required: ["id"] }, valid: ['{"id":1}'], invalid: ['{"id":0}'], ajv: "07" },
  { name: "$ref to the root", schema: { type: "object", properties: { next: { $ref: "#" } } }, valid: ["{}", '{"next":{"next":{}}}'], invalid: ['{"next":1}'] },
  {
    name: "$ref with sibling keywords",
    schema: { $defs: { base: { type: "object", properties: { a: { type: "string" } } } }, $ref: "#/$defs/base", required: ["a"] },
    valid: ['{"a":"x"}'], invalid: ["{}"],
  },
  {
    name: "pydantic-style optional via anyOf null",
    schema: {
      $defs: { Sub: { type: "object", properties: { n: { type: "integer", title: "N" } }, required: ["n"], title: "Sub" } },
      type: "object", title: "Model",
      properties: { x: { anyOf: [{ $ref: "#/$defs/Sub" }, { type: "null" }], default: null } },
      required: ["x"],
    },
    valid: ['{"x":null}', '{"x":{"n":3}}'], invalid: ['{"x":{}}'],
  },
  { name: "string length", schema: { type: "string", minLength: 2, maxLength: 3 }, valid: ['"ab"', '"abc"', '"é😀"', '"\\u00e9x"', '"\\n\\t"'], invalid: ['"a"', '"abcd"', '"\\ud83d\\ude00"'] },
  { name: "long maxLength (chunked repetition)", schema: { type: "string", maxLength: 5000 }, valid: [str("a".repeat(5000)), '""'], invalid: [str("a".repeat(5001))] },
  { name: "long minLength", schema: { type: "string", minLength: 2500, maxLength: 2600 }, valid: [str("b".repeat(2500)), str("b".repeat(2600))], invalid: [str("b".repeat(2499)), str("b".repeat(2601))] },
  { name: "long maxItems", schema: { type: "array", items: { const: 1 }, maxItems: 2100 }, valid: [`[${Array(2100).fill(1)}]`], invalid: [`[${Array(2101).fill(1)}]`] },
  { name: "anchored pattern", schema: { type: "string", pattern: "^[A-Z]{2}-\\d{3}$" }, valid: ['"AB-123"'], invalid: ['"AB-12"', '"ab-123"', '"xAB-123"'] },
  { name: "unanchored pattern", schema: { type: "string", pattern: "abc" }, valid: ['"xxabcxx"', '"abc"', '"abc\\n"'], invalid: ['"ab"'] },
  { name: "pattern groups/alternation", schema: { type: "string", pattern: "^(foo|bar)+(?:-[a-z]+)?$" }, valid: ['"foo"', '"barfoo-x"'], invalid: ['"baz"', '"foo-"'] },
  { name: "pattern with JSON-escaped characters", schema: { type: "string", pattern: '^a"b\\\\c\\/$' }, valid: ['"a\\"b\\\\c/"'], invalid: ['"a"b\\c/"'] },
  { name: "pattern dot excludes newline", schema: { type: "string", pattern: "^.{1,3}$" }, valid: ['"a\\tb"', '"é"'], invalid: ['"a\\nb"', '""'] },
  { name: "pattern negated class", schema: { type: "string", pattern: "^[^a-z]+$" }, valid: ['"ABC"', '"\\""'], invalid: ['"abc"'] },
  { name: "pattern class escapes", schema: { type: "string", pattern: "^[\\w.-]+@\\S+$" }, valid: ['"a.b-c_d@x"'], invalid: ['"a b@x"', '"a@ "'] },
  { name: "pattern: decimal with 2 places", schema: { type: "string", pattern: "^\\d+(\\.\\d{1,2})?$" }, valid: ['"10"', '"3.14"'], invalid: ['"3.141"', '".5"'] },
  { name: "pattern: username", schema: { type: "string", pattern: "^[a-z0-9_-]{3,16}$" }, valid: ['"user_01"'], invalid: ['"ab"', '"User"'] },
  { name: "pattern: E.164 phone", schema: { type: "string", pattern: "^\\+?[1-9]\\d{1,14}$" }, valid: ['"+4915112345678"'], invalid: ['"+0123"'] },
  { name: "pattern: hex colour, lazy quantifier, \\u escape", schema: { type: "string", pattern: "^#[0-9a-fA-F]{6}?\\u00e9*?$" }, valid: ['"#a0B1c2"', '"#a0B1c2éé"'], invalid: ['"#12345"'] },
  { name: "pattern: [\\w-] class (Annex B)", schema: { type: "string", pattern: "^[\\w-]+$" }, valid: ['"a-b_c"'], invalid: ['"a b"'] },
  { name: "pattern: named group, non-BMP literal", schema: { type: "string", pattern: "^(?<x>😀|ab)+$" }, valid: ['"😀ab"'], invalid: ['"a"'] },
  { name: "format date", schema: { type: "string", format: "date" }, valid: ['"2024-02-28"', '"1999-12-31"'], invalid: ['"2024-02-30"', '"2024-13-01"', '"24-01-01"'] },
  { name: "format time", schema: { type: "string", format: "time" }, valid: ['"23:59:59Z"', '"08:00:00.123+02:00"'], invalid: ['"24:00:00Z"', '"12:00"'] },
  { name: "format date-time", schema: { type: "string", format: "date-time" }, valid: ['"2024-01-31T12:30:00Z"'], invalid: ['"2024-01-31 12:30:00Z"'] },
  { name: "format uuid", schema: { type: "string", format: "uuid" }, valid: ['"123e4567-e89b-12d3-a456-426614174000"'], invalid: ['"123e4567e89b12d3a456426614174000"'] },
  { name: "format email", schema: { type: "string", format: "email" }, valid: ['"john.doe+x@mail.example.com"'], invalid: ['"john@"', '"@x.com"', '"a b@x.com"'] },
  { name: "format ipv4", schema: { type: "string", format: "ipv4" }, valid: ['"192.168.0.255"', '"0.0.0.0"'], invalid: ['"256.1.1.1"', '"01.1.1.1"'] },
  { name: "integer range", schema: { type: "integer", minimum: -5, maximum: 120 }, valid: ["-5", "0", "120", "99", "7"], invalid: ["-6", "121", "007", "-0"] },
  { name: "integer exclusiveMinimum", schema: { type: "integer", exclusiveMinimum: 0 }, valid: ["1", "1000000"], invalid: ["0", "-1"] },
  { name: "integer maximum only", schema: { type: "integer", maximum: -10 }, valid: ["-10", "-1000"], invalid: ["-9", "0"] },
  { name: "integer large minimum", schema: { type: "integer", minimum: 1000000 }, valid: ["1000000", "99999999"], invalid: ["999999", "-1000000"] },
  { name: "integer fractional bounds", schema: { type: "integer", minimum: 0.5, exclusiveMaximum: 3.5 }, valid: ["1", "3"], invalid: ["0", "4"] },
  { name: "integer format int32", schema: { type: "integer", format: "int32" }, valid: ["2147483647", "-2147483648"], invalid: ["2147483648"] },
  { name: "number [0,1]", schema: { type: "number", minimum: 0, maximum: 1 }, valid: ["0", "1", "0.5", "1.000", "0.0001"], invalid: ["1.5", "1.0001", "-0.1", "2", "1e0"] },
  { name: "number (0,1)", schema: { type: "number", exclusiveMinimum: 0, exclusiveMaximum: 1 }, valid: ["0.5", "0.999"], invalid: ["0", "1", "0.0", "1.0"] },
  { name: "number [-90,90]", schema: { type: "number", minimum: -90, maximum: 90 }, valid: ["-90", "-89.5", "90", "45.123", "-0.5"], invalid: ["-90.5", "90.01", "-91"] },
  { name: "number maximum -1", schema: { type: "number", maximum: -1 }, valid: ["-1", "-1.5", "-100"], invalid: ["-0.5", "0"] },
  { name: "number exclusiveMinimum 2", schema: { type: "number", exclusiveMinimum: 2 }, valid: ["2.5", "3"], invalid: ["2", "2.0", "1.9"] },
  { name: "number multipleOf 1", schema: { type: "number", multipleOf: 1 }, valid: ["3"], invalid: ["3.5"] },
  { name: "draft-04 boolean exclusiveMinimum", schema: { type: "integer", minimum: 5, exclusiveMinimum: true }, valid: ["6"], invalid: ["5"], ajv: "none" },
  { name: "nullable object", schema: { type: ["object", "null"], properties: { a: { type: "string" } }, required: ["a"] }, valid: ["null", '{"a":""}'], invalid: ["{}"] },
  {
    name: "annotations and unknown keywords are ignored",
    schema: { type: "string", title: "T", description: "D", examples: ["x"], default: "x", $schema: "https://json-schema.org/draft/2020-12/schema", $id: "https://example.com/s", $comment: "c", deprecated: false, readOnly: true, writeOnly: false, "x-vendor": 1 },
    valid: ['"x"'], invalid: ["1"],
  },
  { name: "type inferred from keywords", schema: { properties: { a: { type: "string" } }, required: ["a"] }, valid: ['{"a":"x"}'], invalid: ['"str"', "1"] },
  { name: "property names needing escapes", schema: { type: "object", properties: { 'we"ird\\ key\n': { type: "integer" } }, required: ['we"ird\\ key\n'] }, valid: ['{"we\\"ird\\\\ key\\n":1}'], invalid: ["{}"] },
  { name: "uniqueItems false is fine", schema: { type: "array", uniqueItems: false, items: { type: "integer" } }, valid: ["[1,1]"] },
];

describe("compileJsonSchema: supported constructs", () => {
  for (const c of CASES) {
    test(c.name, async () => {
      const result = compileJsonSchema(c.schema);
      assert.ok(result.ok, result.ok ? "" : `${result.reason} (${result.path})`);
      assert.equal(result.rootRule, "root");
      const g = await matcher(result.gbnf);
      for (const text of c.valid ?? []) assert.equal(g._testText(text), true, `should accept ${text.slice(0, 80)}\n${result.gbnf}`);
      for (const text of c.invalid ?? []) assert.equal(g._testText(text), false, `should reject ${text.slice(0, 80)}\n${result.gbnf}`);
      const validator = c.ajv === "none" ? null : validators[c.ajv ?? "2020"];
      for (const text of samplesOf(c.schema, 25)) {
        assert.equal(g._testText(text), true, `llama.cpp should accept the sample ${text.slice(0, 200)}`);
        if (validator) assert.equal(validator.validate(c.schema as object, JSON.parse(text)), true, `sample should validate: ${text.slice(0, 200)}`);
      }
    });
  }
});

describe("whitespace and json_object", () => {
  test("whitespace is bounded between tokens", async () => {
    const r = compileJsonSchema({ type: "array", items: { type: "integer" } });
    assert.ok(r.ok);
    const g = await matcher(r.gbnf);
    assert.equal(g._testText("[1, 2]"), true);
    assert.equal(g._testText(`[\n${" ".repeat(20)}1\n]`), true);
    assert.equal(g._testText("[1,  2]"), false);
    assert.equal(g._testText(`[\n${" ".repeat(21)}1]`), false);
    assert.equal(g._testText(" [1]"), false);
  });

  test("compact whitespace option", async () => {
    const r = compileJsonSchema({ type: "object", properties: { a: { type: "integer" } } }, { whitespace: "compact" });
    assert.ok(r.ok);
    const g = await matcher(r.gbnf);
    assert.equal(g._testText('{"a":1}'), true);
    assert.equal(g._testText('{ "a": 1 }'), false);
  });

  test("jsonObjectGrammar accepts any object and only objects", async () => {
    const g = await matcher(jsonObjectGrammar());
    for (const t of ["{}", '{"a":[1,{"b":null}],"c":"d"}', '{ "x": true }']) assert.equal(g._testText(t), true, t);
    for (const t of ["[]", "1", '"s"', "null", "{"]) assert.equal(g._testText(t), false, t);
  });

  test("llama.cpp really refuses broken grammars (so the checks above mean something)", async () => {
    await assert.rejects(matcher('root ::= "a" undefined-rule'));
    await assert.rejects(matcher('root ::= "unterminated'));
  });
});
