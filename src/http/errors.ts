// Maps errors to each surface's status and body. Azure OpenAI and OpenAI v1 share
// OpenAI's envelope; the model-inference API has its own (reference §3).
import { errors, IngotError, isIngotError } from "../core/errors.ts";

export type Surface = "openai" | "inference" | "ops" | "arm" | "identity";

interface FastifyLikeError {
  statusCode?: number;
  code?: string;
  message: string;
}

/** Turns anything thrown (including Fastify's own parser and body-limit errors) into an IngotError. */
export function toIngotError(e: unknown): IngotError {
  if (isIngotError(e)) return e;
  const f = e as FastifyLikeError;
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
  // ARM's common ErrorResponse (reference §1.10): code, message, and the field at fault as target.
  if (surface === "arm") return { error: e.param ? { code: e.code, message: e.message, target: e.param } : { code: e.code, message: e.message } };
  if (surface === "inference") {
    const body: Record<string, unknown> = { status: e.status, code: e.code, message: e.message };
    if (e.param) body.param = e.param;
    const input = (e as IngotError & { input?: unknown }).input;
    if (e.kind === "unsupported_parameter") body.detail = { loc: ["body", e.param], input };
    // The documented samples put the fields at the top level; Azure's services (and clients
    // that read `body.error`) use an `error` envelope. Sending both satisfies either reader.
    return { error: body, ...body };
  }
  return {
    error: {
      code: e.code,
      message: e.message,
      param: e.param,
      type: e.status < 500 ? "invalid_request_error" : "server_error",
    },
  };
}

export function errorHeaders(surface: Surface, e: IngotError): Record<string, string> {
  const h: Record<string, string> = {};
  if (surface === "inference" || surface === "arm") h["x-ms-error-code"] = e.code;
  if (e.retryAfterMs !== undefined) {
    h["retry-after"] = String(Math.ceil(e.retryAfterMs / 1000));
    h["retry-after-ms"] = String(e.retryAfterMs);
  }
  return h;
}
