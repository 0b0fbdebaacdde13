// Seeded fuzzing of every surface of a real server: Azure OpenAI (dated), OpenAI v1, the
// project endpoint, model inference, files, fine-tuning jobs, ARM (with a valid token) and the
// identity token endpoint. Each request is a valid one with one or two faults: malformed JSON,
// wrong types, huge and deeply nested values, unknown parameters, bad content types, bad
// percent-encodings in path and query, over-long path parameters, oversized headers and
// bodies, missing or wrong credentials, wrong methods. Every reply must be a 2xx (the input
// happened to be valid) or a 4xx with the surface's error body; never a 5xx, never a hang; the
// server is healthy afterwards and no upload is left in the temp folder.
// RELIABILITY_SEED reproduces a run; RELIABILITY_FUZZ_REQUESTS changes the count (default 2400).
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import http from "node:http";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { API_KEY, startServer } from "../e2e/harness.ts";
import type { TestServer } from "../e2e/harness.ts";
import { FACTS, line } from "../fixtures/codename-facts.ts";
import { ACCOUNT_PATH, ARM_VERSION, itemSeed, multipart, prng, quantile, runSeed, send, until } from "./lib.ts";
import type { RawReply, RawRequest } from "./lib.ts";
import { BAD_CONTENT_TYPES, BAD_PATH_PIECES, BOUNDARY, formBody, jsonBody, multipartBody } from "./fuzz-inputs.ts";
import type { BodyKind, Built, Surface, Template } from "./fuzz-inputs.ts";

const SEED = runSeed();
const REQUESTS = Number(process.env.RELIABILITY_FUZZ_REQUESTS ?? 2400);
const CONCURRENCY = 4;
const REQUEST_TIMEOUT_MS = 20_000;
const DATED = "2024-10-21";
const FT_VERSION = "2025-04-01-preview";
const INFERENCE_VERSION = "2024-05-01-preview";
const TENANT = "00000000-0000-0000-0000-000000000000";


let server: TestServer;
let token: string;
let trainingFile: string;
let jobId: string;
const unhandled: unknown[] = [];
const onUnhandled = (e: unknown) => unhandled.push(e);

const messages = () => [{ role: "system", content: "Be brief." }, { role: "user", content: "Say hi." }];
const seg = (path: string) => path.split("/").filter(Boolean);

function templates(): Template[] {
  const t: Template[] = [];
  const data = (name: string, surface: Surface, method: string, path: string, params: number[], query: [string, string][], kind: BodyKind, body?: () => Record<string, unknown>, generates = false) =>
    t.push({ name, surface, method, segments: seg(path), params, query, auth: "key", kind, body, generates });
  // Azure OpenAI, dated, deployment in the path.
  data("dated chat", "openai", "POST", "/openai/deployments/tiny-chat/chat/completions", [2], [["api-version", DATED]], "json", () => ({ messages: messages(), max_tokens: 2, temperature: 0 }), true);
  data("dated completions", "openai", "POST", "/openai/deployments/tiny-chat/completions", [2], [["api-version", DATED]], "json", () => ({ prompt: "Once upon", max_tokens: 2 }), true);
  data("dated embeddings", "openai", "POST", "/openai/deployments/tiny-embed/embeddings", [2], [["api-version", DATED]], "json", () => ({ input: ["hello", "world"] }));
  // OpenAI v1 and the project endpoint.
  data("v1 chat", "openai", "POST", "/openai/v1/chat/completions", [], [], "json", () => ({ model: "tiny-chat", messages: messages(), max_tokens: 2 }), true);
  data("v1 completions", "openai", "POST", "/openai/v1/completions", [], [], "json", () => ({ model: "tiny-chat", prompt: ["a", "b"], max_tokens: 2 }), true);
  data("v1 embeddings", "openai", "POST", "/openai/v1/embeddings", [], [], "json", () => ({ model: "tiny-embed", input: "hello" }));
  data("v1 models", "openai", "GET", "/openai/v1/models/tiny-chat", [3], [], "none");
  data("project chat", "openai", "POST", "/api/projects/demo/openai/v1/chat/completions", [2], [], "json", () => ({ model: "tiny-chat", messages: messages(), max_tokens: 2, stream: true }), true);
  data("project embeddings", "openai", "POST", "/api/projects/demo/openai/v1/embeddings", [2], [], "json", () => ({ model: "tiny-embed", input: [[1, 2, 3]] }));
  // Model inference.
  data("inference chat", "inference", "POST", "/models/chat/completions", [], [["api-version", INFERENCE_VERSION]], "json", () => ({ model: "tiny-chat", messages: messages(), max_tokens: 2 }), true);
  data("inference embeddings", "inference", "POST", "/models/embeddings", [], [["api-version", INFERENCE_VERSION]], "json", () => ({ model: "tiny-embed", input: ["x"] }));
  data("inference info", "inference", "GET", "/models/info", [], [["api-version", INFERENCE_VERSION]], "none");
  // Files.
  data("files upload", "openai", "POST", "/openai/files", [], [["api-version", DATED]], "multipart");
  data("v1 files upload", "openai", "POST", "/openai/v1/files", [], [], "multipart");
  data("files list", "openai", "GET", "/openai/files", [], [["api-version", DATED], ["purpose", "fine-tune"], ["limit", "5"]], "none");
  data("files get", "openai", "GET", `/openai/files/${trainingFile}`, [2], [["api-version", DATED]], "none");
  data("files content", "openai", "GET", `/openai/v1/files/${trainingFile}/content`, [3], [], "none");
  data("files delete", "openai", "DELETE", "/openai/files/file-00000000000000000000000000000000", [2], [["api-version", DATED]], "none");
  data("files import", "openai", "POST", "/openai/files/import", [], [["api-version", DATED]], "json", () => ({ purpose: "fine-tune", filename: "x.jsonl", content_url: "https://127.0.0.1:1/x.jsonl" }));
  // Fine-tuning jobs.
  data("jobs create", "openai", "POST", "/openai/fine_tuning/jobs", [], [["api-version", FT_VERSION]], "json", () => ({ model: "tiny-chat", training_file: trainingFile, hyperparameters: { n_epochs: 1, batch_size: 1, learning_rate_multiplier: 1 }, suffix: "fz", seed: 1 }));
  data("v1 jobs create", "openai", "POST", "/openai/v1/fine_tuning/jobs", [], [], "json", () => ({ model: "tiny-chat", training_file: trainingFile, method: { type: "supervised", supervised: { hyperparameters: { n_epochs: 1 } } } }));
  data("jobs list", "openai", "GET", "/openai/fine_tuning/jobs", [], [["api-version", FT_VERSION], ["limit", "3"], ["after", jobId]], "none");
  data("jobs get", "openai", "GET", `/openai/v1/fine_tuning/jobs/${jobId}`, [4], [], "none");
  data("jobs events", "openai", "GET", `/openai/fine_tuning/jobs/${jobId}/events`, [3], [["api-version", FT_VERSION], ["limit", "2"]], "none");
  data("jobs checkpoints", "openai", "GET", `/openai/v1/fine_tuning/jobs/${jobId}/checkpoints`, [4], [], "none");
  data("jobs cancel", "openai", "POST", `/openai/fine_tuning/jobs/${jobId}/cancel`, [3], [["api-version", FT_VERSION]], "none");
  data("jobs pause", "openai", "POST", `/openai/v1/fine_tuning/jobs/${jobId}/pause`, [4], [], "none");
  // ARM, with a valid token.
  const arm = (name: string, method: string, path: string, params: number[], kind: BodyKind, body?: () => Record<string, unknown>, query: [string, string][] = []) =>
    t.push({ name, surface: "arm", method, segments: seg(path), params, query: [["api-version", ARM_VERSION], ...query], auth: "bearer", kind, body });
  const acct = seg(ACCOUNT_PATH).length;
  arm("arm accounts", "GET", `${ACCOUNT_PATH.split("/accounts/")[0]}/accounts`, [1, 3], "none");
  arm("arm account get", "GET", ACCOUNT_PATH, [1, 3, acct - 1], "none");
  arm("arm account put", "PUT", ACCOUNT_PATH.replace(/ingot$/, "fuzzacct"), [acct - 1], "json", () => ({ location: "westeurope", kind: "AIServices", sku: { name: "S0" }, properties: { customSubDomainName: "fuzzacct" }, tags: { env: "fuzz" } }));
  arm("arm account patch", "PATCH", ACCOUNT_PATH, [acct - 1], "json", () => ({ tags: { team: "ai" } }));
  arm("arm deployment put", "PUT", `${ACCOUNT_PATH}/deployments/fuzz-dep`, [acct + 1], "json", () => ({ sku: { name: "GlobalStandard", capacity: 1 }, properties: { model: { format: "Ingot", name: "tiny-chat", version: "1" }, raiPolicyName: "Microsoft.Default" } }));
  arm("arm deployment patch", "PATCH", `${ACCOUNT_PATH}/deployments/fuzz-dep`, [acct + 1], "json", () => ({ sku: { capacity: 1000 } }));
  arm("arm deployment get", "GET", `${ACCOUNT_PATH}/deployments/tiny-chat`, [acct + 1], "none");
  arm("arm deployments list", "GET", `${ACCOUNT_PATH}/deployments`, [acct - 1], "none");
  arm("arm deployment delete", "DELETE", `${ACCOUNT_PATH}/deployments/no-such-deployment`, [acct + 1], "none");
  arm("arm listKeys", "POST", `${ACCOUNT_PATH}/listKeys`, [acct - 1], "none");
  arm("arm usages", "GET", `${ACCOUNT_PATH}/usages`, [acct - 1], "none", undefined, [["$filter", "name.value%20eq%20'x'"]]);
  arm("arm project put", "PUT", `${ACCOUNT_PATH}/projects/fuzzproj`, [acct + 1], "json", () => ({ location: "westeurope", identity: { type: "SystemAssigned" }, properties: { displayName: "p", description: "d" } }));
  // The identity token endpoint (Entra's OAuth error shape).
  t.push({
    name: "identity token",
    surface: "identity",
    method: "POST",
    segments: [TENANT, "oauth2", "v2.0", "token"],
    params: [0],
    query: [],
    auth: "none",
    kind: "form",
    body: () => ({ grant_type: "client_credentials", client_id: "11111111-2222-3333-4444-555555555555", client_secret: "not-the-secret", scope: "https://cognitiveservices.azure.com/.default" }),
  });
  return t;
}


/** Request i of the run: regenerated from (seed, i) alone. */
function build(i: number, all: Template[]): Built & { template: Template; anonymous: boolean } {
  const rng = prng(itemSeed(SEED, i));
  const template = rng.pick(all);
  const faults: string[] = [];
  const segments = [...template.segments];
  let method = template.method;
  let query = [...template.query];
  const headers: Record<string, string | string[]> = {};
  if (template.auth === "key") headers["api-key"] = API_KEY;
  if (template.auth === "bearer") headers.authorization = `Bearer ${token}`;
  let body: Buffer | undefined;
  let anonymous = false;
  if (template.kind === "json") {
    const b = jsonBody(rng, template, faults);
    body = b.body;
    headers["content-type"] = b.contentType;
  } else if (template.kind === "form") {
    const b = formBody(rng, template, faults);
    body = b.body;
    headers["content-type"] = b.contentType;
  } else if (template.kind === "multipart") {
    const b = multipartBody(rng, faults);
    body = b.body;
    headers["content-type"] = b.contentType;
  } else if (rng.chance(0.2)) {
    // clients (openai-python) send JSON content-type with an empty body on DELETE and cancel
    faults.push("empty JSON body");
    headers["content-type"] = "application/json";
    body = Buffer.alloc(0);
  }
  // A second, transport-level fault on about half of the requests.
  const transport = rng.int(0, 19);
  if (transport === 0 || transport === 1) {
    if (template.params.length) {
      const at = rng.pick(template.params);
      const piece = rng.pick(BAD_PATH_PIECES);
      segments[at] = rng.chance(0.5) ? piece : segments[at] + piece;
      faults.push(`path segment ${at} → ${JSON.stringify(segments[at].slice(0, 24))}${segments[at].length > 24 ? `…(${segments[at].length})` : ""}`);
    } else {
      segments.push(rng.pick(BAD_PATH_PIECES));
      faults.push(`extra path segment ${JSON.stringify(segments.at(-1)!.slice(0, 24))}`);
    }
  } else if (transport === 2 || transport === 3) {
    const q = rng.int(0, 6);
    if (q === 0) query = query.map(([k, v]) => (k === "api-version" ? [k, "%ff"] : [k, v]));
    else if (q === 1) query.push(["%ff", "%fe"]);
    else if (q === 2) query.push(["api-version", "2099-01-01"]);
    else if (q === 3) query.push(["x", "y".repeat(rng.pick([1000, 20_000]))]);
    else if (q === 4) query.push(["api-key", API_KEY]);
    else if (q === 5) query = query.map(([k, v]) => [k, v + "%"]);
    else query = query.filter(([k]) => k !== "api-version");
    faults.push(`query fault ${q}`);
  } else if (transport === 4) {
    const big = rng.chance(0.5);
    if (big) headers["x-fuzz"] = "h".repeat(rng.pick([20_000, 70_000]));
    else for (let h = 0; h < 300; h++) headers[`x-fuzz-${h}`] = "v".repeat(100);
    faults.push(big ? "one oversized header" : "300 headers");
  } else if (transport === 5 && rng.chance(0.15)) {
    body = Buffer.concat([Buffer.from('{"messages":[{"role":"user","content":"'), Buffer.alloc(5 * 1024 * 1024, 0x61), Buffer.from('"}]}')]);
    headers["content-type"] = rng.chance(0.5) ? "application/json" : String(headers["content-type"] ?? "application/json");
    faults.push("oversized body (5 MiB)");
  } else if (transport === 6) {
    const ct = rng.pick(BAD_CONTENT_TYPES);
    if (ct === "") delete headers["content-type"];
    else headers["content-type"] = ct;
    if (body === undefined) body = Buffer.from("{}");
    faults.push(`content-type ${JSON.stringify(ct)}`);
  } else if (transport === 7) {
    const a = rng.int(0, 3);
    delete headers["api-key"];
    delete headers.authorization;
    if (a === 1) headers["api-key"] = "wrong-key-wrong-key-wrong-key-00";
    if (a === 2) headers.authorization = rng.pick(["Bearer ", "Bearer x.y.z", `Bearer ${token.slice(0, -4)}AAAA`, "Basic Zm9vOmJhcg==", `Bearer ${"a".repeat(9000)}`]);
    if (a === 3) headers.authorization = `Bearer ${token}`;
    // Deny by default: without valid credentials nothing but the public routes may answer 2xx.
    anonymous = a !== 3 && template.auth !== "none";
    faults.push(`credentials ${a}`);
  } else if (transport === 8) {
    // No DELETE, and no PUT or PATCH on ARM: a valid request would remove or reshape the
    // account and deployments the rest of the run (and the health check) relies on.
    method = rng.pick(template.surface === "arm" ? ["GET", "POST", "OPTIONS"] : ["GET", "PUT", "PATCH", "OPTIONS", "POST"]);
    faults.push(`method ${method}`);
  } else if (transport === 9 && body && body.length < 100_000) {
    headers["content-encoding"] = rng.pick(["gzip", "br", "identity, gzip", "x-unknown"]);
    faults.push(`content-encoding ${headers["content-encoding"]}`);
  } else if (transport === 10 && body && body.length > 2) {
    // Shorter than the body: the rest reads as a malformed next request. (Longer would stall
    // until the server's request timeout: a slow-client case, not an input one.)
    headers["content-length"] = String(body.length - rng.int(1, Math.min(body.length - 1, 20)));
    faults.push("content-length under the body");
  }
  const qs = query.map(([k, v]) => `${k}=${v}`).join("&");
  const path = "/" + segments.join("/") + (qs ? `?${qs}` : "");
  if (body !== undefined && headers["content-length"] === undefined) headers["content-length"] = String(body.length);
  return { req: { method, path, headers, body }, fault: faults.join("; ") || "valid", template, anonymous };
}

// ---- checks ---------------------------------------------------------------------------------

interface Violation {
  i: number;
  template: string;
  fault: string;
  request: string;
  problem: string;
}

function check(surface: Surface, reply: RawReply): string | undefined {
  if (reply.status >= 500) return `status ${reply.status}: ${reply.body.toString("utf8", 0, 300)}`;
  if (reply.status < 200 || (reply.status >= 300 && reply.status < 400)) return `status ${reply.status}`;
  if (reply.status < 300) return undefined;
  const type = String(reply.headers["content-type"] ?? "");
  if (!/json/.test(type)) return `status ${reply.status} with content-type '${type}': ${reply.body.toString("utf8", 0, 200)}`;
  let body: { error?: unknown; error_description?: unknown };
  try {
    body = JSON.parse(reply.body.toString("utf8"));
  } catch {
    return `status ${reply.status} with a body that is not JSON: ${reply.body.toString("utf8", 0, 200)}`;
  }
  if (surface === "identity" && typeof body.error === "string" && typeof body.error_description === "string") return undefined;
  const e = body.error as { code?: unknown; message?: unknown } | undefined;
  if (!e || typeof e !== "object" || typeof e.code !== "string" || !e.code || typeof e.message !== "string" || !e.message)
    return `status ${reply.status} without an Azure error body ({error:{code,message}}): ${reply.body.toString("utf8", 0, 300)}`;
  return undefined;
}

/** What the surface a reply came from is: a fault may move a request to another surface (a bad path to the 404 handler). */
function surfaceOf(template: Template, path: string): Surface {
  if (template.surface === "identity" && /\/oauth2\//.test(path)) return "identity";
  return template.surface;
}

before(async () => {
  process.on("unhandledRejection", onUnhandled);
  process.on("uncaughtException", onUnhandled);
  server = await startServer();
  token = server.ingot.identity.adminToken();
  const mp = multipart([{ name: "purpose", value: "fine-tune" }, { name: "file", value: FACTS.map((f) => line(f.question, f.answer)).join("\n") + "\n", filename: "facts.jsonl" }], BOUNDARY);
  const up = await send(server.url, { method: "POST", path: "/openai/v1/files", headers: { "api-key": API_KEY, "content-type": mp.contentType }, body: mp.body }, 30_000);
  assert.equal(up.status, 200, up.body.toString());
  trainingFile = JSON.parse(up.body.toString()).id;
  await until("the training file to be processed", async () => {
    const r = await send(server.url, { method: "GET", path: `/openai/v1/files/${trainingFile}`, headers: { "api-key": API_KEY } }, 10_000);
    return JSON.parse(r.body.toString()).status === "processed" ? true : undefined;
  }, 60_000);
  // A deployment for PATCH to change (not tiny-chat, which the health check uses).
  const dep = await send(server.url, { method: "PUT", path: `${ACCOUNT_PATH}/deployments/fuzz-dep?api-version=${ARM_VERSION}`, headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify({ sku: { name: "GlobalStandard", capacity: 1 }, properties: { model: { format: "Ingot", name: "tiny-chat", version: "1" } } }) }, 30_000);
  assert.ok(dep.status === 201 || dep.status === 200, dep.body.toString());
  // A job that exists (for the job routes' templates), cancelled at once so it trains nothing.
  const job = await server.post("/openai/v1/fine_tuning/jobs", { model: "tiny-chat", training_file: trainingFile, hyperparameters: { n_epochs: 1 } });
  assert.equal(job.status, 200, await job.clone().text());
  jobId = ((await job.json()) as { id: string }).id;
  await server.post(`/openai/v1/fine_tuning/jobs/${jobId}/cancel`, "");
});
after(async () => {
  await server?.stop();
  process.off("unhandledRejection", onUnhandled);
  process.off("uncaughtException", onUnhandled);
});

/** A value nested `depth` levels deep, as JSON text (JSON.stringify itself would overflow). */
const nested = (depth: number, leaf = '"x"') => '{"a":'.repeat(depth) + leaf + "}".repeat(depth);

interface Probe {
  name: string;
  req: RawRequest;
  surface: Surface;
  /** Beyond the general rules: what this reply must be. */
  expect?: (r: RawReply) => string | undefined;
}

const is4xx = (r: RawReply) => (r.status >= 400 && r.status < 500 ? undefined : `expected a 4xx, got ${r.status}`);
const notEmptyBodyError = (r: RawReply) =>
  r.status === 400 && /invalid_json|request_body|empty/i.test(r.body.toString()) ? `an empty JSON body was refused: ${r.body.toString().slice(0, 200)}` : undefined;

/** The inputs the issue found breaking the server, pinned: each runs once in every run. */
function probes(): Probe[] {
  const key = { "api-key": API_KEY, "content-type": "application/json" };
  const arm = { authorization: `Bearer ${token}`, "content-type": "application/json" };
  const json = (method: string, path: string, body: string | object, surface: Surface = "openai", headers: Record<string, string> = key): RawRequest => ({
    method,
    path,
    headers,
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const chat = `/openai/deployments/tiny-chat/chat/completions?api-version=${DATED}`;
  const completions = `/openai/deployments/tiny-chat/completions?api-version=${DATED}`;
  const msgs = [{ role: "user", content: "hi" }];
  const out: Probe[] = [];
  for (const prompt of ['""', '[""]', '["a",""]', '[[]]', '[[1],[]]'])
    out.push({ name: `completions prompt ${prompt}`, surface: "openai", req: json("POST", completions, `{"prompt":${prompt},"max_tokens":2}`) });
  out.push({ name: "completions with a 10,000-entry prompt array", surface: "openai", req: json("POST", completions, { prompt: Array.from({ length: 10_000 }, () => "a"), max_tokens: 1 }), expect: is4xx });
  out.push({ name: "n 10000", surface: "openai", req: json("POST", chat, { messages: msgs, n: 10_000, max_tokens: 1 }), expect: is4xx });
  out.push({ name: "best_of 10000", surface: "openai", req: json("POST", completions, { prompt: "a", best_of: 10_000, max_tokens: 1 }), expect: is4xx });
  out.push({ name: "1,000 stop sequences", surface: "openai", req: json("POST", chat, { messages: msgs, stop: Array.from({ length: 1000 }, (_, i) => `s${i}`), max_tokens: 1 }), expect: is4xx });
  const tool = (i: number) => ({ type: "function", function: { name: `f${i}`, parameters: { type: "object", properties: {} } } });
  out.push({ name: "1,000 tools", surface: "openai", req: json("POST", chat, { messages: msgs, tools: Array.from({ length: 1000 }, (_, i) => tool(i)), max_tokens: 1 }), expect: is4xx });
  const deepSchema = (depth: number) => '{"type":"object","properties":{"a":'.repeat(depth) + '{"type":"string"}' + "}}".repeat(depth);
  out.push({ name: "response_format json_schema 2,000 levels deep", surface: "openai", req: json("POST", chat, `{"messages":[{"role":"user","content":"hi"}],"max_tokens":2,"response_format":{"type":"json_schema","json_schema":{"name":"deep","schema":${deepSchema(2000)}}}}`), expect: is4xx });
  out.push({ name: "tool parameters 2,000 levels deep", surface: "openai", req: json("POST", chat, `{"messages":[{"role":"user","content":"hi"}],"max_tokens":2,"tools":[{"type":"function","function":{"name":"f","parameters":${deepSchema(2000)}}}]}`), expect: is4xx });
  out.push({ name: "unknown parameter 10,000 levels deep", surface: "openai", req: json("POST", chat, `{"messages":[{"role":"user","content":"hi"}],"max_tokens":2,"extra":${nested(10_000)}}`) });
  out.push({ name: "unknown parameter 100,000 arrays deep", surface: "openai", req: json("POST", "/openai/v1/chat/completions", `{"model":"tiny-chat","messages":[{"role":"user","content":"hi"}],"max_tokens":2,"extra":${"[".repeat(100_000) + "]".repeat(100_000)}}`) });
  out.push({ name: "model inference: 10,000-deep parameter", surface: "inference", req: json("POST", `/models/chat/completions?api-version=${INFERENCE_VERSION}`, `{"model":"tiny-chat","messages":[{"role":"user","content":"hi"}],"max_tokens":2,"x":${nested(10_000)}}`, "inference") });
  out.push({ name: "%ff in a deployment name", surface: "openai", req: json("POST", `/openai/deployments/%ff/chat/completions?api-version=${DATED}`, { messages: msgs }), expect: is4xx });
  out.push({ name: "%ff in the query", surface: "openai", req: json("POST", `${chat}&x=%ff`, { messages: msgs, max_tokens: 1 }) });
  out.push({ name: "%ff in an ARM path", surface: "arm", req: { method: "GET", path: `${ACCOUNT_PATH}/deployments/%ff?api-version=${ARM_VERSION}`, headers: arm }, expect: is4xx });
  out.push({ name: "a 101-character deployment name", surface: "openai", req: json("POST", `/openai/deployments/${"d".repeat(101)}/chat/completions?api-version=${DATED}`, { messages: msgs }), expect: is4xx });
  out.push({ name: "a 101-character ARM deployment name", surface: "arm", req: json("PUT", `${ACCOUNT_PATH}/deployments/${"d".repeat(101)}?api-version=${ARM_VERSION}`, { sku: { name: "GlobalStandard", capacity: 1 }, properties: { model: { format: "Ingot", name: "tiny-chat", version: "1" } } }, "arm", arm), expect: is4xx });
  out.push({ name: "the api-key in the query string", surface: "openai", req: { method: "POST", path: `${chat}&api-key=${API_KEY}`, headers: { "content-type": "application/json" }, body: JSON.stringify({ messages: msgs, max_tokens: 1 }) }, expect: is4xx });
  const account = ACCOUNT_PATH.replace(/ingot$/, "fuzzprobe");
  const accountBody = (tags: string) => `{"location":"westeurope","kind":"AIServices","sku":{"name":"S0"},"properties":{},"tags":${tags}}`;
  out.push({ name: "ARM tags nested 10,000 deep", surface: "arm", req: json("PUT", `${account}?api-version=${ARM_VERSION}`, accountBody(`{"t":${nested(10_000)}}`), "arm", arm), expect: is4xx });
  out.push({ name: "ARM: 51 tags", surface: "arm", req: json("PUT", `${account}?api-version=${ARM_VERSION}`, accountBody(JSON.stringify(Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`t${i}`, "v"])))), "arm", arm), expect: is4xx });
  out.push({ name: "ARM: a tag value that is not a string", surface: "arm", req: json("PUT", `${account}?api-version=${ARM_VERSION}`, accountBody('{"t":{"u":1}}'), "arm", arm), expect: is4xx });
  out.push({ name: "ARM: a deployment with tags nested 10,000 deep", surface: "arm", req: json("PUT", `${ACCOUNT_PATH}/deployments/fuzz-dep?api-version=${ARM_VERSION}`, `{"sku":{"name":"GlobalStandard","capacity":1},"properties":{"model":{"format":"Ingot","name":"tiny-chat","version":"1"}},"tags":{"t":${nested(10_000)}}}`, "arm", arm), expect: is4xx });
  out.push({ name: "ARM: a location of 10,000 characters", surface: "arm", req: json("PUT", `${account}?api-version=${ARM_VERSION}`, `{"location":"${"w".repeat(10_000)}","kind":"AIServices","sku":{"name":"S0"},"properties":{}}`, "arm", arm), expect: is4xx });
  // Clients (openai-python by default) send Content-Type: application/json with an empty body on
  // DELETE, cancel and pause: the body must not be what is refused.
  out.push({ name: "file DELETE with an empty JSON body", surface: "openai", req: { method: "DELETE", path: `/openai/v1/files/file-00000000000000000000000000000000`, headers: key, body: "" }, expect: notEmptyBodyError });
  out.push({ name: "job cancel with an empty JSON body", surface: "openai", req: { method: "POST", path: `/openai/v1/fine_tuning/jobs/ftjob-00000000000000000000000000000000/cancel`, headers: key, body: "" }, expect: notEmptyBodyError });
  out.push({ name: "job pause with an empty JSON body", surface: "openai", req: { method: "POST", path: `/openai/fine_tuning/jobs/ftjob-00000000000000000000000000000000/pause?api-version=${FT_VERSION}`, headers: key, body: "" }, expect: notEmptyBodyError });
  out.push({ name: "model DELETE with an empty JSON body", surface: "openai", req: { method: "DELETE", path: `/openai/v1/models/no-such-model`, headers: key, body: "" }, expect: notEmptyBodyError });
  // Operations endpoints: anonymous callers learn the status only.
  out.push({
    name: "anonymous /readyz: status only",
    surface: "openai",
    req: { method: "GET", path: "/readyz" },
    expect: (r) => {
      const body = JSON.parse(r.body.toString());
      return Object.keys(body).join() === "status" ? undefined : `anonymous /readyz shows ${Object.keys(body).join(", ")}`;
    },
  });
  out.push({ name: "anonymous /metrics", surface: "openai", req: { method: "GET", path: "/metrics" }, expect: is4xx });
  out.push({ name: "/metrics with an account key", surface: "openai", req: { method: "GET", path: "/metrics", headers: { "api-key": API_KEY } }, expect: is4xx });
  out.push({ name: "an oversized header", surface: "openai", req: { method: "GET", path: "/openai/v1/models", headers: { "api-key": API_KEY, "x-big": "h".repeat(40_000) } }, expect: is4xx });
  return out;
}

test("pinned inputs that once broke the server get Azure-shaped 4xx (or 2xx), fast", { timeout: 300_000 }, async () => {
  const failures: string[] = [];
  for (const p of probes()) {
    const started = Date.now();
    let reply: RawReply;
    try {
      reply = await send(server.url, { ...p.req, headers: { ...p.req.headers, ...(p.req.body !== undefined ? { "content-length": String(Buffer.byteLength(p.req.body)) } : {}) } }, REQUEST_TIMEOUT_MS);
    } catch (e) {
      failures.push(`${p.name}: ${(e as Error).message}`);
      continue;
    }
    const problem = check(p.surface, reply) ?? p.expect?.(reply);
    if (problem) failures.push(`${p.name}: ${problem}`);
    else if (Date.now() - started > 5000) failures.push(`${p.name}: took ${Date.now() - started} ms`);
  }
  // A long request must not starve others: while a 2,048-entry prompt array runs, a small
  // chat completion still answers within seconds.
  const big = send(server.url, { method: "POST", path: `/openai/deployments/tiny-chat/completions?api-version=${DATED}`, headers: { "api-key": API_KEY, "content-type": "application/json" }, body: JSON.stringify({ prompt: Array.from({ length: 2048 }, (_, i) => `p${i}`), max_tokens: 4 }) }, 120_000);
  const t0 = Date.now();
  const small = await send(server.url, { method: "POST", path: `/openai/v1/chat/completions`, headers: { "api-key": API_KEY, "content-type": "application/json" }, body: JSON.stringify({ model: "tiny-chat", messages: [{ role: "user", content: "hi" }], max_tokens: 2 }) }, REQUEST_TIMEOUT_MS).catch((e: Error) => ({ status: 0, ms: Date.now() - t0, body: Buffer.from(e.message) }));
  const bigReply = await big.catch((e: Error) => ({ status: 0, ms: 0, body: Buffer.from(e.message), headers: {} }));
  console.log(`# fuzz probes: a small chat during a 2,048-prompt completion took ${small.ms.toFixed(0)} ms (status ${small.status}); the big one ${bigReply.ms.toFixed(0)} ms (status ${bigReply.status})`);
  if (small.status !== 200 || small.ms > 5000) failures.push(`a small chat completion behind a 2,048-prompt completion: status ${small.status} after ${small.ms.toFixed(0)} ms: ${small.body.toString().slice(0, 200)}`);
  if (bigReply.status >= 500 || bigReply.status === 0) failures.push(`a 2,048-prompt completion: status ${bigReply.status}: ${bigReply.body.toString().slice(0, 200)}`);
  for (const f of failures) console.log(`# fuzz probe failed: ${f.slice(0, 500)}`);
  await send(server.url, { method: "DELETE", path: `${ACCOUNT_PATH.replace(/ingot$/, "fuzzprobe")}?api-version=${ARM_VERSION}`, headers: { authorization: `Bearer ${token}` } }, 30_000);
  assert.deepEqual(failures, []);
});

test(`fuzzing every surface: only 2xx or Azure-shaped 4xx, no 5xx, no hang; healthy after (seed ${SEED})`, { timeout: 900_000 }, async () => {
  const all = templates();
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const violations: Violation[] = [];
  const byStatus = new Map<string, number>();
  const latencies: number[] = [];
  let slowest = { ms: 0, what: "" };
  let next = 0;
  const started = Date.now();
  const createdJobs = new Set<string>();

  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= REQUESTS) return;
      const { req, fault, template, anonymous } = build(i, all);
      const describe = `${req.method} ${req.path.length > 160 ? req.path.slice(0, 160) + `…(${req.path.length})` : req.path}`;
      let reply: RawReply;
      try {
        // Oversized headers and lying content-lengths leave a connection unusable: their own socket.
        reply = await send(server.url, req, REQUEST_TIMEOUT_MS, /header|content-length/.test(fault) ? undefined : agent);
      } catch (e) {
        const msg = (e as Error).message;
        // A server may close the connection on a transport-level violation instead of answering;
        // a hang, or a reset of a well-formed request, is a failure.
        const closed = /header|content-length/.test(fault) && /socket hang up|ECONNRESET|EPIPE/.test(msg);
        byStatus.set(closed ? "closed" : "error", (byStatus.get(closed ? "closed" : "error") ?? 0) + 1);
        if (!closed) violations.push({ i, template: template.name, fault, request: describe, problem: msg });
        continue;
      }
      byStatus.set(String(reply.status), (byStatus.get(String(reply.status)) ?? 0) + 1);
      latencies.push(reply.ms);
      if (reply.ms > slowest.ms) slowest = { ms: reply.ms, what: `#${i} ${template.name}: ${fault}` };
      const problem = check(surfaceOf(template, req.path), reply) ?? (anonymous && reply.status < 300 ? `answered ${reply.status} without valid credentials` : undefined);
      if (problem) violations.push({ i, template: template.name, fault, request: describe, problem });
      // A fault that left a valid job: cancel it, so the fuzz does not train.
      if (/jobs create/.test(template.name) && reply.status < 300) {
        try {
          const id = JSON.parse(reply.body.toString()).id as string;
          createdJobs.add(id);
          await server.post(`/openai/v1/fine_tuning/jobs/${id}/cancel`, "");
        } catch {
          // reported by the checks above
        }
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  agent.destroy();
  const seconds = (Date.now() - started) / 1000;

  // The fuzz's leftovers: deployments and accounts it may have created.
  const armDelete = (path: string) => send(server.url, { method: "DELETE", path: `${path}?api-version=${ARM_VERSION}`, headers: { authorization: `Bearer ${token}` } }, 30_000);
  await armDelete(`${ACCOUNT_PATH}/deployments/fuzz-dep`);
  await armDelete(ACCOUNT_PATH.replace(/ingot$/, "fuzzacct"));

  // Healthy after: liveness, a real chat completion, and no upload left in the temp folder.
  const health = await send(server.url, { method: "GET", path: "/healthz" }, 10_000);
  assert.equal(health.status, 200, "/healthz after the fuzz");
  const chat = await server.v1().chat.completions.create({ model: "tiny-chat", messages: [{ role: "user", content: "Say hi." }], max_tokens: 4 });
  assert.equal(chat.choices[0].message.role, "assistant", "a real chat completion after the fuzz");
  const tmpDir = join(server.dataDir, "blobs", "files", ".tmp");
  const leftovers = await until("failed uploads' temp files to be removed", () => (readdirSync(tmpDir).length === 0 ? [] : undefined), 10_000).catch(() => readdirSync(tmpDir));

  const statusLine = [...byStatus.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([s, n]) => `${s}:${n}`).join(" ");
  console.log(`# fuzz: seed ${SEED}, ${REQUESTS} requests over ${all.length} routes in ${seconds.toFixed(1)} s; by status ${statusLine}; latency p50 ${quantile(latencies, 0.5).toFixed(0)} ms, p99 ${quantile(latencies, 0.99).toFixed(0)} ms, max ${slowest.ms.toFixed(0)} ms (${slowest.what}); ${createdJobs.size} valid jobs cancelled; ${violations.length} violations`);
  if (violations.length) {
    // One line per distinct problem (status and the first words of the body), the routes it
    // was seen on, and an example to reproduce.
    const kinds = new Map<string, Violation[]>();
    for (const v of violations) {
      const k = v.problem.replace(/'[^']*'/g, "'…'").replace(/\d{3,}/g, "N").slice(0, 110);
      kinds.set(k, [...(kinds.get(k) ?? []), v]);
    }
    for (const [k, vs] of kinds) {
      const routes = [...new Set(vs.map((v) => v.template))];
      console.log(`# fuzz violation ×${vs.length} on ${routes.length} routes (${routes.slice(0, 6).join(", ")}${routes.length > 6 ? ", …" : ""}): ${k}\n#   e.g. #${vs[0].i} ${vs[0].request}\n#   fault: ${vs[0].fault.slice(0, 300)}\n#   reply: ${vs[0].problem.slice(0, 400)}`);
    }
  }
  assert.deepEqual(leftovers, [], `temp files of failed uploads left in ${tmpDir}`);
  assert.deepEqual(unhandled.map(String), [], "no unhandled rejection or exception in the server process");
  assert.equal(violations.length, 0, `${violations.length} of ${REQUESTS} replies broke the rules (seed ${SEED}; rerun with RELIABILITY_SEED=${SEED}); first: ${JSON.stringify(violations.slice(0, 5), null, 1)}`);
});
