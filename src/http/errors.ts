// Maps errors to each surface's status and body. Azure OpenAI and OpenAI v1 share
// OpenAI's envelope; the model-inference API has its own (reference §3).
import { errors, IngotError, isIngotError } from "../core/errors.ts";

/** "blob": Ingot's Azure Blob endpoint (ml/blob.ts), which authenticates itself and answers Blob's XML errors. "contentsafety": Azure AI Content Safety (Azure.Core errors). */
export type Surface = "openai" | "inference" | "ops" | "arm" | "identity" | "blob" | "contentsafety";

/** Longest path parameter the router accepts (find-my-way's default is 100; Azure ids can be longer). */
export const MAX_PARAM_LENGTH = 1000;

interface FastifyLikeError {
  statusCode?: number;
  code?: string;
  message: string;
}

/**
 * The surface a path belongs to, for replies no route decided (not found, malformed URLs,
 * errors before routing): ARM for /subscriptions and /providers, model inference for /models,
 * OpenAI's shape for everything else (/openai, /api/projects, unknown paths).
 */
export function surfaceForPath(url: string | undefined): Surface {
  const path = (url ?? "/").split("?")[0].toLowerCase();
  // Azure ML's registry discovery and registry data plane answer in ARM's shape too.
  if (["/subscriptions", "/providers", "/mferp/", "/registrymanagement/"].some((p) => path.startsWith(p))) return "arm";
  if (path === "/models" || path.startsWith("/models/")) return "inference";
  if (path === "/blob" || path.startsWith("/blob/")) return "blob";
  if (path === "/contentsafety" || path.startsWith("/contentsafety/")) return "contentsafety";
  return "openai";
}

/** Turns anything thrown (including Fastify's own parser, router and body-limit errors) into an IngotError. */
export function toIngotError(e: unknown): IngotError {
  if (isIngotError(e)) return e;
  const f = e as FastifyLikeError;
  if (f?.code === "FST_ERR_BAD_URL")
    return errors.invalid("The URL is not valid: it has a malformed percent-encoding (such as '%ff'). Percent-encode each byte of UTF-8 text (e.g. '%C3%BF').", null, "invalid_url");
  if (f?.code === "FST_ERR_MAX_PARAM_LENGTH")
    return errors.invalid(`A path segment is longer than ${MAX_PARAM_LENGTH} characters. Resource names are at most 64 characters (ids at most a few hundred): check the URL.`, null, "invalid_url");
  if (e instanceof RangeError && /call stack/i.test(e.message))
    return errors.invalid("The request is nested too deeply to be processed. Flatten the JSON (at most a few hundred levels).", null, "invalid_request_body");
  if (f?.code === "FST_ERR_CTP_BODY_TOO_LARGE")
    return new IngotError("payload_too_large", "request_too_large", "The request body is too large. Reduce the size of the messages or input and try again.");
  if (f?.code === "FST_ERR_CTP_INVALID_JSON_BODY" || (f?.statusCode === 400 && /JSON/i.test(f.message)))
    return errors.invalid(`We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload.) ${f.message}`, null, "invalid_json");
  if (f?.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE" || f?.statusCode === 415)
    return errors.invalid("Unsupported Content-Type. Send the body as JSON with 'Content-Type: application/json'.", null, "invalid_content_type");
  if (f?.code === "FST_ERR_CTP_EMPTY_JSON_BODY")
    return errors.invalid("The request body is empty. Send a JSON object.", null, "invalid_request_body");
  if (f?.statusCode && f.statusCode >= 400 && f.statusCode < 500) return errors.invalid(f.message);
  return errors.internal("The server had an error while processing your request. Sorry about that! Retry the request; if the error persists, check the server log for the request id.");
}

export function errorBody(surface: Surface, e: IngotError): object {
  if (surface === "contentsafety") return contentSafetyErrorBody(e);
  // ARM's common ErrorResponse (reference §1.10): code, message, and the field at fault as target.
  if (surface === "arm") return { error: e.param ? { code: e.code, message: e.message, target: e.param } : { code: e.code, message: e.message } };
  if (surface === "inference") {
    const body: Record<string, unknown> = { status: e.status, code: e.code, message: e.message };
    if (e.param) body.param = e.param;
    const input = (e as IngotError & { input?: unknown }).input;
    if (e.kind === "unsupported_parameter") body.detail = { loc: ["body", e.param], input: echoable(input) };
    // A filtered prompt (core/safety/filter.ts): the same inner result as Azure OpenAI's.
    const inner = (e as IngotError & { innererror?: object }).innererror;
    if (inner) body.innererror = inner;
    // The documented samples put the fields at the top level; Azure's services (and clients
    // that read `body.error`) use an `error` envelope. Sending both satisfies either reader.
    return { error: body, ...body };
  }
  const inner = (e as IngotError & { innererror?: object }).innererror;
  // A filtered prompt: Azure's body (reference §2.6), type null, status and innererror.content_filter_result.
  if (inner) return { error: { message: e.message, type: null, param: e.param, code: e.code, status: e.status, innererror: inner } };
  return {
    error: {
      code: e.code,
      message: e.message,
      param: e.param,
      type: e.status < 500 ? "invalid_request_error" : "server_error",
    },
  };
}

/** Azure Machine Learning's management plane (and its registry discovery and data plane). */
export function isMlPath(url: string | undefined): boolean {
  const path = (url ?? "/").split("?")[0].toLowerCase();
  return path.includes("/providers/microsoft.machinelearningservices/") || path.startsWith("/mferp/") || path.startsWith("/registrymanagement/");
}

/**
 * Azure ML's management front end (MFE) sends ARM's full ErrorResponse (reference azure-ml.md
 * §2): `details` and `additionalInfo`, the component named, which its SDKs read.
 */
export function withMlErrorInfo(body: object): object {
  const error = (body as { error: Record<string, unknown> }).error;
  return { error: { ...error, details: [], additionalInfo: [{ type: "ComponentName", info: { value: "managementfrontend" } }] } };
}

export function errorHeaders(surface: Surface, e: IngotError): Record<string, string> {
  const h: Record<string, string> = {};
  if (surface === "inference" || surface === "arm") h["x-ms-error-code"] = e.code;
  if (surface === "contentsafety") h["x-ms-error-code"] = contentSafetyCode(e);
  if (e.retryAfterMs !== undefined) {
    h["retry-after"] = String(Math.ceil(e.retryAfterMs / 1000));
    h["retry-after-ms"] = String(e.retryAfterMs);
  }
  return h;
}

/**
 * A caller's value as an error may echo it: unchanged when small and shallow; otherwise a
 * note (a 10,000-level value would overflow the serializer's stack and a huge one the reply).
 */
export function echoable(value: unknown, maxDepth = 32, maxNodes = 1000): unknown {
  let nodes = 0;
  const fits = (v: unknown, depth: number): boolean => {
    if (++nodes > maxNodes) return false;
    if (typeof v === "string") return v.length <= 4096;
    if (v === null || typeof v !== "object") return true;
    if (depth >= maxDepth) return false;
    for (const child of Array.isArray(v) ? v : Object.values(v)) if (!fits(child, depth + 1)) return false;
    return true;
  };
  if (fits(value, 0)) return value;
  return Array.isArray(value) ? "[an array too large or too deeply nested to echo]" : typeof value === "string" ? `${value.slice(0, 256)}…` : "{an object too large or too deeply nested to echo}";
}

/**
 * Azure AI Content Safety's codes (Azure.Core): errors raised with one keep it; others (the JSON
 * parser's, the pipeline's) get the code of their kind. The 401 of a wrong key keeps Azure's "401".
 */
const CONTENT_SAFETY_CODES: Partial<Record<IngotError["kind"], string>> = {
  invalid_request: "InvalidRequestBody",
  payload_too_large: "InvalidRequestBody",
  not_found: "ResourceNotFound",
  rate_limited: "TooManyRequests",
  internal: "InternalError",
  unavailable: "ServiceUnavailable",
};
function contentSafetyCode(e: IngotError): string {
  if (/^[A-Z]/.test(e.code) || /^\d+$/.test(e.code)) return e.code;
  return CONTENT_SAFETY_CODES[e.kind] ?? e.code;
}

/** Azure.Core's error envelope: {error: {code, message, target?}}. */
function contentSafetyErrorBody(e: IngotError): object {
  const error: Record<string, unknown> = { code: contentSafetyCode(e), message: e.message };
  if (e.param) error.target = e.param;
  return { error };
}
