// Azure ML marketplace subscriptions (reference azure-ml.md §8): a workspace subscribes to a
// third-party catalog model (Meta's, Mistral's, …) before a serverless endpoint may serve it.
// The model is named by its versionless registry id and resolved through the registries' rules.
// First-party models (Microsoft's and Ingot's built-ins) need none: real Azure rejects them and
// the reference lets Ingot either accept or answer 400 UserError; Ingot answers 400 so the
// caller learns the subscription is unnecessary rather than holding one that means nothing.
import { errors, IngotError } from "../errors.ts";
import type { CatalogModel } from "../catalog/model.ts";
import type { MarketplaceSubscriptionStore } from "../ports/index.ts";
import type { Registries } from "./registries.ts";
import type { WorkspaceRecord } from "./workspaces.ts";

/** Catalog formats whose models Microsoft or Ingot itself sells: no marketplace plan behind them. */
const FIRST_PARTY_FORMATS = ["microsoft", "ingot"];
/** `azureml://registries/{reg}/models/{name}`, optionally with `/versions/{v}` or `/labels/{l}` (hasMarketplaceSubscription accepts those too). */
const REGISTRY_MODEL_ID = /^azureml:\/\/registries\/([^/]+)\/models\/([^/]+)(\/(?:versions|labels)\/[^/]+)?$/i;
const SUBSCRIPTION_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_-]{0,254}$/;

export interface MarketplacePlan {
  publisherId: string;
  offerId: string;
  planId: string;
}

export interface MarketplaceSubscriptionRecord {
  /** The workspace's workspaceId GUID: a workspace deleted and created again does not inherit its subscriptions. */
  workspaceId: string;
  name: string;
  /** The canonical versionless registry id. */
  modelId: string;
  plan: MarketplacePlan;
  createdAt: number;
  updatedAt: number;
}

export const isFirstPartyModel = (m: Pick<CatalogModel, "format">) => FIRST_PARTY_FORMATS.includes(m.format.trim().toLowerCase());

const slug = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "") || "model";

/** A stable plan from the model's publisher and name: the same model always gets the same plan. */
export function marketplacePlanOf(m: Pick<CatalogModel, "format" | "name" | "publisher">): MarketplacePlan {
  const model = slug(m.name);
  return { publisherId: slug(m.publisher ?? m.format).replace(/-/g, ""), offerId: `${model}-offer`, planId: model };
}

/** `{registry, model}` of a registry model id, or undefined when it is not one. */
export function parseRegistryModelId(modelId: string): { registry: string; model: string } | undefined {
  const m = REGISTRY_MODEL_ID.exec(modelId.trim());
  return m ? { registry: m[1], model: m[2] } : undefined;
}

export class MarketplaceService {
  #store: MarketplaceSubscriptionStore;
  #registries: Registries;
  #clock: () => number;

  constructor(store: MarketplaceSubscriptionStore, registries: Registries, options: { clock?: () => number } = {}) {
    this.#store = store;
    this.#registries = registries;
    this.#clock = options.clock ?? Date.now;
  }

  list(workspace: WorkspaceRecord): MarketplaceSubscriptionRecord[] {
    return this.#store.listSubscriptions(workspace.workspaceId);
  }

  /** The subscription, or ARM's 404 naming it. */
  require(workspace: WorkspaceRecord, name: string): MarketplaceSubscriptionRecord {
    const s = this.#store.getSubscription(workspace.workspaceId, name);
    if (!s) throw errors.resourceNotFound(`Microsoft.MachineLearningServices/workspaces/${workspace.name}/marketplaceSubscriptions`, name, workspace.resourceGroup);
    return s;
  }

  /** PUT: subscribes the workspace to a third-party registry model; replaces the subscription of that name if there is one. */
  createOrUpdate(workspace: WorkspaceRecord, name: string, modelIdInput: unknown): { subscription: MarketplaceSubscriptionRecord; created: boolean } {
    if (!SUBSCRIPTION_NAME.test(name))
      throw errors.armInvalid("UserError", `Marketplace subscription name '${name.slice(0, 64)}' is invalid: use letters, digits, hyphens and underscores, starting with a letter or digit.`, "name");
    const { model, modelId } = this.#resolve(modelIdInput);
    if (isFirstPartyModel(model))
      throw errors.armInvalid(
        "UserError",
        `Model '${model.name}' is a first-party model (${model.format}) and needs no marketplace subscription: deploy it as a serverless endpoint directly. Marketplace subscriptions are for third-party models such as those in the azureml-meta or azureml-mistral registries.`,
        "properties.modelId",
      );
    const existing = this.#store.getSubscription(workspace.workspaceId, name);
    const now = this.#clock();
    const subscription: MarketplaceSubscriptionRecord = {
      workspaceId: workspace.workspaceId,
      name: existing?.name ?? name,
      modelId,
      plan: marketplacePlanOf(model),
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
    };
    this.#store.putSubscription(subscription);
    return { subscription, created: !existing };
  }

  /** Deletes the subscription; false when there was none. */
  delete(workspace: WorkspaceRecord, name: string): boolean {
    if (!this.#store.getSubscription(workspace.workspaceId, name)) return false;
    this.#store.deleteSubscription(workspace.workspaceId, name);
    return true;
  }

  /** Whether the workspace subscribes to the registry model `modelId` (versionless, versioned or by label; registry and model as the catalog knows them). */
  hasMarketplaceSubscription(workspace: WorkspaceRecord, modelId: string): boolean {
    const wanted = parseRegistryModelId(modelId);
    if (!wanted) return false;
    let canonical: string;
    try {
      canonical = this.#resolve(`azureml://registries/${wanted.registry}/models/${wanted.model}`).modelName;
    } catch {
      return false;
    }
    // A subscription through azureml-meta covers the same model reached through azureml, and back.
    return this.list(workspace).some((s) => parseRegistryModelId(s.modelId)?.model === canonical);
  }

  /** The registry model behind a versionless id; an unknown registry or model is the caller's 400 naming what exists. */
  #resolve(modelIdInput: unknown): { model: CatalogModel; modelId: string; modelName: string } {
    if (typeof modelIdInput !== "string" || !modelIdInput)
      throw errors.armInvalid("UserError", "'properties.modelId' is required: the registry id of a catalog model, e.g. azureml://registries/azureml-meta/models/Llama-3.2-1B-Instruct.", "properties.modelId");
    const parsed = parseRegistryModelId(modelIdInput);
    if (!parsed || REGISTRY_MODEL_ID.exec(modelIdInput.trim())?.[3])
      throw errors.armInvalid(
        "UserError",
        `'properties.modelId' '${modelIdInput.slice(0, 200)}' is not a versionless registry model id; use azureml://registries/{registry}/models/{name}, e.g. azureml://registries/azureml-meta/models/Llama-3.2-1B-Instruct.`,
        "properties.modelId",
      );
    try {
      const registry = this.#registries.require(parsed.registry);
      const newest = this.#registries.versions(registry, parsed.model)[0];
      return { model: newest.model, modelId: `azureml://registries/${registry}/models/${newest.name}`, modelName: newest.name };
    } catch (e) {
      // The registries answer 404 for what they lack; here it is a bad body field, so 400 with the same list of what exists.
      if (e instanceof IngotError && e.kind === "not_found") throw errors.armInvalid("UserError", `'properties.modelId' does not resolve: ${e.message}`, "properties.modelId");
      throw e;
    }
  }
}
