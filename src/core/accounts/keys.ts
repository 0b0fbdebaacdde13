// Account keys: generated once, stored only as hashes; a key opens its own account only.
import { createHash, randomBytes } from "node:crypto";
import type { AccountRecord, Store } from "../ports.ts";

export const DEFAULT_ACCOUNT: Omit<AccountRecord, "createdAt"> = {
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

export class AccountService {
  #store: Store;

  constructor(store: Store) {
    this.#store = store;
  }

  /**
   * Creates the default account on first start. `fixedKey` (from --api-key) always becomes
   * key1. Returns the keys that were generated now, so they can be shown once.
   */
  ensureDefaultAccount(fixedKey?: string): { account: AccountRecord; generated: Record<string, string> } {
    let account = this.#store.getAccount(DEFAULT_ACCOUNT.name);
    if (!account) {
      account = { ...DEFAULT_ACCOUNT, createdAt: Date.now() };
      this.#store.putAccount(account);
    }
    const existing = this.#store.getKeyHashes(account.name);
    const generated: Record<string, string> = {};
    for (const keyName of KEY_NAMES) {
      if (keyName === "key1" && fixedKey) {
        if (existing.key1 !== hashKey(fixedKey)) this.#store.setKeyHash(account.name, "key1", hashKey(fixedKey));
        continue;
      }
      if (existing[keyName]) continue;
      const key = newKey();
      this.#store.setKeyHash(account.name, keyName, hashKey(key));
      generated[keyName] = key;
    }
    return { account, generated };
  }

  /** The account a key belongs to, or undefined. */
  authenticate(key: string | undefined): string | undefined {
    if (!key) return undefined;
    return this.#store.accountForKeyHash(hashKey(key));
  }
}
