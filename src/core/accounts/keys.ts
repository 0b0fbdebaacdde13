// Account keys: generated once; requests are matched by the key's hash; a key opens its own account only.
import { createHash, randomBytes } from "node:crypto";
import type { AccountRecord } from "../ports/index.ts";

export const DEFAULT_ACCOUNT: Pick<AccountRecord, "name" | "subscription" | "resourceGroup" | "location"> = {
  name: "ingot",
  subscription: "00000000-0000-0000-0000-000000000000",
  resourceGroup: "ingot",
  location: "local",
};

export const KEY_NAMES = ["key1", "key2"] as const;

export function hashKey(key: string): string {
  return createHash("sha256").update(key, "utf8").digest("hex");
}

/** Azure keys are 32 hex characters; ours match so client-side format checks pass. */
export function newKey(): string {
  return randomBytes(16).toString("hex");
}
