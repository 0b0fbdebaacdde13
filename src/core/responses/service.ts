// Stored Responses API responses: what `previous_response_id` continues, what retrieve and
// input_items read. Rules: a response is visible to its own account only, for 30 days unless
// deleted; an unknown, expired, deleted or other account's id is the same 404.
import { IngotError } from "../errors.ts";
import type { ChatMessage } from "../generation/types.ts";
import type { ResponseStore, StoredResponse } from "../ports/response-store.ts";

export const RESPONSE_RETENTION_MS = 30 * 24 * 3600 * 1000;

export const responseNotFound = (id: string, param: string | null = null) =>
  new IngotError("not_found", "not_found", `Response with id '${id}' not found. It may have been deleted, be older than 30 days, have been created with store: false, or belong to another resource.`, { param });

export class ResponseService {
  #store: ResponseStore;
  #clock: () => number;
  #retentionMs: number;

  constructor(store: ResponseStore, opts: { clock?: () => number; retentionMs?: number } = {}) {
    this.#store = store;
    this.#clock = opts.clock ?? Date.now;
    this.#retentionMs = opts.retentionMs ?? RESPONSE_RETENTION_MS;
  }

  /** The stored response, or the 404. */
  require(account: string, id: string, param: string | null = null): StoredResponse {
    const r = this.#store.get(account, id);
    if (!r || r.expiresAt <= this.#clock()) throw responseNotFound(id, param);
    return r;
  }

  /** The conversation a new response continues: empty without a previous id. */
  conversationBefore(account: string, previousId: string | null): ChatMessage[] {
    if (previousId === null) return [];
    return this.require(account, previousId, "previous_response_id").conversation;
  }

  save(r: Omit<StoredResponse, "expiresAt" | "createdAt">): void {
    const createdAt = this.#clock();
    this.#store.put({ ...r, createdAt, expiresAt: createdAt + this.#retentionMs });
  }

  delete(account: string, id: string): void {
    this.require(account, id);
    this.#store.delete(account, id);
  }

  sweepExpired(): number {
    return this.#store.deleteExpired(this.#clock());
  }

  deleteAll(account: string): void {
    this.#store.deleteAll(account);
  }
}
