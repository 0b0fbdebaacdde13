// The UsageStore port: per-minute usage buckets for the usage charts and Azure Monitor
// metrics. Implemented by store/sqlite/usage-store.ts (SqliteUsageStore).
import type { UsageBucket, UsageIncrement } from "../usage/types.ts";

export interface UsageStore {
  add(increment: UsageIncrement): void;
  /** Buckets of one account with from ≤ minute < to. */
  range(account: string, from: number, to: number): UsageBucket[];
}
