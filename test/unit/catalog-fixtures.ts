// Test helper: a catalog entry of the test publisher ("Test"), with weights at a made-up path,
// for unit tests of the deployment rules and the reconciler over fakes.
export const entry = (name: string, version: string, skus: readonly object[], extra: Record<string, unknown> = {}) => ({
  format: "Test",
  name,
  version,
  capabilities: ["chatCompletion"],
  contextLength: 256,
  weights: `file:/models/${name}-${version}.gguf`,
  skus,
  lifecycleStatus: "GenerallyAvailable",
  license: "MIT",
  ...extra,
});
