// The portal's Foundry-era pages in real Chromium (issue 15 item 6): the playground on the
// Responses API, where the server keeps the conversation (each turn sends only the new message
// and previous_response_id), and the Batch jobs page: upload a .jsonl (purpose batch; a broken
// one is refused with its lines), create a batch for a GlobalBatch deployment, watch its
// request_counts, download the output and error files, and cancel a running batch.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { launchBrowser, screenshot, signedInPage } from "./browser.ts";
import { API_KEY, json, startServer } from "./harness.ts";
import type { TestServer } from "./harness.ts";


const TINY = { format: "Ingot", name: "tiny-chat", version: "1" };
const BATCH_DEPLOYMENT = "portal-batch";
// Without end-of-text, every line runs to max_tokens: a batch long enough to cancel while it runs.
const NO_EOS = { "256": -100, "257": -100, "258": -100 };

let server: TestServer;
let browser: Browser;
let page: Page;

before(async () => {
  server = await startServer({ extraDeployments: [{ name: BATCH_DEPLOYMENT, model: TINY, sku: { name: "GlobalBatch", capacity: 100_000 } }] });
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

const dialog = () => page.getByRole("dialog", { name: "Create a batch job" });
const fileInput = () => dialog().locator("input[type=file][name=file]");
const row = (id: string) => page.locator(`tr[data-batch="${id}"]`);
const batches = async () => (await json(await v1("/batches?limit=100"))).data as { id: string; status: string; request_counts: { total: number; completed: number; failed: number } }[];

step("the Batch page: a broken file is refused with its line, the sample file names the batch deployment", async () => {
  await go("#/batch");
  await page.getByRole("heading", { name: "Batch jobs" }).waitFor();
  await page.getByText("No batch jobs yet").waitFor();
  await page.getByRole("button", { name: "Create batch job" }).click();
  await dialog().locator("select[name=batchDeployment]").getByText(/portal-batch \(tiny-chat, GlobalBatch/).waitFor({ state: "attached" });
  assert.equal(await dialog().locator("select[name=batchDeployment]").inputValue(), BATCH_DEPLOYMENT);

  const [download] = await Promise.all([page.waitForEvent("download"), dialog().getByRole("button", { name: "Download a sample file" }).click()]);
  const sample = readFileSync((await download.path())!, "utf8").trim().split("\n").map((l) => JSON.parse(l));
  assert.equal(sample.length, 3);
  for (const l of sample) {
    assert.equal(l.url, "/v1/chat/completions");
    assert.equal(l.body.model, BATCH_DEPLOYMENT);
  }

  const broken = `${JSON.stringify(sample[0])}\n{"custom_id": "x", "method": "POST",\n`;
  await fileInput().setInputFiles({ name: "broken.jsonl", mimeType: "application/jsonl", buffer: Buffer.from(broken) });
  await dialog().getByTestId("batch-file-status").getByText("has errors").waitFor();
  assert.match((await dialog().getByTestId("batch-file-problems").textContent())!, /line 2/i);
  assert.equal(await dialog().getByRole("button", { name: "Create batch" }).isDisabled(), true);
});

step("a batch is created from an uploaded file, runs to completed, and its output and error files download", async () => {
  const lines = [0, 1, 2].map((i) => JSON.stringify({ custom_id: `ok-${i}`, method: "POST", url: "/v1/chat/completions", body: { model: BATCH_DEPLOYMENT, messages: [{ role: "user", content: `Question ${i}` }], max_tokens: 4 } }));
  // Valid JSON with a bad body: accepted on upload, it fails when run and goes to the error file.
  lines.push(JSON.stringify({ custom_id: "bad-body", method: "POST", url: "/v1/chat/completions", body: { model: BATCH_DEPLOYMENT, messages: "hi" } }));
  await fileInput().setInputFiles({ name: "questions.jsonl", mimeType: "application/jsonl", buffer: Buffer.from(lines.join("\n") + "\n") });
  await dialog().getByTestId("batch-file-status").getByText("valid").waitFor();
  await screenshot(page, "41-batch-create");
  await dialog().getByRole("button", { name: "Create batch" }).click();
  await dialog().waitFor({ state: "detached" });

  const [batch] = await batches();
  assert.ok(batch, "the batch exists");
  await row(batch.id).waitFor();
  await row(batch.id).locator(".pill").getByText("completed").waitFor({ timeout: 90_000 });
  assert.match((await row(batch.id).getByTestId("batch-progress").textContent())!, /4 of 4 requests \(1 failed\)/);
  await screenshot(page, "42-batch-completed");

  const [out] = await Promise.all([page.waitForEvent("download"), row(batch.id).getByRole("button", { name: "Download output" }).click()]);
  const output = readFileSync((await out.path())!, "utf8").trim().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(output.map((o) => o.custom_id).sort(), ["ok-0", "ok-1", "ok-2"]);
  assert.equal(output[0].response.status_code, 200);
  const [err] = await Promise.all([page.waitForEvent("download"), row(batch.id).getByRole("button", { name: "Download errors" }).click()]);
  const errorsFile = readFileSync((await err.path())!, "utf8").trim().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(errorsFile.map((o) => o.custom_id), ["bad-body"]);
});

step("a running batch is cancelled from the page and keeps the results it finished", async () => {
  const N = 200;
  const lines = Array.from({ length: N }, (_, i) =>
    JSON.stringify({ custom_id: `long-${i}`, method: "POST", url: "/v1/chat/completions", body: { model: BATCH_DEPLOYMENT, messages: [{ role: "user", content: `Tell a long story ${i}` }], max_tokens: 256, logit_bias: NO_EOS } }),
  );
  await page.getByRole("button", { name: "Create batch job" }).click();
  await fileInput().setInputFiles({ name: "long.jsonl", mimeType: "application/jsonl", buffer: Buffer.from(lines.join("\n") + "\n") });
  await dialog().getByTestId("batch-file-status").getByText("valid").waitFor();
  await dialog().getByRole("button", { name: "Create batch" }).click();
  await dialog().waitFor({ state: "detached" });
  const long = (await batches()).find((b) => b.request_counts.total === N || b.status === "validating")!;
  // Cancel once the page shows some lines done.
  await row(long.id).getByRole("progressbar").getByText(new RegExp(`^[1-9]\\d* of ${N} requests`)).waitFor();
  await row(long.id).getByRole("button", { name: "Cancel" }).click();
  await row(long.id).locator(".pill").getByText("cancelled").waitFor({ timeout: 60_000 });
  const done = (await batches()).find((b) => b.id === long.id)!;
  assert.ok(done.request_counts.completed > 0 && done.request_counts.completed < N, `cancelled part-way (${JSON.stringify(done.request_counts)})`);
  assert.equal(await row(long.id).getByRole("button", { name: "Cancel" }).count(), 0);
  // What finished before the cancel is in the output file.
  const [out] = await Promise.all([page.waitForEvent("download"), row(long.id).getByRole("button", { name: "Download output" }).click()]);
  const output = readFileSync((await out.path())!, "utf8").trim().split("\n").filter(Boolean);
  assert.equal(output.length, done.request_counts.completed);
  await screenshot(page, "43-batch-cancelled");
});
