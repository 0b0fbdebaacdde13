// The request pipeline as a hostile caller meets it: every route but the listed public ones
// refuses anonymous callers (a route added without a surface too); /readyz details and /metrics
// need an administrator or the metrics listener; slow headers, stalled bodies and stalled
// uploads are cut; keys and tokens never reach the log; the data dir is the owner's only;
// Fastify's own errors answer in each surface's Azure shape; an empty JSON body is no body.
import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { createIngot } from "../../src/app.ts";
import type { Ingot } from "../../src/app.ts";
import { registeredRoutes } from "../../src/http/server.ts";
import { isPublicRoute, PUBLIC_ROUTES } from "../../src/http/public-routes.ts";
import { API_KEY, json } from "./harness.ts";

const SECRET_QUERY_KEY = "querykey0123456789abcdefsecretQQ";
const SECRET_HEADER_KEY = "headerkey0123456789abcdefsecretHH";
const SECRET_RAW_KEY = "rawkey0123456789abcdefsecretRRRR";
const FAKE_JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzZWNyZXQtc3ViamVjdCJ9.c2lnbmF0dXJlLXNlY3JldC1wYXJ0";

let ingot: Ingot;
let url: string;
let port: number;
let dataDir: string;
let busy: net.Server;
let busyPort: number;
const logLines: string[] = [];

/** Sends raw bytes (in pieces, `gapMs` apart) and resolves with what came back and when the server closed. */
function rawExchange(pieces: string[], gapMs = 0, deadlineMs = 10_000): Promise<{ data: string; closedAfterMs: number; closed: boolean }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = net.connect(port, "127.0.0.1");
    let data = "";
    let finished = false;
    const finish = (closed: boolean) => {
      if (finished) return;
      finished = true;
      clearTimeout(deadline);
      socket.destroy();
      resolve({ data, closedAfterMs: Date.now() - started, closed });
    };
    const deadline = setTimeout(() => finish(false), deadlineMs);
    socket.on("data", (d) => (data += d.toString("latin1")));
    socket.on("close", () => finish(true));
    socket.on("error", () => finish(true));
    socket.on("connect", async () => {
      for (const piece of pieces) {
        if (socket.destroyed) return;
        socket.write(piece);
        if (gapMs) await new Promise((r) => setTimeout(r, gapMs));
      }
    });
  });
}

const bodyOf = (raw: string) => JSON.parse(raw.slice(raw.indexOf("\r\n\r\n") + 4));
const statusOf = (raw: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1]);

/** The three error shapes (reference §1.10, §3, OpenAI's envelope). */
function assertShape(surface: "openai" | "arm" | "inference", body: Record<string, unknown>, context: string) {
  const error = body.error as Record<string, unknown> | undefined;
  assert.ok(error && typeof error === "object", `${context}: an 'error' object: ${JSON.stringify(body)}`);
  assert.equal(typeof error.code, "string", `${context}: error.code`);
  assert.equal(typeof error.message, "string", `${context}: error.message`);
  assert.ok(!("statusCode" in body) && !("statusCode" in error), `${context}: no Fastify fields: ${JSON.stringify(body)}`);
  if (surface === "openai") assert.ok("type" in error && "param" in error, `${context}: OpenAI's envelope: ${JSON.stringify(body)}`);
  if (surface === "arm") assert.deepEqual(Object.keys(error).sort().filter((k) => k !== "target"), ["code", "message"], `${context}: ARM's ErrorResponse`);
  if (surface === "inference") assert.equal(typeof body.message, "string", `${context}: model inference's top-level fields`);
}

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "ingot-pipeline-"));
  chmodSync(dataDir, 0o755); // as a user's `mkdir` leaves it: the server must tighten it
  busy = net.createServer();
  await new Promise<void>((r) => busy.listen(0, "127.0.0.1", r));
  busyPort = (busy.address() as net.AddressInfo).port;
  ingot = createIngot({
    dataDir,
    apiKey: API_KEY,
    threads: 1,
    sequences: 2,
    logLevel: "debug",
    logStream: { write: (line: string) => void logLines.push(line) },
    bodyLimit: 64 * 1024,
    timeouts: { headersMs: 600, requestMs: 1000, keepAliveMs: 800, uploadStallMs: 1000 },
    metricsAddress: { host: "127.0.0.1", port: busyPort },
  });
  // A route added without thinking about access: the pipeline must refuse it to anonymous callers.
  ingot.app.get("/pipeline-test/unlabelled", async () => ({ secret: "anyone can read this" }));
  url = await ingot.app.listen({ port: 0, host: "127.0.0.1" });
  port = Number(new URL(url).port);
  await ingot.ready;
});

let closed = false;
after(async () => {
  if (!closed) await ingot?.close();
  busy?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("deny by default", { timeout: 120_000 }, () => {
  test("every registered route that is not public answers 401 to an anonymous request", async () => {
    const routes = registeredRoutes(ingot.app);
    assert.ok(routes.length > 100, `the server registered its routes (${routes.length})`);
    assert.ok(routes.some((r) => r.url === "/pipeline-test/unlabelled"));
    const closed = routes.filter((r) => !isPublicRoute(r.method, r.url));
    for (const r of closed) {
      // '::' is a literal colon (Content Safety's text::analyze), not a parameter.
      const path = r.url.replace(/::/g, "\u0000").replace(/:[A-Za-z_]+/g, "x1").replace(/\*$/, "x1").replace(/\u0000/g, ":");
      const hasBody = ["POST", "PUT", "PATCH"].includes(r.method);
      const res = await fetch(`${url}${path}?api-version=2024-10-21`, {
        method: r.method,
        headers: hasBody ? { "content-type": "application/json" } : {},
        body: hasBody ? "{}" : undefined,
      });
      await res.arrayBuffer();
      assert.equal(res.status, 401, `${r.method} ${r.url} answered ${res.status} to an anonymous caller`);
    }
    // Every public route is registered (the list is not stale) and opens without credentials.
    for (const p of PUBLIC_ROUTES) assert.ok(routes.some((r) => r.method === p.method && r.url === p.url), `public route ${p.method} ${p.url} is registered`);
    for (const path of ["/healthz", "/readyz", "/ingot/v2.0/.well-known/openid-configuration", "/ingot/discovery/v2.0/keys", "/"]) {
      const res = await fetch(`${url}${path}`);
      await res.arrayBuffer();
      assert.notEqual(res.status, 401, `public ${path}`);
    }
  });

  test("ARM and data plane are authenticated by the pipeline, before api-version checks", async () => {
    const arm = await fetch(`${url}/subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.CognitiveServices/accounts`);
    assert.equal(arm.status, 401);
    assertShape("arm", await json(arm), "ARM without a token");
    const withToken = await fetch(`${url}/subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.CognitiveServices/accounts`, {
      headers: { authorization: `Bearer ${ingot.identity.adminToken("management")}` },
    });
    assert.equal(withToken.status, 400, "authenticated, then the missing api-version is reported");
    const data = await fetch(`${url}/openai/v1/models`);
    assert.equal(data.status, 401);
    assertShape("openai", await json(data), "data plane without a key");
  });
});

describe("/readyz and /metrics", { timeout: 120_000 }, () => {
  test("anonymous callers get readiness as a status only and no metrics", async () => {
    const ready = await fetch(`${url}/readyz`);
    const body = await json(ready);
    assert.deepEqual(Object.keys(body), ["status"], JSON.stringify(body));
    assert.match(body.status, /^(ready|not_ready)$/);
    const metrics = await fetch(`${url}/metrics`);
    assert.equal(metrics.status, 401);
    assertShape("openai", await json(metrics), "/metrics anonymous");
    // An account key is not an administrator's credential.
    const withKey = await fetch(`${url}/metrics`, { headers: { "api-key": API_KEY } });
    assert.equal(withKey.status, 401);
  });

  test("details and metrics need an administrator: Owner at '/'", async () => {
    const admin = { authorization: `Bearer ${ingot.identity.adminToken("management")}` };
    const ready = await json(await fetch(`${url}/readyz`, { headers: admin }));
    assert.ok(Array.isArray(ready.deployments) && ready.deployments.some((d: { name: string }) => d.name === "tiny-chat"), JSON.stringify(ready));
    assert.ok(Array.isArray(ready.models));
    const metrics = await fetch(`${url}/metrics`, { headers: admin });
    assert.equal(metrics.status, 200);
    assert.match(await metrics.text(), /ingot_http_requests_total/);

    const tokenOf = (sp: { objectId: string; appId: string; displayName: string; tenant: string }) =>
      ingot.identity.issueToken({ objectId: sp.objectId, appId: sp.appId, displayName: sp.displayName, tenantId: sp.tenant, kind: "servicePrincipal" }, "management");
    const readerToken = tokenOf(ingot.identity.createServicePrincipal({ role: "Reader", scope: "/subscriptions/00000000-0000-0000-0000-000000000000", displayName: "reader" }));
    const denied = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${readerToken}` } });
    assert.equal(denied.status, 403);
    const readerReady = await json(await fetch(`${url}/readyz`, { headers: { authorization: `Bearer ${readerToken}` } }));
    assert.deepEqual(Object.keys(readerReady), ["status"]);
    const accountOwner = tokenOf(
      ingot.identity.createServicePrincipal({ role: "Owner", scope: "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/ingot", displayName: "account-owner" }),
    );
    assert.equal((await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${accountOwner}` } })).status, 403, "an account's Owner is not the server's");
    const ownerToken = tokenOf(ingot.identity.createServicePrincipal({ role: "Owner", scope: "/subscriptions/00000000-0000-0000-0000-000000000000", displayName: "sub-owner" }));
    assert.equal((await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${ownerToken}` } })).status, 403, "a subscription's Owner must not see other subscriptions' deployments");
    const rootOwner = tokenOf(ingot.identity.createServicePrincipal({ role: "Owner", scope: "/", displayName: "root-owner" }));
    assert.equal((await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${rootOwner}` } })).status, 200);
  });

  test("the metrics listener: a busy address is logged and skipped; a free one serves without credentials", async () => {
    assert.equal(await ingot.listenMetrics(), undefined, "the address is busy");
    assert.ok(logLines.some((l) => l.includes("metrics listener not started")), "the busy address is logged");
    assert.equal((await fetch(`${url}/healthz`)).status, 200, "the server goes on");
    await new Promise<void>((r) => busy.close(() => r()));
    const metricsUrl = await ingot.listenMetrics();
    assert.ok(metricsUrl, "listening once the address is free");
    const metrics = await fetch(`${metricsUrl}/metrics`);
    assert.equal(metrics.status, 200);
    assert.match(await metrics.text(), /ingot_http_requests_total/);
    const ready = await json(await fetch(`${metricsUrl}/readyz`));
    assert.ok(Array.isArray(ready.deployments), JSON.stringify(ready));
    const unknown = await fetch(`${metricsUrl}/openai/v1/models`);
    assert.equal(unknown.status, 404, "the metrics listener serves nothing else");
  });
});

describe("Azure-shaped errors for Fastify's own failures", { timeout: 120_000 }, () => {
  const key = { "api-key": API_KEY };

  test("bad percent-encoding in the path, per surface", async () => {
    for (const [surface, path] of [
      ["openai", "/openai/deployments/%ff/chat/completions?api-version=2024-10-21"],
      ["arm", "/subscriptions/%ff/providers/Microsoft.CognitiveServices/accounts?api-version=2024-10-01"],
      ["inference", "/models/%ff"],
    ] as const) {
      const res = await fetch(`${url}${path}`, { headers: key });
      assert.equal(res.status, 400, path);
      assertShape(surface, await json(res), path);
    }
  });

  test("long path parameters: Azure-length names route; absurd ones are refused in shape", async () => {
    const long = "d".repeat(150);
    const res = await fetch(`${url}/openai/deployments/${long}/chat/completions?api-version=2024-10-21`, {
      method: "POST",
      headers: { ...key, "content-type": "application/json" },
      body: JSON.stringify({ messages: [{ role: "user", content: "hi" }] }),
    });
    assert.equal(res.status, 404, "a 150-character name reaches the route (DeploymentNotFound), not a 414");
    assertShape("openai", await json(res), "long deployment name");
    const absurd = await fetch(`${url}/openai/deployments/${"d".repeat(5000)}/chat/completions?api-version=2024-10-21`, { method: "POST", headers: key });
    assert.equal(absurd.status, 400);
    assertShape("openai", await json(absurd), "absurd deployment name");
  });

  test("a 10,000-level unknown parameter is a 422 in the inference shape, not a stack overflow", async () => {
    const deep = "[".repeat(10_000) + "]".repeat(10_000);
    const res = await fetch(`${url}/models/chat/completions?api-version=2024-05-01-preview`, {
      method: "POST",
      headers: { ...key, "content-type": "application/json" },
      body: `{"model":"tiny-chat","messages":[{"role":"user","content":"hi"}],"unknown_deep":${deep}}`,
    });
    assert.equal(res.status, 422);
    const body = await json(res);
    assertShape("inference", body, "deep unknown parameter");
    assert.equal(typeof body.detail.input, "string", "the deep value is not echoed");
    const query = await fetch(`${url}/openai/v1/models?${"a[".repeat(4000)}=1`, { headers: key });
    assert.equal(query.status, 200, "a deep query parameter name is just an unknown parameter");
  });

  test("content type, JSON syntax, body size and unknown paths", async () => {
    const chat = `${url}/openai/deployments/tiny-chat/chat/completions?api-version=2024-10-21`;
    const media = await fetch(chat, { method: "POST", headers: { ...key, "content-type": "text/x-weird" }, body: "hello" });
    assert.ok([400, 415].includes(media.status), String(media.status));
    assertShape("openai", await json(media), "unsupported media type");
    const syntax = await fetch(chat, { method: "POST", headers: { ...key, "content-type": "application/json" }, body: "{nope" });
    assert.equal(syntax.status, 400);
    const syntaxBody = await json(syntax);
    assertShape("openai", syntaxBody, "JSON syntax");
    assert.equal(syntaxBody.error.code, "invalid_json");
    const big = await fetch(chat, { method: "POST", headers: { ...key, "content-type": "application/json" }, body: JSON.stringify({ messages: [{ role: "user", content: "x".repeat(100_000) }] }) });
    assert.equal(big.status, 413);
    assertShape("openai", await json(big), "body too large");
    const armBig = await fetch(`${url}/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/a?api-version=2024-10-01`, {
      method: "PUT",
      headers: { authorization: `Bearer ${ingot.identity.adminToken("management")}`, "content-type": "application/json" },
      body: JSON.stringify({ location: "x".repeat(100_000) }),
    });
    assert.equal(armBig.status, 413);
    assertShape("arm", await json(armBig), "ARM body too large");
    for (const [surface, path] of [
      ["arm", "/subscriptions/00000000-0000-0000-0000-000000000000/nothing"],
      ["inference", "/models/nothing"],
      ["openai", "/openai/nothing"],
      ["openai", "/nothing-at-all"],
    ] as const) {
      const res = await fetch(`${url}${path}`, { headers: key });
      assert.equal(res.status, 404, path);
      assertShape(surface, await json(res), path);
    }
  });

  test("malformed HTTP and oversized headers, on raw sockets", async () => {
    const badLength = await rawExchange([`POST /models/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n`]);
    assert.equal(statusOf(badLength.data), 400, badLength.data);
    assertShape("inference", bodyOf(badLength.data), "bad Content-Length");
    const huge = await rawExchange([`GET /subscriptions/x HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`]);
    assert.equal(statusOf(huge.data), 431, huge.data.slice(0, 200));
    assertShape("arm", bodyOf(huge.data), "header overflow");
  });
});

describe("an empty JSON body is no body, on every method", { timeout: 60_000 }, () => {
  test("DELETE and cancel with Content-Type: application/json and no body reach the handler", async () => {
    const headers = { "api-key": API_KEY, "content-type": "application/json" };
    const del = await fetch(`${url}/openai/v1/files/file-doesnotexist`, { method: "DELETE", headers });
    assert.equal(del.status, 404, "the handler ran (no such file), not a 400 invalid_json");
    const cancel = await fetch(`${url}/openai/v1/fine_tuning/jobs/ftjob-doesnotexist/cancel`, { method: "POST", headers });
    assert.equal(cancel.status, 404);
    const pause = await fetch(`${url}/openai/fine_tuning/jobs/ftjob-doesnotexist/pause?api-version=2024-10-21`, { method: "POST", headers });
    assert.equal(pause.status, 404);
    const chat = await fetch(`${url}/openai/v1/chat/completions`, { method: "POST", headers });
    assert.equal(chat.status, 400, "a POST that needs a body still says so");
    assertShape("openai", await json(chat), "empty chat body");
  });
});

describe("timeouts", { timeout: 60_000 }, () => {
  test("slow headers (slowloris) are cut at the header timeout", async () => {
    const pieces = ["GET /healthz HTTP/1.1\r\n", "Host: x\r\n", ...Array.from({ length: 40 }, (_, i) => `X-Slow-${i}: y\r\n`)];
    const r = await rawExchange(pieces, 100, 8000);
    assert.ok(r.closed, "the server closed the connection");
    assert.ok(r.closedAfterMs < 3000, `closed after ${r.closedAfterMs} ms (headers timeout 600 ms)`);
    if (r.data) assert.equal(statusOf(r.data), 408);
  });

  test("a request body that stops arriving is cut at the request timeout, in shape", async () => {
    const r = await rawExchange([`POST /openai/v1/chat/completions HTTP/1.1\r\nHost: x\r\napi-key: ${API_KEY}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"model":`], 0, 8000);
    assert.ok(r.closed);
    assert.ok(r.closedAfterMs < 4000, `closed after ${r.closedAfterMs} ms (request timeout 1000 ms)`);
    assert.equal(statusOf(r.data), 408, r.data);
    assertShape("openai", bodyOf(r.data), "request timeout");
  });

  test("an upload may take longer than the request timeout while bytes flow, and is aborted when they stop", async (t) => {
    const boundary = "----ingotboundary";
    const head = (len: number) =>
      `POST /openai/v1/files HTTP/1.1\r\nHost: x\r\napi-key: ${API_KEY}\r\nContent-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: ${len}\r\n\r\n`;
    const line = JSON.stringify({ messages: [{ role: "user", content: "hi" }, { role: "assistant", content: "hello" }] }) + "\n";
    const partHead = `--${boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nfine-tune\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="t.jsonl"\r\nContent-Type: application/jsonl\r\n\r\n`;
    const tail = `\r\n--${boundary}--\r\n`;
    // Slow but steady: 8 lines, 250 ms apart (2 s in all, past the 1 s request timeout).
    const lines = Array.from({ length: 8 }, () => line);
    const total = Buffer.byteLength(partHead) + lines.reduce((n, l) => n + Buffer.byteLength(l), 0) + Buffer.byteLength(tail);
    const steady = await rawExchange([head(total), partHead, ...lines, tail], 250, 15_000);
    assert.equal(statusOf(steady.data), 200, steady.data.slice(0, 400));
    t.diagnostic(`steady upload: answered and closed after ${steady.closedAfterMs} ms`);
    assert.ok(steady.closed && steady.closedAfterMs < 8000, `the idle connection after the upload closed at the keep-alive timeout (${steady.closedAfterMs} ms)`);

    // Stalled: the file part starts, then nothing.
    const tmp = join(dataDir, "blobs", "files", ".tmp");
    const stalled = await rawExchange([head(100_000), partHead, line], 0, 15_000);
    assert.ok(stalled.closed, "the server closed the stalled upload");
    assert.ok(stalled.closedAfterMs < 6000, `closed after ${stalled.closedAfterMs} ms (stall timeout 1000 ms)`);
    const deadline = Date.now() + 10_000;
    while (existsSync(tmp) && readdirSync(tmp).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(existsSync(tmp) ? readdirSync(tmp) : [], [], "the partial upload was removed");
    t.diagnostic(`stalled upload: closed after ${stalled.closedAfterMs} ms, temp file gone ${Date.now() - deadline + 10_000} ms after`);
  });

  test("an idle keep-alive connection closes after the keep-alive timeout", async () => {
    const r = await rawExchange([`GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n`], 0, 8000);
    assert.equal(statusOf(r.data), 200);
    assert.ok(r.closed && r.closedAfterMs < 4000, `closed after ${r.closedAfterMs} ms (keep-alive 800 ms)`);
  });
});

describe("secrets in logs", { timeout: 60_000 }, () => {
  test("keys and tokens in the query, headers and raw requests never reach the log", async () => {
    const refused = await fetch(`${url}/openai/v1/models?api-key=${SECRET_QUERY_KEY}&token=${FAKE_JWT}`);
    assert.equal(refused.status, 401, "a key in the query string is refused");
    await (await fetch(`${url}/openai/v1/models`, { headers: { "api-key": SECRET_HEADER_KEY } })).arrayBuffer();
    await (await fetch(`${url}/openai/v1/models`, { headers: { authorization: `Bearer ${FAKE_JWT}` } })).arrayBuffer();
    await (await fetch(`${url}/subscriptions/x/providers/Microsoft.CognitiveServices/accounts?api-version=2024-10-01&sig=${SECRET_QUERY_KEY}`, { headers: { authorization: `Bearer ${FAKE_JWT}`, "x-ms-authorization-auxiliary": `Bearer ${FAKE_JWT}`, cookie: `s=${SECRET_HEADER_KEY}` } })).arrayBuffer();
    // A malformed request with a key in its headers: Node hands its raw bytes to the client-error log.
    await rawExchange([`GET /openai/v1/models?api-key=${SECRET_RAW_KEY} HTTP/1.1\r\nHost: x\r\napi-key: ${SECRET_RAW_KEY}\r\nContent-Length: nope\r\n\r\n`]);
    const deadline = Date.now() + 5000;
    while (!logLines.some((l) => l.includes("client error")) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const log = logLines.join("");
    assert.ok(log.includes("/openai/v1/models?api-key=[REDACTED]"), "the request is logged, its key redacted");
    for (const secret of [SECRET_QUERY_KEY, SECRET_HEADER_KEY, SECRET_RAW_KEY, FAKE_JWT, "c2lnbmF0dXJlLXNlY3JldC1wYXJ0", API_KEY])
      assert.ok(!log.includes(secret), `the log holds ${secret.slice(0, 12)}…`);
  });
});

describe("data dir permissions", { timeout: 30_000 }, () => {
  test("the data dir is 0700 (tightened, and logged) and the database files 0600", () => {
    const mode = (p: string) => statSync(p).mode & 0o777;
    assert.equal(mode(dataDir), 0o700);
    assert.ok(logLines.some((l) => l.includes("readable by others") && l.includes("755")), "the tightening is logged");
    for (const f of ["ingot.db", "ingot.db-wal", "ingot.db-shm"]) if (existsSync(join(dataDir, f))) assert.equal(mode(join(dataDir, f)), 0o600, f);
    assert.ok(existsSync(join(dataDir, "ingot.db")));
  });
});

// Last: it closes the server.
describe("shutdown", { timeout: 60_000 }, () => {
  test("a request that arrives while the server closes gets an Azure-shaped 503; the stream in flight finishes", async () => {
    const socket = net.connect(port, "127.0.0.1");
    let data = "";
    socket.on("data", (d) => (data += d.toString("latin1")));
    await new Promise<void>((r) => socket.once("connect", () => r()));
    const body = JSON.stringify({ model: "tiny-chat", messages: [{ role: "user", content: "Count to fifty." }], max_tokens: 400, seed: 7, stream: true,
      // The model's end tokens banned: the stream must still be running when the server starts closing.
      logit_bias: { "256": -100, "257": -100, "258": -100 } });
    socket.write(`POST /openai/v1/chat/completions HTTP/1.1\r\nHost: x\r\napi-key: ${API_KEY}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    const until = async (what: () => boolean, label: string) => {
      const deadline = Date.now() + 30_000;
      while (!what()) {
        assert.ok(Date.now() < deadline, `timed out waiting for ${label}: ${data.slice(0, 300)}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    await until(() => data.includes("data: "), "the stream to start");
    closed = true;
    const closing = ingot.close();
    // Once new connections are refused, close() is past its preClose hook: the server is draining.
    const refused = () =>
      new Promise<boolean>((resolve) => {
        const probe = net.connect(port, "127.0.0.1");
        probe.once("connect", () => (probe.destroy(), resolve(false)));
        probe.once("error", () => resolve(true));
      });
    const deadline = Date.now() + 10_000;
    while (!(await refused())) assert.ok(Date.now() < deadline, "the server never stopped accepting connections");
    socket.write(`GET /openai/v1/models HTTP/1.1\r\nHost: x\r\napi-key: ${API_KEY}\r\n\r\n`);
    await until(() => /HTTP\/1\.1 503/.test(data), "the 503");
    const second = data.slice(data.indexOf("HTTP/1.1 503"));
    assertShape("openai", bodyOf(second), "503 while closing");
    assert.match(data, /data: \[DONE\]/, "the stream in flight finished");
    socket.destroy();
    await closing;
  });
});
