// After a restart every deployment comes back to its desired state (the reconciler runs at startup).
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { json, startServer } from "./harness.ts";

const ACCOUNT = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/ingot/providers/Microsoft.CognitiveServices/accounts";

test("deployments created through ARM are Succeeded and answering after a restart", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "ingot-restart-"));
  try {
    let server = await startServer({ dataDir });
    let token = server.ingot.identity.adminToken();
    const arm = (method: string, path: string, body?: unknown) =>
      fetch(`${server.url}${ACCOUNT}${path}?api-version=2024-10-01`, {
        method,
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    assert.equal((await arm("PUT", "/second", { location: "local", kind: "AIServices", sku: { name: "S0" } })).status, 201);
    const keys = await json(await arm("POST", "/second/listKeys"));
    assert.equal((await arm("PUT", "/second/deployments/emb", { sku: { name: "Standard", capacity: 5 }, properties: { model: { format: "Ingot", name: "tiny-embed", version: "1" } } })).status, 201);
    assert.equal((await arm("PUT", "/ingot/deployments/chat2", { sku: { name: "GlobalStandard", capacity: 5 }, properties: { model: { format: "Ingot", name: "tiny-chat" } } })).status, 201);
    for (let i = 0; i < 300; i++) {
      const states = await Promise.all(["/second/deployments/emb", "/ingot/deployments/chat2"].map(async (p) => (await json(await arm("GET", p))).properties.provisioningState));
      if (states.every((s) => s === "Succeeded")) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await server.stop();

    server = await startServer({ dataDir });
    token = server.ingot.identity.adminToken();
    for (const p of ["/second/deployments/emb", "/ingot/deployments/chat2", "/ingot/deployments/tiny-chat"])
      assert.equal((await json(await arm("GET", p))).properties.provisioningState, "Succeeded", p);
    const emb = await fetch(`${server.url}/openai/deployments/emb/embeddings?api-version=2024-10-21`, {
      method: "POST",
      headers: { "api-key": keys.key1, "content-type": "application/json" },
      body: JSON.stringify({ input: "after the restart" }),
    });
    assert.equal(emb.status, 200);
    const chat = await server.post("/openai/deployments/chat2/chat/completions?api-version=2024-10-21", { messages: [{ role: "user", content: "hi" }], max_tokens: 2 });
    assert.equal(chat.status, 200);
    await server.stop();
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
