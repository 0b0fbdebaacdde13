// Resource-manager api-versions (reference §1.1), and Azure Monitor's for metrics.
import { errors } from "../../core/errors.ts";

export const ARM_VERSIONS = [
  "2017-04-18", "2021-04-30", "2021-10-01", "2022-03-01", "2022-10-01", "2022-12-01", "2023-05-01", "2024-10-01",
  "2025-04-01", "2025-06-01", "2025-09-01", "2025-12-01", "2026-03-01",
  // Azure's fine-tuning deployment docs (seed 001) send the data-plane version to ARM; their scripts must run unchanged.
  "2024-10-21",
  "2023-10-01-preview", "2024-04-01-preview", "2024-06-01-preview", "2025-04-01-preview", "2025-07-01-preview", "2025-10-01-preview",
  "2026-01-15-preview", "2026-03-15-preview", "2026-05-15-preview", "2026-07-15-preview", "2026-09-15-preview",
];

/** Azure Monitor's metrics api-versions (Microsoft.Insights/metrics). */
export const MONITOR_VERSIONS = ["2018-01-01", "2019-07-01", "2021-05-01", "2023-10-01", "2024-02-01"];

/** A check of `?api-version=` against a resource type's versions, with ARM's error codes. */
function versionCheck(versions: string[], type: string, example: string, hint = ""): (value: unknown, skip: boolean) => void {
  return (value, skip) => {
    if (value === undefined || value === "")
      throw errors.armInvalid("MissingApiVersionParameter", `The api-version query parameter (?api-version=) is required for all requests. Use e.g. ?api-version=${example}.`, "api-version");
    if (skip || (typeof value === "string" && versions.includes(value))) return;
    throw errors.armInvalid(
      "NoRegisteredProviderFound",
      `No registered resource provider found for API version '${String(value)}' for type '${type}'. The supported api-versions are '${versions.join(", ")}'.${hint}`,
      "api-version",
    );
  };
}

export const checkArmApiVersion = versionCheck(ARM_VERSIONS, "accounts", "2024-10-01", " (Start Ingot with --skip-api-version-check to accept any.)");
export const checkMonitorApiVersion = versionCheck(MONITOR_VERSIONS, "metrics", "2023-10-01");
