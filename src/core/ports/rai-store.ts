// The RaiStore port: an account's content-filter policies (raiPolicies), custom blocklists
// (raiBlocklists) and their items. Implemented by store/sqlite/rai-store.ts (SqliteRaiStore).
// Names compare case-insensitively (ARM's); records keep the case first written.

/** One content filter of a policy as stored: canonical name and side. */
export interface RaiContentFilterConfig {
  /** Canonical display name, e.g. "Hate", "Protected Material Text". */
  name: string;
  source: "Prompt" | "Completion";
  enabled: boolean;
  blocking: boolean;
  severityThreshold?: "Low" | "Medium" | "High";
}

export interface RaiPolicyRecord {
  account: string;
  name: string;
  basePolicyName: string;
  mode: "Default" | "Asynchronous_filter" | "Blocking" | "Deferred";
  contentFilters: RaiContentFilterConfig[];
  /** Canonical form of every blocklist reference, whichever form was sent. */
  customBlocklists: { blocklistName: string; blocking: boolean; source: "Prompt" | "Completion" }[];
  /** The older form (2024-04-01-preview docs), kept as sent so GET echoes it. */
  promptBlocklists?: { blocklistName: string; blocking: boolean }[];
  completionBlocklists?: { blocklistName: string; blocking: boolean }[];
  tags: Record<string, string>;
  createdAt: number;
  updatedAt: number;
}

export interface RaiBlocklistRecord {
  account: string;
  name: string;
  description: string;
  tags: Record<string, string>;
  createdAt: number;
  updatedAt: number;
}

export interface RaiBlocklistItemRecord {
  account: string;
  blocklist: string;
  name: string;
  pattern: string;
  isRegex: boolean;
  /** Set through the Content Safety API (its items have one); undefined on write keeps the stored one. */
  description?: string;
  createdAt: number;
  updatedAt: number;
}

export interface RaiStore {
  getPolicy(account: string, name: string): RaiPolicyRecord | undefined;
  listPolicies(account: string): RaiPolicyRecord[];
  putPolicy(policy: RaiPolicyRecord): void;
  deletePolicy(account: string, name: string): void;

  getBlocklist(account: string, name: string): RaiBlocklistRecord | undefined;
  listBlocklists(account: string): RaiBlocklistRecord[];
  putBlocklist(blocklist: RaiBlocklistRecord): void;
  /** The blocklist and all its items. */
  deleteBlocklist(account: string, name: string): void;

  getItem(account: string, blocklist: string, name: string): RaiBlocklistItemRecord | undefined;
  listItems(account: string, blocklist: string): RaiBlocklistItemRecord[];
  countItems(account: string, blocklist: string): number;
  /** Inserts or replaces all of `items` in one transaction. */
  putItems(items: RaiBlocklistItemRecord[]): void;
  /** Deletes the named items (absent names are ignored) in one transaction. */
  deleteItems(account: string, blocklist: string, names: string[]): void;

  /** Everything of an account (account deletion). */
  deleteAll(account: string): void;
}
