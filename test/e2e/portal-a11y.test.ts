// The portal from the keyboard, in real Chromium: a modal dialog traps focus (Tab cycles inside
// it, Escape closes it, focus returns to what opened it); the fine-tuning wizard is completed
// with Tab, arrows, Space and Enter alone; and "Copied" appears only when the clipboard took
// the text, with a failure message when the browser refused it.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { toFile } from "openai";
import type { Browser, Page } from "playwright-core";
import { closePortal, denyClipboard, openPortal, screenshot, signedInPage } from "./browser.ts";
import type { TestServer } from "./harness.ts";
import { FACTS, line } from "../fixtures/codename-facts.ts";

// page.evaluate callbacks run in the page, where the DOM exists (the tests' lib has no DOM types).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
declare const document: any;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
declare const navigator: any;

let server: TestServer;
let browser: Browser;

before(async () => ({ server, browser } = await openPortal()));
after(() => closePortal({ server, browser }));

/** What has focus: its tag, accessible-ish name, and the dialog it sits in (if any). */
interface Focus {
  tag: string;
  name: string;
  type: string;
  value: string;
  checked: boolean;
  dialog: string | null;
}

const focused = (page: Page): Promise<Focus> =>
  page.evaluate(() => {
    const el = document.activeElement;
    const dialog = el?.closest("[role=dialog]");
    return {
      tag: el?.tagName.toLowerCase() ?? "",
      name: (el?.getAttribute("aria-label") ?? el?.textContent ?? "").trim(),
      type: el?.getAttribute("type") ?? "",
      value: el?.value ?? "",
      checked: !!el?.checked,
      dialog: dialog ? (document.getElementById(dialog.getAttribute("aria-labelledby"))?.textContent ?? dialog.getAttribute("aria-label")) : null,
    };
  });

/** Presses Tab until `want` holds for the focused element; every stop must stay inside `dialog`. */
async function tabTo(page: Page, dialog: string, want: (f: Focus) => boolean, max = 60): Promise<Focus> {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press("Tab");
    const f = await focused(page);
    assert.equal(f.dialog, dialog, `Tab left the dialog '${dialog}': focus is on <${f.tag}> '${f.name}'`);
    if (want(f)) return f;
  }
  throw new Error(`Tab never reached the wanted control in '${dialog}'`);
}

test("a modal dialog traps focus: it moves in, Tab cycles inside, Escape closes, focus returns to the opener", { timeout: 60_000 }, async () => {
  const page = await signedInPage(browser, server);
  page.setDefaultTimeout(15_000);
  await page.goto(`${server.url}/#/deployments/tiny-chat`);
  const opener = page.getByRole("button", { name: "Edit capacity" });
  await opener.focus();
  await page.keyboard.press("Enter");
  const dialog = page.getByRole("dialog", { name: "Edit tiny-chat" });
  await dialog.waitFor();
  assert.equal(await dialog.getAttribute("aria-modal"), "true");
  const first = await focused(page);
  assert.deepEqual([first.dialog, first.tag, first.type], ["Edit tiny-chat", "input", "number"], "focus moved into the dialog, on its first field");
  await screenshot(page, "20-modal-focus");

  // Forward through every control and round again: focus never leaves the dialog.
  const names: string[] = [];
  for (let i = 0; i < 8; i++) {
    await page.keyboard.press("Tab");
    const f = await focused(page);
    assert.equal(f.dialog, "Edit tiny-chat", `Tab ${i + 1} left the dialog for <${f.tag}> '${f.name}'`);
    names.push(f.name || f.tag);
  }
  // The last control (Save), then Tab: back to the first (Close); Shift+Tab from there: the last again.
  await dialog.getByRole("button", { name: "Save" }).focus();
  await page.keyboard.press("Tab");
  assert.equal((await focused(page)).name, "Close", `after the last control comes the first: ${names.join(", ")}`);
  await page.keyboard.press("Shift+Tab");
  assert.equal((await focused(page)).name, "Save");

  await page.keyboard.press("Escape");
  await dialog.waitFor({ state: "detached" });
  assert.equal((await focused(page)).name, "Edit capacity", "focus is back on the button that opened the dialog");
  await page.context().close();
});

test("the fine-tuning wizard is completed from the keyboard alone", { timeout: 120_000 }, async () => {
  const file = await server.v1().files.create({ file: await toFile(Buffer.from(FACTS.map((f) => line(f.question, f.answer)).join("\n") + "\n"), "keyboard.jsonl"), purpose: "fine-tune" });
  await server.v1().files.waitForProcessing(file.id, { pollInterval: 200 });
  const page = await signedInPage(browser, server);
  page.setDefaultTimeout(15_000);
  await page.goto(`${server.url}/#/fine-tuning`);
  const opener = page.getByRole("button", { name: "Fine-tune a model" });
  const WIZARD = "Fine-tune a model";
  const wizard = page.getByRole("dialog", { name: WIZARD });
  const stepShown = (n: number) => page.getByTestId(`wizard-step-${n}`).waitFor();

  // Opened from the keyboard, focus goes in; Escape closes it and gives focus back.
  await opener.focus();
  await page.keyboard.press("Enter");
  await wizard.waitFor();
  assert.equal(await wizard.getAttribute("aria-modal"), "true");
  assert.equal((await focused(page)).dialog, WIZARD, "focus moved into the wizard");
  await page.keyboard.press("Escape");
  await wizard.waitFor({ state: "detached" });
  assert.equal((await focused(page)).name, "Fine-tune a model");
  await page.keyboard.press("Enter");
  await wizard.waitFor();

  // 1. Base model: Tab into the radio group, arrows to tiny-chat.
  await wizard.locator("input[name=base-model]").first().waitFor();
  await tabTo(page, WIZARD, (f) => f.type === "radio");
  for (let i = 0; i < 30 && (await focused(page)).value !== "tiny-chat"; i++) await page.keyboard.press("ArrowDown");
  await page.keyboard.press("Space");
  assert.equal(await wizard.locator("input[name=base-model][value=tiny-chat]").isChecked(), true);
  await tabTo(page, WIZARD, (f) => f.name === "Next");
  await page.keyboard.press("Enter");
  await stepShown(1);

  // 2. Training data: the "Files already uploaded" tab, then the file's radio with Space.
  await tabTo(page, WIZARD, (f) => f.name.startsWith("Files already uploaded"));
  await page.keyboard.press("Enter");
  await wizard.locator("input[name=training-file]").first().waitFor();
  await tabTo(page, WIZARD, (f) => f.type === "radio" && f.value === file.id);
  await page.keyboard.press("Space");
  await wizard.getByTestId("file-ok").waitFor();
  await tabTo(page, WIZARD, (f) => f.name === "Next");
  await page.keyboard.press("Enter");
  await stepShown(2);

  // 3. Validation data: arrows from "No validation data" to the automatic split.
  await tabTo(page, WIZARD, (f) => f.type === "radio" && f.checked);
  await page.keyboard.press("ArrowDown");
  assert.equal(await wizard.locator("input[name=validation-mode][value=split]").isChecked(), true);
  await tabTo(page, WIZARD, (f) => f.name === "Next");
  await page.keyboard.press("Enter");
  await stepShown(3);

  // 4. Task parameters: defaults; on to the review.
  await tabTo(page, WIZARD, (f) => f.name === "Next");
  await page.keyboard.press("Enter");
  await stepShown(4);
  assert.match(await wizard.getByTestId("review").innerText(), /tiny-chat[\s\S]*keyboard\.jsonl[\s\S]*validation_split 0\.2/);

  // A finished step is a button: back to "Task parameters" with Enter, then forward again.
  await tabTo(page, WIZARD, (f) => f.tag === "button" && f.name.startsWith("4. Task parameters"));
  await page.keyboard.press("Enter");
  await stepShown(3);
  await tabTo(page, WIZARD, (f) => f.name === "Next");
  await page.keyboard.press("Space");
  await stepShown(4);
  await screenshot(page, "21-wizard-keyboard");

  await tabTo(page, WIZARD, (f) => f.name === "Start training job");
  await page.keyboard.press("Enter");
  await page.waitForURL(/#\/fine-tuning\/jobs\/ftjob-/);
  const id = /ftjob-[\w-]+/.exec(page.url())![0];
  // The job itself is not under test here: stop it so it does not hold the CPU.
  await server.v1().fineTuning.jobs.cancel(id);
  await page.context().close();
});

test("'Copied' only when the clipboard took the text; a refusal says so", { timeout: 60_000 }, async () => {
  // Granted: the button says Copied and the clipboard holds the endpoint.
  const page = await signedInPage(browser, server);
  page.setDefaultTimeout(15_000);
  await page.goto(`${server.url}/#/deployments/tiny-chat`);
  const endpoints = page.getByTestId("endpoints");
  await endpoints.waitFor();
  const url = await endpoints.locator("code.url").first().innerText();
  await endpoints.getByRole("button", { name: "Copy" }).first().click();
  await endpoints.getByRole("button", { name: "Copied" }).waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), url);
  await page.context().close();

  // Denied: no "Copied", a message that says what to do instead.
  const denied = await signedInPage(browser, server);
  denied.setDefaultTimeout(15_000);
  await denyClipboard(browser, denied.context(), denied, server.url);
  await denied.goto(`${server.url}/#/deployments/tiny-chat`);
  const rows = denied.getByTestId("endpoints");
  await rows.waitFor();
  await rows.getByRole("button", { name: "Copy" }).first().click();
  const status = rows.getByRole("status").first();
  await status.filter({ hasText: /Could not copy/ }).waitFor();
  assert.match(await status.innerText(), /Could not copy.*Ctrl\+C/);
  assert.equal(await rows.getByRole("button", { name: "Copied" }).count(), 0, "a refused copy never says Copied");
  await screenshot(denied, "22-copy-refused");
  await denied.context().close();
});
