// Portal sign-in in real Chromium: a wrong key is refused with an actionable message; a key
// shows the deployments and models it can use (through the data plane) and chats in the
// playground; a token opens everything and shows the account; the one-time link `ingot up`
// prints signs in once and never again.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import type { Browser } from "playwright-core";
import { closePortal, keySignedInPage, openPortal, screenshot, signedInPage } from "./browser.ts";
import { API_KEY, json, waitForOutput } from "./harness.ts";
import type { TestServer } from "./harness.ts";

// page.waitForFunction callbacks run in the page, where `document` exists (the tests' lib has no DOM types).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
declare const document: any;

const BIN = fileURLToPath(new URL("../../bin/ingot.mjs", import.meta.url));

let server: TestServer;
let browser: Browser;

before(async () => ({ server, browser } = await openPortal()));
after(() => closePortal({ server, browser }));

test("a wrong key is refused in words the user can act on; the right key signs in", { timeout: 60_000 }, async () => {
  const page = await (await browser.newContext()).newPage();
  await page.goto(server.url);
  await page.getByRole("tab", { name: "Account key" }).click();
  await page.locator("input[name=key]").fill("not-a-key");
  await page.getByRole("button", { name: "Sign in" }).click();
  const error = page.getByTestId("error");
  await error.waitFor();
  assert.match(await error.innerText(), /sign in again|not accepted/i);
  await screenshot(page, "00-signin-error");
  await page.locator("input[name=key]").fill(API_KEY);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.locator("nav.side").waitFor();
  assert.equal(await page.locator(".switcher .badge").innerText(), "key");
  await page.context().close();
});

test("the data plane lists an account's deployments for its key (GET /openai/deployments, api-version 2022-12-01)", { timeout: 30_000 }, async () => {
  const list = await fetch(`${server.url}/openai/deployments?api-version=2022-12-01`, { headers: { "api-key": API_KEY } });
  assert.equal(list.status, 200);
  const body = await json(list);
  assert.equal(body.object, "list");
  const chat = body.data.find((d: { id: string }) => d.id === "tiny-chat");
  assert.deepEqual(
    { object: chat.object, model: chat.model, status: chat.status, scale_settings: chat.scale_settings, chat: chat.capabilities.chat_completion },
    { object: "deployment", model: "tiny-chat", status: "succeeded", scale_settings: { scale_type: "standard" }, chat: true },
  );
  assert.equal(typeof chat.created_at, "number");
  assert.equal(body.data.find((d: { id: string }) => d.id === "tiny-embed").capabilities.chat_completion, false);
  const one = await json(await fetch(`${server.url}/openai/deployments/tiny-chat?api-version=2022-12-01`, { headers: { "api-key": API_KEY } }));
  assert.equal(one.id, "tiny-chat");
  const missing = await fetch(`${server.url}/openai/deployments/nope?api-version=2022-12-01`, { headers: { "api-key": API_KEY } });
  assert.equal(missing.status, 404);
  assert.equal((await json(missing)).error.code, "DeploymentNotFound");
  // Later data-plane versions dropped the authoring API, as Azure's did: the error names the version that has it.
  const later = await fetch(`${server.url}/openai/deployments?api-version=2024-10-21`, { headers: { "api-key": API_KEY } });
  assert.equal(later.status, 400);
  assert.match((await json(later)).error.message, /2022-12-01/);
  assert.equal((await fetch(`${server.url}/openai/deployments?api-version=2022-12-01`)).status, 401, "no key, no list");
});

test("signed in with a key: the deployments and models the key can use, and a chat in the playground", { timeout: 120_000 }, async () => {
  const page = await keySignedInPage(browser, server);
  page.setDefaultTimeout(15_000);
  const main = page.locator("main.content");

  await page.goto(`${server.url}/#/deployments`);
  const row = main.locator("tr[data-deployment=tiny-chat]");
  await row.waitFor();
  assert.match(await row.innerText(), /tiny-chat[\s\S]*Succeeded[\s\S]*GlobalStandard/);
  assert.equal(await main.locator("tr[data-deployment=tiny-embed]").count(), 1);
  assert.equal(await main.getByTestId("token-notice").count(), 0, "no 'sign in with a token' wall");
  await screenshot(page, "02-key-deployments");
  await row.getByRole("link", { name: "tiny-chat" }).click();
  await main.getByTestId("endpoints").waitFor();
  assert.match(await main.getByTestId("endpoints").innerText(), /\/openai\/deployments\/tiny-chat\/chat\/completions/);

  await page.goto(`${server.url}/#/catalog`);
  const cards = main.getByTestId("model-card");
  await cards.first().waitFor();
  const ids = await cards.evaluateAll((els) => els.map((e) => e.getAttribute("data-model")));
  assert.ok(ids.includes("tiny-chat") && ids.includes("tiny-embed"), `the catalog lists the key's models: ${ids.join(", ")}`);
  assert.ok(!ids.includes("gpt-4.1-mini"), "models without open weights are not offered to a key: it cannot run them");
  await main.locator("input[name=search]").fill("tiny-chat");
  await page.waitForFunction(() => document.querySelectorAll("[data-testid=model-card]").length === 1);
  await screenshot(page, "03-key-catalog");
  await cards.first().click();
  await main.getByTestId("model-title").waitFor();
  assert.match(await main.getByTestId("model-deployments").innerText(), /tiny-chat\s+Succeeded/);

  await page.goto(`${server.url}/#/playground`);
  await page.waitForFunction(() => document.querySelector("select[name=deployment]")?.value === "tiny-chat");
  const options = await main.locator("select[name=deployment] option").allInnerTexts();
  assert.ok(options.some((o) => o.startsWith("tiny-chat")), options.join(" | "));
  assert.ok(!options.some((o) => o.startsWith("tiny-embed")), "only chat deployments are offered");
  await main.locator("input[name=maxTokens]").fill("12");
  await main.locator("textarea[name=message]").fill("Hello!");
  await main.getByRole("button", { name: "Send" }).click();
  await page.waitForFunction(() => /TTFT \d+ ms/.test(document.querySelector("[data-testid=stats]")?.textContent ?? ""), undefined, { timeout: 60_000 });
  assert.match(await page.getByTestId("stats").innerText(), /\d+ prompt \+ \d+ completion = \d+ tokens/);
  assert.ok((await page.locator(".msg.assistant").last().innerText()).trim().length > 0, "the answer is shown");
  await screenshot(page, "04-key-playground");
  await page.context().close();
});

test("a token signs in and shows the account and project", { timeout: 60_000 }, async () => {
  const page = await signedInPage(browser, server);
  assert.equal(await page.locator(".switcher select[name=account]").inputValue(), "ingot/ingot");
  assert.equal(await page.locator(".switcher select[name=project]").inputValue(), "default");
  await screenshot(page, "01-signed-in");
  await page.context().close();
});

test("the sign-in link `ingot up` prints signs the portal in once; a second use is refused", { timeout: 120_000 }, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "ingot-portal-link-"));
  let child: ChildProcess | undefined;
  try {
    child = spawn(process.execPath, [BIN, "up", "--port", "0", "--data-dir", dataDir, "--threads", "1", "--log-level", "warn"], { stdio: ["ignore", "ignore", "pipe"] });
    const [, link, base, code] = await waitForOutput(child.stderr!, /portal: ((http:\/\/[\d.:]+)\/\?signin=([A-Za-z0-9_-]+))/, 60_000);

    const page = await (await browser.newContext()).newPage();
    page.setDefaultTimeout(20_000);
    await page.goto(link);
    await page.locator("nav.side").waitFor();
    assert.equal(await page.locator(".switcher .badge").innerText(), "token");
    assert.equal(await page.locator(".switcher select[name=account]").inputValue(), "ingot/ingot", "the token opens ARM: the account list loads");
    assert.ok(!page.url().includes("signin="), `the spent code leaves the address bar: ${page.url()}`);
    await screenshot(page, "05-signin-link");

    const again = await (await browser.newContext()).newPage();
    await again.goto(link);
    const error = again.getByTestId("error");
    await error.waitFor({ timeout: 20_000 });
    assert.match(await error.innerText(), /SignInLinkInvalid: This sign-in link was already used or has expired.*ingot token/);
    assert.equal(await again.locator("nav.side").count(), 0);
    await screenshot(again, "06-signin-link-spent");

    // The exchange itself, as the portal calls it: public, and the code works only once.
    const replay = await fetch(`${base}/portal/signin`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ code }) });
    assert.equal(replay.status, 401);
    assert.equal((await json(replay)).error.code, "SignInLinkInvalid");
    const noCode = await fetch(`${base}/portal/signin`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    assert.equal(noCode.status, 400);
    await page.context().close();
    await again.context().close();
  } finally {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child!.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  }
});
