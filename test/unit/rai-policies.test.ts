// Content-filter policies (core/safety/policies.ts) over the SQLite store: the built-ins, the
// effective rules a deployment gets, and what a bad policy body is told.
import assert from "node:assert/strict";
import { test } from "node:test";
import { RaiBlocklistService } from "../../src/core/safety/blocklists.ts";
import { RaiPolicyService } from "../../src/core/safety/policies.ts";
import { SqliteRaiStore } from "../../src/store/sqlite/rai-store.ts";
import { SqliteStore } from "../../src/store/sqlite/store.ts";
import { caught } from "./caught.ts";

function services(deploymentsUsing: (account: string, policy: string) => string[] = () => []) {
  const store = new SqliteRaiStore(new SqliteStore(":memory:").database);
  return { policies: new RaiPolicyService(store, { deploymentsUsing }), blocklists: new RaiBlocklistService(store) };
}

test("no policy name means Microsoft.DefaultV2: four harm filters at Medium both ways, jailbreak on prompts, protected material on completions, all blocking", { timeout: 10_000 }, () => {
  const { policies } = services();
  const e = policies.effective("acct", undefined);
  assert.equal(e.name, "Microsoft.DefaultV2");
  assert.equal(e.mode, "Default");
  for (const side of [e.prompt, e.completion])
    for (const k of ["hate", "sexual", "violence", "self_harm"] as const) assert.deepEqual(side.filters[k], { enabled: true, blocking: true, threshold: "Medium" });
  assert.deepEqual(e.prompt.filters.jailbreak, { enabled: true, blocking: true });
  assert.equal(e.prompt.filters.indirect_attack?.enabled, false);
  assert.equal(e.prompt.filters.protected_material_text, undefined);
  assert.deepEqual(e.completion.filters.protected_material_text, { enabled: true, blocking: true });
  assert.deepEqual(e.completion.filters.protected_material_code, { enabled: true, blocking: true });
  assert.equal(e.completion.filters.jailbreak, undefined);
  assert.equal(e.completion.filters.profanity?.enabled, false);
  assert.deepEqual(e.prompt.blocklists, []);
  // Microsoft.Default: the same without protected material; any casing of the name.
  const d = policies.effective("acct", "microsoft.default");
  assert.equal(d.name, "Microsoft.Default");
  assert.equal(d.completion.filters.protected_material_text?.enabled, false);
  assert.equal(d.prompt.filters.jailbreak?.enabled, true);
  // Listed and readable, read-only.
  assert.deepEqual(policies.list("acct").map((p) => p.name), ["Microsoft.Default", "Microsoft.DefaultV2"]);
  for (const fn of [() => policies.createOrUpdate("acct", "Microsoft.DefaultV2", {}), () => policies.delete("acct", "microsoft.defaultv2")]) {
    const err = caught(fn);
    assert.equal(err.kind, "invalid_request");
    assert.match(err.message, /built-in .*basePolicyName 'Microsoft\.DefaultV2'/);
  }
});

test("a custom policy starts from its base; its entries replace those filters; names and modes in any casing come back canonical", { timeout: 10_000 }, () => {
  const { policies, blocklists } = services();
  blocklists.createOrUpdate("acct", "competitors", {});
  const { policy, created } = policies.createOrUpdate("acct", "strict", {
    basePolicyName: "microsoft.defaultv2",
    mode: "asynchronous_FILTER",
    contentFilters: [
      { name: "hate", source: "prompt", enabled: true, blocking: true, severityThreshold: "low" },
      { name: "self harm", source: "Completion", enabled: true, blocking: false, severityThreshold: "High" },
      { name: "protectedmaterialtext", enabled: false, blocking: false },
      { name: "Indirect Attack", source: "Prompt", enabled: true, blocking: true },
    ],
    customBlocklists: [{ blocklistName: "COMPETITORS", blocking: true, source: "Prompt" }],
  });
  assert.equal(created, true);
  assert.equal(policy.basePolicyName, "Microsoft.DefaultV2");
  assert.equal(policy.mode, "Asynchronous_filter");
  assert.ok(policy.contentFilters.some((f) => f.name === "Selfharm" && f.source === "Completion" && f.severityThreshold === "High" && !f.blocking));
  assert.deepEqual(policy.customBlocklists, [{ blocklistName: "competitors", blocking: true, source: "Prompt" }]);
  const e = policies.effective("acct", "STRICT");
  assert.equal(e.name, "strict");
  assert.deepEqual(e.prompt.filters.hate, { enabled: true, blocking: true, threshold: "Low" });
  assert.deepEqual(e.completion.filters.hate, { enabled: true, blocking: true, threshold: "Medium" }); // from the base
  assert.deepEqual(e.completion.filters.self_harm, { enabled: true, blocking: false, threshold: "High" });
  assert.deepEqual(e.completion.filters.protected_material_text, { enabled: false, blocking: false });
  assert.deepEqual(e.prompt.filters.indirect_attack, { enabled: true, blocking: true });
  assert.deepEqual(e.prompt.blocklists, [{ name: "competitors", blocking: true }]);
  assert.deepEqual(e.completion.blocklists, []);

  // A replace takes effect at once (the cache is dropped); the older promptBlocklists/completionBlocklists form is echoed and mapped.
  const again = policies.createOrUpdate("acct", "Strict", { completionBlocklists: [{ blocklistName: "competitors", blocking: false }] });
  assert.equal(again.created, false);
  assert.equal(again.policy.name, "strict");
  assert.deepEqual(again.policy.completionBlocklists, [{ blocklistName: "competitors", blocking: false }]);
  assert.deepEqual(again.policy.customBlocklists, [{ blocklistName: "competitors", blocking: false, source: "Completion" }]);
  assert.deepEqual(policies.effective("acct", "strict").completion.blocklists, [{ name: "competitors", blocking: false }]);
  assert.deepEqual(policies.effective("acct", "strict").prompt.filters.hate?.threshold, "Medium");
  assert.equal(policies.effective("acct", "strict").mode, "Default");
  // A name that is no longer a policy gets the default: filtering never turns off silently.
  assert.equal(policies.effective("acct", "gone").name, "Microsoft.DefaultV2");
  // Policies belong to their account.
  assert.equal(policies.get("other", "strict"), undefined);
});

test("bad policy bodies: a 400 naming the field and what to write", { timeout: 10_000 }, () => {
  const { policies, blocklists } = services();
  blocklists.createOrUpdate("acct", "words", {});
  const cases: [Parameters<RaiPolicyService["createOrUpdate"]>[2], string, RegExp][] = [
    [{ contentFilters: [{ name: "Violense", source: "Prompt" }] }, "properties.contentFilters[0].name", /'Violense' is not a content filter\. Use one of: Hate, Sexual, Violence, Selfharm, Jailbreak, Indirect Attack, Protected Material Text, Protected Material Code, Profanity/],
    [{ contentFilters: [{ name: "Hate", source: "Prompt", severityThreshold: "Extreme" }] }, "properties.contentFilters[0].severityThreshold", /"Extreme" is not a threshold; use Low, Medium or High/],
    [{ contentFilters: [{ name: "Jailbreak", source: "Completion" }] }, "properties.contentFilters[0].source", /Jailbreak applies to prompts only; set source to Prompt/],
    [{ contentFilters: [{ name: "Protected Material Code", source: "Prompt" }] }, "properties.contentFilters[0].source", /completions only; set source to Completion/],
    [{ contentFilters: [{ name: "Hate" }] }, "properties.contentFilters[0].source", /source is required for Hate: Prompt or Completion/],
    [{ contentFilters: [{ name: "Hate", source: "Both" }] }, "properties.contentFilters[0].source", /must be Prompt or Completion/],
    [{ contentFilters: [{ name: "Hate", source: "Prompt", enabled: "yes" }] }, "properties.contentFilters[0].enabled", /true or false/],
    [{ contentFilters: [{ name: "Hate", source: "Prompt" }, { name: "HATE", source: "prompt" }] }, "properties.contentFilters[1]", /given twice/],
    [{ contentFilters: "Hate" }, "properties.contentFilters", /must be an array/],
    [{ customBlocklists: [{ blocklistName: "nope", source: "Prompt", blocking: true }] }, "properties.customBlocklists[0].blocklistName", /'nope' is not a blocklist of account 'acct'\. Its blocklists are: words\. Create it first/],
    [{ promptBlocklists: [{ blocklistName: "nope" }] }, "properties.promptBlocklists[0].blocklistName", /'nope' is not a blocklist/],
    [{ customBlocklists: [{ blocklistName: "words" }] }, "properties.customBlocklists[0].source", /source is required: Prompt or Completion/],
    [{ basePolicyName: "Microsoft.Strict" }, "properties.basePolicyName", /not a built-in policy; use Microsoft\.Default or Microsoft\.DefaultV2/],
    [{ mode: "Streaming" }, "properties.mode", /use one of Default, Asynchronous_filter, Blocking, Deferred/],
  ];
  for (const [input, param, message] of cases) {
    const err = caught(() => policies.createOrUpdate("acct", "p1", input));
    assert.equal(err.kind, "invalid_request", JSON.stringify(input));
    assert.equal(err.param, param, JSON.stringify(input));
    assert.match(err.message, message);
  }
  assert.match(caught(() => policies.createOrUpdate("acct", "-bad", {})).message, /name '-bad' is invalid/);
  assert.equal(policies.list("acct").length, 2, "nothing was stored");
});

test("deployments name policies that exist; a policy in use and a blocklist in use cannot be deleted", { timeout: 10_000 }, () => {
  const using = new Map<string, string[]>();
  const { policies, blocklists } = services((_a, p) => using.get(p) ?? []);
  blocklists.createOrUpdate("acct", "words", {});
  policies.createOrUpdate("acct", "mine", { customBlocklists: [{ blocklistName: "words", source: "Prompt" }] });
  assert.equal(policies.resolveName("acct", undefined), undefined);
  assert.equal(policies.resolveName("acct", "MINE"), "mine");
  assert.equal(policies.resolveName("acct", "microsoft.defaultv2"), "Microsoft.DefaultV2");
  const unknown = caught(() => policies.resolveName("acct", "strict"));
  assert.equal(unknown.param, "properties.raiPolicyName");
  assert.match(unknown.message, /'strict' is not a content filter policy of account 'acct'\. Use one of: Microsoft\.Default, Microsoft\.DefaultV2, mine/);
  assert.match(caught(() => policies.resolveName("acct", 7)).message, /must be a string/);

  const inUse = caught(() => blocklists.delete("acct", "WORDS"));
  assert.equal(inUse.kind, "conflict");
  assert.match(inUse.message, /Blocklist 'words' is used by the content filter policy 'mine'/);
  using.set("mine", ["chat-a", "chat-b"]);
  const policyInUse = caught(() => policies.delete("acct", "mine"));
  assert.equal(policyInUse.kind, "conflict");
  assert.match(policyInUse.message, /used by deployments 'chat-a', 'chat-b'/);
  using.clear();
  assert.equal(policies.delete("acct", "mine"), true);
  assert.equal(policies.delete("acct", "mine"), false);
  assert.equal(blocklists.delete("acct", "words"), true);
});

test("account deletion removes its policies, blocklists and items", { timeout: 10_000 }, () => {
  const { policies, blocklists } = services();
  blocklists.createOrUpdate("acct", "words", {});
  blocklists.putItem("acct", "words", "i1", { pattern: "acme" });
  policies.createOrUpdate("acct", "mine", {});
  blocklists.createOrUpdate("keep", "words", {});
  blocklists.deleteAll("acct");
  policies.forgetAccount("acct");
  assert.deepEqual(blocklists.list("acct"), []);
  assert.equal(policies.get("acct", "mine"), undefined);
  assert.equal(policies.effective("acct", "mine").name, "Microsoft.DefaultV2");
  assert.equal(blocklists.list("keep").length, 1);
  assert.deepEqual(blocklists.match("acct", ["words"], "acme"), []);
});
