// Strings (length, pattern, format) and numbers (bounds) for one schema.
import { NEVER, lit, seq } from "./gbnf.ts";
import type { GNode } from "./gbnf.ts";
import type { JsonRules } from "./jsonRules.ts";
import { INT_CAP, decimalRange, intRange } from "./numberRanges.ts";
import type { Bound } from "./numberRanges.ts";
import { PatternError, patternToNode } from "./regexToGbnf.ts";
import { SchemaError, readCount, readNumber, unsupported } from "./schemaKeywords.ts";
import type { JsonObject } from "./schemaKeywords.ts";
import { SUPPORTED_FORMATS, formatGrammar } from "./stringFormats.ts";

const quoted = (body: GNode): GNode => seq(lit('"'), body, lit('"'));

export function stringNode(json: JsonRules, schema: JsonObject, path: string): GNode {
  const minLength = readCount(schema, "minLength", path) ?? 0;
  const maxLength = readCount(schema, "maxLength", path);
  if (maxLength !== null && maxLength < minLength) return NEVER;
  const { pattern, format } = schema;
  if (pattern !== undefined) {
    if (typeof pattern !== "string") throw new SchemaError(`'pattern' at ${path} must be a string`, path);
    if (minLength > 0 || maxLength !== null) {
      throw unsupported("pattern", path, "it cannot be combined with minLength/maxLength; put the length into the pattern instead, e.g. ^[a-z]{1,20}$");
    }
    if (format !== undefined) throw unsupported("pattern", path, "it cannot be combined with 'format'; keep only one of them");
    try {
      return quoted(patternToNode(pattern, json.char()));
    } catch (e) {
      if (!(e instanceof PatternError)) throw e;
      throw unsupported("pattern", path, `${JSON.stringify(pattern)} cannot be enforced: ${e.message}; simplify the pattern or remove it`);
    }
  }
  if (format !== undefined) {
    if (typeof format !== "string") throw new SchemaError(`'format' at ${path} must be a string`, path);
    const f = formatGrammar(format);
    if (!f) {
      throw unsupported("format", path, `the format ${JSON.stringify(format)} cannot be enforced; supported formats are ${SUPPORTED_FORMATS.join(", ")}; remove 'format' or use 'pattern'`);
    }
    if (minLength > f.minLength || (maxLength !== null && maxLength < f.maxLength)) {
      throw unsupported("format", path, `${JSON.stringify(format)} cannot be combined with minLength/maxLength narrower than ${f.minLength}..${f.maxLength}; remove the length limits`);
    }
    return quoted(f.node);
  }
  return json.stringOfLength(minLength, maxLength);
}

type NumBound = { readonly value: number; readonly exclusive: boolean };

/** The tighter of `minimum`/`exclusiveMinimum` (or the maximum pair), draft-04 booleans included. */
function readBound(schema: JsonObject, path: string, side: "min" | "max"): NumBound | null {
  const [inclusiveKey, exclusiveKey] = side === "min" ? ["minimum", "exclusiveMinimum"] : ["maximum", "exclusiveMaximum"];
  const inclusive = readNumber(schema, inclusiveKey, path);
  const flag = schema[exclusiveKey];
  const exclusive = typeof flag === "boolean" ? null : readNumber(schema, exclusiveKey, path);
  const bounds: NumBound[] = [];
  if (inclusive !== null) bounds.push({ value: inclusive, exclusive: flag === true });
  if (exclusive !== null) bounds.push({ value: exclusive, exclusive: true });
  if (bounds.length === 0) return null;
  const sign = side === "min" ? 1 : -1;
  return bounds.reduce((a, b) => (sign * (b.value - a.value) > 0 || (b.value === a.value && b.exclusive) ? b : a));
}

const INT_FORMATS: Record<string, [bigint, bigint]> = {
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
};

/** Integers and numbers. Bounds on `number` must be whole numbers (then they are enforced exactly). */
export function numberNode(json: JsonRules, schema: JsonObject, path: string, integerType: boolean): GNode {
  let integer = integerType;
  const multipleOf = readNumber(schema, "multipleOf", path);
  if (multipleOf !== null) {
    if (multipleOf <= 0) throw new SchemaError(`'multipleOf' at ${path} must be greater than 0`, path);
    if (multipleOf === 1) integer = true;
    else if (!(integer && Number.isInteger(1 / multipleOf))) {
      throw unsupported("multipleOf", path, "remove it (only multipleOf: 1 can be enforced), or use an enum of the allowed values");
    }
  }
  const min = readBound(schema, path, "min");
  const max = readBound(schema, path, "max");
  if (integer) {
    let lo = min === null ? null : BigInt(min.exclusive ? Math.floor(min.value) + 1 : Math.ceil(min.value));
    let hi = max === null ? null : BigInt(max.exclusive ? Math.ceil(max.value) - 1 : Math.floor(max.value));
    const fmt = typeof schema.format === "string" && Object.hasOwn(INT_FORMATS, schema.format) ? INT_FORMATS[schema.format] : null;
    if (fmt) {
      lo = lo === null || lo < fmt[0] ? fmt[0] : lo;
      hi = hi === null || hi > fmt[1] ? fmt[1] : hi;
    }
    // Beyond MAX_INT_DIGITS digits a bound no longer restricts what we generate.
    if (lo !== null && lo < -INT_CAP) lo = null;
    if (hi !== null && hi > INT_CAP) hi = null;
    if (lo !== null && hi !== null && lo > hi) return NEVER;
    return lo === null && hi === null ? json.integer() : intRange(lo, hi);
  }
  if (min === null && max === null) return json.number();
  for (const [key, b] of [["minimum", min], ["maximum", max]] as const) {
    if (b !== null && !Number.isInteger(b.value)) {
      throw unsupported(key, path, `the bound ${b.value} cannot be enforced because bounds on type 'number' must be whole numbers; use a whole-number bound or type 'integer'`);
    }
  }
  const big = (b: NumBound | null, side: "min" | "max"): Bound | null => {
    if (b === null) return null;
    const value = BigInt(b.value);
    if ((side === "min" && value < -INT_CAP) || (side === "max" && value > INT_CAP)) return null;
    return { value, exclusive: b.exclusive };
  };
  const lo = big(min, "min");
  const hi = big(max, "max");
  if (lo !== null && hi !== null && (lo.value > hi.value || (lo.value === hi.value && (lo.exclusive || hi.exclusive)))) return NEVER;
  return decimalRange(lo, hi);
}
