// Field readers for request bodies. Each failure is a 400 naming the parameter and what to
// send instead, worded like OpenAI's own validation errors.
import { errors } from "../core/errors.ts";

export type Body = Record<string, unknown>;

const typeName = (v: unknown) => (v === null ? "null" : Array.isArray(v) ? "array" : typeof v === "object" ? "object" : typeof v);

export function wrongType(param: string, expected: string, value: unknown) {
  return errors.invalid(`Invalid type for '${param}': expected ${expected}, but got ${typeName(value) === "object" ? "an object" : `a ${typeName(value)}`} instead.`, param, "invalid_type");
}

export function asBody(value: unknown): Body {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw errors.invalid("The request body must be a JSON object. Send Content-Type: application/json with an object such as {\"messages\": [...]}.", null, "invalid_request_body");
  return value as Body;
}

export function optNumber(body: Body, param: string, range?: { min?: number; max?: number; integer?: boolean }): number | undefined {
  const v = body[param];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isFinite(v)) throw wrongType(param, range?.integer ? "an integer" : "a number", v);
  if (range?.integer && !Number.isInteger(v)) throw wrongType(param, "an integer", v);
  if (range?.min !== undefined && v < range.min) throw errors.invalid(`Invalid '${param}': ${v} is less than the minimum of ${range.min}.`, param, "integer_below_min_value");
  if (range?.max !== undefined && v > range.max) throw errors.invalid(`Invalid '${param}': ${v} is greater than the maximum of ${range.max}.`, param, "integer_above_max_value");
  return v;
}

export function optBoolean(body: Body, param: string): boolean | undefined {
  const v = body[param];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "boolean") throw wrongType(param, "a boolean", v);
  return v;
}

export function optString(body: Body, param: string): string | undefined {
  const v = body[param];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw wrongType(param, "a string", v);
  return v;
}

export function optObject(body: Body, param: string): Body | undefined {
  const v = body[param];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "object" || Array.isArray(v)) throw wrongType(param, "an object", v);
  return v as Body;
}

/** `stop`: a string or an array of up to 4 strings. */
export function stopSequences(body: Body, param = "stop"): string[] {
  const v = body[param];
  if (v === undefined || v === null) return [];
  if (typeof v === "string") return [v];
  if (!Array.isArray(v) || v.some((s) => typeof s !== "string")) throw wrongType(param, "a string or an array of strings", v);
  if (v.length > 4) throw errors.invalid(`Invalid '${param}': expected an array with maximum length 4, but got an array with length ${v.length} instead.`, param, "array_above_max_length");
  return v as string[];
}

export function logitBias(body: Body): Record<number, number> {
  const v = optObject(body, "logit_bias");
  if (!v) return {};
  const out: Record<number, number> = {};
  for (const [key, bias] of Object.entries(v)) {
    if (!/^\d+$/.test(key)) throw errors.invalid(`Invalid key in 'logit_bias': '${key}'. Keys must be token ids (non-negative integers as strings).`, "logit_bias");
    if (typeof bias !== "number" || bias < -100 || bias > 100) throw errors.invalid(`Invalid value for 'logit_bias[${key}]': expected a number between -100 and 100.`, "logit_bias");
    out[Number(key)] = bias;
  }
  return out;
}
