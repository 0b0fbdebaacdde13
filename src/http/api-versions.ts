// Data-plane api-version checks (reference §2.1 and §3).
import { errors } from "../core/errors.ts";

export const AZURE_OPENAI_VERSIONS = [
  "2022-12-01", "2023-05-15", "2024-02-01", "2024-06-01", "2024-10-21",
  "2023-03-15-preview", "2023-06-01-preview", "2023-07-01-preview", "2023-08-01-preview", "2023-09-01-preview",
  "2023-10-01-preview", "2023-12-01-preview", "2024-02-15-preview", "2024-03-01-preview", "2024-04-01-preview",
  "2024-05-01-preview", "2024-07-01-preview", "2024-08-01-preview", "2024-09-01-preview", "2024-10-01-preview",
  "2024-12-01-preview", "2025-01-01-preview", "2025-02-01-preview", "2025-03-01-preview", "2025-04-01-preview",
];

export const MODEL_INFERENCE_VERSIONS = ["2024-05-01-preview", "2025-04-01"];

export function checkApiVersion(value: unknown, supported: string[], skip: boolean, required = true): void {
  if (value === undefined || value === "") {
    if (!required) return;
    throw errors.invalid(
      `Missing required query parameter 'api-version'. Add '?api-version=${supported.find((v) => !v.endsWith("preview")) ?? supported[0]}' (supported: ${supported.join(", ")}).`,
      "api-version",
      "MissingApiVersionParameter",
    );
  }
  if (skip || (typeof value === "string" && supported.includes(value))) return;
  throw errors.invalid(
    `The api-version '${String(value)}' is not supported. Supported versions: ${supported.join(", ")}. (Start Ingot with --skip-api-version-check to accept any.)`,
    "api-version",
    "UnsupportedApiVersion",
  );
}
