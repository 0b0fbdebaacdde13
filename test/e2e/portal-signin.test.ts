// Portal sign-in in real Chromium: a wrong key is refused with an actionable message, a key
// opens the data plane, a token opens everything and shows the account.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Browser } from "playwright-core";
import { launchBrowser, screenshot, signedInPage } from "./browser.ts";
import { API_KEY, startServer } from "./harness.ts";
import type { TestServer } from "./harness.ts";

let server: TestServer;
let browser: Browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

test("a wrong key is refused in words the user can act on; the right key signs in", async () => {
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
});

test("a token signs in and shows the account and project", async () => {
  const page = await signedInPage(browser, server);
  assert.equal(await page.locator(".switcher select[name=account]").inputValue(), "ingot/ingot");
  assert.equal(await page.locator(".switcher select[name=project]").inputValue(), "default");
  await screenshot(page, "01-signed-in");
});
