// Loader-side validation of catalog entries: a malformed catalog fails at startup with the
// file and the field named (`catalog/open-models.json: models[3].skus[0].maxCapacity: …`).
import { CAPABILITIES, LIFECYCLE_STATUSES, OSS_FORMAT_ALIAS, SKU_NAMES, refKey, usageNameFor } from "./model.ts";
import type { CatalogModel, CatalogSku } from "./model.ts";
import type { UpstreamSpec } from "../ports/index.ts";

export class CatalogError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CatalogError";
  }
}

const FORMAT_RE = /^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$/;
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const VERSION_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const SHA_RE = /^[0-9a-f]{64}$/;
const HF_RE = /^hf:[A-Za-z0-9][\w.-]*\/[A-Za-z0-9][\w.-]*\/[^@\s]+\.gguf(@[^@\s]+)?$/;
const BUILTIN_RE = /^builtin:[a-z0-9][a-z0-9-]*$/;

const KNOWN_KEYS = new Set([
  "format", "name", "version", "isDefaultVersion", "publisher", "description", "capabilities", "contextLength",
  "maxContextLength", "weights", "price", "sha256", "sizeBytes", "skus", "lifecycleStatus", "deprecation", "license",
  "baseModel", "engine", "sources", "fineTuneJob", "checkpointOf", "upstream",
]);
const UPSTREAM_KEYS = new Set(["baseUrl", "model", "apiKeyEnv", "headers", "timeoutMs"]);
const HEADER_NAME_RE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const SKU_KEYS = new Set(["name", "usageName", "minCapacity", "maxCapacity", "defaultCapacity", "step"]);

/** Weights URIs a catalog may use; see CatalogModel.weights. */
export function weightsProblem(weights: string): string | undefined {
  if (weights === "none") return undefined;
  if (weights.startsWith("builtin:")) return BUILTIN_RE.test(weights) ? undefined : "a built-in name is lowercase letters, digits and dashes (builtin:tiny-chat)";
  if (weights.startsWith("file:")) return weights.slice(5).startsWith("/") ? undefined : "file: weights need an absolute path (file:/models/x.gguf)";
  if (weights.startsWith("hf:")) return HF_RE.test(weights) ? undefined : "use hf:<owner>/<repo>/<path/in/repo.gguf>[@<revision>]";
  if (weights.startsWith("lora:")) return weights.slice(5).startsWith("/") ? undefined : "lora: adapters need an absolute path (lora:/data/adapters/x.gguf)";
  return "use builtin:<name>, file:<absolute path>, hf:<owner>/<repo>/<file.gguf>[@<revision>], lora:<absolute path> or none";
}

/**
 * Checks one entry and returns it normalized (usage names filled in, engine set). `where`
 * prefixes every message, e.g. `catalog/openai.json: models[2]`.
 */
export function validateCatalogModel(raw: unknown, where: string): CatalogModel {
  const fail = (field: string, problem: string): never => {
    throw new CatalogError(`${where}${field ? `.${field}` : ""}: ${problem}`);
  };
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) fail("", "must be an object");
  const m = raw as Record<string, unknown>;
  for (const key of Object.keys(m)) if (!KNOWN_KEYS.has(key)) fail(key, `unknown field (known: ${[...KNOWN_KEYS].join(", ")})`);

  const str = (field: string, re?: RegExp, hint?: string): string => {
    const v = m[field];
    if (typeof v !== "string" || v.length === 0) return fail(field, "must be a non-empty string");
    if (re && !re.test(v)) fail(field, `'${v}' is not valid${hint ? `: ${hint}` : ""}`);
    return v;
  };
  const optStr = (field: string): string | undefined => (m[field] === undefined ? undefined : str(field));
  const int = (v: unknown, field: string, min = 1): number => {
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min) return fail(field, `must be an integer >= ${min}`);
    return v;
  };

  const format = str("format", FORMAT_RE, "letters, digits, spaces, '.', '_' and '-', at most 64 characters");
  if (format === OSS_FORMAT_ALIAS) fail("format", `'${OSS_FORMAT_ALIAS}' is an alias that deployments may send for open-weight models; give the publisher (e.g. 'Microsoft', 'Meta')`);
  const name = str("name", NAME_RE, "letters, digits, '.', '_' and '-', at most 128 characters");
  const version = str("version", VERSION_RE, "letters, digits, '.', '_' and '-'");

  if (m.isDefaultVersion !== undefined && typeof m.isDefaultVersion !== "boolean") fail("isDefaultVersion", "must be true or false");
  const publisher = optStr("publisher");
  const description = optStr("description");

  if (!Array.isArray(m.capabilities) || m.capabilities.length === 0) fail("capabilities", `must be a non-empty array of ${CAPABILITIES.join(", ")}`);
  const capabilities = m.capabilities as unknown[];
  capabilities.forEach((c, i) => {
    if (!CAPABILITIES.includes(c as never)) fail(`capabilities[${i}]`, `'${String(c)}' is not a capability (known: ${CAPABILITIES.join(", ")})`);
  });
  if (new Set(capabilities).size !== capabilities.length) fail("capabilities", "lists a capability twice");

  const contextLength = int(m.contextLength, "contextLength");
  let maxContextLength: number | undefined;
  if (m.maxContextLength !== undefined) {
    maxContextLength = int(m.maxContextLength, "maxContextLength");
    if (contextLength > maxContextLength) fail("contextLength", `${contextLength} exceeds maxContextLength ${maxContextLength}`);
  }

  const weights = str("weights");
  const wp = weightsProblem(weights);
  if (wp) fail("weights", `'${weights}' is not valid: ${wp}`);
  let sha256: string | undefined;
  if (m.sha256 !== undefined) {
    sha256 = str("sha256");
    if (!SHA_RE.test(sha256)) fail("sha256", "must be 64 lowercase hex digits");
    if (weights === "none" || weights.startsWith("builtin:")) fail("sha256", `makes no sense with weights '${weights}'`);
  }
  const sizeBytes = m.sizeBytes === undefined ? undefined : int(m.sizeBytes, "sizeBytes");

  if (!Array.isArray(m.skus) || m.skus.length === 0) fail("skus", "must be a non-empty array");
  const skus = (m.skus as unknown[]).map((s, i) => validateSku(s, `skus[${i}]`, format, name, fail));
  const seen = new Set<string>();
  for (const [i, s] of skus.entries()) {
    if (seen.has(s.name)) fail(`skus[${i}].name`, `'${s.name}' is listed twice`);
    seen.add(s.name);
  }

  const lifecycleStatus = str("lifecycleStatus");
  if (!LIFECYCLE_STATUSES.includes(lifecycleStatus as never)) fail("lifecycleStatus", `'${lifecycleStatus}' is not one of ${LIFECYCLE_STATUSES.join(", ")}`);
  let deprecation: CatalogModel["deprecation"];
  if (m.deprecation !== undefined) {
    const d = m.deprecation as Record<string, unknown>;
    if (typeof d !== "object" || d === null) fail("deprecation", "must be an object {inference?, fineTune?}");
    for (const k of Object.keys(d)) {
      if (k !== "inference" && k !== "fineTune") fail(`deprecation.${k}`, "unknown field (known: inference, fineTune)");
      if (typeof d[k] !== "string" || Number.isNaN(Date.parse(d[k] as string))) fail(`deprecation.${k}`, "must be an ISO date");
    }
    deprecation = d as CatalogModel["deprecation"];
  }
  const license = str("license");

  let baseModel: CatalogModel["baseModel"];
  if (m.baseModel !== undefined) {
    const b = m.baseModel as Record<string, unknown>;
    if (typeof b !== "object" || b === null) fail("baseModel", "must be an object {format, name, version}");
    for (const k of ["format", "name", "version"]) if (typeof b[k] !== "string" || !b[k]) fail(`baseModel.${k}`, "must be a non-empty string");
    baseModel = { format: b.format as string, name: b.name as string, version: b.version as string };
  }

  if (weights.startsWith("lora:") && !baseModel) fail("baseModel", "is required with lora: weights: name the catalog model the adapter applies to");
  const fineTuneJob = optStr("fineTuneJob");
  const checkpointOf = optStr("checkpointOf");

  const engine = m.engine ?? (weights === "none" || m.upstream !== undefined ? "upstream" : "llamacpp");
  if (engine !== "llamacpp" && engine !== "upstream" && engine !== "router") fail("engine", `'${String(engine)}' is not one of llamacpp, upstream, router`);
  if (engine === "router" && weights !== "none") fail("engine", "a router loads no weights: give weights \"none\"");
  let price: { input: number; output: number } | undefined;
  if (m.price !== undefined) {
    const p = m.price as Record<string, unknown>;
    if (typeof p !== "object" || p === null || typeof p.input !== "number" || typeof p.output !== "number" || p.input < 0 || p.output < 0)
      fail("price", "must be {input, output}: USD per 1M tokens, non-negative numbers");
    price = { input: p.input as number, output: p.output as number };
  }
  if (engine === "llamacpp" && weights === "none") fail("engine", "llamacpp needs weights; a model without open weights is served by an upstream (engine: upstream)");

  let upstream: UpstreamSpec | undefined;
  if (m.upstream !== undefined) {
    if (engine !== "upstream") fail("upstream", `is only for engine "upstream" (this entry's engine is ${String(engine)})`);
    upstream = validateUpstream(m.upstream, (field, problem) => fail(`upstream${field ? `.${field}` : ""}`, problem));
  } else if (m.engine === "upstream" && weights !== "none") {
    fail("upstream", 'is required with engine "upstream": give {"baseUrl", "model"} of the OpenAI-compatible server that serves it');
  }

  let sources: string[] | undefined;
  if (m.sources !== undefined) {
    if (!Array.isArray(m.sources) || m.sources.some((s) => typeof s !== "string")) fail("sources", "must be an array of strings");
    sources = m.sources as string[];
  }

  const out: CatalogModel = { format, name, version, capabilities: capabilities as CatalogModel["capabilities"], contextLength, weights, skus, lifecycleStatus: lifecycleStatus as CatalogModel["lifecycleStatus"], license, engine: engine as CatalogModel["engine"] };
  if (m.isDefaultVersion !== undefined) out.isDefaultVersion = m.isDefaultVersion as boolean;
  if (publisher !== undefined) out.publisher = publisher;
  if (description !== undefined) out.description = description;
  if (maxContextLength !== undefined) out.maxContextLength = maxContextLength;
  if (sha256 !== undefined) out.sha256 = sha256;
  if (sizeBytes !== undefined) out.sizeBytes = sizeBytes;
  if (deprecation !== undefined) out.deprecation = deprecation;
  if (baseModel !== undefined) out.baseModel = baseModel;
  if (sources !== undefined) out.sources = sources;
  if (price !== undefined) out.price = price;
  if (upstream !== undefined) out.upstream = upstream;
  if (fineTuneJob !== undefined) out.fineTuneJob = fineTuneJob;
  if (checkpointOf !== undefined) out.checkpointOf = checkpointOf;
  return out;
}

/** `upstream`: {baseUrl (an http(s) URL or a non-empty list of them), model, apiKeyEnv?, headers?, timeoutMs?}. */
export function validateUpstream(raw: unknown, fail: (field: string, problem: string) => never): UpstreamSpec {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return fail("", 'must be an object {"baseUrl", "model", "apiKeyEnv"?, "headers"?, "timeoutMs"?}');
  const u = raw as Record<string, unknown>;
  for (const key of Object.keys(u)) if (!UPSTREAM_KEYS.has(key)) fail(key, `unknown field (known: ${[...UPSTREAM_KEYS].join(", ")})`);
  const urls = Array.isArray(u.baseUrl) ? u.baseUrl : [u.baseUrl];
  if (urls.length === 0) fail("baseUrl", "must name at least one URL");
  urls.forEach((url, i) => {
    const at = Array.isArray(u.baseUrl) ? `baseUrl[${i}]` : "baseUrl";
    if (typeof url !== "string") return fail(at, "must be an http(s) URL such as http://127.0.0.1:8000/v1");
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return fail(at, `'${url}' is not a URL: give the API base, e.g. http://127.0.0.1:8000/v1`);
    }
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") fail(at, `'${url}' must use http or https`);
  });
  if (new Set(urls).size !== urls.length) fail("baseUrl", "lists a URL twice");
  if (typeof u.model !== "string" || u.model.length === 0) fail("model", "must be the non-empty model (or deployment) name the upstream serves");
  const spec: UpstreamSpec = { baseUrl: Array.isArray(u.baseUrl) ? (u.baseUrl as string[]) : (u.baseUrl as string), model: u.model as string };
  if (u.apiKeyEnv !== undefined) {
    if (typeof u.apiKeyEnv !== "string" || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(u.apiKeyEnv)) fail("apiKeyEnv", "must name an environment variable (letters, digits, '_')");
    spec.apiKeyEnv = u.apiKeyEnv as string;
  }
  if (u.headers !== undefined) {
    const h = u.headers as Record<string, unknown>;
    if (typeof h !== "object" || h === null || Array.isArray(h)) fail("headers", "must be an object of header names to string values");
    for (const [k, v] of Object.entries(h)) {
      if (!HEADER_NAME_RE.test(k)) fail(`headers.${k}`, "is not a valid header name");
      if (typeof v !== "string" || /[\r\n]/.test(v)) fail(`headers.${k}`, "must be a string on one line");
    }
    spec.headers = h as Record<string, string>;
  }
  if (u.timeoutMs !== undefined) {
    if (typeof u.timeoutMs !== "number" || !Number.isSafeInteger(u.timeoutMs) || u.timeoutMs < 100) fail("timeoutMs", "must be an integer >= 100 (milliseconds)");
    spec.timeoutMs = u.timeoutMs as number;
  }
  return spec;
}

function validateSku(raw: unknown, at: string, format: string, model: string, fail: (field: string, problem: string) => never): CatalogSku {
  if (typeof raw !== "object" || raw === null) return fail(at, "must be an object {name, usageName, minCapacity, maxCapacity, defaultCapacity, step?}");
  const s = raw as Record<string, unknown>;
  for (const key of Object.keys(s)) if (!SKU_KEYS.has(key)) fail(`${at}.${key}`, `unknown field (known: ${[...SKU_KEYS].join(", ")})`);
  if (!SKU_NAMES.includes(s.name as never)) fail(`${at}.name`, `'${String(s.name)}' is not a SKU (known: ${SKU_NAMES.join(", ")})`);
  const name = s.name as CatalogSku["name"];
  let usageName = usageNameFor(format, model, name);
  if (s.usageName !== undefined) {
    if (typeof s.usageName !== "string" || !/^[A-Za-z0-9][\w.-]*$/.test(s.usageName)) fail(`${at}.usageName`, "must be a string like 'OpenAI.GlobalStandard.gpt-4.1-mini'");
    usageName = s.usageName as string;
  }
  const int = (k: string, min: number): number => {
    const v = s[k];
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min) return fail(`${at}.${k}`, `must be an integer >= ${min}`);
    return v;
  };
  const minCapacity = int("minCapacity", 1);
  const maxCapacity = int("maxCapacity", 1);
  const defaultCapacity = int("defaultCapacity", 1);
  if (minCapacity > maxCapacity) fail(`${at}.minCapacity`, `${minCapacity} exceeds maxCapacity ${maxCapacity}`);
  if (defaultCapacity < minCapacity || defaultCapacity > maxCapacity) fail(`${at}.defaultCapacity`, `${defaultCapacity} is outside ${minCapacity}..${maxCapacity}`);
  const sku: CatalogSku = { name, usageName, minCapacity, maxCapacity, defaultCapacity };
  if (s.step !== undefined) {
    sku.step = int("step", 1);
    if (minCapacity % sku.step !== 0 || defaultCapacity % sku.step !== 0) fail(`${at}.step`, `minCapacity and defaultCapacity must be multiples of ${sku.step}`);
  }
  return sku;
}

/** Validates a parsed catalog file `{ "models": [...] }`; `file` names it in messages. */
export function validateCatalogFile(json: unknown, file: string): CatalogModel[] {
  if (typeof json !== "object" || json === null || !Array.isArray((json as { models?: unknown }).models))
    throw new CatalogError(`${file}: must be a JSON object with a "models" array`);
  const extra = Object.keys(json).filter((k) => k !== "models" && k !== "$comment");
  if (extra.length > 0) throw new CatalogError(`${file}.${extra[0]}: unknown field (a catalog file holds "models" and optionally "$comment")`);
  return ((json as { models: unknown[] }).models).map((m, i) => validateCatalogModel(m, `${file}: models[${i}]`));
}

/** Cross-entry rules: no duplicate (format, name, version), at most one default version per model. */
export function checkCatalogConsistency(models: { model: CatalogModel; where: string }[]): void {
  const seen = new Map<string, string>();
  const defaults = new Map<string, string>();
  for (const { model, where } of models) {
    const key = refKey(model);
    const prior = seen.get(key);
    if (prior) throw new CatalogError(`${where}: ${model.format}/${model.name} version ${model.version} is already defined at ${prior}`);
    seen.set(key, where);
    if (model.isDefaultVersion) {
      const k = `${model.format}\u0000${model.name}`;
      const d = defaults.get(k);
      if (d) throw new CatalogError(`${where}.isDefaultVersion: ${model.format}/${model.name} already has a default version at ${d}`);
      defaults.set(k, where);
    }
  }
}
