// Deploy-to-ready time for a cached model: from the ARM PUT to provisioningState Succeeded,
// against the peer — a fresh process loading the same GGUF with node-llama-cpp directly and
// creating the same context and generating one token (bench/deploy-ready-peer.ts), timed
// from spawn to exit, with the runner's one-thread libuv pool. Also the time for a second
// deployment of an already-loaded model (shared runner: no load at all).
//
//   node bench/deploy-ready.ts [--model FILE.gguf] [--reps 5] [--threads 1]
//
// Without --model it uses the built-in tiny-chat weights under a separate catalog name, so
// each deployment starts a new runner.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createIngot } from "../src/app.ts";
import { ensureBuiltinModel } from "../src/models/builtin/recipes.ts";

const { values } = parseArgs({ options: { model: { type: "string" }, reps: { type: "string", default: "5" }, threads: { type: "string", default: "1" } } });
const reps = Number(values.reps);
const threads = Number(values.threads);
const SEQUENCES = 8;
const CONTEXT = 2048;
const dataDir = mkdtempSync(join(tmpdir(), "ingot-deploy-bench-"));
const modelPath = values.model ?? (await ensureBuiltinModel("tiny-chat", join(dataDir, "models"))).path;
const ref = { format: "Ingot", name: "bench-model", version: "1" };

const ingot = createIngot({
  dataDir,
  apiKey: "0123456789abcdef0123456789abcdef",
  threads,
  sequences: SEQUENCES,
  logLevel: "error",
  extraModels: [
    {
      ...ref,
      capabilities: ["chatCompletion"],
      contextLength: CONTEXT,
      weights: `file:${modelPath}`,
      skus: [{ name: "Standard", usageName: "AIServices.Standard.bench-model", minCapacity: 1, maxCapacity: 1000, defaultCapacity: 1 }],
      lifecycleStatus: "Preview",
      license: "MIT",
    },
  ],
});
const url = await ingot.app.listen({ port: 0, host: "127.0.0.1" });
await ingot.ready;
const token = ingot.identity.adminToken();
const base = `${url}/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/ingot/providers/Microsoft.CognitiveServices/accounts/ingot/deployments`;
const arm = (method: string, name: string, body?: unknown) =>
  fetch(`${base}/${name}?api-version=2024-10-01`, { method, headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });

async function deployToReady(name: string): Promise<number> {
  const started = performance.now();
  const res = await arm("PUT", name, { sku: { name: "Standard", capacity: 1 }, properties: { model: ref } });
  if (res.status !== 201) throw new Error(`PUT ${name}: ${res.status} ${await res.text()}`);
  for (;;) {
    const state = ((await (await arm("GET", name)).json()) as { properties: { provisioningState: string } }).properties.provisioningState;
    if (state === "Succeeded") return performance.now() - started;
    if (state === "Failed") throw new Error(`${name} failed`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const peerScript = fileURLToPath(new URL("./deploy-ready-peer.ts", import.meta.url));
const cold: number[] = [];
const shared: number[] = [];
const peer: number[] = [];
for (let i = 0; i < reps; i++) {
  cold.push(await deployToReady(`cold-${i}`));
  shared.push(await deployToReady(`shared-${i}`));
  // Deleting every deployment of the model unloads it, so the next rep loads it again.
  await arm("DELETE", `cold-${i}`);
  await arm("DELETE", `shared-${i}`);
  await new Promise((r) => setTimeout(r, 300));
  // The peer's clock runs from spawn, as Ingot's runner is a fresh process too; same libuv pool as a runner.
  const spawned = performance.now();
  execFileSync(process.execPath, [peerScript, JSON.stringify({ modelPath, contextSize: CONTEXT, sequences: SEQUENCES, threads })], { encoding: "utf8", env: { ...process.env, UV_THREADPOOL_SIZE: "1" } });
  peer.push(performance.now() - spawned);
}
await ingot.close();
rmSync(dataDir, { recursive: true, force: true });
const fmt = (ms: number) => `${ms.toFixed(0)} ms`;
console.log(`model: ${modelPath}; ${reps} reps, threads ${threads}, ${SEQUENCES} sequences × ${CONTEXT} context`);
console.log(`deploy-to-ready, new runner (PUT → Succeeded):  median ${fmt(median(cold))}  [${cold.map(fmt).join(", ")}]`);
console.log(`peer: fresh process loading it with node-llama-cpp: median ${fmt(median(peer))}  [${peer.map(fmt).join(", ")}]`);
console.log(`ratio Ingot / peer: ${(median(cold) / median(peer)).toFixed(2)}`);
console.log(`deploy-to-ready, model already loaded (shared runner): median ${fmt(median(shared))}`);
