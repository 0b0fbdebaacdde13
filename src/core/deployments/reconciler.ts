// Turns desired deployments into loaded models: fetch/build weights, load them in the
// engine, then record Succeeded or Failed with a reason. Runs at startup too, so a restart
// brings every deployment back.
import type { Catalog } from "../catalog/catalog.ts";
import type { DeploymentRecord, Engine, ModelFiles } from "../ports.ts";
import { engineKeyOf } from "./service.ts";
import type { DeploymentService } from "./service.ts";

export class Reconciler {
  #deployments: DeploymentService;
  #catalog: Catalog;
  #engine: Engine;
  #files: ModelFiles;
  #log: (msg: string, fields?: Record<string, unknown>) => void;

  constructor(deps: { deployments: DeploymentService; catalog: Catalog; engine: Engine; files: ModelFiles; log: (msg: string, fields?: Record<string, unknown>) => void }) {
    this.#deployments = deps.deployments;
    this.#catalog = deps.catalog;
    this.#engine = deps.engine;
    this.#files = deps.files;
    this.#log = deps.log;
  }

  /** Brings every deployment to its desired state; resolves when all have settled. */
  async reconcileAll(): Promise<void> {
    await Promise.all(this.#deployments.list().map((d) => this.reconcile(d)));
  }

  async reconcile(d: DeploymentRecord): Promise<void> {
    if (d.state === "Deleting") return;
    if (d.state !== "Creating") this.#deployments.setState(d, "Creating");
    try {
      const model = this.#catalog.find(d.model);
      const file = await this.#files.ensure(d.model);
      await this.#engine.load({
        key: engineKeyOf(d.model),
        path: file.path,
        contextLength: model.contextLength,
        embeddings: model.capabilities.includes("embeddings"),
      });
      this.#deployments.setState(d, "Succeeded");
      this.#log("deployment ready", { account: d.account, deployment: d.name });
    } catch (e) {
      const reason = e instanceof Error ? e.message : String(e);
      this.#deployments.setState(d, "Failed", reason);
      this.#log("deployment failed", { account: d.account, deployment: d.name, reason });
    }
  }
}
