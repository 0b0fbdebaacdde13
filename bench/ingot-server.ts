// Child-process entry: one Ingot (bench harness) on a loopback port.
// argv[2]: JSON BenchIngotOptions. Prints `READY <url>` once the model is loaded.
// Exits when stdin closes (the benchmark went away) or on SIGTERM.
import { createBenchIngot } from "./ingot-harness.ts";
import type { BenchIngotOptions } from "./ingot-harness.ts";

const options = JSON.parse(process.argv[2]) as BenchIngotOptions;
const ingot = createBenchIngot(options);

let closing = false;
async function shutdown(code: number): Promise<void> {
  if (closing) return;
  closing = true;
  const force = setTimeout(() => process.exit(code), 5000);
  force.unref();
  await ingot.close().catch(() => {});
  process.exit(code);
}
process.on("SIGTERM", () => void shutdown(0));
process.on("SIGINT", () => void shutdown(0));
process.stdin.on("end", () => void shutdown(0));
process.stdin.on("error", () => void shutdown(0));
process.stdin.resume();

try {
  const url = await ingot.app.listen({ port: 0, host: "127.0.0.1" });
  await ingot.ready;
  process.stdout.write(`READY ${url}\n`);
} catch (e) {
  process.stderr.write(`ingot-server: ${e instanceof Error ? e.stack : String(e)}\n`);
  await shutdown(1);
}
