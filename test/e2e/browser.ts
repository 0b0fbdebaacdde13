// Headless Chromium (Debian's `chromium`, installed by .ci/run) driven by playwright-core,
// for the portal's end-to-end tests. Screenshots go to test-output/screenshots/.
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { API_KEY, startServer } from "./harness.ts";
import type { TestServer } from "./harness.ts";

export const SCREENSHOT_DIR = join(import.meta.dirname, "../../test-output/screenshots");

const CANDIDATES = [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].filter(Boolean) as string[];

export function chromiumPath(): string {
  const found = CANDIDATES.find((p) => existsSync(p));
  if (!found) throw new Error(`No Chromium found (looked at ${CANDIDATES.join(", ")}). Install Debian's 'chromium' package (.ci/run does) or set CHROMIUM_PATH.`);
  return found;
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), headless: true, args: ["--no-sandbox", "--disable-dev-shm-usage"] });
}

export interface Portal {
  server: TestServer;
  browser: Browser;
}

/** A server with default options and a Chromium to drive its portal: what a portal test file starts before its tests. */
export async function openPortal(): Promise<Portal> {
  const server = await startServer();
  try {
    return { server, browser: await launchBrowser() };
  } catch (e) {
    await server.stop();
    throw e;
  }
}

/** Closes what openPortal started (the browser first: its pages talk to the server); either may be absent if starting failed. */
export async function closePortal(portal: Partial<Portal>): Promise<void> {
  await portal.browser?.close();
  await portal.server?.stop();
}

/** Opens the portal and signs in with the local admin's token (what `ingot token` prints). */
export async function signedInPage(browser: Browser, server: TestServer): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: server.url });
  const page = await context.newPage();
  await page.goto(server.url);
  await page.getByRole("tab", { name: "Token" }).click();
  await page.locator("textarea[name=token]").fill(server.ingot.identity.adminToken("management"));
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.locator("nav.side").waitFor();
  return page;
}

/** Opens the portal and signs in with the account key (the data plane only, no token). */
export async function keySignedInPage(browser: Browser, server: TestServer, key = API_KEY): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  await page.goto(server.url);
  await page.getByRole("tab", { name: "Account key" }).click();
  await page.locator("input[name=key]").fill(key);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.locator("nav.side").waitFor();
  return page;
}

/** Refuses the clipboard to the page's origin, as a user (or a policy) that blocks it would: writeText then rejects. */
export async function denyClipboard(browser: Browser, context: BrowserContext, page: Page, origin: string): Promise<void> {
  // Playwright can only grant permissions; Chromium's DevTools protocol can deny one, per browser context.
  const target = (await (await context.newCDPSession(page)).send("Target.getTargetInfo")) as { targetInfo: { browserContextId?: string } };
  const cdp = await browser.newBrowserCDPSession();
  await cdp.send("Browser.setPermission", { permission: { name: "clipboard-write" }, setting: "denied", origin, browserContextId: target.targetInfo.browserContextId });
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
