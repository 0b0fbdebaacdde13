// Keys and tokens never reach the log: in request URLs (an api-key sent in the query string is
// refused, and must not be written down either), in headers, in error messages and in the raw
// bytes Node attaches to client errors.
import type { FastifyRequest } from "fastify";

/** Query parameters whose values are secrets (compared case-insensitively). */
const SECRET_PARAMS = ["api-key", "api_key", "apikey", "key", "subscription-key", "code", "sig", "signature", "token", "access_token", "id_token", "refresh_token", "client_secret", "secret", "password", "sign_in", "signin"];
const SECRET_PARAM_SET = new Set(SECRET_PARAMS);

/** Header names whose values are secrets. */
export const SECRET_HEADERS = ["authorization", "api-key", "x-ms-authorization-auxiliary", "cookie", "set-cookie", "ocp-apim-subscription-key", "proxy-authorization"];

export const REDACTED = "[REDACTED]";

/** The URL with the values of secret query parameters replaced. */
export function redactUrl(url: string): string {
  const q = url.indexOf("?");
  if (q < 0) return url;
  const query = url
    .slice(q + 1)
    .split("&")
    .map((pair) => {
      const eq = pair.indexOf("=");
      const rawName = eq < 0 ? pair : pair.slice(0, eq);
      let name = rawName;
      try {
        name = decodeURIComponent(rawName.replace(/\+/g, " "));
      } catch {
        // A malformed name is logged as sent; its value is still checked below by the raw name.
      }
      return eq >= 0 && SECRET_PARAM_SET.has(name.trim().toLowerCase()) ? `${rawName}=${REDACTED}` : pair;
    })
    .join("&");
  return `${url.slice(0, q)}?${query}`;
}

const JWT = /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g;
const SCHEME_CREDENTIAL = /\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi;
const PARAM_VALUE = new RegExp(`([?&;\\s"']|^)(${SECRET_PARAMS.map((p) => p.replace(/[-_]/g, "[-_]?")).join("|")})(["']?\\s*[=:]\\s*["']?)[^&\\s"',;]+`, "gi");
const HEADER_LINE = new RegExp(`^(${SECRET_HEADERS.join("|")}):[^\\r\\n]*`, "gim");

/** Free text (an error message, a stack) with tokens, credentials and secret parameters replaced. */
export function redactText(text: string): string {
  return text
    .replace(HEADER_LINE, `$1: ${REDACTED}`)
    .replace(JWT, REDACTED)
    .replace(SCHEME_CREDENTIAL, `$1 ${REDACTED}`)
    .replace(PARAM_VALUE, `$1$2$3${REDACTED}`);
}

/** Fastify's request serializer, with the URL's secrets removed. */
function serializeRequest(request: FastifyRequest): Record<string, unknown> {
  return {
    method: request.method,
    url: redactUrl(request.url),
    version: request.headers?.["accept-version"],
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort,
  };
}

/** pino's error serializer, with secrets scrubbed from the text and raw request bytes dropped. */
type SerializedError = { [key: string]: unknown; type: string; message: string; stack: string };
function serializeError(err: unknown): SerializedError {
  // Callers also log `{ err: e.message }`: a string, which may quote a URL with a SAS signature.
  if (typeof err === "string") return redactText(err) as unknown as SerializedError;
  if (!(err instanceof Error)) return err as SerializedError;
  const out: SerializedError = { type: err.name, message: redactText(err.message), stack: err.stack ? redactText(err.stack) : "" };
  for (const [k, v] of Object.entries(err)) {
    if (k === "rawPacket" || k === "headers" || k === "request" || k === "config") continue;
    out[k] = typeof v === "string" ? redactText(v) : v;
  }
  if (err.cause instanceof Error) out.cause = serializeError(err.cause);
  return out;
}

const headerPaths = (prefix: string) => SECRET_HEADERS.map((h) => `${prefix}["${h}"]`);

/** pino options: redaction of secret headers wherever a request or its headers are logged, and the serializers above. */
export const logRedaction = {
  redact: {
    paths: [...headerPaths("req.headers"), ...headerPaths("headers"), ...headerPaths("request.headers"), ...headerPaths("res.headers"), "err.rawPacket"],
    censor: REDACTED,
  },
  serializers: { req: serializeRequest, err: serializeError },
};
