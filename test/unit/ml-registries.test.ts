// Rules of the Azure ML registry views over the catalog: which models each registry holds,
// version order (label "latest" = the default version), tags, and the 404s that list what exists.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Catalog } from "../../src/core/catalog/catalog.ts";
import type { CatalogModelInput } from "../../src/core/catalog/model.ts";
import { FINETUNE_REGIONS_TAG, parseCount, parseVersionOrder, publisherRegistryName, Registries } from "../../src/core/ml/registries.ts";
import { caught } from "./caught.ts";

const SKUS = [{ name: "GlobalStandard", minCapacity: 1, maxCapacity: 10, defaultCapacity: 1 }];
const model = (format: string, name: string, version: string, extra: Partial<CatalogModelInput> = {}): CatalogModelInput =>
  ({ format, name, version, capabilities: ["chatCompletion"], contextLength: 256, weights: `file:/m/${name}-${version}.gguf`, skus: SKUS, lifecycleStatus: "GenerallyAvailable", license: "MIT", ...extra }) as CatalogModelInput;

const catalog = new Catalog([
  model("Meta", "Llama-Tiny", "1", { capabilities: ["chatCompletion", "fineTune"], isDefaultVersion: true }),
  // A newer-sorting quantisation that is not the default: "latest" must still be version 1.
  model("Meta", "Llama-Tiny", "1-q4_k_m"),
  model("Mistral AI", "Ministral-Tiny", "2"),
  model("OpenAI", "gpt-closed", "2025-01-01", { weights: "none" }),
  model("Ingot", "tiny-chat", "1", { weights: "builtin:tiny-chat", capabilities: ["chatCompletion", "fineTune"] }),
  model("Meta", "Llama-Tiny-ft", "1", { baseModel: { format: "Meta", name: "Llama-Tiny", version: "1" }, fineTuneJob: "ftjob-1" }),
]);
const registries = new Registries(catalog, "local");

test("publisher registries are named by the publisher's first word, lowercased", () => {
  assert.equal(publisherRegistryName("Meta"), "azureml-meta");
  assert.equal(publisherRegistryName("Mistral AI"), "azureml-mistral");
  assert.equal(publisherRegistryName("HuggingFace"), "azureml-huggingface");
});

test("azureml holds every runnable shared model; publisher registries hold their own; closed and fine-tuned models are in none", () => {
  assert.deepEqual(registries.names(), ["azureml", "azureml-ingot", "azureml-meta", "azureml-mistral"]);
  assert.deepEqual(registries.modelNames("azureml"), ["Llama-Tiny", "Ministral-Tiny", "tiny-chat"]);
  assert.deepEqual(registries.modelNames("azureml-meta"), ["Llama-Tiny"]);
  assert.deepEqual(registries.modelNames("AzureML-Mistral"), ["Ministral-Tiny"]);
});

test("a model registered for one account is not in any registry", () => {
  const scoped = new Registries({ list: () => catalog.list(), isDefaultVersion: (r) => catalog.isDefaultVersion(r), ownerOf: (r) => (r.name === "tiny-chat" ? "acct" : undefined) }, "local");
  assert.ok(!scoped.modelNames("azureml").includes("tiny-chat"));
});

test("versions are newest first with the default version as the newest, so label latest finds it", () => {
  const versions = registries.versions("azureml", "Llama-Tiny");
  assert.deepEqual(versions.map((v) => v.version), ["1", "1-q4_k_m"]);
  assert.ok(versions[0].createdAt > versions[1].createdAt);
  assert.deepEqual(registries.versions("azureml", "Llama-Tiny", "CreatedAtAsc").map((v) => v.version), ["1-q4_k_m", "1"]);
  assert.deepEqual(registries.versions("azureml", "Llama-Tiny", "VersionDesc").map((v) => v.version), ["1-q4_k_m", "1"]);
});

test("fine-tunable models carry Ingot's location in maas-finetuning-deploy-regions; others do not have the tag", () => {
  const ft = registries.version("azureml", "Llama-Tiny", "1");
  assert.equal(ft.tags[FINETUNE_REGIONS_TAG], "local");
  assert.ok(ft.tags[FINETUNE_REGIONS_TAG].split(",").includes("local"));
  assert.equal(registries.version("azureml", "Llama-Tiny", "1-q4_k_m").tags[FINETUNE_REGIONS_TAG], undefined);
  assert.equal(ft.tags.task, "chat-completion");
});

test("unknown registry, model and version are 404s that say what exists", () => {
  const reg = caught(() => registries.require("azureml-cohere"));
  assert.equal(reg.status, 404);
  assert.match(reg.message, /Registry 'azureml-cohere' was not found.*'azureml', 'azureml-ingot', 'azureml-meta', 'azureml-mistral'/);
  const m = caught(() => registries.versions("azureml-meta", "Ministral-Tiny"));
  assert.equal(m.status, 404);
  assert.match(m.message, /Its models are: 'Llama-Tiny'/);
  assert.match(caught(() => registries.versions("azureml", "llama-tiny")).message, /case-sensitive: use 'Llama-Tiny'/);
  const v = caught(() => registries.version("azureml", "Llama-Tiny", "9"));
  assert.equal(v.status, 404);
  assert.match(v.message, /Its versions are: '1', '1-q4_k_m'/);
  assert.match(caught(() => registries.versions("azureml", "gpt-closed")).message, /not found in registry 'azureml'/);
});

test("$orderBy, $top and $skip are checked", () => {
  assert.equal(parseVersionOrder(undefined), "CreatedAtDesc");
  assert.equal(parseVersionOrder("createdatdesc"), "CreatedAtDesc");
  assert.match(caught(() => parseVersionOrder("Name")).message, /Use one of 'CreatedAtDesc'/);
  assert.equal(parseCount("$top", "1"), 1);
  assert.equal(caught(() => parseCount("$top", "-1")).status, 400);
});
