// Child-process entry for bench/gateway-overhead.ts: one Ingot whose deployments run on an
// upstream llama-server, as `ingot up --catalog-dir` would serve them. argv[2]: JSON options.
// Deployments: gw-off (a policy with every content filter off: auth, rate limits and usage only)
// and gw-default (Microsoft.DefaultV2). Prints `READY <url>`; exits when stdin closes.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createIngot } from "../src/app.ts";

const options = JSON.parse(process.argv[2]) as { dataDir: string; apiKey: string; upstream: string };
const catalogDir = join(options.dataDir, "catalog");
mkdirSync(catalogDir, { recursive: true });
const MODEL = { format: "Meta", name: "gw-upstream", version: "1" };
writeFileSync(
  join(catalogDir, "gateway.json"),
  JSON.stringify({
    models: [
      {
        ...MODEL,
        capabilities: ["chatCompletion", "completion"],
        contextLength: 512,
        weights: "none",
        skus: [{ name: "GlobalStandard", minCapacity: 1, maxCapacity: 1000000, defaultCapacity: 1000 }],
        lifecycleStatus: "Preview",
        license: "MIT",
        upstream: { baseUrl: options.upstream, model: "tiny-chat" },
      },
    ],
  }),
);
const ingot = createIngot({
  dataDir: options.dataDir,
  apiKey: options.apiKey,
  threads: 1,
  logLevel: "error",
  catalogDirs: [catalogDir],
  metricsAddress: undefined,
  // Rate limits stay on, at a capacity the bench cannot reach (100 M tokens per minute).
  deploymentPolicy: { quotaPerUsage: 1_000_000 },
});
const stop = () => void ingot.close().finally(() => process.exit(0));
process.stdin.on("end", stop);
process.on("SIGTERM", stop);
process.stdin.resume();
const url = await ingot.app.listen({ port: 0, host: "127.0.0.1" });
await ingot.ready;
const off = ["Hate", "Sexual", "Violence", "Selfharm"].flatMap((name) => ["Prompt", "Completion"].map((source) => ({ name, source, enabled: false, blocking: false, severityThreshold: "High" })));
ingot.rai.policies.createOrUpdate("ingot", "all-off", {
  basePolicyName: "Microsoft.DefaultV2",
  mode: "Default",
  contentFilters: [...off, { name: "Jailbreak", source: "Prompt", enabled: false, blocking: false }, { name: "Protected Material Text", source: "Completion", enabled: false, blocking: false }, { name: "Protected Material Code", source: "Completion", enabled: false, blocking: false }],
});
const sku = { name: "GlobalStandard", capacity: 100_000 };
ingot.deployments.createOrUpdate("ingot", "gw-off", { model: MODEL, sku, raiPolicyName: "all-off" });
ingot.deployments.createOrUpdate("ingot", "gw-default", { model: MODEL, sku });
const deadline = Date.now() + 60_000;
for (;;) {
  const states = ["gw-off", "gw-default"].map((n) => ingot.deployments.get("ingot", n)?.state);
  if (states.every((s) => s === "Succeeded")) break;
  if (states.includes("Failed") || Date.now() > deadline) throw new Error(`gateway deployments: ${states.join(", ")}`);
  await new Promise((r) => setTimeout(r, 50));
}
process.stdout.write(`READY ${url}\n`);
