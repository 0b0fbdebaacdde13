// The fuzzer's inputs: request templates' types and the faults it injects (wrong types, huge and
// deeply nested values, corrupted text and encodings, malformed bodies), each drawn from a seeded Rng.
import { FACTS, line } from "../fixtures/codename-facts.ts";
import { multipart } from "./lib.ts";
import type { RawRequest, Rng } from "./lib.ts";
export type Surface = "openai" | "inference" | "arm" | "identity";
export type BodyKind = "json" | "multipart" | "form" | "none";

export interface Template {
  name: string;
  surface: Surface;
  method: string;
  /** Path segments; those in `params` are identifiers the fuzzer may corrupt. */
  segments: string[];
  params: number[];
  query: [string, string][];
  auth: "key" | "bearer" | "none";
  kind: BodyKind;
  body?: () => Record<string, unknown>;
  /** Bodies that may run the model: max_tokens is forced small unless the fault is in it. */
  generates?: boolean;
}

// ---- faults ---------------------------------------------------------------------------------

export const DEEP = "\u0000DEEP\u0000";
export const WRONG_TYPES: unknown[] = [null, true, false, 0, -1, 1.5, 2 ** 53 + 1, 1e308, -1e308, "", "x", "🙂", [], [1], {}, { a: 1 }, "NaN", "Infinity", [null], [[]]];
export const BAD_PATH_PIECES = ["%ff", "%", "%zz", "%00", "%c0%af", "..%2f..%2f", "\xff\xfe", "%e2%82", "%2e%2e", "a%20b", "%25ff", "x".repeat(101), "y".repeat(5000), ""];
export const BAD_CONTENT_TYPES = ["text/plain", "application/xml", "multipart/form-data", "application/x-www-form-urlencoded", "application/json; charset=utf-16", "application/json; charset=latin1", "*/*", "application/jsonx", "application/merge-patch+json", "", "application/octet-stream"];

export interface Built {
  req: RawRequest;
  fault: string;
}

export type JsonPath = (string | number)[];

export function paths(v: unknown, at: JsonPath = [], out: JsonPath[] = []): JsonPath[] {
  out.push(at);
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...at, i], out));
  else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) paths(x, [...at, k], out);
  return out;
}

export function setAt(root: Record<string, unknown>, p: JsonPath, value: unknown): Record<string, unknown> {
  if (p.length === 0) return value as Record<string, unknown>;
  let cur: Record<string | number, unknown> = root;
  for (const k of p.slice(0, -1)) cur = cur[k] as Record<string | number, unknown>;
  cur[p.at(-1)!] = value;
  return root;
}

export function huge(rng: Rng): unknown {
  switch (rng.int(0, 5)) {
    case 0:
      return "a".repeat(rng.pick([70_000, 1_000_000]));
    case 1:
      return Array.from({ length: 10_000 }, (_, i) => (rng.chance(0.5) ? i : "x"));
    case 2:
      return rng.pick([1e308, -1e308, 2 ** 64, -(2 ** 63), 10_000, 100_000_000]);
    case 3:
      return Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`k${i}`, i]));
    case 4:
      return Array.from({ length: 2000 }, () => ({ role: "user", content: "hi" }));
    default:
      return ["", "", ""];
  }
}

export function deepText(rng: Rng): string {
  const depth = rng.pick([64, 1000, 10_000, 100_000]);
  return rng.chance(0.5) ? "[".repeat(depth) + "]".repeat(depth) : '{"a":'.repeat(depth) + "1" + "}".repeat(depth);
}

export function corruptText(rng: Rng, text: string): Buffer {
  const at = rng.int(0, text.length);
  switch (rng.int(0, 10)) {
    case 0:
      return Buffer.from(text.slice(0, at));
    case 1:
      return Buffer.from(text.slice(0, at) + rng.pick(["{", "}", "[", "]", '"', ",", ":", "\\", "\u0000", "\ud800"]) + text.slice(at));
    case 2:
      return Buffer.from(text + rng.pick(["}", "garbage", ",", "\n{}", "[]"]));
    case 3:
      return Buffer.from(rng.pick(["", " ", "null", "[]", "0", '"s"', "true", "{", "[", "NaN", "{'a': 1}", "{a:1}", "undefined"]));
    case 4:
      return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]);
    case 5:
      return Buffer.concat([Buffer.from(text.slice(0, at)), Buffer.from([0xff, 0xfe, 0xc0, 0x80]), Buffer.from(text.slice(at))]);
    case 6:
      return Buffer.from(text.replace(/"/g, "'"));
    case 7:
      return Buffer.from(text.replace(/:/, ":-").replace(/\d/, "0x1"));
    case 8:
      return Buffer.from(text, "utf16le");
    case 9:
      return Buffer.from(text.slice(0, at) + "\\u12" + text.slice(at));
    default:
      return Buffer.from(`${text}${text}`);
  }
}

export function jsonBody(rng: Rng, template: Template, faults: string[]): { body: Buffer; contentType: string } {
  let body: Record<string, unknown> = template.body!();
  let deep: string | undefined;
  let touched: JsonPath | undefined;
  const all = paths(body);
  const pickPath = () => rng.pick(all);
  const op = rng.int(0, 9);
  if (op <= 2) {
    touched = pickPath();
    const v = rng.pick(WRONG_TYPES);
    faults.push(`wrong type at ${touched.join(".") || "<root>"}: ${JSON.stringify(v)}`);
    body = setAt(body, touched, v);
  } else if (op === 3) {
    touched = pickPath();
    const v = huge(rng);
    faults.push(`huge value at ${touched.join(".") || "<root>"} (${typeof v === "string" ? `${v.length}-char string` : Array.isArray(v) ? `${v.length}-item array` : typeof v === "object" ? "5000-key object" : v})`);
    body = setAt(body, touched, v);
  } else if (op === 4) {
    touched = rng.chance(0.5) ? pickPath() : [rng.pick(["unknown_param", "extra", "__proto__x", "metadata"])];
    if (touched.length === 0) touched = ["nested"];
    deep = deepText(rng);
    faults.push(`deeply nested value (${deep.length} chars) at ${touched.join(".")}`);
    body = setAt(body, touched, DEEP);
  } else if (op === 5) {
    const k = rng.pick(["foo", "bar", "api_key", "logprobs_x", "extra_body", "🙂", "", "stream_optionz", "__proto__", "constructor"]);
    faults.push(`unknown param ${JSON.stringify(k)}`);
    body[k] = rng.pick(WRONG_TYPES);
  } else if (op === 6) {
    const p = pickPath();
    if (p.length) {
      faults.push(`removed ${p.join(".")}`);
      const parent = p.length === 1 ? body : (p.slice(0, -1).reduce<unknown>((o, k) => (o as Record<string | number, unknown>)[k], body) as Record<string | number, unknown>);
      if (Array.isArray(parent)) parent.splice(p.at(-1) as number, 1);
      else delete parent[p.at(-1)!];
      touched = p;
    } else faults.push("valid");
  } else if (op === 7) {
    // A string where the value should be, in several encodings of trouble.
    touched = pickPath();
    const v = rng.pick(["\ud800", "\u0000", "%ff", "\u202e", "a\r\nb", "\\u0000", "🙂".repeat(1000), "<|im_start|>", "{{", "' OR 1=1 --"]);
    faults.push(`odd string at ${touched.join(".") || "<root>"}: ${JSON.stringify(v.slice(0, 20))}`);
    body = setAt(body, touched, v);
  } else faults.push("valid");
  // Keep generation cheap: at most 2 tokens, one choice, unless the fault is in those very fields.
  const key = touched?.[0];
  if (template.generates && body && typeof body === "object" && !Array.isArray(body)) {
    if (key !== "max_tokens" && key !== "max_completion_tokens") {
      delete body.max_completion_tokens;
      body.max_tokens = 2;
    }
    if (key !== "n" && key !== "best_of") {
      delete body.n;
      delete body.best_of;
    }
  }
  let text = JSON.stringify(body) ?? "null";
  if (deep) text = text.replace(JSON.stringify(DEEP), deep);
  let buf: Buffer = Buffer.from(text);
  if (rng.chance(0.12)) {
    faults.push("malformed JSON");
    buf = corruptText(rng, text);
  }
  return { body: buf, contentType: "application/json" };
}

export function formBody(rng: Rng, template: Template, faults: string[]): { body: Buffer; contentType: string } {
  const fields: [string, string][] = Object.entries(template.body!()).map(([k, v]) => [k, String(v)]);
  const op = rng.int(0, 5);
  if (op === 0) {
    const i = rng.int(0, fields.length - 1);
    faults.push(`dropped ${fields[i][0]}`);
    fields.splice(i, 1);
  } else if (op === 1) {
    const i = rng.int(0, fields.length - 1);
    const v = rng.pick(["", "x".repeat(100_000), "\u0000", "🙂", "[1]", "{\"a\":1}"]);
    faults.push(`${fields[i][0]}=${JSON.stringify(v.slice(0, 12))}`);
    fields[i][1] = v;
  } else if (op === 2) {
    faults.push("duplicate field");
    fields.push(rng.pick(fields));
  } else if (op === 3) {
    faults.push("raw bad percent-encoding");
    return { body: Buffer.from(`grant_type=%ff&client_id=%&scope=%zz&client_secret=${"%c0%af".repeat(rng.int(1, 5000))}`), contentType: "application/x-www-form-urlencoded" };
  } else if (op === 4) {
    faults.push("JSON instead of a form");
    return { body: Buffer.from(JSON.stringify(Object.fromEntries(fields))), contentType: "application/json" };
  } else faults.push("valid");
  return { body: Buffer.from(new URLSearchParams(fields).toString()), contentType: "application/x-www-form-urlencoded" };
}

export const BOUNDARY = "----ingotfuzzboundary7MA4YWxkTrZu0gW";

export function multipartBody(rng: Rng, faults: string[]): { body: Buffer; contentType: string } {
  const good = FACTS.slice(0, 10).map((f) => line(f.question, f.answer)).join("\n") + "\n";
  const parts: { name: string; value: string | Buffer; filename?: string; contentType?: string }[] = [
    { name: "purpose", value: "fine-tune" },
    { name: "file", value: good, filename: "train.jsonl", contentType: "application/jsonl" },
  ];
  const op = rng.int(0, 11);
  switch (op) {
    case 0:
      faults.push("no file part");
      parts.pop();
      break;
    case 1:
      faults.push("no purpose");
      parts.shift();
      break;
    case 2:
      faults.push("bad purpose");
      parts[0].value = rng.pick(["", "fine_tune", "x".repeat(10_000), "batch_output", "🙂"]);
      break;
    case 3: {
      const v = rng.pick(['{"anchor":"created_at","seconds":1}', '{"anchor":"nope","seconds":3600}', "not json", '{"anchor":"created_at","seconds":"x"}', "[]", "null", '{"seconds":99999999999}']);
      faults.push(`invalid expires_after ${v}`);
      parts.unshift({ name: "expires_after", value: v });
      break;
    }
    case 4:
      faults.push("invalid expires_after[seconds]");
      parts.unshift({ name: "expires_after[anchor]", value: "created_at" }, { name: "expires_after[seconds]", value: rng.pick(["-1", "1e99", "abc", "", "3600.5"]) });
      break;
    case 5:
      faults.push("invalid JSONL content");
      parts[1].value = rng.pick(["{not json}\n", "", "\xff\xfe\n", '{"messages": 5}\n', "[]\n".repeat(100)]);
      break;
    case 6:
      faults.push("two file parts");
      parts.push({ name: "file", value: good, filename: "b.jsonl" });
      break;
    case 7:
      faults.push("file in another part");
      parts[1].name = "data";
      break;
    case 8:
      faults.push("odd filename");
      parts[1].filename = rng.pick(["../../etc/passwd", "x".repeat(5000), "", "a\"b.jsonl", "%ff.jsonl"]);
      break;
    case 9: {
      faults.push("truncated multipart");
      const whole = multipart(parts, BOUNDARY);
      return { body: whole.body.subarray(0, rng.int(0, whole.body.length - 1)), contentType: whole.contentType };
    }
    case 10:
      faults.push("many fields");
      for (let i = 0; i < 200; i++) parts.unshift({ name: `f${i}`, value: "v" });
      break;
    default:
      faults.push("valid");
  }
  return multipart(parts, BOUNDARY);
}
