// One Engine in front of two: models with an upstream (catalog "engine": "upstream") go to the
// upstream engine, every other model to the local llama.cpp engine. The services and the http
// layer see one Engine, as before.
import type { Engine, EngineAdapter, EngineEvent, EngineModel, EngineStatus, EngineTarget, GenerateParams } from "../../core/ports/index.ts";
import type { UpstreamEngine } from "./engine.ts";

export class EngineSwitch implements Engine {
  #local: Engine;
  #upstream: UpstreamEngine;
  /** Keys loaded (or being loaded) upstream. */
  #upstreamKeys = new Set<string>();

  constructor(local: Engine, upstream: UpstreamEngine) {
    this.#local = local;
    this.#upstream = upstream;
  }

  get name(): string {
    return this.#local.name;
  }

  #for(key: string): Engine {
    return this.#upstreamKeys.has(key) ? this.#upstream : this.#local;
  }

  async load(model: EngineModel): Promise<void> {
    if (model.upstream) {
      // A key that moves between engines (a catalog entry changed across restarts) leaves the other one.
      if (!this.#upstreamKeys.has(model.key)) await this.#local.unload(model.key).catch(() => {});
      this.#upstreamKeys.add(model.key);
      return this.#upstream.load(model);
    }
    if (this.#upstreamKeys.delete(model.key)) await this.#upstream.unload(model.key);
    return this.#local.load(model);
  }

  async unload(key: string): Promise<void> {
    const engine = this.#for(key);
    this.#upstreamKeys.delete(key);
    await engine.unload(key);
  }

  loadAdapter(key: string, adapter: EngineAdapter): Promise<void> {
    return this.#for(key).loadAdapter(key, adapter);
  }

  unloadAdapter(key: string, adapterId: string): Promise<void> {
    return this.#for(key).unloadAdapter(key, adapterId);
  }

  generate(target: EngineTarget, params: GenerateParams, signal: AbortSignal): AsyncIterable<EngineEvent> {
    return this.#for(target.key).generate(target, params, signal);
  }

  embed(target: EngineTarget, inputs: string[], signal: AbortSignal): Promise<{ vectors: number[][]; promptTokens: number }> {
    return this.#for(target.key).embed(target, inputs, signal);
  }

  status(): EngineStatus[] {
    return [...this.#local.status(), ...this.#upstream.status()];
  }

  logs(key: string, tail?: number): string | undefined {
    return this.#for(key).logs?.(key, tail);
  }

  async close(): Promise<void> {
    await Promise.all([this.#local.close(), this.#upstream.close()]);
  }
}
