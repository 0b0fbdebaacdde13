// Deployments: desired state in the store; the reconciler makes reality match it.
import { errors } from "../errors.ts";
import type { Catalog } from "../catalog/catalog.ts";
import type { DeploymentResolver, ResolvedDeployment } from "../generation/service.ts";
import type { DeploymentRecord, ModelRef, Store } from "../ports.ts";

/** The deployments every new account starts with, sized never to throttle local development. */
export const DEFAULT_DEPLOYMENTS: { name: string; model: ModelRef }[] = [
  { name: "tiny-chat", model: { format: "Ingot", name: "tiny-chat", version: "1" } },
  { name: "tiny-embed", model: { format: "Ingot", name: "tiny-embed", version: "1" } },
];
const DEFAULT_SKU = { name: "GlobalStandard", capacity: 1000 };

/** Loaded models are shared: deployments of one catalog model use one engine slot. */
export const engineKeyOf = (m: ModelRef) => `${m.format}/${m.name}@${m.version}`;

export class DeploymentService implements DeploymentResolver {
  #store: Store;
  #catalog: Catalog;

  constructor(store: Store, catalog: Catalog) {
    this.#store = store;
    this.#catalog = catalog;
  }

  ensureDefaults(account: string, extra: { name: string; model: ModelRef; sku?: { name: string; capacity: number } }[] = []): void {
    const wanted: { name: string; model: ModelRef; sku?: { name: string; capacity: number } }[] = [...DEFAULT_DEPLOYMENTS, ...extra];
    for (const d of wanted) {
      if (this.#store.getDeployment(account, d.name)) continue;
      const now = Date.now();
      this.#store.putDeployment({ account, name: d.name, model: d.model, sku: d.sku ?? DEFAULT_SKU, state: "Creating", error: null, createdAt: now, updatedAt: now });
    }
  }

  list(account?: string): DeploymentRecord[] {
    return this.#store.listDeployments(account);
  }

  setState(d: DeploymentRecord, state: DeploymentRecord["state"], error: string | null = null): void {
    this.#store.putDeployment({ ...d, state, error, updatedAt: Date.now() });
  }

  resolve(account: string, name: string): ResolvedDeployment {
    const d = this.#store.getDeployment(account, name);
    if (!d) throw errors.deploymentNotFound();
    if (d.state !== "Succeeded")
      throw errors.unavailable(
        d.state === "Failed"
          ? `Deployment '${name}' failed to provision: ${d.error ?? "unknown error"}. Fix the cause and update the deployment.`
          : `Deployment '${name}' is still provisioning (${d.state}). Retry in a few seconds.`,
      );
    const model = this.#catalog.find(d.model);
    return { account, name: d.name, sku: d.sku, modelName: d.model.name, engineKey: engineKeyOf(d.model), capabilities: model.capabilities };
  }
}
