// The UsageSink port: where the generation service reports each call's usage. Implemented by
// http/ops/metrics.ts (Prometheus) and the usage history (core/usage/service.ts).
import type { Usage } from "../generation/types.ts";

export interface UsageSink {
  record(entry: { account: string; deployment: string; model: string; usage: Usage; firstTokenMs?: number; durationMs: number }): void;
  /** A request the deployment's rate limit refused (429). */
  rateLimited?(entry: { account: string; deployment: string; model: string }): void;
}
