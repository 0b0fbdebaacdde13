// The portal's Azure ML pages in real Chromium against a real server: create a workspace from
// the picker, a serverless endpoint on tiny-chat from the catalog (watched until Succeeded),
// reveal its key and send the Python snippet's request (URL, `Authorization: <key>`, body) with
// fetch; a third-party model's marketplace 400 and the Subscribe offer; an online endpoint with
// a 2-instance deployment and a second one, the traffic split edited (a sum other than 100 is
// refused in the page) and saved, a scale-down, the scoring URI answering with the shown key;
// and the accessibility checks portal-a11y makes: named controls, a focus-trapping dialog
// opened and filled from the keyboard.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { closePortal, openPortal, screenshot, signedInPage } from "./browser.ts";
import { json } from "./harness.ts";
import type { TestServer } from "./harness.ts";

// page.evaluate callbacks run in the page, where the DOM exists (the tests' lib has no DOM types).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
declare const document: any;

const SUB = "00000000-0000-0000-0000-000000000000";
const WS = "portal-ws";
const WS_PATH = `/subscriptions/${SUB}/resourceGroups/ingot/providers/Microsoft.MachineLearningServices/workspaces/${WS}`;
const SERVERLESS = "tiny-sls";
const ONLINE = "portal-online";

let server: TestServer;
let browser: Browser;
let page: Page;

before(async () => {
  ({ server, browser } = await openPortal());
  page = await signedInPage(browser, server);
  page.setDefaultTimeout(20_000);
  page.on("pageerror", (e) => console.log(`# page error: ${e.stack ?? e.message}`));
});
after(() => closePortal({ server, browser }));

/** An ARM call with the admin token, as `az rest` would make it. */
const armCall = (method: string, path: string, body?: unknown, apiVersion = "2024-10-01") =>
  fetch(`${server.url}${path}?api-version=${apiVersion}`, {
    method,
    headers: { authorization: `Bearer ${server.ingot.identity.adminToken("management")}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });

/** The steps build on each other: after a failure the rest are skipped rather than timing out one by one. */
let broken = false;
function step(name: string, timeout: number, fn: () => Promise<void>): void {
  test(name, { timeout }, async (t) => {
    if (broken) return t.skip("an earlier step failed");
    try {
      await fn();
    } catch (e) {
      broken = true;
      await screenshot(page, "portal-ml-failure").catch(() => undefined);
      throw e;
    }
  });
}

const main = () => page.locator("main.content");

/** Every visible control of the page (and its open dialogs) has an accessible name; tables have header cells. */
async function assertNamed(where: string): Promise<void> {
  const unnamed: string[] = await page.evaluate(() => {
    const out: string[] = [];
    const visible = (el: any) => el.getClientRects().length > 0;
    for (const el of document.querySelectorAll("main.content input, main.content select, main.content textarea, main.content button, [role=dialog] input, [role=dialog] select, [role=dialog] button")) {
      if (!visible(el) || el.type === "hidden") continue;
      const labelled = el.getAttribute("aria-label") || el.getAttribute("aria-labelledby") || (el.labels && el.labels.length > 0) || (el.tagName === "BUTTON" && el.textContent.trim());
      if (!labelled) out.push(`<${el.tagName.toLowerCase()} name=${el.getAttribute("name")}>`);
    }
    for (const table of document.querySelectorAll("main.content table")) if (table.querySelectorAll("thead th").length === 0) out.push("a table without header cells");
    return out;
  });
  assert.deepEqual(unnamed, [], `${where}: controls without an accessible name`);
}

step("no workspace yet: the page offers to create one, and creates a Default workspace", 60_000, async () => {
  await page.goto(`${server.url}/#/serverless`);
  const card = main().getByTestId("no-workspace");
  await card.waitFor();
  await assertNamed("create workspace");
  await card.getByLabel("Workspace name").fill(WS);
  assert.equal(await card.getByRole("radio", { name: /Default/ }).isChecked(), true);
  await card.getByRole("button", { name: "Create workspace" }).click();
  await main().locator("select[name=workspace]").waitFor();
  assert.match(await main().locator("select[name=workspace] option:checked").innerText(), new RegExp(`^${WS} \\(Default`));
  const ws = await json(await armCall("GET", WS_PATH));
  assert.equal(ws.kind, "Default");
  await main().getByText("No serverless endpoints yet").waitFor();
});

let uri = "";
let key = "";

step("create a serverless endpoint on tiny-chat from the catalog; it reaches Succeeded", 180_000, async () => {
  // Opened from the keyboard: focus lands in the dialog, on the name.
  const opener = main().getByRole("button", { name: "+ Create endpoint" });
  await opener.focus();
  await page.keyboard.press("Enter");
  const dialog = page.getByRole("dialog", { name: "Create serverless endpoint" });
  await dialog.waitFor();
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute("name")), "endpointName", "focus starts on the name");
  await page.keyboard.type(SERVERLESS);
  await dialog.locator("select[name=model]").selectOption("tiny-chat");
  await dialog.getByTestId("model-summary").waitFor();
  assert.equal(await dialog.getByTestId("model-id").innerText(), "azureml://registries/azureml/models/tiny-chat", "serverless names the versionless registry id");
  await assertNamed("create serverless dialog");
  await screenshot(page, "60-serverless-create");
  await dialog.getByRole("button", { name: "Create", exact: true }).click();
  await page.waitForURL(new RegExp(`#/serverless/${SERVERLESS}$`));
  await main().getByTestId("state").filter({ hasText: "Succeeded" }).waitFor({ timeout: 150_000 });
  uri = await main().getByTestId("endpoint-uri").innerText();
  assert.match(uri, new RegExp(`^${server.url}/serverless/${SERVERLESS}-[a-z]{5}$`), "no trailing slash: callers append /v1/chat/completions");
});

step("reveal the key; the Python snippet's request (URL, Authorization: <key>, body) works with fetch", 90_000, async () => {
  const keys = main().getByTestId("keys");
  const primary = keys.locator("[data-key='Primary key']");
  await primary.waitFor();
  assert.match(await primary.innerText(), /•/, "masked until revealed");
  await keys.getByRole("button", { name: "Show primary key" }).click();
  key = await primary.innerText();
  assert.doesNotMatch(key, /•/);
  assert.ok(key.length >= 16);
  await assertNamed("serverless detail");
  await screenshot(page, "61-serverless-endpoint");

  const python = await main().getByTestId("snippet-python-requests").innerText();
  const url = /^url = "([^"]+)"$/m.exec(python)?.[1];
  assert.equal(url, `${uri}/v1/chat/completions`);
  assert.match(python, /headers = \{"Content-Type": "application\/json", "Authorization": os\.environ\["AZURE_ML_ENDPOINT_KEY"\]\}/, "the bare key, as seed 004 sends it");
  assert.match(python, /requests\.post\(url, json=payload, headers=headers\)/);
  const res = await fetch(url!, { method: "POST", headers: { "Content-Type": "application/json", Authorization: key }, body: JSON.stringify({ max_tokens: 8, messages: [{ role: "user", content: "Hello!" }] }) });
  assert.equal(res.status, 200, await res.clone().text());
  const body = await json(res);
  assert.equal(body.object, "chat.completion");
  assert.equal(typeof body.choices[0].message.content, "string");

  await main().getByRole("tab", { name: "curl" }).click();
  assert.match(await main().getByTestId("snippet-curl").innerText(), new RegExp(`curl "${uri}/v1/chat/completions"[\\s\\S]*-H "Authorization: \\$AZURE_ML_ENDPOINT_KEY"`));
  await main().getByRole("tab", { name: "OpenAI (JS)" }).click();
  assert.match(await main().getByTestId("snippet-openai-js").innerText(), new RegExp(`baseURL: "${uri}/v1"`));

  // Regenerating the primary key: the old one stops working, the new one is shown.
  await keys.getByRole("button", { name: "Regenerate primary key" }).click();
  const confirm = page.getByRole("dialog", { name: "Regenerate the primary key" });
  await confirm.getByRole("button", { name: "Regenerate" }).click();
  await confirm.waitFor({ state: "detached" });
  await keys.getByRole("button", { name: "Show primary key" }).click();
  const fresh = await primary.innerText();
  assert.notEqual(fresh, key);
  const old = await fetch(url!, { method: "POST", headers: { "Content-Type": "application/json", Authorization: key }, body: JSON.stringify({ max_tokens: 4, messages: [{ role: "user", content: "Hi" }] }) });
  assert.equal(old.status, 401);
  key = fresh;
});

step("a third-party model without a marketplace subscription: the 400's message and a Subscribe offer", 60_000, async () => {
  await main().getByRole("link", { name: "Serverless endpoints" }).click();
  await main().getByRole("button", { name: "+ Create endpoint" }).click();
  const dialog = page.getByRole("dialog", { name: "Create serverless endpoint" });
  await dialog.getByLabel("Endpoint name").fill("llama-sls");
  await dialog.locator("select[name=model]").selectOption("Llama-3.2-1B-Instruct");
  await dialog.getByTestId("model-summary").waitFor();
  await dialog.getByRole("button", { name: "Create", exact: true }).click();
  const alert = dialog.getByRole("alert");
  await alert.filter({ hasText: /marketplace subscription/ }).waitFor();
  await dialog.getByTestId("marketplace-offer").getByRole("button", { name: "Subscribe to Llama-3.2-1B-Instruct" }).click();
  await dialog.getByTestId("subscribed").waitFor();
  assert.equal(await alert.count(), 0, "the refusal is gone once subscribed");
  await screenshot(page, "62-serverless-marketplace");
  const sub = await json(await armCall("GET", `${WS_PATH}/marketplaceSubscriptions/Llama-3-2-1B-Instruct-sub`, undefined, "2024-01-01-preview"));
  assert.equal(sub.properties.modelId, "azureml://registries/azureml/models/Llama-3.2-1B-Instruct");
  assert.equal(sub.properties.marketplaceSubscriptionStatus, "Subscribed");
  // Not created: its weights are not on this machine. Escape closes the dialog and focus returns to its opener.
  await page.keyboard.press("Escape");
  await dialog.waitFor({ state: "detached" });
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), "+ Create endpoint");
  const list = main().getByTestId("serverless-endpoints");
  await list.locator(`[data-endpoint=${SERVERLESS}]`).waitFor();
  assert.equal(await list.locator("tbody tr").count(), 1);
});

step("a fine-tuned workspace model is picked by name and version, as its azureml://locations/… id", 60_000, async () => {
  const put = await armCall("PUT", `${WS_PATH}/models/portal-ft/versions/1`, { properties: { modelType: "custom_model", description: "registered by the test" } });
  assert.ok(put.status === 201 || put.status === 200, await put.text());
  const ws = await json(await armCall("GET", WS_PATH));
  await main().getByRole("button", { name: "+ Create endpoint" }).click();
  const dialog = page.getByRole("dialog", { name: "Create serverless endpoint" });
  await dialog.getByRole("radio", { name: /Fine-tuned model/ }).check();
  await dialog.locator("select[name=model]").selectOption("portal-ft");
  await dialog.locator("select[name=modelVersion]").selectOption("1");
  await dialog.getByTestId("model-id").filter({ hasText: "portal-ft" }).waitFor();
  assert.equal(await dialog.getByTestId("model-id").innerText(), `azureml://locations/${ws.location}/workspaces/${ws.properties.workspaceId}/models/portal-ft/versions/1`);
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await dialog.waitFor({ state: "detached" });
});

/** Waits until the deployment row shows `state` and `instances`. */
async function deploymentRow(name: string, state: string, instances: number, timeout = 150_000): Promise<void> {
  const row = main().getByTestId("online-deployments").locator(`tr[data-deployment=${name}]`);
  await row.getByTestId("state").filter({ hasText: new RegExp(`^${state}$`) }).waitFor({ timeout });
  await row.getByTestId("instances").filter({ hasText: new RegExp(`^${instances}$`) }).waitFor({ timeout });
}

step("an online endpoint with a 2-instance deployment, then a second deployment", 300_000, async () => {
  await main().page().goto(`${server.url}/#/online`);
  await main().getByRole("button", { name: "+ Create endpoint" }).click();
  const create = page.getByRole("dialog", { name: "Create online endpoint" });
  await create.getByLabel("Endpoint name").fill(ONLINE);
  await create.getByRole("button", { name: "Create", exact: true }).click();
  await page.waitForURL(new RegExp(`#/online/${ONLINE}$`));
  await main().getByText("No deployments yet").waitFor();

  await main().getByRole("button", { name: "+ Add deployment" }).first().click();
  const add = page.getByRole("dialog", { name: "Add deployment" });
  assert.equal(await add.getByLabel("Deployment name").inputValue(), "blue");
  await add.locator("select[name=model]").selectOption("tiny-chat");
  await add.getByLabel("Version").waitFor();
  await add.getByLabel("Instance count").fill("2");
  assert.equal(await add.getByLabel(/Send 100% of the endpoint's traffic/).isChecked(), true, "the first deployment takes all traffic");
  await assertNamed("add deployment dialog");
  await add.getByRole("button", { name: "Create", exact: true }).click();
  await add.waitFor({ state: "detached" });
  await deploymentRow("blue", "Succeeded", 2);

  await main().getByRole("button", { name: "+ Add deployment" }).first().click();
  assert.equal(await add.getByLabel("Deployment name").inputValue(), "green");
  await add.locator("select[name=model]").selectOption("tiny-chat");
  await add.getByLabel("Version").waitFor();
  await add.getByLabel(/Send 100% of the endpoint's traffic/).uncheck();
  await add.getByRole("button", { name: "Create", exact: true }).click();
  await add.waitFor({ state: "detached" });
  await deploymentRow("green", "Succeeded", 1);
  const deps = await json(await armCall("GET", `${WS_PATH}/onlineEndpoints/${ONLINE}/deployments`));
  const blue = deps.value.find((d: { name: string }) => d.name === "blue");
  assert.equal(blue.sku.capacity, 2);
  assert.match(blue.properties.model, /^azureml:\/\/registries\/azureml\/models\/tiny-chat\/versions\//);
  const traffic = (await json(await armCall("GET", `${WS_PATH}/onlineEndpoints/${ONLINE}`))).properties.traffic;
  assert.deepEqual([traffic.blue, traffic.green ?? 0], [100, 0], JSON.stringify(traffic));
});

step("the traffic split: a sum other than 100 is refused in the page; 70/30 is saved from the keyboard", 60_000, async () => {
  const traffic = main().getByTestId("traffic");
  const green = traffic.getByLabel("green (%)");
  await green.fill("20");
  await traffic.getByLabel("blue (%)").fill("70");
  await traffic.getByText("The split adds up to 90%: it must add up to 100%.").waitFor();
  assert.equal(await traffic.getByRole("button", { name: "Save traffic" }).isDisabled(), true);
  await assertNamed("online detail");
  // From the keyboard: into green's field, replace 20 with 30, Tab on to Save and press it.
  await green.focus();
  await page.keyboard.press("Control+A");
  await page.keyboard.type("30");
  await traffic.getByText("Total 100%.").waitFor();
  await page.keyboard.press("Tab");
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Save traffic");
  await page.keyboard.press("Enter");
  await traffic.getByText("Saved: 100% routed.").waitFor();
  await screenshot(page, "63-online-endpoint");
  for (let i = 0; ; i++) {
    const t = (await json(await armCall("GET", `${WS_PATH}/onlineEndpoints/${ONLINE}`))).properties.traffic;
    if (t.blue === 70 && t.green === 30) break;
    assert.ok(i < 100, `traffic not saved: ${JSON.stringify(t)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const row = main().getByTestId("online-deployments").locator("tr[data-deployment=green]");
  await row.getByText("30%").waitFor();
});

step("scale blue down to 1 instance; the scoring URI answers with the shown key", 200_000, async () => {
  await main().getByRole("button", { name: "Scale blue" }).click();
  const dialog = page.getByRole("dialog", { name: "Scale blue" });
  await dialog.getByLabel("Instance count").fill("1");
  await dialog.getByRole("button", { name: "Save" }).click();
  await dialog.waitFor({ state: "detached" });
  await deploymentRow("blue", "Succeeded", 1);
  assert.equal((await json(await armCall("GET", `${WS_PATH}/onlineEndpoints/${ONLINE}/deployments/blue`))).sku.capacity, 1);

  const scoring = await main().getByTestId("scoring-uri").innerText();
  assert.equal(scoring, `${server.url}/online/${ONLINE}/score`);
  const keys = main().getByTestId("keys");
  await keys.getByRole("button", { name: "Show primary key" }).click();
  const onlineKey = await keys.locator("[data-key='Primary key']").innerText();
  const curl = await main().getByTestId("snippet-curl").innerText();
  assert.match(curl, new RegExp(`curl "${scoring}"[\\s\\S]*Authorization: Bearer \\$AZURE_ML_ONLINE_KEY`));
  const res = await fetch(scoring, {
    method: "POST",
    headers: { authorization: `Bearer ${onlineKey}`, "content-type": "application/json", "azureml-model-deployment": "green" },
    body: JSON.stringify({ max_tokens: 4, messages: [{ role: "user", content: "Hello!" }] }),
  });
  assert.equal(res.status, 200, await res.clone().text());
  assert.equal(typeof (await json(res)).choices[0].message.content, "string");
});

step("delete the online endpoint and the serverless endpoint from their pages", 200_000, async () => {
  await main().getByRole("button", { name: "Delete", exact: true }).first().click();
  const dialog = page.getByRole("dialog", { name: "Delete online endpoint" });
  await dialog.getByRole("button", { name: "Delete" }).click();
  await page.waitForURL(/#\/online$/, { timeout: 150_000 });
  await main().getByText("No online endpoints yet").waitFor();
  assert.equal((await armCall("GET", `${WS_PATH}/onlineEndpoints/${ONLINE}`)).status, 404);

  await page.goto(`${server.url}/#/serverless/${SERVERLESS}`);
  await main().getByRole("button", { name: "Delete", exact: true }).click();
  await page.getByRole("dialog", { name: "Delete serverless endpoint" }).getByRole("button", { name: "Delete" }).click();
  await page.waitForURL(/#\/serverless$/);
  await main().getByText("No serverless endpoints yet").waitFor();
  const gone = await fetch(`${uri}/v1/chat/completions`, { method: "POST", headers: { "Content-Type": "application/json", Authorization: key }, body: JSON.stringify({ messages: [{ role: "user", content: "Hi" }] }) });
  assert.ok(gone.status === 401 || gone.status === 404, `a deleted endpoint's URL answers ${gone.status}`);
});
