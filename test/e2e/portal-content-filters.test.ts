// The portal's content filtering in real Chromium against a real server: create a blocklist with
// an item on the Content filters page, a custom policy that uses it, deploy tiny-chat with that
// policy from the Deploy dialog, then in the playground see a benign answer's annotations and the
// filtered prompt when the blocked word is sent, as Azure's playground shows them. Keyboard and
// labels as the other pages: the policy editor is a modal that traps focus, every control named.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { closePortal, openPortal, screenshot, signedInPage } from "./browser.ts";
import { json } from "./harness.ts";
import type { TestServer } from "./harness.ts";

// page.evaluate callbacks run in the page, where the DOM exists (the tests' lib has no DOM types).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
declare const document: any;

const ACCOUNT = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/ingot/providers/Microsoft.CognitiveServices/accounts/ingot";
let server: TestServer;
let browser: Browser;
let page: Page;

before(async () => {
  ({ server, browser } = await openPortal());
  page = await signedInPage(browser, server);
  page.setDefaultTimeout(20_000);
});
after(() => closePortal({ server, browser }));

const arm = async (path: string) =>
  json(await fetch(`${server.url}${path}?api-version=2024-10-01`, { headers: { authorization: `Bearer ${server.ingot.identity.adminToken("management")}` } }));
const main = () => page.locator("main.content");
const armPut = async (path: string, body: unknown) => {
  const res = await fetch(`${server.url}${path}?api-version=2024-10-01`, {
    method: "PUT",
    headers: { authorization: `Bearer ${server.ingot.identity.adminToken("management")}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  assert.ok(res.status < 300, `PUT ${path}: ${res.status} ${await res.text()}`);
};

test("content filters page: built-ins are read-only; a blocklist gets plain, regex and batch items", { timeout: 120_000 }, async () => {
  await page.getByRole("link", { name: "Content filters" }).click();
  await page.waitForURL(/#\/content-filters$/);
  const policies = main().getByTestId("policies");
  await policies.getByRole("rowheader", { name: "Microsoft.DefaultV2" }).waitFor();
  assert.match(await policies.innerText(), /Microsoft\.Default\s+Built-in/);
  // tiny-chat names no policy: the default applies, shown both in the policy row and the deployments table.
  assert.match(await policies.getByRole("row", { name: /Microsoft\.DefaultV2/ }).innerText(), /tiny-chat/);
  assert.match(await main().getByTestId("deployment-policies").innerText(), /tiny-chat\s+tiny-chat\s+Microsoft\.DefaultV2/);

  // A built-in opens read-only.
  await main().getByRole("button", { name: "View policy Microsoft.DefaultV2" }).click();
  const view = page.getByRole("dialog", { name: "Policy Microsoft.DefaultV2" });
  await view.waitFor();
  assert.equal(await view.getByLabel("Hate prompt threshold").inputValue(), "Medium");
  assert.equal(await view.getByLabel("Hate prompt threshold").isDisabled(), true);
  assert.equal(await view.getByRole("button", { name: /Save|Create/ }).count(), 0);
  await page.keyboard.press("Escape");
  await view.waitFor({ state: "detached" });

  await main().locator("input[name=blocklistName]").fill("competitors");
  await main().locator("input[name=blocklistDescription]").fill("rival brands");
  await main().getByRole("button", { name: "Create blocklist" }).click();
  const items = main().getByTestId("blocklist-items");
  await items.waitFor();
  await items.getByLabel("Pattern", { exact: true }).fill("zebra");
  await items.getByRole("button", { name: "Add item" }).click();
  await items.getByRole("rowheader", { name: "zebra" }).waitFor();
  await items.getByLabel("Regular expression").check();
  await items.getByLabel("Pattern", { exact: true }).fill("acme[0-9]+");
  await items.getByRole("button", { name: "Add item" }).click();
  await items.getByRole("rowheader", { name: "acme-0-9" }).waitFor();
  await items.getByLabel("Regular expression").uncheck();
  await items.getByLabel("Add several (one pattern per line)").fill("initech\numbrella corp\n");
  await items.getByRole("button", { name: "Add all" }).click();
  await items.getByRole("rowheader", { name: "umbrella-corp" }).waitFor();
  // Batch delete two of them.
  await items.getByLabel("Select item initech").check();
  await items.getByLabel("Select item umbrella-corp").check();
  await items.getByRole("button", { name: "Delete selected (2)" }).click();
  await items.getByRole("rowheader", { name: "initech" }).waitFor({ state: "detached" });

  const stored = await arm(`${ACCOUNT}/raiBlocklists/competitors/raiBlocklistItems`);
  const patterns = Object.fromEntries(stored.value.map((i: any) => [i.properties.pattern, i.properties.isRegex]));
  assert.deepEqual(patterns, { zebra: false, "acme[0-9]+": true });
  assert.equal((await arm(`${ACCOUNT}/raiBlocklists/competitors`)).properties.description, "rival brands");
  await screenshot(page, "40-content-filters-blocklist");
});

test("policy editor: a custom policy with thresholds, an annotate-only filter, the mode and the blocklist", { timeout: 120_000 }, async () => {
  const opener = main().getByRole("button", { name: "Create policy" });
  await opener.focus();
  await page.keyboard.press("Enter");
  const dialog = page.getByRole("dialog", { name: "Create content-filter policy" });
  await dialog.waitFor();
  assert.equal(await dialog.getAttribute("aria-modal"), "true");
  // Starts from Microsoft.DefaultV2's settings.
  assert.equal(await dialog.getByLabel("Violence completion threshold").inputValue(), "Medium");
  assert.equal(await dialog.getByLabel("Jailbreak (prompt shields) prompt on").isChecked(), true);
  await dialog.getByLabel("Policy name").fill("strict-chat");
  await dialog.locator("select[name=mode]").selectOption("Asynchronous_filter");
  await dialog.getByLabel("Hate prompt threshold").selectOption("Low");
  await dialog.getByLabel("Sexual completion threshold").selectOption("Off");
  await dialog.getByLabel("Violence completion action").selectOption("annotate");
  await dialog.getByLabel("Protected material (code) completion on").uncheck();
  await dialog.getByLabel("Blocklist competitors on prompts").check();
  await screenshot(page, "41-policy-editor");
  await dialog.getByRole("button", { name: "Create policy" }).click();
  await dialog.waitFor({ state: "detached" });
  await main().getByTestId("policies").getByRole("rowheader", { name: "strict-chat" }).waitFor();

  const p = (await arm(`${ACCOUNT}/raiPolicies/strict-chat`)).properties;
  const f = (name: string, source: string) => p.contentFilters.find((x: any) => x.name === name && x.source === source);
  assert.equal(p.mode, "Asynchronous_filter");
  assert.equal(p.basePolicyName, "Microsoft.DefaultV2");
  assert.deepEqual([f("Hate", "Prompt").enabled, f("Hate", "Prompt").blocking, f("Hate", "Prompt").severityThreshold], [true, true, "Low"]);
  assert.equal(f("Sexual", "Completion").enabled, false);
  assert.deepEqual([f("Violence", "Completion").enabled, f("Violence", "Completion").blocking], [true, false]);
  assert.equal(f("Protected Material Code", "Completion").enabled, false);
  assert.deepEqual(
    p.customBlocklists.map((b: any) => [b.blocklistName, b.source, b.blocking]),
    [["competitors", "Prompt", true]],
  );

  // Editing keeps the name and shows what was saved.
  await main().getByRole("button", { name: "Edit policy strict-chat" }).click();
  const edit = page.getByRole("dialog", { name: "Edit policy strict-chat" });
  assert.equal(await edit.getByLabel("Hate prompt threshold").inputValue(), "Low");
  assert.equal(await edit.getByLabel("Violence completion action").inputValue(), "annotate");
  assert.equal(await edit.getByLabel("Policy name").isDisabled(), true);
  await edit.getByRole("button", { name: "Cancel" }).click();
});

test("deploy dialog picks the policy; the playground shows annotations and the filtered prompt", { timeout: 180_000 }, async () => {
  await page.goto(`${server.url}/#/catalog/Ingot/tiny-chat`);
  await main().getByTestId("model-title").waitFor();
  await main().getByRole("button", { name: "Deploy", exact: true }).click();
  const dialog = page.getByRole("dialog", { name: "Deploy model" });
  await dialog.locator("input[name=deploymentName]").fill("filtered-chat");
  const picker = dialog.getByLabel("Content filter");
  await page.waitForFunction(() => [...(document.querySelector("select[name=raiPolicy]")?.options ?? [])].some((o: any) => o.value === "strict-chat"));
  assert.equal(await picker.inputValue(), "Microsoft.DefaultV2", "the default policy is preselected");
  await picker.selectOption("strict-chat");
  assert.match(await dialog.innerText(), /Custom policy, mode Asynchronous_filter/);
  await dialog.locator("select[name=sku]").selectOption("Standard");
  await dialog.locator("input[name=capacity]").fill("10");
  await dialog.getByRole("button", { name: "Deploy", exact: true }).click();
  await page.waitForFunction(() => document.querySelector("[data-testid=deploy-state]")?.textContent === "Succeeded", undefined, { timeout: 90_000 });
  assert.equal((await arm(`${ACCOUNT}/deployments/filtered-chat`)).properties.raiPolicyName, "strict-chat");
  await dialog.getByRole("button", { name: "Go to deployment" }).click();
  await main().getByTestId("deployment-title").waitFor();
  assert.match(await main().locator("dl.kv").first().innerText(), /Content filter\s+strict-chat/);

  await page.goto(`${server.url}/#/playground?deployment=filtered-chat`);
  await page.waitForFunction(() => document.querySelector("select[name=deployment]")?.value === "filtered-chat");
  await main().locator("input[name=maxTokens]").fill("24");
  await main().locator("textarea[name=message]").fill("Tell me about the sea and ships.");
  await main().getByRole("button", { name: "Send" }).click();
  const annotations = main().getByTestId("annotations");
  await annotations.waitFor({ timeout: 60_000 });
  await page.waitForFunction(() => !document.querySelector("button.danger"));
  assert.match(await annotations.locator("summary").innerText(), /Content filtering: passed/);
  await annotations.locator("summary").click();
  const prompt = await annotations.getByTestId("filter-prompt").innerText();
  assert.match(prompt, /Hate\s+safe/);
  assert.match(prompt, /Jailbreak \(prompt shields\)|Jailbreak\s+not detected/);
  assert.match(prompt, /Custom blocklists\s+no match/);
  assert.match(await annotations.getByTestId("filter-completion").innerText(), /Violence\s+safe/);
  await screenshot(page, "42-playground-annotations");

  // The blocked word: a 400 content_filter, shown as a filtered prompt naming the blocklist.
  await main().locator("textarea[name=message]").fill("Is a zebra a horse?");
  await main().getByRole("button", { name: "Send" }).click();
  const filtered = main().getByTestId("filtered-prompt");
  await filtered.waitFor();
  assert.equal(await filtered.getAttribute("role"), "alert");
  assert.match(await filtered.innerText(), /filtered by the deployment's content filter: blocklist competitors/);
  assert.match(await filtered.getByTestId("filter-prompt").innerText(), /Custom blocklists\s+competitors \(filtered\)/);
  assert.equal(await main().getByTestId("error").count(), 0, "a filtered prompt is not shown as an error");
  await screenshot(page, "43-playground-filtered");

  // The next turn does not resend the refused prompt.
  await main().locator("textarea[name=message]").fill("Thanks.");
  const [request] = await Promise.all([page.waitForRequest((r) => r.url().endsWith("/chat/completions")), main().getByRole("button", { name: "Send" }).click()]);
  const sent = request.postDataJSON().messages.map((m: { content: string }) => m.content);
  assert.ok(!sent.some((c: string) => /zebra/.test(c)), `sent: ${JSON.stringify(sent)}`);
  await page.waitForFunction(() => !document.querySelector("button.danger"));
});

test("playground: a completion cut by the filter (finish_reason content_filter) is marked and its annotations opened", { timeout: 120_000 }, async () => {
  // Any letter on the completion side, Default mode: the first checked segment is cut.
  await armPut(`${ACCOUNT}/raiBlocklists/letters`, { properties: { description: "every word" } });
  await armPut(`${ACCOUNT}/raiBlocklists/letters/raiBlocklistItems/any`, { properties: { pattern: "[A-Za-z]", isRegex: true } });
  await armPut(`${ACCOUNT}/raiPolicies/cut-all`, { properties: { basePolicyName: "Microsoft.DefaultV2", mode: "Default", customBlocklists: [{ blocklistName: "letters", source: "Completion", blocking: true }] } });
  await armPut(`${ACCOUNT}/deployments/cut-chat`, { sku: { name: "Standard", capacity: 10 }, properties: { model: { format: "Ingot", name: "tiny-chat", version: "1" }, raiPolicyName: "cut-all" } });
  for (const deadline = Date.now() + 60_000; (await arm(`${ACCOUNT}/deployments/cut-chat`)).properties.provisioningState !== "Succeeded"; ) {
    assert.ok(Date.now() < deadline, "cut-chat did not succeed within 60 s");
    await new Promise((r) => setTimeout(r, 200));
  }
  await page.goto(`${server.url}/#/playground?deployment=cut-chat`);
  await page.waitForFunction(() => document.querySelector("select[name=deployment]")?.value === "cut-chat");
  await main().getByRole("button", { name: "Clear chat" }).click();
  await main().locator("input[name=temperature]").fill("0");
  await main().locator("textarea[name=message]").fill("Tell me about the sea and the ships.");
  await main().getByRole("button", { name: "Send" }).click();
  await page.waitForFunction(() => /finish: content_filter/.test(document.querySelector("[data-testid=stats]")?.textContent ?? ""), undefined, { timeout: 60_000 });
  const annotations = main().getByTestId("annotations");
  assert.equal(await annotations.getAttribute("open"), "", "opened when the answer was cut");
  assert.match(await annotations.locator("summary").innerText(), /Content filtered: the answer was cut here \(blocklist letters\)/);
  assert.match(await annotations.getByTestId("filter-completion").innerText(), /Custom blocklists\s+letters \(filtered\)/);
  assert.match(await main().locator(".msg.assistant").last().innerText(), /\[cut by the content filter\]/);
  await screenshot(page, "44-playground-cut");
});

test("a11y: every control on the page and in the editor has a name; tables have headers", { timeout: 60_000 }, async () => {
  await page.goto(`${server.url}/#/content-filters`);
  await main().getByTestId("policies").getByRole("rowheader", { name: "strict-chat" }).waitFor();
  await main().getByRole("button", { name: "Items of blocklist competitors" }).click();
  await main().getByTestId("blocklist-items").waitFor();
  await main().getByRole("button", { name: "Edit policy strict-chat" }).click();
  await page.getByRole("dialog", { name: "Edit policy strict-chat" }).waitFor();
  const unnamed = await page.evaluate(() => {
    const nameOf = (el: any) => (el.getAttribute("aria-label") || (el.labels && [...el.labels].map((l: any) => l.textContent).join(" ")) || el.textContent || "").trim();
    return [...document.querySelectorAll("main input, main select, main textarea, main button, [role=dialog] input, [role=dialog] select, [role=dialog] button")]
      .filter((el: any) => !nameOf(el))
      .map((el: any) => el.outerHTML.slice(0, 120));
  });
  assert.deepEqual(unnamed, [], "controls without an accessible name");
  const headless = await page.evaluate(() => [...document.querySelectorAll("main table, [role=dialog] table")].filter((t: any) => !t.querySelector("th")).length);
  assert.equal(headless, 0, "tables without header cells");
  // Focus stays in the editor; Escape closes it and gives focus back to Edit.
  for (let i = 0; i < 40; i++) {
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate(() => !!document.activeElement?.closest("[role=dialog]")), true, `Tab ${i + 1} left the policy editor`);
  }
  await page.keyboard.press("Escape");
  await page.getByRole("dialog").waitFor({ state: "detached" });
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute("aria-label")), "Edit policy strict-chat");
});
