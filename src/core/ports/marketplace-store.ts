// The MarketplaceSubscriptionStore port: Azure ML marketplace subscriptions, one per workspace
// (by its workspaceId GUID) and name; names are case-insensitive, as ARM resource names are.
// Implemented by store/sqlite/marketplace-store.ts.
import type { MarketplaceSubscriptionRecord } from "../ml/marketplace.ts";

export interface MarketplaceSubscriptionStore {
  getSubscription(workspaceId: string, name: string): MarketplaceSubscriptionRecord | undefined;
  listSubscriptions(workspaceId: string): MarketplaceSubscriptionRecord[];
  putSubscription(record: MarketplaceSubscriptionRecord): void;
  deleteSubscription(workspaceId: string, name: string): void;
}
