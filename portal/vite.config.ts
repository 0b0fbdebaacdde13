// The portal is a static single-page app served by Ingot at `/`; it talks only to Ingot's
// public APIs (ARM management plane and the OpenAI v1 project data plane).
import { defineConfig } from "vite";

export default defineConfig({
  root: import.meta.dirname,
  base: "/",
  build: { outDir: "dist", emptyOutDir: true, chunkSizeWarningLimit: 1024 },
  // `npm run portal:dev` proxies the APIs to a local `ingot up`.
  server: { proxy: { "^/(openai|api|subscriptions|providers|models|oauth2|healthz|readyz)": "http://127.0.0.1:8080" } },
});
