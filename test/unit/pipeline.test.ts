// Rules of the request pipeline that need no server: which routes are public, what the log
// may hold, which surface a path answers in, what an error may echo, file modes, option parsing.
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { parseMetricsAddress, UsageError } from "../../src/cli/commands/up.ts";
import { echoable, surfaceForPath, toIngotError } from "../../src/http/errors.ts";
import { isPublicRoute } from "../../src/http/public-routes.ts";
import { redactText, redactUrl } from "../../src/http/redact.ts";
import { ensurePrivateDir, ensurePrivateFile } from "../../src/lib/private-files.ts";

test("public routes: only the listed ones, HEAD as GET, nothing by prefix", { timeout: 5000 }, () => {
  assert.ok(isPublicRoute("POST", "/:tenant/oauth2/v2.0/token"));
  assert.ok(isPublicRoute("HEAD", "/healthz"));
  assert.ok(isPublicRoute("GET", "/readyz"));
  assert.ok(!isPublicRoute("GET", "/metrics"));
  assert.ok(!isPublicRoute("POST", "/healthz"));
  assert.ok(!isPublicRoute("GET", "/healthz/more"));
  assert.ok(!isPublicRoute("GET", undefined));
  assert.ok(!isPublicRoute("GET", "/openai/v1/models"));
});

test("secret query parameters are redacted from URLs, others kept", { timeout: 5000 }, () => {
  assert.equal(redactUrl("/openai/v1/models?api-key=abc&x=1"), "/openai/v1/models?api-key=[REDACTED]&x=1");
  assert.equal(redactUrl("/a?API-KEY=abc"), "/a?API-KEY=[REDACTED]");
  assert.equal(redactUrl("/a?api%2Dkey=abc"), "/a?api%2Dkey=[REDACTED]");
  assert.equal(redactUrl("/?signin=one-time&code=c&sig=s&token=t&access_token=a&client_secret=z"), "/?signin=[REDACTED]&code=[REDACTED]&sig=[REDACTED]&token=[REDACTED]&access_token=[REDACTED]&client_secret=[REDACTED]");
  assert.equal(redactUrl("/a?api-version=2024-10-21"), "/a?api-version=2024-10-21");
  assert.equal(redactUrl("/a"), "/a");
  assert.equal(redactUrl("/a?%ff=1&key=2"), "/a?%ff=1&key=[REDACTED]");
});

test("tokens and credentials are scrubbed from free text", { timeout: 5000 }, () => {
  const jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl";
  const text = `failed for Bearer ${jwt} with api-key=0123456789abcdef and "client_secret":"hunter22" at /x?sig=abc\napi-key: raw-secret\nAuthorization: Basic dXNlcjpwYXNz`;
  const out = redactText(text);
  for (const secret of [jwt, "0123456789abcdef", "hunter22", "sig=abc", "raw-secret", "dXNlcjpwYXNz"]) assert.ok(!out.includes(secret), `${secret} in ${out}`);
  assert.ok(out.includes("failed for"));
});

test("errors outside a route take the shape of the surface their path names", { timeout: 5000 }, () => {
  assert.equal(surfaceForPath("/subscriptions/x/resourceGroups"), "arm");
  assert.equal(surfaceForPath("/SUBSCRIPTIONS/x"), "arm");
  assert.equal(surfaceForPath("/providers/Microsoft.CognitiveServices/operations"), "arm");
  assert.equal(surfaceForPath("/models/chat/completions?x=1"), "inference");
  assert.equal(surfaceForPath("/modelsx"), "openai");
  assert.equal(surfaceForPath("/openai/v1/files"), "openai");
  assert.equal(surfaceForPath(undefined), "openai");
});

test("Fastify's router errors and stack overflows are 400s", { timeout: 5000 }, () => {
  assert.equal(toIngotError(Object.assign(new Error("bad"), { code: "FST_ERR_BAD_URL", statusCode: 400 })).status, 400);
  assert.equal(toIngotError(Object.assign(new Error("long"), { code: "FST_ERR_MAX_PARAM_LENGTH", statusCode: 414 })).status, 400);
  assert.equal(toIngotError(new RangeError("Maximum call stack size exceeded")).status, 400);
  assert.equal(toIngotError(new Error("anything else")).status, 500);
});

test("an error echoes small values, and a note for deep or huge ones", { timeout: 5000 }, () => {
  assert.deepEqual(echoable({ a: [1, 2, { b: "c" }] }), { a: [1, 2, { b: "c" }] });
  let deep: unknown = [];
  for (let i = 0; i < 10_000; i++) deep = [deep];
  assert.equal(typeof echoable(deep), "string");
  assert.doesNotThrow(() => JSON.stringify(echoable(deep)));
  assert.equal(typeof echoable(Array.from({ length: 5000 }, (_, i) => i)), "string");
  assert.equal(typeof echoable("x".repeat(10_000)), "string");
  assert.ok((echoable("x".repeat(10_000)) as string).length < 300);
});

test("private files: new dirs 0700 and files 0600; wider ones tightened with a note", { timeout: 5000 }, () => {
  const root = mkdtempSync(join(tmpdir(), "ingot-perms-"));
  try {
    const mode = (p: string) => statSync(p).mode & 0o777;
    const fresh = join(root, "a", "b");
    assert.equal(ensurePrivateDir(fresh), undefined);
    assert.equal(mode(fresh), 0o700);
    const wide = join(root, "wide");
    mkdirSync(wide);
    chmodSync(wide, 0o755);
    assert.match(ensurePrivateDir(wide) ?? "", /mode 755/);
    assert.equal(mode(wide), 0o700);
    const file = join(root, "db");
    assert.equal(ensurePrivateFile(file), undefined, "missing and not asked to create");
    assert.equal(ensurePrivateFile(file, true), undefined);
    assert.equal(mode(file), 0o600);
    writeFileSync(join(root, "key"), "k", { mode: 0o644 });
    chmodSync(join(root, "key"), 0o644);
    assert.match(ensurePrivateFile(join(root, "key")) ?? "", /mode 644/);
    assert.equal(mode(join(root, "key")), 0o600);
    assert.equal(ensurePrivateFile(join(root, "key")), undefined, "already private: nothing to say");
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("--metrics-address: HOST:PORT, [v6]:PORT or off", { timeout: 5000 }, () => {
  assert.deepEqual(parseMetricsAddress("127.0.0.1:9464"), { host: "127.0.0.1", port: 9464 });
  assert.deepEqual(parseMetricsAddress("[::1]:0"), { host: "::1", port: 0 });
  assert.equal(parseMetricsAddress("off"), undefined);
  assert.throws(() => parseMetricsAddress("9464"), UsageError);
  assert.throws(() => parseMetricsAddress("host:99999"), UsageError);
});

test("the log's error serializer scrubs Error objects and error strings alike", { timeout: 5000 }, async () => {
  const { logRedaction } = await import("../../src/http/redact.ts");
  const e = Object.assign(new Error("import of https://x.blob.core.windows.net/c/f.jsonl?sv=1&sig=SECRETSIG failed"), { rawPacket: Buffer.from("api-key: RAWSECRET") });
  const out = JSON.stringify(logRedaction.serializers.err(e));
  assert.ok(!out.includes("SECRETSIG") && !out.includes("RAWSECRET"), out);
  assert.ok(!String(logRedaction.serializers.err("fetch https://h/x?sig=SECRETSIG: 403")).includes("SECRETSIG"));
  assert.deepEqual(logRedaction.serializers.err({ code: 1 } as unknown as Error), { code: 1 });
});
