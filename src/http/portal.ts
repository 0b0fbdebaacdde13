// Serves the portal's static build (portal/dist, made by `npm run build:portal`) at `/`.
// The portal is a client of the public APIs only; this file just hands out its files.
import { existsSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyInstance } from "fastify";

const DIST = fileURLToPath(new URL("../../portal/dist/", import.meta.url));

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".json": "application/json",
  ".map": "application/json",
};

export function registerPortalRoutes(app: FastifyInstance, distDir = DIST): void {
  const index = join(distDir, "index.html");
  app.get("/", { config: { surface: "ops" as const } }, async (_request, reply) => {
    if (!existsSync(index))
      return reply
        .code(503)
        .type("text/plain; charset=utf-8")
        .send("The portal is not built. Run 'npm run build:portal' (npm ci does it), then reload.\nThe APIs are up: /openai/v1, /openai/deployments/…, /models, /subscriptions/….\n");
    // index.html names hashed assets, so it must not be cached; the assets may be forever.
    return reply.header("cache-control", "no-cache").type(TYPES[".html"]).send(readFileSync(index));
  });
  app.get("/assets/*", { config: { surface: "ops" as const } }, async (request, reply) => {
    const rel = normalize((request.params as { "*": string })["*"]);
    if (rel.startsWith("..") || rel.includes("\0")) return reply.code(404).send({ error: { code: "404", message: "No such portal asset." } });
    try {
      const body = await readFile(join(distDir, "assets", rel));
      return reply.header("cache-control", "public, max-age=31536000, immutable").type(TYPES[extname(rel)] ?? "application/octet-stream").send(body);
    } catch {
      return reply.code(404).send({ error: { code: "404", message: `No portal asset '${rel}'. Reload the portal: it may have been rebuilt.` } });
    }
  });
}
