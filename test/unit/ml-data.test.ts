// Rules of Azure ML data assets and `resolve`: every form of data reference reaches the same
// bytes on Ingot's blob service; a uri_folder resolves to its single .jsonl; what does not
// resolve is an ARM 400 UserError naming the reference; versions are immutable; a workspace's
// delete takes its data, datastores and blob content with it.
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { BlobService } from "../../src/core/ml/blobs.ts";
import { compareVersions, MlDataService, page, parseDataReference, parseIngotBlobUrl, versionOrder } from "../../src/core/ml/data.ts";
import type { DataVersionRecord } from "../../src/core/ml/data.ts";
import { DatastoreService, defaultContainerName } from "../../src/core/ml/datastores.ts";
import type { WorkspaceRecord } from "../../src/core/ml/workspaces.ts";
import { FsBlobStore } from "../../src/store/blobs/fs-blob-store.ts";
import { SqliteMlDataStore } from "../../src/store/sqlite/ml-data-store.ts";
import { mlBed } from "./ml-bed.ts";
import { caught, rejection } from "./caught.ts";

const bed = mlBed("ingot-ml-data-");

const workspace = (name: string, guid: string): WorkspaceRecord => ({
  subscription: "00000000-0000-0000-0000-000000000000",
  resourceGroup: "rg",
  name,
  kind: "Default",
  location: "local",
  workspaceId: guid,
  friendlyName: name,
  description: "",
  tags: {},
  account: `${name}-ais`,
  createdAt: 1,
  updatedAt: 1,
});

const WS = workspace("ws1", "11111111-2222-4333-8444-555555555555");
const OTHER = workspace("ws2", "99999999-2222-4333-8444-555555555555");
const ARM = `/subscriptions/${WS.subscription}/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws1`;

function setup() {
  const { root, store, clock } = bed.fresh();
  const mlStore = new SqliteMlDataStore(store.database);
  const blobs = new BlobService(mlStore, new FsBlobStore(join(root, "blobs")), { clock });
  const datastores = new DatastoreService(mlStore, blobs, { clock });
  const data = new MlDataService(mlStore, datastores, blobs, { clock });
  const account = datastores.storageAccount(WS);
  const container = defaultContainerName(WS);
  const upload = (name: string, text: string) =>
    blobs.putBlob(account.name, container, name, (async function* () {
      yield Buffer.from(text);
    })(), {}, {});
  return { root, blobs, datastores, data, account, container, upload };
}

async function text(resolved: Awaited<ReturnType<MlDataService["resolve"]>>): Promise<string> {
  assert.equal(resolved.kind, "blob");
  if (resolved.kind !== "blob") return "";
  const chunks: Buffer[] = [];
  for await (const c of resolved.open()) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks).toString();
}

const TRAIN = '{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"quokka-7"}]}\n';

test("parseDataReference knows every form clients send", () => {
  assert.deepEqual(parseDataReference(`${ARM}/data/train/versions/2`), { kind: "armVersion", subscription: WS.subscription, resourceGroup: "rg", workspace: "ws1", name: "train", version: "2" });
  assert.deepEqual(parseDataReference(`azureml://locations/local/workspaces/${WS.workspaceId}/data/train/versions/1`), { kind: "assetId", location: "local", workspaceGuid: WS.workspaceId, name: "train", version: "1" });
  assert.deepEqual(parseDataReference("azureml:train:3"), { kind: "shortAsset", name: "train", version: "3" });
  assert.deepEqual(parseDataReference("azureml:train@latest"), { kind: "shortAsset", name: "train", label: "latest" });
  assert.deepEqual(parseDataReference("azureml://datastores/workspaceblobstore/paths/LocalUpload/abc/train%20set.jsonl"), { kind: "datastore", datastore: "workspaceblobstore", path: "LocalUpload/abc/train set.jsonl" });
  assert.deepEqual(parseDataReference("azureml://subscriptions/s/resourcegroups/rg/workspaces/ws1/datastores/workspaceblobstore/paths/a/b.jsonl"), {
    kind: "datastore",
    datastore: "workspaceblobstore",
    path: "a/b.jsonl",
    workspace: { subscription: "s", resourceGroup: "rg", name: "ws1" },
  });
  assert.equal(parseDataReference("https://example.com/x.jsonl")?.kind, "https");
  assert.equal(parseDataReference("http://example.com/x.jsonl"), undefined, "plain http is not a data reference");
  assert.equal(parseDataReference("./train.jsonl"), undefined);
  assert.deepEqual(parseIngotBlobUrl(new URL("https://127.0.0.1:8443/blob/acct1/c1/a/b%20c.jsonl")), { account: "acct1", container: "c1", path: "a/b c.jsonl" });
  assert.deepEqual(parseIngotBlobUrl(new URL("https://acct1.blob.localhost:8443/c1/a.jsonl?sv=1")), { account: "acct1", container: "c1", path: "a.jsonl" });
  assert.equal(parseIngotBlobUrl(new URL("https://example.com/c1/a.jsonl")), undefined);
});

test("resolve: every form of reference to one uploaded file reads its bytes", async () => {
  const { data, account, container, upload } = setup();
  await upload("LocalUpload/0123abcd/train.jsonl", TRAIN);
  const { version, created } = await data.createOrUpdateVersion(WS, "train", "1", { dataType: "uri_file", dataUri: "azureml://datastores/workspaceblobstore/paths/LocalUpload/0123abcd/train.jsonl" });
  assert.ok(created);
  assert.equal(version.dataUri, "azureml://datastores/workspaceblobstore/paths/LocalUpload/0123abcd/train.jsonl");
  for (const uri of [
    `${ARM}/data/train/versions/1`,
    `${ARM.toLowerCase()}/data/TRAIN/versions/1`,
    `azureml://locations/local/workspaces/${WS.workspaceId}/data/train/versions/1`,
    "azureml:train:1",
    "azureml:train@latest",
    "azureml://datastores/workspaceblobstore/paths/LocalUpload/0123abcd/train.jsonl",
    `azureml://subscriptions/${WS.subscription}/resourcegroups/rg/workspaces/ws1/datastores/workspaceblobstore/paths/LocalUpload/0123abcd/train.jsonl`,
    `https://127.0.0.1:8443/blob/${account.name}/${container}/LocalUpload/0123abcd/train.jsonl`,
    `https://${account.name}.blob.localhost:8443/${container}/LocalUpload/0123abcd/train.jsonl`,
  ]) {
    const r = await data.resolve(WS, uri);
    assert.equal(await text(r), TRAIN, uri);
    if (r.kind === "blob") {
      assert.equal(r.filename, "train.jsonl", uri);
      assert.equal(r.bytes, Buffer.byteLength(TRAIN), uri);
    }
  }
  // A uri_folder at an outside URL cannot be listed: 400; accepted on PUT all the same (Azure does not fetch it).
  await data.createOrUpdateVersion(WS, "remote-folder", "1", { dataType: "uri_folder", dataUri: "https://example.com/data/" });
  assert.match((await rejection(data.resolve(WS, "azureml:remote-folder:1"))).message, /cannot be listed/);
  // An outside URL is the caller's to import (through its SSRF checks).
  assert.deepEqual(await data.resolve(WS, "https://example.com/data/train.jsonl"), { kind: "url", url: "https://example.com/data/train.jsonl" });
});

test("resolve: a uri_folder is its single .jsonl file; none or several is a 400 saying so", async () => {
  const { data, upload } = setup();
  await upload("folders/one/train.jsonl", TRAIN);
  await upload("folders/one/README.md", "not data");
  await upload("folders/two/a.jsonl", TRAIN);
  await upload("folders/two/b.jsonl", TRAIN);
  await upload("folders/none/readme.txt", "x");
  await data.createOrUpdateVersion(WS, "folder", "1", { dataType: "uri_folder", dataUri: "azureml://datastores/workspaceblobstore/paths/folders/one/" });
  assert.equal(await text(await data.resolve(WS, "azureml:folder:1")), TRAIN);
  assert.equal(await text(await data.resolve(WS, "azureml://datastores/workspaceblobstore/paths/folders/one")), TRAIN, "a datastore path naming a folder");
  const two = await rejection(data.resolve(WS, "azureml://datastores/workspaceblobstore/paths/folders/two/"));
  assert.equal(two.status, 400);
  assert.match(two.message, /holds 2 \.jsonl files \(a\.jsonl, b\.jsonl\).*Point at the file itself/);
  const none = await rejection(data.resolve(WS, "azureml://datastores/workspaceblobstore/paths/folders/none/"));
  assert.match(none.message, /holds no \.jsonl file/);
});

test("resolve: what does not resolve is an ARM 400 UserError naming the reference and what to change", async () => {
  const { data, upload } = setup();
  await upload("f/train.jsonl", TRAIN);
  await data.createOrUpdateVersion(WS, "train", "1", { dataType: "uri_file", dataUri: "azureml://datastores/workspaceblobstore/paths/f/train.jsonl" });
  const cases: [string, RegExp][] = [
    ["azureml:nosuch:1", /has no data 'nosuch' \(it has: train\)/],
    ["azureml:train:7", /has no version '7' \(it has: 1\)/],
    [`azureml://locations/local/workspaces/${OTHER.workspaceId}/data/train/versions/1`, /names workspace id/],
    [`${ARM.replace("ws1", "ws2")}/data/train/versions/1`, /workspace 'ws2'/],
    ["azureml://datastores/nostore/paths/f/train.jsonl", /no datastore 'nostore' \(it has: workspaceblobstore\)/],
    ["azureml://datastores/workspaceblobstore/paths/f/missing.jsonl", /no file or folder 'f\/missing\.jsonl'/],
    ["./train.jsonl", /not a data reference Ingot knows/],
    ["", /empty/],
  ];
  for (const [uri, why] of cases) {
    const e = await rejection(data.resolve(WS, uri));
    assert.equal(e.status, 400, uri);
    assert.equal(e.code, "UserError", uri);
    if (uri) assert.ok(e.message.includes(`'${uri}'`), `${uri}: the message names it: ${e.message}`);
    assert.match(e.message, why, uri);
  }
});

test("resolve: another workspace's storage account is refused without a SAS", async () => {
  const { data, datastores, blobs } = setup();
  const other = datastores.storageAccount(OTHER);
  await blobs.putBlob(other.name, defaultContainerName(OTHER), "x/train.jsonl", (async function* () {
    yield Buffer.from(TRAIN);
  })(), {}, {});
  const e = await rejection(data.resolve(WS, `https://127.0.0.1/blob/${other.name}/${defaultContainerName(OTHER)}/x/train.jsonl`));
  assert.match(e.message, /belongs to another workspace/);
  assert.equal(await text(await data.resolve(OTHER, `https://127.0.0.1/blob/${other.name}/${defaultContainerName(OTHER)}/x/train.jsonl`)), TRAIN);
});

test("data versions: the dataUri must resolve on PUT; versions are immutable but for tags, description, isArchived", async () => {
  const { data, upload } = setup();
  const missing = await rejection(data.createOrUpdateVersion(WS, "train", "1", { dataType: "uri_file", dataUri: "azureml://datastores/workspaceblobstore/paths/nothing/here.jsonl" }));
  assert.equal(missing.status, 400);
  assert.equal(missing.param, "properties.dataUri");
  assert.match(missing.message, /nothing\/here\.jsonl/);
  assert.equal(data.listContainers(WS).length, 0, "nothing half-created");
  const badType = await rejection(data.createOrUpdateVersion(WS, "train", "1", { dataType: "csv", dataUri: "https://example.com/a" }));
  assert.match(badType.message, /uri_file, uri_folder, mltable/);

  await upload("a/train.jsonl", TRAIN);
  await upload("b/train.jsonl", TRAIN);
  await data.createOrUpdateVersion(WS, "train", "1", { dataType: "uri_file", dataUri: "azureml://datastores/workspaceblobstore/paths/a/train.jsonl", tags: { k: "v" } });
  const moved = await rejection(data.createOrUpdateVersion(WS, "train", "1", { dataType: "uri_file", dataUri: "azureml://datastores/workspaceblobstore/paths/b/train.jsonl" }));
  assert.equal(moved.status, 409);
  assert.match(moved.message, /Create a new version \(e\.g\. '2'\)/);
  const retagged = await data.createOrUpdateVersion(WS, "train", "1", { dataType: "uri_file", dataUri: "azureml://datastores/workspaceblobstore/paths/a/train.jsonl", tags: { k: "w" }, description: "d", isArchived: true });
  assert.equal(retagged.created, false);
  assert.deepEqual(retagged.version.tags, { k: "w" });
  assert.equal(retagged.version.isArchived, true);
  // An https URL outside Ingot is accepted as is.
  await data.createOrUpdateVersion(WS, "train", "10", { dataType: "uri_file", dataUri: "https://example.com/train.jsonl" });
  assert.deepEqual(data.versionInfo(WS, "train"), { latestVersion: "10", nextVersion: "11" });
  assert.deepEqual(data.listVersions(WS, "train").map((v) => v.version), ["10"], "ActiveOnly by default");
  assert.deepEqual(data.listVersions(WS, "train", { view: "All", orderBy: "version asc" }).map((v) => v.version), ["1", "10"]);
  const mixed = await rejection(data.createOrUpdateVersion(WS, "train", "11", { dataType: "uri_folder", dataUri: "azureml://datastores/workspaceblobstore/paths/a/" }));
  assert.match(mixed.message, /holds uri_file versions/);
  assert.ok(data.deleteVersion(WS, "train", "10"));
  assert.equal(data.deleteVersion(WS, "train", "10"), false);
  assert.ok(data.deleteContainer(WS, "train"));
  assert.equal(caught(() => data.requireContainer(WS, "train")).status, 404);
});

test("version order, paging", () => {
  assert.deepEqual(["10", "2", "b", "a", "1"].sort(compareVersions), ["1", "2", "10", "a", "b"]);
  const v = (version: string, createdAt: number) => ({ version, createdAt }) as DataVersionRecord;
  const list = [v("1", 3), v("2", 1), v("3", 2)];
  assert.deepEqual([...list].sort(versionOrder(undefined)).map((x) => x.version), ["1", "3", "2"]);
  assert.deepEqual([...list].sort(versionOrder("CreatedAtAsc")).map((x) => x.version), ["2", "3", "1"]);
  assert.deepEqual([...list].sort(versionOrder("version desc")).map((x) => x.version), ["3", "2", "1"]);
  assert.equal(caught(() => versionOrder("size")).status, 400);
  assert.deepEqual(page([1, 2, 3, 4, 5], "2", "1"), { items: [2, 3], nextSkip: 3 });
  assert.deepEqual(page([1, 2, 3], "2", "2"), { items: [3] });
  assert.equal(caught(() => page([1], "x", undefined)).status, 400);
});

test("datastores: workspaceblobstore exists unasked; others are containers of the workspace's account; default cannot go", () => {
  const { datastores, account } = setup();
  const def = datastores.require(WS, "WorkspaceBlobStore");
  assert.equal(def.name, "workspaceblobstore");
  assert.equal(def.isDefault, true);
  assert.equal(def.credentialsType, "AccountKey");
  assert.equal(def.containerName, `azureml-blobstore-${WS.workspaceId}`);
  assert.match(account.name, /^[a-z0-9]{3,24}$/);
  assert.deepEqual(datastores.listSecrets(WS, "workspaceblobstore"), { secretsType: "AccountKey", key: account.key });
  assert.equal(Buffer.from(account.key, "base64").byteLength, 64);
  const wrongAccount = caught(() => datastores.createOrUpdate(WS, "mine", { datastoreType: "AzureBlob", accountName: "someoneelse", containerName: "cont1" }));
  assert.match(wrongAccount.message, new RegExp(`storage account '${account.name}'`));
  const wrongKey = caught(() =>
    datastores.createOrUpdate(WS, "mine", { datastoreType: "AzureBlob", accountName: account.name, containerName: "cont1", credentials: { credentialsType: "AccountKey", secrets: { secretsType: "AccountKey", key: "bm9wZQ==" } } }),
  );
  assert.match(wrongKey.message, /does not match/);
  assert.match(caught(() => datastores.createOrUpdate(WS, "mine", { datastoreType: "AzureFile", accountName: account.name, containerName: "cont1" })).message, /AzureBlob/);
  const { datastore, created } = datastores.createOrUpdate(WS, "mine", {
    datastoreType: "AzureBlob",
    accountName: account.name,
    containerName: "training-data",
    credentials: { credentialsType: "AccountKey", secrets: { secretsType: "AccountKey", key: account.key } },
  });
  assert.ok(created);
  assert.equal(datastore.isDefault, false);
  assert.deepEqual(datastores.list(WS).map((d) => d.name), ["workspaceblobstore", "mine"]);
  assert.deepEqual(datastores.list(WS, { isDefault: true }).map((d) => d.name), ["workspaceblobstore"]);
  assert.deepEqual(datastores.list(WS, { names: ["MINE"] }).map((d) => d.name), ["mine"]);
  assert.deepEqual(datastores.list(WS, { searchText: "blob" }).map((d) => d.name), ["workspaceblobstore"]);
  assert.deepEqual(datastores.list(WS, { orderBy: "name", orderByAsc: true }).map((d) => d.name), ["mine", "workspaceblobstore"]);
  assert.deepEqual(datastores.list(WS, { orderBy: "createdtime" }).map((d) => d.name), ["mine", "workspaceblobstore"], "newest first");
  assert.equal(caught(() => datastores.list(WS, { orderBy: "size" })).status, 400);
  assert.equal(caught(() => datastores.delete(WS, "workspaceblobstore")).status, 400);
  assert.equal(caught(() => datastores.createOrUpdate(WS, "workspaceblobstore", { datastoreType: "AzureBlob" })).status, 400);
  assert.ok(datastores.delete(WS, "mine"));
  assert.equal(datastores.get(WS, "mine"), undefined);
});

test("a workspace's delete removes its datastores, data, storage account and blob content", async () => {
  const { data, datastores, account, upload, root } = setup();
  await upload("a/train.jsonl", TRAIN);
  await data.createOrUpdateVersion(WS, "train", "1", { dataType: "uri_file", dataUri: "azureml://datastores/workspaceblobstore/paths/a/train.jsonl" });
  datastores.createOrUpdate(WS, "mine", { datastoreType: "AzureBlob", accountName: account.name, containerName: "cont2" });
  const files = () => readdirSync(join(root, "blobs")).filter((f) => f !== ".tmp");
  assert.equal(files().length, 1);
  await data.deleteWorkspace(WS);
  assert.equal(files().length, 0, "content gone");
  assert.equal(data.listContainers(WS).length, 0);
  assert.equal(datastores.get(WS, "mine"), undefined);
  // A new storage account (new key) if the same workspace record were used again.
  assert.notEqual(datastores.storageAccount(WS).key, account.key);
  assert.ok(existsSync(join(root, "blobs")));
});
