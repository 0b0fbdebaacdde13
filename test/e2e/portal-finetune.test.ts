// The portal's fine-tuning flow in real Chromium against a real server: the wizard refuses a
// broken training file (its errors by line), takes a good one with an automatic validation
// split and custom hyperparameters, starts the job; the job page shows events and the loss
// chart filling while it trains, then success; results.csv downloads; the fine-tuned model is
// deployed from the job page, answers in the playground, and the deployment is deleted.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { Server } from "node:http";
import { after, before, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { join } from "node:path";
import { launchBrowser, SCREENSHOT_DIR, screenshot, signedInPage } from "./browser.ts";
import { API_KEY, startServer } from "./harness.ts";
import type { TestServer } from "./harness.ts";
import { FACTS, line, SYSTEM } from "../fixtures/codename-facts.ts";

const GOOD = FACTS.map((f) => line(f.question, f.answer)).join("\n") + "\n";
/** Line 3 is not JSON, line 7 has a role the API does not know. */
const BROKEN = FACTS.slice(0, 12)
  .map((f, i) =>
    i === 2
      ? '{"messages": [{"role": "user", "content": "unterminated}'
      : i === 6
        ? JSON.stringify({ messages: [{ role: "user", content: f.question }, { role: "bot", content: f.answer }] })
        : line(f.question, f.answer),
  )
  .join("\n");
/** Epochs for the job: long enough (with 16 training examples) to watch it run for a few seconds on one core. */
const EPOCHS = 10;

let server: TestServer;
let browser: Browser;
let page: Page;
/** A web location to import from (seed 004's "Azure blob or other shared web locations"). */
let web: Server;
let webUrl: string;

before(async () => {
  web = createServer((req, res) => (req.url === "/data/imported.jsonl" ? res.end(BROKEN) : res.writeHead(404).end()));
  await new Promise<void>((resolve) => web.listen(0, "127.0.0.1", resolve));
  webUrl = `http://127.0.0.1:${(web.address() as { port: number }).port}`;
  server = await startServer({ allowPrivateImportUrls: true });
  browser = await launchBrowser();
  page = await signedInPage(browser, server);
  page.on("pageerror", (e) => console.log(`# page error: ${e.stack ?? e.message}`));
});
after(async () => {
  web?.close();
  await browser?.close();
  await server?.stop();
});

const testId = (id: string) => page.getByTestId(id);
/** The browser globals the functions run in the page use (this file is type-checked without the DOM library). */
type InPage = {
  document: { querySelector(selector: string): { getAttribute(name: string): string | null; textContent: string | null } | null };
  location: { hash: string };
  DataTransfer: new () => { items: { add(file: unknown): void } };
  File: new (parts: string[], name: string, options: { type: string }) => unknown;
};
/** The steps build on each other: after a failure the rest are skipped rather than timing out one by one. */
let broken = false;
function step(name: string, fn: () => Promise<void>): void {
  test(name, async (t) => {
    if (broken) return t.skip("an earlier step failed");
    try {
      await fn();
    } catch (e) {
      broken = true;
      await screenshot(page, "portal-finetune-failure").catch(() => undefined);
      throw e;
    }
  });
}
/** Follows an in-portal link (a hash route), as clicking one would. */
const go = (hash: string) => page.evaluate((h) => void ((globalThis as unknown as InPage).location.hash = h), hash);
const wizard = () => page.getByRole("dialog", { name: "Fine-tune a model" });

step("the wizard refuses a broken training file, naming its lines", async () => {
  await go("#/fine-tuning");
  await page.getByRole("heading", { name: "Fine-tuning" }).waitFor();
  await page.getByText("No fine-tuning jobs yet").waitFor();

  await page.getByRole("button", { name: "Fine-tune a model" }).click();
  const w = wizard();
  await w.getByRole("radio", { name: /tiny-chat/ }).check();
  await w.getByRole("button", { name: "Next" }).click();

  // Drag and drop, as a user would from their file manager.
  const dropped = await page.evaluateHandle((text) => {
    const { DataTransfer, File } = globalThis as unknown as InPage;
    const dt = new DataTransfer();
    dt.items.add(new File([text], "broken.jsonl", { type: "application/jsonl" }));
    return dt;
  }, BROKEN);
  await testId("training-dropzone").dispatchEvent("dragenter", { dataTransfer: dropped });
  await testId("training-dropzone").dispatchEvent("drop", { dataTransfer: dropped });
  const errors = testId("validation-errors");
  await errors.waitFor();
  const text = await errors.innerText();
  assert.match(text, /broken\.jsonl failed validation/);
  assert.match(text, /Line 3\s+invalid JSON/);
  assert.match(text, /Line 7\s+unknown role 'bot'/);
  assert.equal(await w.getByRole("button", { name: "Next" }).isDisabled(), true, "a failed file cannot be used");
  assert.match(await testId("wizard-blocker").innerText(), /failed validation/);
  await screenshot(page, "21-wizard-upload-error");

  // The same file imported from a web location is downloaded, then validated the same way.
  await w.getByRole("tab", { name: "Azure blob or web URL" }).click();
  await w.locator("input[name=training-url]").fill(`${webUrl}/data/imported.jsonl`);
  await w.getByRole("button", { name: "Import" }).click();
  await page.getByText("imported.jsonl failed validation").waitFor();
  assert.match(await errors.innerText(), /Line 7\s+unknown role 'bot'/);
  await w.getByRole("tab", { name: "Upload a local file" }).click();
});

let jobId: string;

step("a good file, an automatic split and custom hyperparameters start a job from the review", async () => {
  const w = wizard();
  await w.locator("input[type=file][name=file]").setInputFiles({ name: "codenames.jsonl", mimeType: "application/jsonl", buffer: Buffer.from(GOOD) });
  await testId("file-ok").waitFor();
  assert.match(await testId("file-ok").innerText(), /codenames\.jsonl passed validation/);
  await w.getByRole("button", { name: "Next" }).click();

  await w.getByRole("radio", { name: /Automatic split/ }).check();
  await w.locator("input[name=validation_split]").fill("0.2");
  await w.getByRole("button", { name: "Next" }).click();

  await w.getByRole("radio", { name: /Custom/ }).check();
  await w.locator("input[name=n_epochs]").fill("99");
  assert.match(await w.locator(".field.invalid").first().innerText(), /from 1 to 50/);
  assert.equal(await w.getByRole("button", { name: "Next" }).isDisabled(), true);
  await w.locator("input[name=n_epochs]").fill(String(EPOCHS));
  await w.locator("input[name=batch_size]").fill("1");
  await w.locator("input[name=learning_rate_multiplier]").fill("1");
  await w.locator("input[name=suffix]").fill("portal");
  await w.locator("input[name=seed]").fill("42");
  await w.getByRole("button", { name: "Next" }).click();

  const review = await testId("review").innerText();
  for (const expected of ["tiny-chat", "codenames.jsonl", "Automatic split: 20%", `Number of epochs\n${EPOCHS}`, "portal", "42"]) assert.ok(review.includes(expected), `review shows ${expected}:\n${review}`);
  await screenshot(page, "22-wizard-review");

  await w.getByRole("button", { name: "Start training job" }).click();
  await page.waitForURL(/#\/fine-tuning\/jobs\/ftjob-[0-9a-f]{32}$/);
  jobId = page.url().split("/").pop()!;
});

step("the job page streams events and fills the loss chart while training, then succeeds", async () => {
  const status = testId("job-status");
  // While running: the chart has points and new events keep arriving.
  const running = await page.waitForFunction(
    () => {
      const { document } = globalThis as unknown as InPage;
      const s = document.querySelector("[data-testid=job-status]")?.getAttribute("data-status");
      const points = Number(document.querySelector("[data-testid=loss-chart]")?.getAttribute("data-points") ?? 0);
      const events = Number(document.querySelector("[data-testid=events]")?.getAttribute("data-count") ?? 0);
      return s === "running" && points > 0 ? { points, events } : s === "succeeded" || s === "failed" ? { finished: s } : false;
    },
    undefined,
    { timeout: 120_000, polling: 100 },
  );
  const seen = (await running.jsonValue()) as { points?: number; events?: number; finished?: string };
  assert.ok(seen.points, `the chart filled while the job ran (saw ${JSON.stringify(seen)})`);
  await page.waitForFunction((before) => Number((globalThis as unknown as InPage).document.querySelector("[data-testid=events]")?.getAttribute("data-count") ?? 0) > before, seen.events!, { timeout: 30_000 });
  assert.match(await status.innerText(), /Step \d+ of \d+/);
  await screenshot(page, "23-job-running");

  await page.locator("[data-testid=job-status][data-status=succeeded]").waitFor({ timeout: 120_000 });
  await page.locator("[data-testid=checkpoints] tbody tr").first().waitFor();
  assert.equal(await page.locator("[data-testid=checkpoints] tbody tr").count(), EPOCHS);
  const points = Number(await testId("loss-chart").getAttribute("data-points"));
  assert.ok(points >= 3 * EPOCHS, `train and validation loss for each step (${points} points)`);
  assert.ok(Number(await testId("accuracy-chart").getAttribute("data-points")) > 0);
  assert.match(await testId("events").innerText(), /Job succeeded/);
  assert.match(await page.getByRole("heading", { level: 1 }).innerText(), new RegExp(`^tiny-chat\\.ft-${jobId.slice(6)}-portal$`));
  assert.equal(await page.getByRole("button", { name: "Cancel job" }).count(), 0, "no Cancel once finished");
  await screenshot(page, "24-job-succeeded");
});

step("results.csv downloads from the job page", async () => {
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download results.csv" }).click()]);
  assert.match(download.suggestedFilename(), /results\.csv$/);
  const csv = readFileSync((await download.path())!, "utf8");
  const [header, ...rows] = csv.trim().split("\n");
  assert.equal(header, "step,train_loss,train_mean_token_accuracy,valid_loss,valid_mean_token_accuracy,full_valid_loss,full_valid_mean_token_accuracy");
  assert.ok(rows.length >= EPOCHS * 16, `a row per step (${rows.length})`);
});

step("the Fine-tuning page lists the job and the files; a file is deleted after confirmation", async () => {
  await page.getByRole("link", { name: "← Fine-tuning" }).click();
  const row = page.locator(`[data-testid=jobs] tr[data-job="${jobId}"]`);
  await row.waitFor();
  const text = await row.innerText();
  for (const expected of ["Succeeded", "tiny-chat", `tiny-chat.ft-${jobId.slice(6)}-portal`, "Done"]) assert.ok(text.includes(expected), `the job row shows ${expected}: ${text}`);
  const files = testId("files");
  await files.getByText("codenames.jsonl").waitFor();
  await files.getByText("broken.jsonl").waitFor();
  assert.match(await files.innerText(), /results\.csv/);
  await screenshot(page, "20-finetune-list");

  await files.getByRole("button", { name: "Delete broken.jsonl" }).click();
  const confirm = page.getByRole("dialog", { name: "Delete file?" });
  assert.match(await confirm.innerText(), /broken\.jsonl/);
  await confirm.getByRole("button", { name: "Delete file" }).click();
  await files.getByText("broken.jsonl").waitFor({ state: "detached" });
  assert.equal(await files.getByText("codenames.jsonl").count(), 1);

  await row.getByRole("link", { name: `tiny-chat.ft-${jobId.slice(6)}-portal` }).click();
  await page.locator("[data-testid=job-status][data-status=succeeded]").waitFor();
});

step("the fine-tuned model deploys from the job page, answers in the playground, and the deployment is deleted", async () => {
  const model = `tiny-chat.ft-${jobId.slice(6)}-portal`;
  await page.locator(".page-head").getByRole("button", { name: "Deploy", exact: true }).click();
  const dialog = testId("deploy-dialog");
  await dialog.locator("input[name=deploymentName]").waitFor();
  assert.match(await dialog.innerText(), new RegExp(model.replace(/\./g, "\\.")));
  await dialog.locator("input[name=deploymentName]").fill("ft-portal");
  await dialog.getByRole("button", { name: "Deploy", exact: true }).click();
  await page.locator("[data-testid=deploy-state]", { hasText: "Succeeded" }).waitFor({ timeout: 120_000 });
  await dialog.getByRole("button", { name: "Done" }).click();
  await testId("deployed").waitFor();

  // A checkpoint's Deploy opens the same dialog for the checkpoint model.
  const checkpoint = (await page.locator("[data-testid=checkpoints] tbody tr").first().getAttribute("data-checkpoint"))!;
  await page.locator(`[data-checkpoint="${checkpoint}"]`).getByRole("button", { name: "Deploy" }).click();
  await dialog.locator("input[name=deploymentName]").waitFor();
  assert.match(await dialog.innerText(), new RegExp(checkpoint));
  // The dialog is fixed to the viewport: capture the viewport, scrolled to the checkpoints.
  await page.locator("[data-testid=checkpoints]").scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(SCREENSHOT_DIR, "25-checkpoint-deploy.png") });
  await dialog.getByRole("button", { name: "Cancel" }).click();

  // The job page links the new deployment to the playground.
  await testId("deployed").getByRole("link", { name: "open in playground" }).click();
  await page.waitForURL(/#\/playground\?deployment=ft-portal$/);
  await page.locator("textarea[name=system]").fill(SYSTEM);
  await page.locator("input[name=temperature]").fill("0");
  await page.locator("textarea[name=message]").fill(FACTS[0].question);
  await page.getByRole("button", { name: "Send" }).click();
  // Stats appear when the answer is complete (or failed).
  await page.waitForFunction(() => /total/.test((globalThis as unknown as InPage).document.querySelector("[data-testid=stats]")?.textContent ?? ""), undefined, { timeout: 60_000 });
  const failure = page.locator("main [data-testid=error]");
  assert.equal(await failure.count(), 0, `the playground shows an error: ${await failure.allInnerTexts()}`);
  const answer = await page.locator(".msg.assistant").last().innerText();
  assert.ok(answer.trim().length > 0, "the fine-tuned deployment answered");
  console.log(`# ft-portal answered: ${JSON.stringify(answer)} (trained: ${JSON.stringify(FACTS[0].answer)})`);

  await go("#/deployments/ft-portal");
  await page.locator(".page-head").getByRole("button", { name: "Delete" }).click();
  await page.getByRole("dialog", { name: "Delete deployment" }).getByRole("button", { name: "Delete" }).click();
  await page.waitForURL(/#\/deployments$/, { timeout: 60_000 });
  const gone = await fetch(
    `${server.url}/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/ingot/providers/Microsoft.CognitiveServices/accounts/ingot/deployments/ft-portal?api-version=2024-10-01`,
    { headers: { authorization: `Bearer ${server.ingot.identity.adminToken()}` } },
  );
  assert.equal(gone.status, 404);
});

step("Pause and Resume on the job page; Cancel asks first, then stops a running job", async () => {
  const files = (await (await fetch(`${server.url}/openai/v1/files`, { headers: { "api-key": API_KEY } })).json()) as { data: { id: string; filename: string }[] };
  const training = files.data.find((f) => f.filename === "codenames.jsonl")!.id;
  const res = await server.post("/openai/v1/fine_tuning/jobs", { model: "tiny-chat", training_file: training, hyperparameters: { n_epochs: 50 } });
  assert.equal(res.status, 200);
  const { id } = (await res.json()) as { id: string };
  await go(`#/fine-tuning/jobs/${id}`);
  await page.locator("[data-testid=job-status][data-status=running]").waitFor({ timeout: 60_000 });
  // Pause keeps the job's progress; Resume continues it.
  await page.getByRole("button", { name: "Pause" }).click();
  await page.locator("[data-testid=job-status][data-status=paused]").waitFor({ timeout: 20_000 });
  await page.getByRole("button", { name: "Resume" }).click();
  await page.locator("[data-testid=job-status][data-status=running]").waitFor({ timeout: 60_000 });
  await page.getByRole("button", { name: "Cancel job" }).click();
  const confirm = page.getByRole("dialog", { name: "Cancel fine-tuning job?" });
  await confirm.getByRole("button", { name: "Keep running" }).click();
  assert.equal(await page.locator("[data-testid=job-status]").getAttribute("data-status"), "running", "Keep running keeps it running");
  await page.getByRole("button", { name: "Cancel job" }).click();
  await confirm.getByRole("button", { name: "Cancel job" }).click();
  await page.locator("[data-testid=job-status][data-status=cancelled]").waitFor({ timeout: 10_000 });
  assert.match(await testId("events").innerText(), /Job cancelled/);
  assert.equal(await page.getByRole("button", { name: "Cancel job" }).count(), 0);
});
