// The portal's model flows in real Chromium against a real server: browse and filter the
// catalog, open a model, deploy it from the Deploy model dialog and watch it provision, read
// the deployment's endpoints, keys and code (and run the curl snippet for real), chat with it
// in the playground, see its tokens on the usage page, and delete it.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { buildModel } from "../../src/models/builtin/builder.ts";
import { launchBrowser, screenshot, signedInPage } from "./browser.ts";
import { API_KEY, json, startServer } from "./harness.ts";
import type { TestServer } from "./harness.ts";

/** Inside the repo, so pasted snippets resolve the installed openai and @azure-rest packages. */
const execFileAsync = promisify(execFile);
const SNIPPET_DIR = join(import.meta.dirname, "../../test-output/snippets");
mkdirSync(SNIPPET_DIR, { recursive: true });

// page.waitForFunction callbacks run in the page, where `document` exists (the tests' lib has no DOM types).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
declare const document: any;

let server: TestServer;
let browser: Browser;
let page: Page;
let mirror: Server;

const ACCOUNT = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/ingot/providers/Microsoft.CognitiveServices/accounts/ingot";
const DEPLOYMENT = "portal-chat";

/** An ARM call with the admin token, as `az rest` would make it. */
async function armCall(method: string, path: string, apiVersion = "2024-10-01", body?: unknown): Promise<Response> {
  return fetch(`${server.url}${path}?api-version=${apiVersion}`, {
    method,
    headers: { authorization: `Bearer ${server.ingot.identity.adminToken("management")}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
}

/**
 * A Hugging Face-style mirror that trickles one model file out over ~2.5 s, so a deployment of
 * it really downloads with visible progress (the catalog's hf: weights come from here).
 */
async function trickleMirror(path: string, body: Buffer): Promise<Server> {
  const srv = createServer(async (req, res) => {
    if (req.url !== path) return void res.writeHead(404).end("Entry not found");
    res.writeHead(200, { "content-length": body.length, "accept-ranges": "bytes" });
    const chunks = 25;
    for (let i = 0; i < chunks && !res.destroyed; i++) {
      res.write(body.subarray(Math.floor((i * body.length) / chunks), Math.floor(((i + 1) * body.length) / chunks)));
      await new Promise((r) => setTimeout(r, 100));
    }
    res.end();
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  return srv;
}

before(async () => {
  const dir = mkdtempSync(join(tmpdir(), "ingot-portal-mirror-"));
  const built = await buildModel({ shape: "tiny", seed: 4242, type: "f16", out: join(dir, "mirror-chat.gguf") });
  const weights = readFileSync(built.path);
  rmSync(dir, { recursive: true, force: true });
  mirror = await trickleMirror("/ingot-test/mirror-chat-GGUF/resolve/main/mirror-chat.gguf", weights);
  server = await startServer({
    modelsBaseUrl: `http://127.0.0.1:${(mirror.address() as AddressInfo).port}`,
    extraModels: [
      {
        format: "Ingot",
        name: "mirror-chat",
        version: "1",
        description: "A small chat model served by the test's local model mirror: deploying it downloads its weights.",
        capabilities: ["chatCompletion"],
        contextLength: 512,
        weights: "hf:ingot-test/mirror-chat-GGUF/mirror-chat.gguf",
        sha256: createHash("sha256").update(weights).digest("hex"),
        sizeBytes: weights.length,
        skus: [{ name: "Standard", minCapacity: 1, maxCapacity: 100, defaultCapacity: 10 }],
        lifecycleStatus: "Preview",
        license: "MIT",
      },
    ],
  });
  browser = await launchBrowser();
  page = await signedInPage(browser, server);
  page.setDefaultTimeout(15_000);
});
after(async () => {
  await browser?.close();
  await server?.stop();
  mirror?.closeAllConnections();
  await new Promise((r) => mirror?.close(r));
});

const main = () => page.locator("main.content");

test("catalog: search, filter fine-tunable, open tiny-chat's model page", async () => {
  await page.goto(`${server.url}/#/catalog`);
  const cards = main().getByTestId("model-card");
  await cards.first().waitFor();
  assert.ok((await cards.count()) > 10, "the shipped catalog lists many models");
  await screenshot(page, "10-catalog");

  await main().locator("input[name=search]").fill("tiny");
  await page.waitForFunction(() => document.querySelectorAll("[data-testid=model-card]").length === 2);
  assert.deepEqual((await cards.evaluateAll((els) => els.map((e) => e.getAttribute("data-model")))).sort(), ["tiny-chat", "tiny-embed"]);
  await main().locator("input[name=fineTunable]").check();
  await page.waitForFunction(() => document.querySelectorAll("[data-testid=model-card]").length === 1);
  assert.equal(await cards.first().getAttribute("data-model"), "tiny-chat");
  await main().locator("input[name=fineTunable]").uncheck();
  await main().locator("select[name=capability]").selectOption("embeddings");
  await page.waitForFunction(() => document.querySelectorAll("[data-testid=model-card]").length === 1);
  assert.equal(await cards.first().getAttribute("data-model"), "tiny-embed");
  await main().locator("select[name=capability]").selectOption("");
  await main().locator("input[name=fineTunable]").check();

  await cards.first().click();
  await main().getByTestId("model-title").waitFor();
  assert.equal(await main().getByTestId("model-title").innerText(), "tiny-chat");
  const details = await main().getByTestId("model-details").innerText();
  assert.match(details, /Context length\s+[\d,]+ tokens/);
  assert.match(details, /License/);
  assert.match(details, /Cached/, "tiny-chat is deployed at startup, so its weights are on this machine");
  assert.match(details, /Fine-tuning\s+Supported/);
  const skus = await main().getByTestId("skus").innerText();
  assert.match(skus, /GlobalStandard/);
  assert.match(skus, /1 – 10,000/);
  assert.match(skus, /1,000,000 tokens per minute · 6,000 requests per minute/);
  await screenshot(page, "11-model");

  // Seed 004: Fine-tune on the model page opens the wizard with this base model chosen.
  await main().getByRole("button", { name: "Fine-tune" }).click();
  const wizard = page.getByRole("dialog", { name: "Fine-tune a model" });
  assert.equal(await wizard.getByRole("radio", { name: /tiny-chat/ }).first().isChecked(), true);
  await wizard.getByRole("button", { name: "Close" }).click();
  await page.goBack();
  await main().getByTestId("model-title").waitFor();

  // The Ingot extras behind the page, on both model lists: weights on this machine or not.
  const account = await json(await armCall("GET", `${ACCOUNT}/models`));
  const byName = (name: string) => account.value.find((m: { name: string }) => m.name === name);
  assert.deepEqual([byName("tiny-chat").weightsStatus, byName("tiny-chat").weightsCached], ["cached", true]);
  assert.deepEqual([byName("mirror-chat").weightsStatus, byName("mirror-chat").weightsCached], ["missing", false]);
  assert.equal(byName("gpt-4.1-mini").weightsStatus, "upstream");
  const location = await json(await armCall("GET", "/subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.CognitiveServices/locations/local/models"));
  assert.equal(location.value.find((e: { model: { name: string } }) => e.model.name === "tiny-chat").model.weightsStatus, "cached");
});

test("deploy dialog: validates the name and capacity, shows the limits a capacity buys, deploys tiny-chat as portal-chat", async () => {
  await main().getByRole("button", { name: "Deploy", exact: true }).click();
  const dialog = page.getByRole("dialog", { name: "Deploy model" });
  const name = dialog.locator("input[name=deploymentName]");
  await name.waitFor();
  assert.equal(await name.inputValue(), "tiny-chat-2", "a free name is suggested");
  await name.fill("my chat!");
  assert.match(await dialog.locator(".field-error").innerText(), /letters, digits and hyphens.*space, '!'/);
  await name.fill("tiny-chat");
  assert.match(await dialog.locator(".field-error").innerText(), /already exists/);
  assert.equal(await dialog.getByRole("button", { name: "Deploy", exact: true }).isDisabled(), true);
  await name.fill(DEPLOYMENT);
  assert.equal(await dialog.locator(".field-error").count(), 0);

  // GlobalStandard's quota (2,000) is half used by tiny-chat: the default is capped at what is left.
  assert.equal(await dialog.locator("select[name=sku]").inputValue(), "GlobalStandard");
  assert.equal(await dialog.locator("input[name=capacity]").inputValue(), "1000");
  await dialog.locator("input[name=capacity]").fill("1500");
  assert.match(await dialog.locator(".field-error").innerText(), /Only 1,000 is left in quota AIServices\.GlobalStandard\.tiny-chat/);
  await dialog.locator("select[name=sku]").selectOption("Standard");
  await dialog.locator("input[name=capacity]").fill("20");
  assert.equal(await dialog.getByTestId("rate-limits").innerText(), "Rate limits 20,000 tokens per minute · 120 requests per minute");
  await screenshot(page, "12-deploy-dialog");

  await dialog.getByRole("button", { name: "Deploy", exact: true }).click();
  await dialog.getByTestId("deploy-status").waitFor();
  await page.waitForFunction(() => document.querySelector("[data-testid=deploy-state]")?.textContent === "Succeeded", undefined, { timeout: 60_000 });
  assert.match(await dialog.locator(".notice.ok").innerText(), /portal-chat is ready.*20,000 tokens per minute/);
  await screenshot(page, "12b-deploy-succeeded");
  const d = await json(await armCall("GET", `${ACCOUNT}/deployments/${DEPLOYMENT}`));
  assert.deepEqual([d.properties.provisioningState, d.sku.name, d.sku.capacity, d.properties.model.name], ["Succeeded", "Standard", 20, "tiny-chat"]);
  await dialog.getByRole("button", { name: "Go to deployment" }).click();
  await main().getByTestId("deployment-title").waitFor();
});

test("deploy dialog: a model whose weights are not here downloads them with live progress", async () => {
  await page.goto(`${server.url}/#/catalog/Ingot/mirror-chat`);
  await main().getByTestId("model-title").waitFor();
  assert.match(await main().getByTestId("model-details").innerText(), /Downloads on deploy/);
  await main().getByRole("button", { name: "Deploy", exact: true }).click();
  const dialog = page.getByRole("dialog", { name: "Deploy model" });
  await dialog.locator("input[name=deploymentName]").waitFor();
  assert.equal(await dialog.locator("input[name=deploymentName]").inputValue(), "mirror-chat");
  // Someone else takes a name with another model while the dialog is open: the API's 409 is shown in words.
  const race = await armCall("PUT", `${ACCOUNT}/deployments/race-chat`, "2024-10-01", { sku: { name: "Standard", capacity: 1 }, properties: { model: { format: "Ingot", name: "tiny-chat", version: "1" } } });
  assert.equal(race.status, 201);
  await dialog.locator("input[name=deploymentName]").fill("race-chat");
  await dialog.getByRole("button", { name: "Deploy", exact: true }).click();
  assert.match(await dialog.getByTestId("error").innerText(), /DeploymentModelChangeNotAllowed: Deployment 'race-chat' serves .*tiny-chat.*deploy mirror-chat under another name/);
  await screenshot(page, "12d-deploy-api-error");
  assert.equal((await armCall("DELETE", `${ACCOUNT}/deployments/race-chat`)).status < 300, true);
  await dialog.locator("input[name=deploymentName]").fill("mirror-chat");
  await dialog.getByRole("button", { name: "Deploy", exact: true }).click();
  // The server's own download progress, polled from GET deployment: phase, percent and bytes.
  const bar = dialog.locator("[role=progressbar] .progress-label");
  await page.waitForFunction(() => /Downloading weights \d+% · [\d.]+ (KB|MB) of [\d.]+ (KB|MB)/.test(document.querySelector("[role=dialog] .progress-label")?.textContent ?? ""));
  assert.match(await bar.innerText(), /Downloading weights/);
  await screenshot(page, "12c-deploy-progress");
  await page.waitForFunction(() => document.querySelector("[data-testid=deploy-state]")?.textContent === "Succeeded", undefined, { timeout: 60_000 });
  await dialog.getByRole("button", { name: "Done" }).click();
  await page.waitForFunction(() => /Cached/.test(document.querySelector("[data-testid=model-details]")?.textContent ?? ""));
});

test("deployments: list and detail with endpoints, masked keys and snippets; the curl snippet works", async () => {
  await page.goto(`${server.url}/#/deployments`);
  const row = main().locator(`tr[data-deployment=${DEPLOYMENT}]`);
  await row.waitFor();
  const text = await row.innerText();
  assert.match(text, /tiny-chat/);
  assert.match(text, /Succeeded/);
  assert.match(text, /Standard\s+20\s+20,000 tokens per minute/);
  assert.equal(await main().locator("tr[data-deployment=tiny-chat]").count(), 1);
  await screenshot(page, "13-deployments");

  await row.getByRole("link", { name: DEPLOYMENT }).click();
  await main().getByTestId("endpoints").waitFor();
  const endpoints = await main().getByTestId("endpoints").innerText();
  for (const url of [
    `${server.url}/openai/deployments/${DEPLOYMENT}/chat/completions?api-version=2024-10-21`,
    `${server.url}/openai/v1/chat/completions`,
    `${server.url}/api/projects/default/openai/v1/chat/completions`,
    `${server.url}/models/chat/completions?api-version=2024-05-01-preview`,
  ])
    assert.ok(endpoints.includes(url), `endpoints list ${url}`);
  assert.match(endpoints, new RegExp(`model: "${DEPLOYMENT}"`));

  // Keys are masked until shown; Show reveals the account's real key1.
  const keys = await json(await armCall("POST", `${ACCOUNT}/listKeys`));
  const key1 = main().getByTestId("key").first();
  await page.waitForFunction(() => document.querySelector("[data-testid=key]")?.textContent?.includes("•"));
  const masked = await key1.innerText();
  assert.ok(!masked.includes(keys.key1) && masked.startsWith(keys.key1.slice(0, 4)) && masked.endsWith(keys.key1.slice(-4)), `masked: ${masked}`);
  await main().getByTestId("keys").getByRole("button", { name: "Show" }).first().click();
  assert.equal(await key1.innerText(), keys.key1);
  await screenshot(page, "14-deployment-detail");

  // The curl snippet, run for real with the key substituted.
  const curl = await main().getByTestId("snippet-curl").innerText();
  const url = /curl "([^"]+)"/.exec(curl)?.[1];
  const headers = Object.fromEntries([...curl.matchAll(/-H "([^:]+): ([^"]+)"/g)].map((m) => [m[1], m[2].replace("$AZURE_OPENAI_API_KEY", keys.key1)]));
  const body = /-d '([^']+)'/.exec(curl)?.[1];
  assert.ok(url && body, curl);
  const res = await fetch(url, { method: "POST", headers, body });
  const reply = await json(res);
  assert.equal(res.status, 200, JSON.stringify(reply));
  assert.equal(reply.object, "chat.completion");
  assert.ok(reply.usage.total_tokens > 0);

  for (const [tab, pattern] of [
    ["Python", /from openai import AzureOpenAI[\s\S]*azure_endpoint="http:\/\/127\.0\.0\.1:\d+"[\s\S]*model="portal-chat"/],
    ["JavaScript", /import \{ AzureOpenAI \} from "openai"[\s\S]*endpoint: "http:\/\/127\.0\.0\.1:\d+"[\s\S]*deployment: "portal-chat"/],
  ] as const) {
    await main().getByTestId("snippets").getByRole("tab", { name: tab }).click();
    assert.match(await main().locator("[data-testid=snippets] pre").innerText(), pattern);
  }

  // The JavaScript snippets run as pasted (from the repo, where their packages are installed), with the key in the environment.
  for (const tab of ["JavaScript", "OpenAI v1 (JS)", "AI inference (JS)"]) {
    await main().getByTestId("snippets").getByRole("tab", { name: tab }).click();
    const code = await main().locator("[data-testid=snippets] pre").innerText();
    const file = join(SNIPPET_DIR, `snippet-${tab.replace(/\W+/g, "-")}.mjs`);
    writeFileSync(file, code);
    // Not spawnSync: the server under test runs in this process and must keep answering.
    await execFileAsync(process.execPath, [file], { env: { ...process.env, AZURE_OPENAI_API_KEY: keys.key1 }, timeout: 60_000 }).catch((e) => assert.fail(`${tab} snippet failed:\n${e.stderr ?? e}`));
  }
});

test("playground: streams a chat answer from portal-chat with tokens and TTFT", async () => {
  await main().getByRole("link", { name: "Open in playground" }).click();
  await page.waitForURL(/#\/playground\?deployment=portal-chat$/);
  await page.waitForFunction(() => document.querySelector("select[name=deployment]")?.value === "portal-chat");
  await main().locator("textarea[name=system]").fill("You are a helpful assistant. Answer briefly.");
  await main().locator("input[name=temperature]").fill("0.2");
  await main().locator("input[name=maxTokens]").fill("40");
  await main().locator("textarea[name=message]").fill("Hello! Who are you?");
  await main().getByRole("button", { name: "Send" }).click();
  await page.locator(".msg.user").first().waitFor();
  await page.waitForFunction(() => /tokens/.test(document.querySelector("[data-testid=stats]")?.textContent ?? "") && /TTFT \d+ ms/.test(document.querySelector("[data-testid=stats]")?.textContent ?? ""), undefined, {
    timeout: 30_000,
  });
  const stats = await page.getByTestId("stats").innerText();
  assert.match(stats, /\d+ prompt \+ \d+ completion = \d+ tokens/);
  assert.match(stats, /TTFT \d+ ms/);
  const answer = await page.locator(".msg.assistant").last().innerText();
  assert.ok(answer.trim().length > 0, "the streamed answer is shown");
  assert.equal(await page.locator(".msg.user").first().innerText(), "Hello! Who are you?");

  // A second turn in JSON mode sends the whole conversation and response_format json_object.
  await main().locator("input[name=jsonMode]").check();
  await main().locator("textarea[name=message]").fill("Answer in JSON.");
  const [request] = await Promise.all([page.waitForRequest((r) => r.url().endsWith("/api/projects/default/openai/v1/chat/completions")), main().getByRole("button", { name: "Send" }).click()]);
  const sent = request.postDataJSON();
  assert.equal(sent.model, DEPLOYMENT);
  assert.deepEqual(sent.response_format, { type: "json_object" });
  assert.deepEqual(sent.stream_options, { include_usage: true });
  assert.deepEqual([sent.temperature, sent.max_tokens, sent.stream], [0.2, 40, true]);
  assert.deepEqual(
    sent.messages.map((m: { role: string }) => m.role),
    ["system", "user", "assistant", "user"],
  );
  await page.waitForFunction(() => document.querySelectorAll(".msg.assistant").length === 2 && /TTFT/.test(document.querySelector("[data-testid=stats]")?.textContent ?? "") && !document.querySelector("button.danger"));
  await screenshot(page, "15-playground");
});

test("usage: the tokens and the rate-limit rejections of portal-chat per day", async () => {
  // portal-chat (Standard 20) admits 20 requests per 10 s: a burst past that is refused with 429.
  let rejected = 0;
  for (let i = 0; i < 40 && rejected < 2; i++) {
    const res = await server.post(`/openai/deployments/${DEPLOYMENT}/chat/completions?api-version=2024-10-21`, { messages: [{ role: "user", content: "hi" }], max_tokens: 1 });
    await res.arrayBuffer();
    if (res.status === 429) rejected++;
  }
  assert.equal(rejected, 2);
  await page.goto(`${server.url}/#/usage`);
  const row = main().locator(`[data-testid=usage-table] tr[data-deployment=${DEPLOYMENT}]`);
  await row.waitFor({ timeout: 15_000 });
  const cells = await row.locator("td").allInnerTexts();
  const total = Number(cells[3].replace(/,/g, ""));
  assert.ok(total > 0, `portal-chat used tokens: ${cells.join(" | ")}`);
  assert.ok(Number(await main().getByTestId("tokens-chart").getAttribute("data-total")) >= total);
  assert.equal(cells[4], "2", "the two 429s are counted");
  assert.equal(await main().getByTestId("rejections-chart").getAttribute("data-total"), "2");
  await main().getByRole("tab", { name: "Last 30 days" }).click();
  await page.waitForFunction(() => document.querySelectorAll("[data-testid=tokens-chart] text.tick").length > 5);
  await main().getByRole("tab", { name: "Last 7 days" }).click();
  await row.waitFor();
  await screenshot(page, "16-usage");
});

test("delete: a confirmation, then the deployment is gone", async () => {
  await page.goto(`${server.url}/#/deployments/${DEPLOYMENT}`);
  await main().getByTestId("endpoints").waitFor();
  await main().getByRole("button", { name: "Delete" }).click();
  const dialog = page.getByRole("dialog", { name: "Delete deployment" });
  await dialog.waitFor();
  assert.match(await dialog.innerText(), /Delete portal-chat\?/);
  await screenshot(page, "17-delete-confirm");
  await dialog.getByRole("button", { name: "Delete" }).click();
  await page.waitForURL(/#\/deployments$/, { timeout: 30_000 });
  await main().locator("tr[data-deployment=tiny-chat]").waitFor();
  assert.equal(await main().locator(`tr[data-deployment=${DEPLOYMENT}]`).count(), 0);
  assert.equal((await armCall("GET", `${ACCOUNT}/deployments/${DEPLOYMENT}`)).status, 404);
  await screenshot(page, "18-deployments-after-delete");
});

test("signed in with a key, usage metrics (ARM only) say to sign in with a token", async () => {
  const p = await (await browser.newContext({ viewport: { width: 1280, height: 700 } })).newPage();
  await p.goto(server.url);
  await p.getByRole("tab", { name: "Account key" }).click();
  await p.locator("input[name=key]").fill(API_KEY);
  await p.getByRole("button", { name: "Sign in" }).click();
  await p.locator("nav.side").waitFor();
  await p.goto(`${server.url}/#/usage`);
  assert.match(await p.getByTestId("token-notice").innerText(), /ingot token/);
  await screenshot(p, "19-key-mode-notice");
  await p.context().close();
});
