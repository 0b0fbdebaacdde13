// Accounts (AI services resources): ARM create/read/update/delete and their two keys.
import { errors } from "../errors.ts";
import type { AccountRecord, ResourceStore } from "../ports/index.ts";
import { DEFAULT_ACCOUNT, hashKey, KEY_NAMES, newKey } from "./keys.ts";

export const ACCOUNT_TYPE = "Microsoft.CognitiveServices/accounts";
export const ACCOUNT_KINDS = ["AIServices", "OpenAI"];
/** Account names become subdomains in Azure: 2–64 characters, starting with a letter or digit. */
const ACCOUNT_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{1,63}$/;

export interface AccountInput {
  location?: string;
  kind?: string;
  skuName?: string;
  tags?: Record<string, string>;
  properties?: Record<string, unknown>;
}

export const sameId = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

export class AccountService {
  #store: ResourceStore;
  #clock: () => number;
  /** Called before an account is removed, so its deployments can be unloaded. */
  #beforeDelete: (account: string) => void;

  constructor(store: ResourceStore, opts: { clock?: () => number; beforeDelete?: (account: string) => void } = {}) {
    this.#store = store;
    this.#clock = opts.clock ?? Date.now;
    this.#beforeDelete = opts.beforeDelete ?? (() => {});
  }

  setBeforeDelete(hook: (account: string) => void): void {
    this.#beforeDelete = hook;
  }

  /**
   * Creates the default account on first start. `fixedKey` (from --api-key) always becomes
   * key1. Returns the keys that were generated now, so they can be shown once.
   */
  ensureDefaultAccount(fixedKey?: string): { account: AccountRecord; generated: Record<string, string> } {
    let account = this.#store.getAccount(DEFAULT_ACCOUNT.name);
    if (!account) {
      account = { ...DEFAULT_ACCOUNT, kind: "AIServices", skuName: "S0", tags: {}, properties: {}, createdAt: this.#clock() };
      this.#store.putAccount(account);
    }
    const existing = this.#store.getKeys(account.name);
    const generated: Record<string, string> = {};
    for (const keyName of KEY_NAMES) {
      if (keyName === "key1" && fixedKey) {
        if (existing.key1 !== fixedKey) this.#store.setKey(account.name, "key1", fixedKey, hashKey(fixedKey));
        continue;
      }
      if (existing[keyName]) continue;
      generated[keyName] = this.#newKey(account.name, keyName);
    }
    return { account, generated };
  }

  #newKey(account: string, keyName: string): string {
    const key = newKey();
    this.#store.setKey(account, keyName, key, hashKey(key));
    return key;
  }

  get(name: string): AccountRecord | undefined {
    return this.#store.getAccount(name);
  }

  /** The account at this ARM path, or ResourceNotFound in Azure's words. */
  require(subscription: string, resourceGroup: string, name: string): AccountRecord {
    const a = this.#store.getAccount(name);
    if (!a || !sameId(a.subscription, subscription) || !sameId(a.resourceGroup, resourceGroup)) throw errors.resourceNotFound(ACCOUNT_TYPE, name, resourceGroup);
    return a;
  }

  list(filter: { subscription?: string; resourceGroup?: string } = {}): AccountRecord[] {
    return this.#store.listAccounts(filter);
  }

  createOrUpdate(subscription: string, resourceGroup: string, name: string, input: AccountInput): { account: AccountRecord; created: boolean } {
    if (!ACCOUNT_NAME.test(name))
      throw errors.armInvalid("InvalidResourceName", `Resource name '${name}' is invalid. Account names are 2 to 64 characters: letters, digits, '-', '_' and '.', starting with a letter or digit.`, "name");
    const existing = this.#store.getAccount(name);
    if (existing && (!sameId(existing.subscription, subscription) || !sameId(existing.resourceGroup, resourceGroup)))
      throw errors.conflict("CustomDomainInUse", `The subdomain name '${name}' is not available as it's already used by a resource. Choose another account name.`);
    if (!input.location) throw errors.armInvalid("LocationRequired", "The location property is required for this definition. Add \"location\" (e.g. \"local\") to the body.", "location");
    const kind = input.kind ?? existing?.kind ?? "AIServices";
    const canonicalKind = ACCOUNT_KINDS.find((k) => k.toLowerCase() === kind.toLowerCase());
    if (!canonicalKind) throw errors.armInvalid("InvalidKind", `Kind '${kind}' is not supported. Use one of: ${ACCOUNT_KINDS.join(", ")}.`, "kind");
    if (existing && existing.location.toLowerCase() !== input.location.toLowerCase())
      throw errors.armInvalid("LocationNotAvailableForResourceType", `Account '${name}' is in location '${existing.location}'; an account cannot move to '${input.location}'. Delete it and create it again to change its location.`, "location");
    const skuName = this.#checkSku(input.skuName ?? existing?.skuName ?? "S0");
    const account: AccountRecord = {
      name,
      subscription: existing?.subscription ?? subscription,
      resourceGroup: existing?.resourceGroup ?? resourceGroup,
      location: existing?.location ?? input.location,
      kind: canonicalKind,
      skuName,
      tags: input.tags ?? {},
      properties: input.properties ?? {},
      createdAt: existing?.createdAt ?? this.#clock(),
    };
    this.#store.putAccount(account);
    if (!existing) for (const keyName of KEY_NAMES) this.#newKey(name, keyName);
    return { account, created: !existing };
  }

  #checkSku(skuName: string): string {
    if (skuName.toUpperCase() !== "S0") throw errors.armInvalid("InvalidSkuName", `SKU '${skuName}' is not available for this account. Use "S0".`, "sku.name");
    return "S0";
  }

  update(subscription: string, resourceGroup: string, name: string, patch: { tags?: Record<string, string>; skuName?: string; properties?: Record<string, unknown> }): AccountRecord {
    const a = this.require(subscription, resourceGroup, name);
    const updated: AccountRecord = {
      ...a,
      tags: patch.tags ?? a.tags,
      skuName: patch.skuName ? this.#checkSku(patch.skuName) : a.skuName,
      properties: patch.properties ? { ...a.properties, ...patch.properties } : a.properties,
    };
    this.#store.putAccount(updated);
    return updated;
  }

  /** Deletes the account, its keys and deployments. Returns false when there was none. */
  delete(subscription: string, resourceGroup: string, name: string): boolean {
    const a = this.#store.getAccount(name);
    if (!a || !sameId(a.subscription, subscription) || !sameId(a.resourceGroup, resourceGroup)) return false;
    this.#beforeDelete(name);
    this.#store.deleteAccount(name);
    return true;
  }

  listKeys(name: string): { key1: string; key2: string } {
    const keys = this.#store.getKeys(name);
    return { key1: keys.key1 ?? "", key2: keys.key2 ?? "" };
  }

  /** `keyName` is "Key1" or "Key2" (case-insensitive, as the az CLI sends either). */
  regenerateKey(name: string, keyName: unknown): { key1: string; key2: string } {
    const k = typeof keyName === "string" ? keyName.toLowerCase() : "";
    if (k !== "key1" && k !== "key2") throw errors.armInvalid("InvalidKeyName", `keyName must be "Key1" or "Key2", got ${JSON.stringify(keyName)}.`, "keyName");
    this.#newKey(name, k);
    return this.listKeys(name);
  }

  /** The account a key belongs to, or undefined. */
  authenticate(key: string | undefined): string | undefined {
    if (!key) return undefined;
    return this.#store.accountForKeyHash(hashKey(key));
  }
}
