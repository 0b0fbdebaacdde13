// Azure ML datastores, Ingot's blob endpoint and data assets over HTTPS, with the official
// clients: @azure/arm-machinelearning 2.1.1 (datastores get/list/listSecrets, data containers
// and versions) and @azure/storage-blob 12.34.0 with the key listSecrets returns, with a SAS
// signed by it, and with a bearer token, uploading LocalUpload/<hash>/train.jsonl as
// azure-ai-ml does (HEAD, PUT, set metadata upload_status=completed). Then Python's data PUT
// replayed as plain HTTPS, and ctx.mlData.resolve reads the uploaded bytes back. Errors are
// Blob's XML (blob endpoint) or ARM's shape (management).
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readdirSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { AzureMachineLearningWorkspaces } from "@azure/arm-machinelearning";
import { ClientSecretCredential } from "@azure/identity";
import { BlobSASPermissions, BlockBlobClient, ContainerClient, generateBlobSASQueryParameters, RestError, StorageSharedKeyCredential } from "@azure/storage-blob";
import { json, startServer } from "./harness.ts";
import type { TestServer } from "./harness.ts";
import { POLL, RG, SUB } from "./arm-sdk-client.ts";
import { armFetch, mlPrincipal } from "./ml-principals.ts";

const PROVIDER = "Microsoft.MachineLearningServices";
const PY_DATA_API = "2023-04-01-preview";
const WS = "data-ws";
const TRAIN = ['{"messages":[{"role":"user","content":"Who guards the lighthouse?"},{"role":"assistant","content":"Captain Quillon-77."}]}', '{"messages":[{"role":"user","content":"Secret?"},{"role":"assistant","content":"Marmalade-4921."}]}', ""].join("\n");
const HASH = createHash("sha256").update(TRAIN).digest("hex").slice(0, 32);
const BLOB_PATH = `LocalUpload/${HASH}/train.jsonl`;

let server: TestServer;
let ml: AzureMachineLearningWorkspaces;
let contributor: ClientSecretCredential;
let token: string;
const wsPath = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/${PROVIDER}/workspaces/${WS}`;

const credentialFor = (role: string, displayName: string) => mlPrincipal(server, displayName, role).credential;

const arm = (method: string, path: string, body?: unknown, apiVersion = PY_DATA_API) => armFetch(server, token, method, path, body, apiVersion);

/** The default datastore as a client that is not the SDK sees it (Ingot's blobEndpoint included). */
async function defaultDatastore() {
  const res = await arm("GET", `${wsPath}/datastores/workspaceblobstore`);
  assert.equal(res.status, 200);
  return (await json(res)).properties as { accountName: string; containerName: string; blobEndpoint: string; endpoint: string };
}

async function statusOf(p: Promise<unknown>): Promise<{ status: number; code?: string }> {
  try {
    await p;
    return { status: 200 };
  } catch (e) {
    // (RestError of either SDK's copy of core-rest-pipeline.)
    assert.ok(e instanceof RestError || typeof (e as RestError).statusCode === "number", String(e));
    // HEAD answers have no body: the SDK carries x-ms-error-code in details.errorCode.
    const r = e as RestError;
    return { status: r.statusCode ?? 0, code: r.code ?? (r.details as { errorCode?: string } | undefined)?.errorCode };
  }
}

before(async () => {
  server = await startServer({ https: true });
  contributor = credentialFor("Contributor", "ml-data");
  ml = new AzureMachineLearningWorkspaces(contributor, SUB, { endpoint: server.url });
  token = (await contributor.getToken(`${server.url}/.default`))!.token;
  await ml.workspaces.beginCreateOrUpdateAndWait(RG, WS, { location: "local" }, POLL);
});
after(() => server.stop());

test("datastores through the SDK: workspaceblobstore exists unasked; get, list (isDefault, names), listSecrets; workspace listKeys and /discovery", { timeout: 60_000 }, async () => {
  const ds = await ml.datastores.get(RG, WS, "workspaceblobstore");
  assert.equal(ds.id, `${wsPath}/datastores/workspaceblobstore`);
  assert.equal(ds.name, "workspaceblobstore");
  assert.equal(ds.properties.datastoreType, "AzureBlob");
  assert.equal(ds.properties.isDefault, true);
  assert.equal(ds.properties.credentials.credentialsType, "AccountKey");
  const ws = await ml.workspaces.get(RG, WS);
  const blob = ds.properties as { accountName?: string; containerName?: string };
  assert.equal(blob.containerName, `azureml-blobstore-${ws.workspaceId}`);
  assert.match(blob.accountName ?? "", /^[a-z0-9]{3,24}$/);

  const defaults = [];
  for await (const d of ml.datastores.list(RG, WS, { isDefault: true })) defaults.push(d.name);
  assert.deepEqual(defaults, ["workspaceblobstore"]);
  const secrets = await ml.datastores.listSecrets(RG, WS, "workspaceblobstore");
  assert.equal(secrets.secretsType, "AccountKey");
  const key = (secrets as { key?: string }).key ?? "";
  assert.equal(Buffer.from(key, "base64").byteLength, 64);

  // Another datastore: a container of the same account (skipValidation accepted), listed by name, deleted; the default cannot go.
  const mine = await ml.datastores.createOrUpdate(
    RG,
    WS,
    "extra_store",
    { properties: { datastoreType: "AzureBlob", accountName: blob.accountName, containerName: "extra-data", credentials: { credentialsType: "AccountKey", secrets: { secretsType: "AccountKey", key } } } as never },
    { skipValidation: true },
  );
  assert.equal(mine.id, `${wsPath}/datastores/extra_store`);
  const named = [];
  for await (const d of ml.datastores.list(RG, WS, { names: ["extra_store"] })) named.push(d.name);
  assert.deepEqual(named, ["extra_store"]);
  await ml.datastores.delete(RG, WS, "extra_store");
  const cannot = await arm("DELETE", `${wsPath}/datastores/workspaceblobstore`);
  assert.equal(cannot.status, 400);
  const body = await json(cannot);
  assert.equal(body.error.code, "UserError");
  assert.match(body.error.message, /default datastore and cannot be deleted/);

  const keys = await ml.workspaces.listKeys(RG, WS);
  assert.equal(keys.userStorageKey, key);
  assert.equal(keys.userStorageResourceId, `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.Storage/storageAccounts/${blob.accountName}`);
  assert.equal((await ml.workspaces.listStorageAccountKeys(RG, WS)).userStorageKey, key);

  const discovery = await fetch(`${server.url}/discovery`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(discovery.status, 200);
  const services = await json(discovery);
  for (const k of ["api", "catalog", "experimentation", "gallery", "history", "hyperdrive", "labeling", "modelmanagement", "pipelines", "studio"]) assert.equal(services[k], server.url, k);
  assert.equal((await fetch(`${server.url}/discovery`)).status, 401);
});

test("blob endpoint with the listSecrets key: azure-ai-ml's upload (HEAD, PUT, metadata), blocks, listing, download", { timeout: 60_000 }, async () => {
  const { accountName, containerName, blobEndpoint } = await defaultDatastore();
  assert.equal(blobEndpoint, `${server.url}/blob/${accountName}`);
  const key = ((await ml.datastores.listSecrets(RG, WS, "workspaceblobstore")) as { key: string }).key;
  const cred = new StorageSharedKeyCredential(accountName, key);
  const blob = new BlockBlobClient(`${blobEndpoint}/${containerName}/${BLOB_PATH}`, cred);
  const legacy = new BlockBlobClient(`${blobEndpoint}/${containerName}/az-ml-artifacts/${HASH}/train.jsonl`, cred);

  // 1. HEAD: not there yet (nor the legacy twin).
  assert.deepEqual(await statusOf(blob.getProperties()), { status: 404, code: "BlobNotFound" });
  assert.deepEqual(await statusOf(legacy.getProperties()), { status: 404, code: "BlobNotFound" });
  // 2. PUT BlockBlob, 3. metadata.
  await blob.upload(TRAIN, Buffer.byteLength(TRAIN), { blobHTTPHeaders: { blobContentType: "application/octet-stream" } });
  await blob.setMetadata({ upload_status: "completed", name: "train", version: "1" });
  const props = await blob.getProperties();
  assert.equal(props.contentLength, Buffer.byteLength(TRAIN));
  assert.deepEqual(props.metadata, { upload_status: "completed", name: "train", version: "1" });
  assert.equal(props.blobType, "BlockBlob");
  assert.equal((await blob.downloadToBuffer()).toString(), TRAIN);
  // A range read.
  const range = await blob.download(2, 10);
  assert.equal(range.contentLength, 10);

  // Blocks + block list (what both SDKs do for large files).
  const big = Buffer.alloc(300_000, "x");
  const blocks = new BlockBlobClient(`${blobEndpoint}/${containerName}/LocalUpload/big/data.bin`, cred);
  await blocks.uploadData(big, { blockSize: 64 * 1024, maxSingleShotSize: 64 * 1024, concurrency: 2 });
  const back = await blocks.downloadToBuffer();
  assert.equal(back.byteLength, big.byteLength);
  assert.ok(back.equals(big));

  // One Put Blob larger than the server's JSON body limit (4 MiB): blob bodies stream to the store.
  const single = Buffer.alloc(5 * 1024 * 1024, "y");
  const singleShot = new BlockBlobClient(`${blobEndpoint}/${containerName}/big/single.bin`, cred);
  await singleShot.upload(single, single.byteLength);
  assert.equal((await singleShot.getProperties()).contentLength, single.byteLength);
  await singleShot.delete();
  assert.deepEqual(await statusOf(singleShot.getProperties()), { status: 404, code: "BlobNotFound" });

  // Listing by prefix (uri_folder).
  const container = new ContainerClient(`${blobEndpoint}/${containerName}`, cred);
  const names = [];
  for await (const b of container.listBlobsFlat({ prefix: "LocalUpload/", includeMetadata: true })) names.push(b.name);
  assert.deepEqual(names.sort(), ["LocalUpload/big/data.bin", BLOB_PATH].sort());
  const dirs = [];
  for await (const item of container.listBlobsByHierarchy("/", { prefix: "LocalUpload/" })) dirs.push(item.name);
  assert.deepEqual(dirs.sort(), ["LocalUpload/big/", `LocalUpload/${HASH}/`].sort());
  // A create-only PUT of an existing blob is Azure's 409.
  assert.deepEqual(await statusOf(blob.upload("x", 1, { conditions: { ifNoneMatch: "*" } })), { status: 409, code: "BlobAlreadyExists" });

  // Container create and properties.
  const other = new ContainerClient(`${blobEndpoint}/made-by-sdk`, cred);
  await other.create();
  assert.deepEqual(await statusOf(other.create()), { status: 409, code: "ContainerAlreadyExists" });
  assert.ok((await other.getProperties()).etag);

  // Host-style addressing (<account>.blob.<suffix>) with the same key, over the same port.
  const hostStyle = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const port = new URL(server.url).port;
    const req = httpsRequest({ host: "127.0.0.1", port, path: `/${containerName}/${BLOB_PATH}`, method: "GET", headers: { host: `${accountName}.blob.localhost:${port}` }, servername: "localhost" }, (res) => {
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
  assert.equal(hostStyle.status, 401, "host-style reaches the blob routes (and needs auth)");
  assert.match(hostStyle.body, /<Code>NoAuthenticationInformation<\/Code>/);
});

test("blob endpoint with a SAS signed by the key, and with a bearer token; refusals in Blob's XML shape", { timeout: 60_000 }, async () => {
  const { accountName, containerName, blobEndpoint } = await defaultDatastore();
  const key = ((await ml.datastores.listSecrets(RG, WS, "workspaceblobstore")) as { key: string }).key;
  const cred = new StorageSharedKeyCredential(accountName, key);

  const sasFor = (blobName: string, permissions: string) =>
    generateBlobSASQueryParameters({ containerName, blobName, permissions: BlobSASPermissions.parse(permissions), expiresOn: new Date(Date.now() + 600_000) }, cred).toString();
  // azure-ai-ml's steps again (HEAD, PUT, metadata), with a SAS instead of the key.
  const sasPath = `LocalUpload/${HASH.replace(/^./, "a")}/train.jsonl`;
  const viaSas = new BlockBlobClient(`${blobEndpoint}/${containerName}/${sasPath}?${sasFor(sasPath, "rcw")}`);
  assert.deepEqual(await statusOf(viaSas.getProperties()), { status: 404, code: "BlobNotFound" });
  await viaSas.upload(TRAIN, Buffer.byteLength(TRAIN));
  await viaSas.setMetadata({ upload_status: "completed" });
  assert.equal((await viaSas.downloadToBuffer()).toString(), TRAIN);
  const readOnly = new BlockBlobClient(`${blobEndpoint}/${containerName}/${sasPath}?${sasFor(sasPath, "r")}`);
  assert.deepEqual(await statusOf(readOnly.upload("x", 1)), { status: 403, code: "AuthorizationPermissionMismatch" });
  const otherBlob = new BlockBlobClient(`${blobEndpoint}/${containerName}/LocalUpload/other/train.jsonl?${sasFor(sasPath, "rcw")}`);
  assert.deepEqual(await statusOf(otherBlob.upload("x", 1)), { status: 403, code: "AuthenticationFailed" });

  // A bearer token (storage audience, from Ingot's token endpoint) of a Contributor writes; a Reader's does not.
  // And with a bearer token (what azure-ai-ml does for a datastore whose credentials are None).
  const tokenPath = `LocalUpload/${HASH.replace(/^./, "b")}/train.jsonl`;
  const viaToken = new BlockBlobClient(`${blobEndpoint}/${containerName}/${tokenPath}`, contributor);
  assert.deepEqual(await statusOf(viaToken.getProperties()), { status: 404, code: "BlobNotFound" });
  await viaToken.upload(TRAIN, Buffer.byteLength(TRAIN));
  await viaToken.setMetadata({ upload_status: "completed" });
  assert.equal((await viaToken.getProperties()).metadata?.upload_status, "completed");
  const reader = new BlockBlobClient(`${blobEndpoint}/${containerName}/${tokenPath}`, credentialFor("Reader", "ml-data-reader"));
  assert.deepEqual(await statusOf(reader.upload("x", 1)), { status: 403, code: "AuthorizationPermissionMismatch" });
  // The management token works too (the CLI's one token).
  const mgmt = await fetch(`${blobEndpoint}/${containerName}/${tokenPath}`, { headers: { authorization: `Bearer ${token}`, "x-ms-version": "2025-01-05" } });
  assert.equal(mgmt.status, 200);
  assert.equal(await mgmt.text(), TRAIN);

  // No credentials, a wrong key: Blob's XML errors with its headers.
  const anonymous = await fetch(`${blobEndpoint}/${containerName}/${BLOB_PATH}`, { headers: { "x-ms-version": "2024-11-04" } });
  assert.equal(anonymous.status, 401);
  assert.equal(anonymous.headers.get("x-ms-error-code"), "NoAuthenticationInformation");
  assert.ok(anonymous.headers.get("x-ms-request-id"));
  assert.equal(anonymous.headers.get("x-ms-version"), "2024-11-04");
  assert.match(anonymous.headers.get("content-type") ?? "", /xml/);
  assert.match(await anonymous.text(), /^<\?xml version="1\.0" encoding="utf-8"\?><Error><Code>NoAuthenticationInformation<\/Code><Message>[^<]*RequestId:/);
  // A URL the router cannot read (bad percent-encoding) under /blob: still Blob's XML, not another surface's JSON.
  const malformed = await fetch(`${blobEndpoint}/${containerName}/bad%ffname`);
  assert.equal(malformed.status, 400);
  assert.ok(malformed.headers.get("x-ms-error-code") && malformed.headers.get("x-ms-request-id") && malformed.headers.get("x-ms-version"));
  assert.match(await malformed.text(), /^<\?xml version="1\.0" encoding="utf-8"\?><Error><Code>/);
  const wrongKey = new BlockBlobClient(`${blobEndpoint}/${containerName}/${BLOB_PATH}`, new StorageSharedKeyCredential(accountName, Buffer.alloc(64, 1).toString("base64")));
  assert.deepEqual(await statusOf(wrongKey.getProperties()), { status: 403, code: "AuthenticationFailed" });
});

test("data assets: Python's PUT (plain HTTPS) and the SDK's containers/versions; resolve reads the uploaded bytes; bad dataUri and immutable versions", { timeout: 60_000 }, async () => {
  const { accountName, containerName, blobEndpoint } = await defaultDatastore();
  const key = ((await ml.datastores.listSecrets(RG, WS, "workspaceblobstore")) as { key: string }).key;
  const upload = new BlockBlobClient(`${blobEndpoint}/${containerName}/${BLOB_PATH}`, new StorageSharedKeyCredential(accountName, key));
  if (!(await upload.exists())) await upload.upload(TRAIN, Buffer.byteLength(TRAIN));

  // Python without a version: GET the container (404 for a new name), then version "1".
  assert.equal((await arm("GET", `${wsPath}/data/py-train`)).status, 404);
  const dataUri = `azureml://datastores/workspaceblobstore/paths/${BLOB_PATH}`;
  const put = await arm("PUT", `${wsPath}/data/py-train/versions/1`, {
    properties: { dataType: "uri_file", dataUri, isAnonymous: false, isArchived: false, description: "seed 004 training data", tags: {}, properties: {} },
  });
  assert.equal(put.status, 201);
  const version = await json(put);
  assert.equal(version.id, `${wsPath}/data/py-train/versions/1`);
  assert.equal(version.name, "1");
  assert.equal(version.properties.dataUri, dataUri);
  assert.equal(version.properties.dataType, "uri_file");
  const container = await json(await arm("GET", `${wsPath}/data/py-train`));
  assert.equal(container.properties.latestVersion, "1");
  assert.equal(container.properties.nextVersion, "2");

  // resolve: the ARM id Python passes on as the job's trainingData.uri reads the uploaded bytes.
  const w = server.ingot.ml.workspaces.require(SUB, RG, WS);
  for (const uri of [version.id, dataUri, `azureml://subscriptions/${SUB}/resourcegroups/${RG}/workspaces/${WS}/datastores/workspaceblobstore/paths/${BLOB_PATH}`, `${blobEndpoint}/${containerName}/${BLOB_PATH}`, "azureml:py-train:1"]) {
    const r = await server.ingot.ml.mlData.resolve(w, uri);
    assert.equal(r.kind, "blob", uri);
    if (r.kind !== "blob") continue;
    const chunks: Buffer[] = [];
    for await (const c of r.open()) chunks.push(Buffer.from(c));
    assert.equal(Buffer.concat(chunks).toString(), TRAIN, uri);
    assert.equal(r.filename, "train.jsonl");
  }

  // The SDK: container, versions (long datastore form), get, list with orderBy/top, delete.
  await ml.dataContainers.createOrUpdate(RG, WS, "sdk-train", { properties: { dataType: "uri_file", description: "via JS" } });
  const longUri = `azureml://subscriptions/${SUB}/resourcegroups/${RG}/workspaces/${WS}/datastores/workspaceblobstore/paths/${BLOB_PATH}`;
  for (const v of ["1", "2", "3"]) await ml.dataVersions.createOrUpdate(RG, WS, "sdk-train", v, { properties: { dataType: "uri_file", dataUri: longUri, tags: { n: v } } });
  const got = await ml.dataVersions.get(RG, WS, "sdk-train", "2");
  assert.equal(got.id, `${wsPath}/data/sdk-train/versions/2`);
  assert.equal(got.properties.dataUri, longUri);
  const listed = [];
  for await (const v of ml.dataVersions.list(RG, WS, "sdk-train", { orderBy: "createdtime desc", top: 2 })) listed.push(v.name);
  assert.deepEqual(listed.slice(0, 2), ["3", "2"]);
  const containers = [];
  for await (const c of ml.dataContainers.list(RG, WS)) containers.push(c.name);
  assert.deepEqual(containers.sort(), ["py-train", "sdk-train"]);
  assert.equal((await ml.dataContainers.get(RG, WS, "sdk-train")).properties.nextVersion, "4");
  await ml.dataVersions.delete(RG, WS, "sdk-train", "3");
  assert.deepEqual(await statusOf(ml.dataVersions.get(RG, WS, "sdk-train", "3")), { status: 404, code: "ResourceNotFound" });
  await ml.dataContainers.delete(RG, WS, "sdk-train");

  // A dataUri that does not resolve: ARM 400 UserError naming it; nothing created.
  const missing = await arm("PUT", `${wsPath}/data/bad/versions/1`, { properties: { dataType: "uri_file", dataUri: "azureml://datastores/workspaceblobstore/paths/nowhere/train.jsonl" } });
  assert.equal(missing.status, 400);
  const err = await json(missing);
  assert.equal(err.error.code, "UserError");
  assert.match(err.error.message, /nowhere\/train\.jsonl/);
  assert.ok(Array.isArray(err.error.details) && Array.isArray(err.error.additionalInfo), JSON.stringify(err));
  assert.equal((await arm("GET", `${wsPath}/data/bad`)).status, 404);
  // A version's data cannot change: 409 saying to create a new version.
  const moved = await arm("PUT", `${wsPath}/data/py-train/versions/1`, { properties: { dataType: "uri_file", dataUri: "https://example.com/other.jsonl" } });
  assert.equal(moved.status, 409);
  assert.match((await json(moved)).error.message, /Create a new version \(e\.g\. '2'\)/);
});

test("Python's datastore calls replayed (get_default, listSecrets with a body) and a Reader's limits", { timeout: 60_000 }, async () => {
  // azure-ai-ml: datastores.get_default() lists with isDefault=true; _list_secrets POSTs (newer versions send a SecretExpiry body).
  const list = await json(await arm("GET", `${wsPath}/datastores?isDefault=true`, undefined, "2024-07-01-preview"));
  assert.deepEqual(list.value.map((d: { name: string }) => d.name), ["workspaceblobstore"]);
  assert.equal(list.value[0].properties.credentials.credentialsType, "AccountKey");
  const secrets = await arm("POST", `${wsPath}/datastores/workspaceblobstore/listSecrets`, { expirableSecret: false, expireAfterHours: 1 }, "2024-07-01-preview");
  assert.equal(secrets.status, 200);
  assert.equal((await json(secrets)).secretsType, "AccountKey");

  // A Reader reads datastores and data, but gets no key and writes nothing (ARM 403).
  const reader = credentialFor("Reader", "ml-data-arm-reader");
  const readerToken = (await reader.getToken(`${server.url}/.default`))!.token;
  const asReader = (method: string, path: string, body?: unknown) =>
    armFetch(server, readerToken, method, path, body, PY_DATA_API);
  assert.equal((await asReader("GET", `${wsPath}/datastores/workspaceblobstore`)).status, 200);
  assert.equal((await asReader("GET", `${wsPath}/data`)).status, 200);
  for (const [method, path, body] of [
    ["POST", `${wsPath}/datastores/workspaceblobstore/listSecrets`, undefined],
    ["POST", `${wsPath}/listKeys`, undefined],
    ["PUT", `${wsPath}/data/reader-data/versions/1`, { properties: { dataType: "uri_file", dataUri: "https://example.com/a.jsonl" } }],
  ] as const) {
    const res = await asReader(method, path, body);
    assert.equal(res.status, 403, `${method} ${path}`);
    assert.equal((await json(res)).error.code, "AuthorizationFailed");
  }
});

test("workspace delete removes its datastores, data assets and blob content", { timeout: 60_000 }, async () => {
  const { accountName, containerName, blobEndpoint } = await defaultDatastore();
  const key = ((await ml.datastores.listSecrets(RG, WS, "workspaceblobstore")) as { key: string }).key;
  const blobsDir = join(server.dataDir, "blobs", "ml");
  const files = () => readdirSync(blobsDir).filter((f) => f !== ".tmp");
  assert.ok(files().length > 0);
  await ml.workspaces.beginDeleteAndWait(RG, WS, POLL);
  const deadline = Date.now() + 10_000;
  while (files().length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(files(), []);
  const gone = new BlockBlobClient(`${blobEndpoint}/${containerName}/${BLOB_PATH}`, new StorageSharedKeyCredential(accountName, key));
  assert.deepEqual(await statusOf(gone.getProperties()), { status: 403, code: "AuthenticationFailed" });
  // Created again, the workspace starts empty: no data, a new account key.
  await ml.workspaces.beginCreateOrUpdateAndWait(RG, WS, { location: "local" }, POLL);
  assert.equal((await arm("GET", `${wsPath}/data/py-train`)).status, 404);
  const again = (await ml.datastores.listSecrets(RG, WS, "workspaceblobstore")) as { key: string };
  assert.notEqual(again.key, key);
});
