// The ports: interfaces owned by core and implemented by adapters (engines, trainers,
// stores, fetchers). One file per port; records a port's methods take live beside it
// (resource-store.ts) or in their domain's types.ts.
export * from "./blob-store.ts";
export * from "./deployment-resolver.ts";
export * from "./engine.ts";
export * from "./file-store.ts";
export * from "./identity-store.ts";
export * from "./job-store.ts";
export * from "./model-files.ts";
export * from "./model-registry.ts";
export * from "./project-store.ts";
export * from "./resource-store.ts";
export * from "./trainer.ts";
export * from "./tracing.ts";
export * from "./url-fetcher.ts";
export * from "./usage-sink.ts";
export * from "./usage-store.ts";
export * from "./workspace-store.ts";
export * from "./marketplace-store.ts";
export * from "./ml-data-store.ts";
export * from "./serverless-store.ts";
export * from "./ml-job-store.ts";
export * from "./online-store.ts";
export * from "./content-classifier.ts";
export * from "./change-feed.ts";
