// Headless Chromium (Debian's `chromium`, installed by .ci/run) driven by playwright-core,
// for the portal's end-to-end tests. Screenshots go to test-output/screenshots/.
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";
import type { Browser, Page } from "playwright-core";
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

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
