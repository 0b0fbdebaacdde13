// Content-filter configuration on ARM through the official SDK (@azure/arm-cognitiveservices
// 8.1.0, unchanged) over HTTPS: raiPolicies, raiBlocklists, raiBlocklistItems (with the batch
// actions), the raiContentFilters catalogue, a deployment's raiPolicyName, RBAC, bad input.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { CognitiveServicesManagementClient } from "@azure/arm-cognitiveservices";
import { json, startServer } from "./harness.ts";
import type { TestServer } from "./harness.ts";
import { armSdkClient, POLL, RG, SUB } from "./arm-sdk-client.ts";

let server: TestServer;
let arm: CognitiveServicesManagementClient;
let reader: CognitiveServicesManagementClient;

before(async () => {
  server = await startServer({ https: true });
  arm = armSdkClient(server, "rai-test");
  reader = armSdkClient(server, "rai-reader", "Reader");
});
after(() => server.stop());

const ACCT = "ingot";
const accountPath = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.CognitiveServices/accounts/${ACCT}`;
const armCall = (method: string, path: string, body?: unknown) =>
  fetch(`${server.url}${accountPath}/${path}?api-version=2025-09-01`, {
    method,
    headers: { authorization: `Bearer ${server.ingot.identity.adminToken("management")}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
type RestError = { statusCode?: number; code?: string; message: string };
const refused = (status: number, message: RegExp, code?: string) => (e: RestError) => {
  assert.equal(e.statusCode, status, e.message);
  assert.match(e.message, message);
  if (code) assert.equal(e.code, code);
  return true;
};
const all = async <T>(it: AsyncIterable<T>) => {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
};

test("the raiContentFilters catalogue lists the nine filters", { timeout: 30_000 }, async () => {
  const filters = await all(arm.raiContentFilters.list("local"));
  assert.deepEqual(filters.map((f) => f.properties?.name), ["Hate", "Sexual", "Violence", "Selfharm", "Jailbreak", "Indirect Attack", "Protected Material Text", "Protected Material Code", "Profanity"]);
  const ia = await arm.raiContentFilters.get("local", "IndirectAttack");
  assert.equal(ia.name, "IndirectAttack");
  assert.equal(ia.id, `/subscriptions/${SUB}/providers/Microsoft.CognitiveServices/locations/local/raiContentFilters/IndirectAttack`);
  assert.deepEqual(ia.properties, { name: "Indirect Attack", isMultiLevelFilter: false, source: "Prompt" });
  assert.equal((await arm.raiContentFilters.get("local", "Hate")).properties?.isMultiLevelFilter, true);
  await assert.rejects(arm.raiContentFilters.get("local", "Nope"), refused(404, /cannot be found/));
});

test("built-in policies are listed, readable and read-only", { timeout: 30_000 }, async () => {
  const policies = await all(arm.raiPolicies.list(RG, ACCT));
  assert.deepEqual(policies.map((p) => p.name), ["Microsoft.Default", "Microsoft.DefaultV2"]);
  const v2 = await arm.raiPolicies.get(RG, ACCT, "Microsoft.DefaultV2");
  assert.equal(v2.id, `${accountPath}/raiPolicies/Microsoft.DefaultV2`);
  assert.equal(v2.type, "Microsoft.CognitiveServices/accounts/raiPolicies");
  assert.equal(v2.properties?.type, "SystemManaged");
  assert.ok(v2.etag);
  assert.ok(v2.systemData?.createdAt instanceof Date);
  const hate = v2.properties?.contentFilters?.filter((f) => f.name === "Hate");
  assert.deepEqual(hate?.map((f) => [f.source, f.severityThreshold, f.enabled, f.blocking]), [["Prompt", "Medium", true, true], ["Completion", "Medium", true, true]]);
  assert.ok(v2.properties?.contentFilters?.some((f) => f.name === "Protected Material Text" && f.source === "Completion" && f.enabled));
  const v1 = await arm.raiPolicies.get(RG, ACCT, "Microsoft.Default");
  assert.ok(v1.properties?.contentFilters?.some((f) => f.name === "Protected Material Text" && !f.enabled));
  await assert.rejects(
    arm.raiPolicies.createOrUpdate(RG, ACCT, "Microsoft.DefaultV2", { properties: { mode: "Blocking" } }),
    refused(400, /built-in content filter policy and cannot be changed or deleted\. Create a custom policy under another name with properties\.basePolicyName 'Microsoft\.DefaultV2'/),
  );
  await assert.rejects(arm.raiPolicies.beginDeleteAndWait(RG, ACCT, "Microsoft.Default", POLL), refused(400, /built-in/));
  await assert.rejects(arm.raiPolicies.get(RG, ACCT, "nope"), refused(404, /raiPolicies\/ingot\/nope/, "ResourceNotFound"));
});

test("blocklists and items: create, batch add and delete, get, list, delete", { timeout: 60_000 }, async () => {
  const created = await arm.raiBlocklists.createOrUpdate(RG, ACCT, "competitors", { properties: { description: "rival names" } });
  assert.equal(created.id, `${accountPath}/raiBlocklists/competitors`);
  assert.equal(created.properties?.description, "rival names");
  const item = await arm.raiBlocklistItems.createOrUpdate(RG, ACCT, "competitors", "acme", { properties: { pattern: "Acme Corp", isRegex: false } });
  assert.equal(item.id, `${accountPath}/raiBlocklists/competitors/raiBlocklistItems/acme`);
  assert.deepEqual(item.properties, { pattern: "Acme Corp", isRegex: false });
  const afterAdd = await arm.raiBlocklistItems.batchAdd(RG, ACCT, "competitors", [
    { name: "globex", properties: { pattern: "globex", isRegex: false } },
    { name: "initech", properties: { pattern: "Initech \\d+", isRegex: true } },
    { name: "gone", properties: { pattern: "soon gone" } },
  ]);
  assert.equal(afterAdd.name, "competitors");
  assert.equal(afterAdd.properties?.description, "rival names");
  assert.deepEqual((await all(arm.raiBlocklistItems.list(RG, ACCT, "competitors"))).map((i) => i.name), ["acme", "globex", "initech", "gone"]);
  assert.equal((await arm.raiBlocklistItems.get(RG, ACCT, "competitors", "initech")).properties?.isRegex, true);
  // The service behind the content filter sees the items at once.
  assert.deepEqual(server.ingot.rai.blocklists.match(ACCT, ["competitors"], "ask acme corp about Initech 42").map((h) => h.itemId), ["acme", "initech"]);
  await arm.raiBlocklistItems.batchDelete(RG, ACCT, "competitors", ["gone", "never-there"]);
  await arm.raiBlocklistItems.beginDeleteAndWait(RG, ACCT, "competitors", "globex", POLL);
  assert.deepEqual((await all(arm.raiBlocklistItems.list(RG, ACCT, "competitors"))).map((i) => i.name), ["acme", "initech"]);
  assert.equal((await armCall("DELETE", "raiBlocklists/competitors/raiBlocklistItems/globex")).status, 204);
  // batchAdd's 200 is the blocklist; batchDelete's 204 has no body (raw).
  const rawDelete = await armCall("POST", "raiBlocklists/competitors/deleteRaiBlocklistItems", ["acme"]);
  assert.equal(rawDelete.status, 204);
  assert.deepEqual((await all(arm.raiBlocklists.list(RG, ACCT))).map((b) => b.name), ["competitors"]);

  await arm.raiBlocklists.createOrUpdate(RG, ACCT, "temp", {});
  await arm.raiBlocklists.beginDeleteAndWait(RG, ACCT, "temp", POLL);
  await assert.rejects(arm.raiBlocklists.get(RG, ACCT, "temp"), refused(404, /raiBlocklists/));
  assert.equal((await armCall("DELETE", "raiBlocklists/temp")).status, 204);
});

test("a custom policy: created (201), replaced (200), used by a deployment, protected while in use, deleted", { timeout: 180_000 }, async () => {
  await arm.raiBlocklists.createOrUpdate(RG, ACCT, "words", { properties: { description: "" } });
  const policy = await arm.raiPolicies.createOrUpdate(RG, ACCT, "strict", {
    properties: {
      basePolicyName: "Microsoft.DefaultV2",
      mode: "asynchronous_filter",
      contentFilters: [
        { name: "hate", source: "Prompt", enabled: true, blocking: true, severityThreshold: "Low" },
        { name: "Jailbreak", source: "Prompt", enabled: true, blocking: true },
        { name: "Protected Material Text", source: "Completion", enabled: true, blocking: true },
      ],
      customBlocklists: [{ blocklistName: "words", source: "Prompt", blocking: true }],
    },
  });
  assert.equal(policy.id, `${accountPath}/raiPolicies/strict`);
  assert.equal(policy.properties?.type, "UserManaged");
  assert.equal(policy.properties?.mode, "Asynchronous_filter");
  assert.equal(policy.properties?.basePolicyName, "Microsoft.DefaultV2");
  assert.ok(policy.properties?.contentFilters?.some((f) => f.name === "Hate" && f.source === "Prompt" && f.severityThreshold === "Low"));
  assert.deepEqual(policy.properties?.customBlocklists, [{ blocklistName: "words", source: "Prompt", blocking: true }]);
  assert.deepEqual((await all(arm.raiPolicies.list(RG, ACCT))).map((p) => p.name), ["Microsoft.Default", "Microsoft.DefaultV2", "strict"]);
  assert.equal(server.ingot.rai.policies.effective(ACCT, "strict").prompt.filters.hate?.threshold, "Low");

  // Status codes: PUT of a new policy is 201, of an existing one 200. The older blocklist form (2024-04-01-preview docs) is echoed with the canonical one.
  const legacy = { properties: { basePolicyName: "Microsoft.Default", promptBlocklists: [{ blocklistName: "words", blocking: false }] } };
  const first = await armCall("PUT", "raiPolicies/legacy", legacy);
  assert.equal(first.status, 201);
  const second = await armCall("PUT", "raiPolicies/legacy", legacy);
  assert.equal(second.status, 200);
  const body = await json(second);
  assert.deepEqual(body.properties.promptBlocklists, [{ blocklistName: "words", blocking: false }]);
  assert.deepEqual(body.properties.customBlocklists, [{ blocklistName: "words", blocking: false, source: "Prompt" }]);
  assert.equal(body.properties.mode, "Default");

  // A deployment names the policy; GET and list echo it; no name means Microsoft.DefaultV2.
  const d = await arm.deployments.beginCreateOrUpdateAndWait(
    RG,
    ACCT,
    "filtered-chat",
    { sku: { name: "Standard", capacity: 1 }, properties: { model: { format: "Ingot", name: "tiny-chat", version: "1" }, raiPolicyName: "STRICT" } },
    POLL,
  );
  assert.equal(d.properties?.raiPolicyName, "strict");
  assert.equal((await arm.deployments.get(RG, ACCT, "filtered-chat")).properties?.raiPolicyName, "strict");
  const listed = await all(arm.deployments.list(RG, ACCT));
  assert.equal(listed.find((x) => x.name === "filtered-chat")?.properties?.raiPolicyName, "strict");
  assert.equal(listed.find((x) => x.name === "tiny-chat")?.properties?.raiPolicyName, "Microsoft.DefaultV2");
  await assert.rejects(
    arm.deployments.beginCreateOrUpdateAndWait(RG, ACCT, "other-chat", { sku: { name: "Standard", capacity: 1 }, properties: { model: { format: "Ingot", name: "tiny-chat", version: "1" }, raiPolicyName: "laxest" } }, POLL),
    refused(400, /properties\.raiPolicyName 'laxest' is not a content filter policy of account 'ingot'\. Use one of: Microsoft\.Default, Microsoft\.DefaultV2, strict, legacy/, "RaiPolicyNotFound"),
  );
  await assert.rejects(arm.deployments.get(RG, ACCT, "other-chat"), refused(404, /./));

  // In use: neither the policy nor its blocklist can go.
  await assert.rejects(arm.raiPolicies.beginDeleteAndWait(RG, ACCT, "strict", POLL), refused(409, /used by deployment 'filtered-chat'/, "RaiPolicyInUse"));
  await assert.rejects(arm.raiBlocklists.beginDeleteAndWait(RG, ACCT, "words", POLL), refused(409, /used by the content filter policies 'strict', 'legacy'/, "RaiBlocklistInUse"));
  await arm.deployments.beginDeleteAndWait(RG, ACCT, "filtered-chat", POLL);
  await arm.raiPolicies.beginDeleteAndWait(RG, ACCT, "strict", POLL);
  await arm.raiPolicies.beginDeleteAndWait(RG, ACCT, "legacy", POLL);
  await assert.rejects(arm.raiPolicies.get(RG, ACCT, "strict"), refused(404, /strict/));
  assert.equal((await armCall("DELETE", "raiPolicies/strict")).status, 204);
  await arm.raiBlocklists.beginDeleteAndWait(RG, ACCT, "words", POLL);
});

test("bad input: a 400 naming the field and what to write; nothing stored", { timeout: 60_000 }, async () => {
  await arm.raiBlocklists.createOrUpdate(RG, ACCT, "bad-input", {});
  const put = (properties: object) => arm.raiPolicies.createOrUpdate(RG, ACCT, "bad", { properties });
  await assert.rejects(put({ contentFilters: [{ name: "Violense", source: "Prompt" }] }), refused(400, /contentFilters\[0\]\.name 'Violense' is not a content filter\. Use one of: Hate, Sexual/));
  await assert.rejects(put({ contentFilters: [{ name: "Hate", source: "Prompt", severityThreshold: "Severe" }] }), refused(400, /severityThreshold "Severe" is not a threshold; use Low, Medium or High/));
  await assert.rejects(put({ contentFilters: [{ name: "Jailbreak", source: "Completion" }] }), refused(400, /Jailbreak applies to prompts only; set source to Prompt/));
  await assert.rejects(put({ customBlocklists: [{ blocklistName: "missing", source: "Prompt", blocking: true }] }), refused(400, /'missing' is not a blocklist of account 'ingot'\. Its blocklists are: (.*, )?bad-input\./));
  await assert.rejects(put({ mode: "Streaming" }), refused(400, /properties\.mode "Streaming"/));
  const raw = await armCall("PUT", "raiPolicies/bad", { properties: { contentFilters: [{ name: "Hate", source: "Prompt", severityThreshold: 3 }] } });
  assert.equal(raw.status, 400);
  const err = (await json(raw)).error;
  assert.equal(err.code, "InvalidRequestContent");
  assert.equal(err.target, "properties.contentFilters[0].severityThreshold");
  await assert.rejects(arm.raiPolicies.get(RG, ACCT, "bad"), refused(404, /bad/));

  // Items: a catastrophic regex, one that does not compile, a pattern over 1,000 characters.
  await assert.rejects(
    arm.raiBlocklistItems.createOrUpdate(RG, ACCT, "bad-input", "evil", { properties: { pattern: "^(a+)+$", isRegex: true } }),
    refused(400, /could backtrack catastrophically .*nested quantifiers: a\+ is repeated inside \(a\+\)\+/, "InvalidRegexPattern"),
  );
  await assert.rejects(
    arm.raiBlocklistItems.batchAdd(RG, ACCT, "bad-input", [{ name: "ok", properties: { pattern: "fine" } }, { name: "broken", properties: { pattern: "acme(", isRegex: true } }]),
    refused(400, /\[1\]\.properties\.pattern is not a valid regular expression: .*Unterminated group/),
  );
  await assert.rejects(arm.raiBlocklistItems.createOrUpdate(RG, ACCT, "bad-input", "long", { properties: { pattern: "x".repeat(1001) } }), refused(400, /at most 1000/));
  assert.deepEqual(await all(arm.raiBlocklistItems.list(RG, ACCT, "bad-input")), []);
  // Not a bare array: the batch actions say what to send.
  const notArray = await armCall("POST", "raiBlocklists/bad-input/addRaiBlocklistItems", { name: "x" });
  assert.equal(notArray.status, 400);
  assert.match((await json(notArray)).error.message, /JSON array of items/);
  // Items of a blocklist that does not exist.
  await assert.rejects(arm.raiBlocklistItems.list(RG, ACCT, "nope").next(), refused(404, /raiBlocklists\/ingot\/nope/));

  // 10,000 items fit; the 10,001st does not, and the message says how many fit.
  const batch = Array.from({ length: 10_000 }, (_, k) => ({ name: `w${k}`, properties: { pattern: `word${k}`, isRegex: false } }));
  await arm.raiBlocklistItems.batchAdd(RG, ACCT, "bad-input", batch);
  await assert.rejects(
    arm.raiBlocklistItems.createOrUpdate(RG, ACCT, "bad-input", "one-more", { properties: { pattern: "x" } }),
    refused(400, /has 10000 items and may hold at most 10000; 1 new item would not fit\. None more fit/, "RaiBlocklistItemLimitExceeded"),
  );
  await arm.raiBlocklists.beginDeleteAndWait(RG, ACCT, "bad-input", POLL);
});

test("a Reader reads policies and blocklists but cannot write them", { timeout: 30_000 }, async () => {
  await arm.raiBlocklists.createOrUpdate(RG, ACCT, "readable", {});
  assert.deepEqual((await all(reader.raiPolicies.list(RG, ACCT))).map((p) => p.name), ["Microsoft.Default", "Microsoft.DefaultV2"]);
  assert.equal((await reader.raiBlocklists.get(RG, ACCT, "readable")).name, "readable");
  assert.equal((await all(reader.raiContentFilters.list("local"))).length, 9);
  const forbidden = refused(403, /does not have authorization to perform action 'Microsoft\.CognitiveServices\/accounts\/rai(Policies|Blocklists)\/(write|delete)'/);
  await assert.rejects(reader.raiPolicies.createOrUpdate(RG, ACCT, "mine", { properties: {} }), forbidden);
  await assert.rejects(reader.raiBlocklists.createOrUpdate(RG, ACCT, "mine", {}), forbidden);
  await assert.rejects(reader.raiBlocklistItems.batchAdd(RG, ACCT, "readable", [{ name: "a", properties: { pattern: "a" } }]), forbidden);
  await assert.rejects(reader.raiBlocklistItems.batchDelete(RG, ACCT, "readable", ["a"]), forbidden);
  await assert.rejects(reader.raiBlocklists.beginDeleteAndWait(RG, ACCT, "readable", POLL), forbidden);
  await arm.raiBlocklists.beginDeleteAndWait(RG, ACCT, "readable", POLL);
});

test("deleting an account removes its policies and blocklists", { timeout: 60_000 }, async () => {
  const account = { location: "local", kind: "AIServices", sku: { name: "S0" } };
  await arm.accounts.beginCreateAndWait(RG, "rai-acct", account, POLL);
  await arm.raiBlocklists.createOrUpdate(RG, "rai-acct", "list", {});
  await arm.raiBlocklistItems.createOrUpdate(RG, "rai-acct", "list", "i", { properties: { pattern: "x" } });
  await arm.raiPolicies.createOrUpdate(RG, "rai-acct", "p", { properties: { customBlocklists: [{ blocklistName: "list", source: "Completion", blocking: true }] } });
  await arm.accounts.beginDeleteAndWait(RG, "rai-acct", POLL);
  await arm.accounts.beginCreateAndWait(RG, "rai-acct", account, POLL);
  assert.deepEqual((await all(arm.raiPolicies.list(RG, "rai-acct"))).map((p) => p.name), ["Microsoft.Default", "Microsoft.DefaultV2"]);
  assert.deepEqual(await all(arm.raiBlocklists.list(RG, "rai-acct")), []);
  await arm.accounts.beginDeleteAndWait(RG, "rai-acct", POLL);
});
