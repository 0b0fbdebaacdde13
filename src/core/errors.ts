// Errors are values with an Azure error code and a message that says what to change.
// The http layer maps `kind` to the status and body shape of the surface that was called.

export type ErrorKind =
  | "invalid_request" // 400
  | "unauthorized" // 401
  | "forbidden" // 403
  | "not_found" // 404
  | "conflict" // 409
  | "payload_too_large" // 413
  | "unsupported_parameter" // 422 on the model-inference surface
  | "rate_limited" // 429
  | "internal" // 500
  | "unavailable"; // 503

export const STATUS_OF_KIND: Record<ErrorKind, number> = {
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  unsupported_parameter: 422,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
};

export class IngotError extends Error {
  readonly kind: ErrorKind;
  readonly code: string;
  readonly param: string | null;
  readonly retryAfterMs: number | undefined;

  constructor(kind: ErrorKind, code: string, message: string, opts: { param?: string | null; retryAfterMs?: number } = {}) {
    super(message);
    this.name = "IngotError";
    this.kind = kind;
    this.code = code;
    this.param = opts.param ?? null;
    this.retryAfterMs = opts.retryAfterMs;
  }

  get status(): number {
    return STATUS_OF_KIND[this.kind];
  }
}

export const errors = {
  invalid: (message: string, param: string | null = null, code = "invalid_value") =>
    new IngotError("invalid_request", code, message, { param }),
  missing: (param: string) =>
    new IngotError("invalid_request", "missing_required_parameter", `Missing required parameter: '${param}'.`, { param }),
  deploymentNotFound: () =>
    new IngotError(
      "not_found",
      "DeploymentNotFound",
      "The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.",
    ),
  unauthorized: () =>
    new IngotError(
      "unauthorized",
      "401",
      "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.",
    ),
  unavailable: (message: string) => new IngotError("unavailable", "ServiceUnavailable", message),
  internal: (message: string) => new IngotError("internal", "InternalServerError", message),
  // ARM management plane (reference §1.10): codes and wording as Azure Resource Manager uses them.
  armInvalid: (code: string, message: string, target: string | null = null) => new IngotError("invalid_request", code, message, { param: target }),
  resourceNotFound: (type: string, name: string, resourceGroup: string) =>
    new IngotError(
      "not_found",
      "ResourceNotFound",
      `The Resource '${type}/${name}' under resource group '${resourceGroup}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
    ),
  armNotFound: (id: string) => new IngotError("not_found", "NotFound", `Specified resource '${id}' cannot be found.`),
  conflict: (code: string, message: string) => new IngotError("conflict", code, message),
  unsupportedParameter: (param: string, input: unknown) =>
    Object.assign(new IngotError("unsupported_parameter", "parameter_not_supported", "One of the parameters contain invalid values.", { param }), {
      input,
    }),
};

export function isIngotError(e: unknown): e is IngotError {
  return e instanceof IngotError;
}
