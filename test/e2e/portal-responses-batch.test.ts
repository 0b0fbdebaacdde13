// The portal's Foundry-era pages in real Chromium (issue 15 item 6): the playground on the
// Responses API, where the server keeps the conversation (each turn sends only the new message
// and previous_response_id).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { launchBrowser, screenshot, signedInPage } from "./browser.ts";
import { API_KEY, json, startServer } from "./harness.ts";
import type { TestServer } from "./harness.ts";


let server: TestServer;
let browser: Browser;
let page: Page;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  page = await signedInPage(browser, server);
  page.on("pageerror", (e) => console.log(`# page error: ${e.stack ?? e.message}`));
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

/** The steps build on each other: after a failure the rest are skipped rather than timing out one by one. */
let broken = false;
function step(name: string, fn: () => Promise<void>): void {
  test(name, { timeout: 120_000 }, async (t) => {
    if (broken) return t.skip("an earlier step failed");
    try {
      await fn();
    } catch (e) {
      broken = true;
      await screenshot(page, "portal-responses-batch-failure").catch(() => undefined);
      throw e;
    }
  });
}
type InPage = { location: { hash: string } };
const go = (hash: string) => page.evaluate((h) => void ((globalThis as unknown as InPage).location.hash = h), hash);
const v1 = (path: string, init: RequestInit = {}) => fetch(`${server.url}/openai/v1${path}`, { ...init, headers: { "api-key": API_KEY, ...(init.headers ?? {}) } });

step("the playground on the Responses API sends only the new message and chains previous_response_id", async () => {
  const sent: { url: string; body: Record<string, unknown> }[] = [];
  page.on("request", (r) => {
    if (r.method() === "POST" && /\/openai\/v1\/(responses|chat\/completions)$/.test(r.url())) sent.push({ url: r.url(), body: r.postDataJSON() });
  });
  await go("#/playground?deployment=tiny-chat");
  await page.getByRole("heading", { name: "Chat playground" }).waitFor();
  await page.locator("input[name=maxTokens]").fill("6");
  await page.getByLabel("Use the Responses API").check();
  const state = page.getByTestId("conversation-state");
  await state.getByText("the first turn starts a stored response").waitFor();

  const turn = async (text: string, n: number) => {
    await page.locator("textarea[name=message]").fill(text);
    await page.locator("textarea[name=message]").press("Enter");
    await page.getByTestId("stats").getByText(/finish: /).waitFor();
    await page.getByRole("button", { name: "Send" }).waitFor();
    assert.equal(sent.length, n);
    return sent[n - 1];
  };
  const first = await turn("Hi", 1);
  assert.match(first.url, /\/api\/projects\/default\/openai\/v1\/responses$/);
  assert.equal(first.body.input, "Hi");
  assert.equal(first.body.previous_response_id, undefined);
  assert.equal(first.body.instructions, "You are a helpful assistant.");
  assert.equal(first.body.store, true);
  const firstId = (await state.locator(".mono").textContent())!;
  assert.match(firstId, /^resp_/);
  assert.match((await page.getByTestId("stats").textContent())!, /\d+ prompt \+ \d+ completion = \d+ tokens/);

  const second = await turn("Tell me more", 2);
  assert.equal(second.body.input, "Tell me more");
  assert.equal(second.body.previous_response_id, firstId);
  const secondId = (await state.locator(".mono").textContent())!;
  assert.notEqual(secondId, firstId);
  // The server holds the chain: the second response names the first, and its input is only the new message.
  const stored = await json(await v1(`/responses/${secondId}`));
  assert.equal(stored.previous_response_id, firstId);
  const items = await json(await v1(`/responses/${secondId}/input_items`));
  assert.deepEqual(items.data.map((i: { content: { text: string }[] }) => i.content.map((c) => c.text).join("")), ["Tell me more"]);
  assert.equal(await page.locator(".chat .msg.user").count(), 2);
  await screenshot(page, "40-playground-responses");

  // Clear chat starts a new server-side conversation; unchecking goes back to Chat Completions (whole history sent).
  await page.getByRole("button", { name: "Clear chat" }).click();
  await state.getByText("the first turn starts a stored response").waitFor();
  await page.getByLabel("Use the Responses API").uncheck();
  const chat = await turn("Hello", 3);
  assert.match(chat.url, /\/chat\/completions$/);
  assert.deepEqual((chat.body.messages as { role: string }[]).map((m) => m.role), ["system", "user"]);
});
