// The ResponseStore port: stored Responses API responses (kept for chaining with
// previous_response_id, retrieval and input_items). Implemented by store/sqlite/response-store.ts.
import type { ChatMessage } from "../generation/types.ts";

export interface StoredResponse {
  id: string;
  account: string;
  /** Epoch milliseconds. */
  createdAt: number;
  /** Epoch milliseconds after which the response is gone (Azure keeps 30 days). */
  expiresAt: number;
  /** The response object as it was answered (the surface's wire JSON, opaque to core). */
  body: Record<string, unknown>;
  /** This response's own input items as input_items lists them (wire JSON, oldest first). */
  inputItems: Record<string, unknown>[];
  /** The whole conversation this response closes (chained input, this input, this output): what a chain continues. Instructions are not part of it. */
  conversation: ChatMessage[];
}

export interface ResponseStore {
  put(response: StoredResponse): void;
  get(account: string, id: string): StoredResponse | undefined;
  /** True when a response was removed. */
  delete(account: string, id: string): boolean;
  /** Removes responses whose expiry is at or before `now`; returns how many. */
  deleteExpired(now: number): number;
  deleteAll(account: string): void;
}
