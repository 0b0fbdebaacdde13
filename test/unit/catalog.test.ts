// The shipped catalog's data, loader-side validation (file and field named), and every
// resolve() answer a deployment PUT can get.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, describe, test } from "node:test";
import { Catalog, CatalogError } from "../../src/core/catalog/catalog.ts";
import type { CatalogModel } from "../../src/core/catalog/catalog.ts";
import { usageNameFor } from "../../src/core/catalog/model.ts";
import { MemoryModelRegistry } from "../../src/core/catalog/registry.ts";
import { IngotError } from "../../src/core/errors.ts";
import { parseHfUri } from "../../src/models/hf.ts";

const CATALOG_DIR = fileURLToPath(new URL("../../catalog/", import.meta.url));
const shipped = Catalog.readDirectory(CATALOG_DIR);
const catalog = new Catalog(shipped);

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function catalogDir(files: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), "ingot-catalog-"));
  dirs.push(dir);
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), typeof content === "string" ? content : JSON.stringify(content));
  return dir;
}

const good = (over: Record<string, unknown> = {}) => ({
  format: "Custom",
  name: "m",
  version: "1",
  capabilities: ["chatCompletion"],
  contextLength: 1024,
  weights: "hf:owner/repo/model.gguf",
  skus: [{ name: "GlobalStandard", usageName: "AIServices.GlobalStandard.m", minCapacity: 1, maxCapacity: 10, defaultCapacity: 5 }],
  lifecycleStatus: "GenerallyAvailable",
  license: "MIT",
  ...over,
});

function rejects(files: Record<string, unknown>, pattern: RegExp): void {
  const dir = catalogDir(files);
  assert.throws(() => Catalog.readDirectory(dir), (e: unknown) => {
    assert.ok(e instanceof CatalogError, String(e));
    assert.match(e.message, pattern);
    return true;
  });
}

/** The IngotError resolve() throws for `query`. */
function resolveError(query: { format: string; name: string; version?: string }, c: Catalog = catalog): IngotError {
  try {
    c.resolve(query);
  } catch (e) {
    assert.ok(e instanceof IngotError, String(e));
    assert.equal(e.kind, "invalid_request");
    assert.equal(e.status, 400);
    assert.equal(e.code, "DeploymentModelNotSupported");
    return e;
  }
  assert.fail(`resolve(${JSON.stringify(query)}) succeeded`);
}

describe("the shipped catalog", () => {
  test("has the seed table's models under their case-sensitive formats", () => {
    const expect: [string, string][] = [
      ["OpenAI", "gpt-4.1-mini"],
      ["OpenAI", "gpt-4.1-nano"],
      ["OpenAI", "o4-mini"],
      ["Microsoft", "gpt-oss-20b"],
      ["Mistral AI", "Ministral-3B"],
      ["Meta", "Llama-3.3-70B"],
      ["Alibaba", "Qwen-3-32B"],
    ];
    for (const [format, name] of expect) {
      const m = catalog.resolve({ format, name });
      assert.equal(m.format, format);
      assert.ok(m.capabilities.includes("fineTune"), `${name} offers fine-tuning`);
      assert.ok(m.skus.some((s) => s.name === "DeveloperTier"), `${name} has DeveloperTier`);
    }
  });

  test("OpenAI models have no open weights and are served by an upstream; the rest have sources", () => {
    for (const m of catalog.list()) {
      if (m.format === "OpenAI") {
        assert.equal(m.weights, "none", m.name);
        // model-router loads nothing and serves through the account's other deployments.
        assert.equal(m.engine, m.name === "model-router" ? "router" : "upstream", m.name);
      } else {
        assert.notEqual(m.weights, "none", m.name);
        assert.equal(m.engine, "llamacpp", m.name);
      }
    }
  });

  test("hf: weights parse, and a sha256 is recorded only with its sources", () => {
    const hf = catalog.list().filter((m) => m.weights.startsWith("hf:"));
    assert.ok(hf.length >= 12);
    for (const m of hf) {
      const f = parseHfUri(m.weights);
      assert.match(f.path, /\.gguf$/, m.name);
      if (m.sha256) {
        assert.match(m.sha256, /^[0-9a-f]{64}$/, m.name);
        assert.ok(m.sizeBytes && m.sizeBytes > 1e6, `${m.name} has a size with its sha256`);
        assert.ok(m.sources && m.sources.length > 0, `${m.name} names where its sha256 came from`);
      }
    }
    // At least one entry relies on trust on first use.
    assert.ok(hf.some((m) => !m.sha256));
  });

  test("usage names follow one rule; batch SKUs on every served model, DeveloperTier only with fine-tuning", () => {
    for (const m of catalog.list())
      for (const s of m.skus) {
        assert.equal(s.usageName, usageNameFor(m.format, m.name, s.name), `${m.name} ${s.name}`);
        // Batch jobs (issue 15): OpenAI's models and Ingot's and the open models Ingot serves.
        if (s.name === "GlobalBatch") assert.ok(m.format === "OpenAI" || m.skus.some((x) => x.name === "DataZoneBatch"), m.name);
        if (s.name === "DeveloperTier") assert.ok(m.capabilities.includes("fineTune"), m.name);
        assert.ok(s.minCapacity <= s.defaultCapacity && s.defaultCapacity <= s.maxCapacity);
      }
    assert.equal(usageNameFor("OpenAI", "gpt-4.1-mini", "GlobalStandard"), "OpenAI.GlobalStandard.gpt-4.1-mini");
    assert.equal(usageNameFor("OpenAI", "gpt-4.1-mini", "ProvisionedManaged"), "OpenAI.ProvisionedManaged");
    assert.equal(usageNameFor("Meta", "Llama-3.3-70B", "GlobalStandard"), "AIServices.GlobalStandard.Llama-3.3-70B");
  });

  test("the built-in models keep working", () => {
    const chat = catalog.find({ format: "Ingot", name: "tiny-chat", version: "1" });
    assert.ok(["GlobalBatch", "DataZoneBatch"].every((n) => chat.skus.some((s) => s.name === n)), "tiny-chat is deployable for batch jobs");
    assert.equal(chat.weights, "builtin:tiny-chat");
    assert.deepEqual(catalog.find({ format: "Ingot", name: "tiny-embed", version: "1" }).capabilities, ["embeddings"]);
  });
});

describe("catalog validation names the file and the field", () => {
  test("a good file loads", () => {
    const dir = catalogDir({ "a.json": { models: [good()] } });
    assert.equal(Catalog.readDirectory(dir)[0].engine, "llamacpp");
  });
  test("invalid JSON", () => rejects({ "bad.json": "{ models: [" }, /bad\.json: not valid JSON/));
  test("no models array", () => rejects({ "x.json": { model: [] } }, /x\.json: must be a JSON object with a "models" array/));
  test("an unknown field (a typo)", () => rejects({ "x.json": { models: [good({ contextLenght: 5 })] } }, /x\.json: models\[0\]\.contextLenght: unknown field/));
  test("a missing field", () => {
    const m = good();
    delete (m as Record<string, unknown>).license;
    rejects({ "x.json": { models: [m] } }, /models\[0\]\.license: must be a non-empty string/);
  });
  test("an unknown capability", () => rejects({ "x.json": { models: [good({ capabilities: ["chat"] })] } }, /models\[0\]\.capabilities\[0\]: 'chat' is not a capability/));
  test("a bad weights URI", () => rejects({ "x.json": { models: [good({ weights: "https://x/y.gguf" })] } }, /models\[0\]\.weights: .*use builtin:<name>, file:<absolute path>, hf:/));
  test("a relative file: path", () => rejects({ "x.json": { models: [good({ weights: "file:models/x.gguf" })] } }, /weights: .*absolute path/));
  test("an uppercase sha256", () => rejects({ "x.json": { models: [good({ sha256: "A".repeat(64) })] } }, /models\[0\]\.sha256: must be 64 lowercase hex digits/));
  test("a sha256 on weights none", () => rejects({ "x.json": { models: [good({ weights: "none", engine: "upstream", sha256: "a".repeat(64) })] } }, /sha256: makes no sense with weights 'none'/));
  test("llamacpp without weights", () => rejects({ "x.json": { models: [good({ weights: "none", engine: "llamacpp" })] } }, /engine: llamacpp needs weights/));
  test("an unknown SKU", () =>
    rejects({ "x.json": { models: [good({ skus: [{ name: "Premium", minCapacity: 1, maxCapacity: 2, defaultCapacity: 1 }] })] } }, /models\[0\]\.skus\[0\]\.name: 'Premium' is not a SKU/));
  test("a default capacity outside the range", () =>
    rejects({ "x.json": { models: [good({ skus: [{ name: "Standard", minCapacity: 1, maxCapacity: 10, defaultCapacity: 20 }] })] } }, /skus\[0\]\.defaultCapacity: 20 is outside 1\.\.10/));
  test("a capacity not on the step", () =>
    rejects({ "x.json": { models: [good({ skus: [{ name: "ProvisionedManaged", minCapacity: 15, maxCapacity: 100, defaultCapacity: 15, step: 10 }] })] } }, /skus\[0\]\.step: minCapacity and defaultCapacity must be multiples of 10/));
  test("a bad lifecycle status", () => rejects({ "x.json": { models: [good({ lifecycleStatus: "GA" })] } }, /lifecycleStatus: 'GA' is not one of Preview, GenerallyAvailable/));
  test("OpenAI-OSS as a catalog format", () => rejects({ "x.json": { models: [good({ format: "OpenAI-OSS" })] } }, /format: 'OpenAI-OSS' is an alias/));
  test("contextLength beyond maxContextLength", () => rejects({ "x.json": { models: [good({ contextLength: 9000, maxContextLength: 8192 })] } }, /contextLength: 9000 exceeds maxContextLength 8192/));
  test("the same model in two files", () =>
    rejects({ "a.json": { models: [good()] }, "b.json": { models: [good()] } }, /b\.json: models\[0\]: Custom\/m version 1 is already defined at .*a\.json: models\[0\]/));
  test("two default versions", () =>
    rejects({ "a.json": { models: [good({ isDefaultVersion: true }), good({ version: "2", isDefaultVersion: true })] } }, /models\[1\]\.isDefaultVersion: Custom\/m already has a default version/));
  test("in-code entries get usage names derived", () => {
    const [m] = Catalog.validateEntries([{ ...good(), skus: [{ name: "Standard", minCapacity: 1, maxCapacity: 2, defaultCapacity: 1 }] }], "extraModels");
    assert.equal(m.skus[0].usageName, "AIServices.Standard.m");
    assert.throws(() => Catalog.validateEntries([good({ name: "bad name" })], "extraModels"), /extraModels\[0\]\.name: 'bad name' is not valid/);
  });
});

describe("resolve(): what a deployment PUT gets", () => {
  test("a wrong-case or wrong format names the right string", () => {
    assert.equal(
      resolveError({ format: "mistral", name: "Ministral-3B" }).message,
      "The model format 'mistral' is not valid for model 'Ministral-3B'. Format strings are case-sensitive: use 'Mistral AI'.",
    );
    assert.match(resolveError({ format: "openai", name: "gpt-4.1-mini" }).message, /Format strings are case-sensitive: use 'OpenAI'\./);
    assert.match(resolveError({ format: "Meta", name: "Qwen-3-32B" }).message, /not valid for model 'Qwen-3-32B'.*use 'Alibaba'/);
    assert.equal(resolveError({ format: "mistral", name: "Ministral-3B" }).param, "properties.model.format");
  });

  test("a missing format says which to send", () => {
    assert.match(resolveError({ format: "", name: "gpt-oss-20b" }).message, /format is required for model 'gpt-oss-20b': use 'Microsoft'/);
  });

  test("OpenAI-OSS (the az CLI's format) resolves to an open-weight model's real format", () => {
    for (const [name, format] of [["gpt-oss-20b", "Microsoft"], ["Ministral-3B", "Mistral AI"], ["Llama-3.3-70B", "Meta"], ["Qwen-3-32B", "Alibaba"]]) {
      const m = catalog.resolve({ format: "OpenAI-OSS", name, version: "1" });
      assert.equal(m.format, format);
    }
    assert.match(resolveError({ format: "OpenAI-OSS", name: "gpt-4.1-mini" }).message, /'OpenAI-OSS' is for models with open weights, and 'gpt-4.1-mini' has none\. Use 'OpenAI'\./);
  });

  test("an unknown name offers close matches and the valid formats", () => {
    const e = resolveError({ format: "OpenAI", name: "gpt-4.1-mimi" });
    assert.match(e.message, /The model 'gpt-4.1-mimi' with format 'OpenAI' is not supported\. Close matches: 'gpt-4.1-mini' \(format 'OpenAI'\)/);
    assert.equal(e.param, "properties.model.name");
    const f = resolveError({ format: "Qwen", name: "qwen2.5-0.5b" });
    assert.match(f.message, /Close matches: 'Qwen2.5-0.5B-Instruct' \(format 'Alibaba'\)/);
    assert.match(f.message, /Valid formats \(case-sensitive\): one of 'Alibaba', .*'Mistral AI', .*'OpenAI'/);
    assert.match(resolveError({ format: "Meta", name: "Llama-3.3-70B-Instruct" }).message, /Close matches: 'Llama-3.3-70B' \(format 'Meta'\)/);
    assert.doesNotMatch(resolveError({ format: "OpenAI", name: "zzzzzzzzzz" }).message, /Close matches/);
  });

  test("a name in the wrong case is named exactly", () => {
    assert.match(resolveError({ format: "Meta", name: "llama-3.3-70b" }).message, /Model names are case-sensitive: use 'Llama-3.3-70B' \(format 'Meta'\)/);
  });

  test("an unknown version lists the available ones; no version gives the default", () => {
    const e = resolveError({ format: "OpenAI", name: "gpt-4o", version: "2025-01-01" });
    assert.match(e.message, /Version '2025-01-01' of model 'gpt-4o' \(format 'OpenAI'\) is not supported\. Available versions: '2024-05-13', '2024-08-06', '2024-11-20' \(default\)\./);
    assert.equal(e.param, "properties.model.version");
    assert.equal(catalog.resolve({ format: "OpenAI", name: "gpt-4o" }).version, "2024-11-20");
    assert.equal(catalog.resolve({ format: "OpenAI", name: "gpt-4o", version: null }).version, "2024-11-20");
    assert.equal(catalog.resolve({ format: "OpenAI", name: "gpt-4o", version: "2024-08-06" }).version, "2024-08-06");
    assert.equal(catalog.resolve({ format: "Alibaba", name: "Qwen2.5-0.5B-Instruct" }).version, "1");
    assert.deepEqual(catalog.versionsOf("OpenAI", "gpt-4o"), ["2024-05-13", "2024-08-06", "2024-11-20"]);
    assert.ok(catalog.isDefaultVersion({ format: "OpenAI", name: "gpt-4o", version: "2024-11-20" }));
    assert.ok(!catalog.isDefaultVersion({ format: "OpenAI", name: "gpt-4o", version: "2024-05-13" }));
  });

  test("without a default flag, the newest version is the default", () => {
    const c = new Catalog(Catalog.validateEntries([good({ version: "2" }), good({ version: "10" }), good({ version: "9" })], "x"));
    assert.equal(c.resolve({ format: "Custom", name: "m" }).version, "10");
  });

  test("an empty name", () => {
    assert.match(resolveError({ format: "OpenAI", name: "" }).message, /properties\.model\.name is required/);
  });

  test("find() stays exact for stored deployments", () => {
    assert.throws(() => catalog.find({ format: "OpenAI-OSS", name: "gpt-oss-20b", version: "1" }), /not in the catalog/);
  });
});

describe("registered models merge live into lookups", () => {
  test("a model registered after the catalog was built resolves, lists, and has an owner", () => {
    const registry = new MemoryModelRegistry();
    const c = new Catalog(shipped, registry);
    const [custom] = Catalog.validateEntries([good({ format: "Custom", name: "my-model", weights: "file:/models/x.gguf" })], "x");
    assert.throws(() => c.resolve({ format: "Custom", name: "my-model" }), /is not supported/);
    registry.register(custom, "acct-a");
    assert.equal(c.resolve({ format: "Custom", name: "my-model" }).name, "my-model");
    assert.ok(c.list().some((m) => m.name === "my-model"));
    assert.ok(c.isRegistered({ format: "Custom", name: "my-model", version: "1" }));
    assert.equal(c.ownerOf({ format: "Custom", name: "my-model", version: "1" }), "acct-a");
    assert.equal(c.ownerOf({ format: "OpenAI", name: "gpt-4.1-mini", version: "2025-04-14" }), undefined);
    assert.deepEqual(c.formats().includes("Custom"), true);
    assert.throws(() => registry.register(custom), (e: unknown) => e instanceof IngotError && e.code === "ModelAlreadyExists" && e.status === 409);
    registry.remove({ format: "Custom", name: "my-model", version: "1" });
    assert.throws(() => c.find({ format: "Custom", name: "my-model", version: "1" }), /not in the catalog/);
  });

  test("shipped and in-code entries may not collide", () => {
    const m = shipped.find((x) => x.name === "tiny-chat") as CatalogModel;
    assert.throws(() => new Catalog([...shipped, m]), /Ingot\/tiny-chat version 1 is already defined/);
  });
});
