// Shared Key and SAS verification of Ingot's blob service against what @azure/storage-blob
// really signs: the SDK's requests are captured by a fake HttpClient (no network) and verified;
// any change to a signed part, a stale date, another key, an expired or too narrow SAS fails.
import assert from "node:assert/strict";
import { randomBytes, X509Certificate } from "node:crypto";
import { test } from "node:test";
import { BlobSASPermissions, BlockBlobClient, ContainerClient, ContainerSASPermissions, generateBlobSASQueryParameters, StorageSharedKeyCredential } from "@azure/storage-blob";
import { canonicalizedResource, parseSharedKey, sharedKeyStringToSign, verifySas, verifySharedKey } from "../../src/core/ml/blob-auth.ts";
import type { BlobRequestView } from "../../src/core/ml/blob-auth.ts";
import { BlobError } from "../../src/core/ml/blobs.ts";
import { createSelfSignedCertificate } from "../../src/lib/x509.ts";

const account = { name: "ingotacct01", key: randomBytes(64).toString("base64") };
const BASE = `https://127.0.0.1:8443/blob/${account.name}`;

/** What the SDK's (legacy-compatible) HttpClient is handed: enough of WebResourceLike to read the signed request. */
interface SentRequest {
  url: string;
  method: string;
  body?: unknown;
  headers: { headersArray(): { name: string; value: string }[] };
}

/** Answer headers in the legacy HttpHeadersLike shape the storage SDK converts from. */
function legacyHeaders(h: Record<string, string>) {
  return {
    get: (n: string) => h[n.toLowerCase()],
    set: (n: string, v: string) => void (h[n.toLowerCase()] = v),
    remove: (n: string) => delete h[n.toLowerCase()],
    contains: (n: string) => n.toLowerCase() in h,
    rawHeaders: () => ({ ...h }),
    headersArray: () => Object.entries(h).map(([name, value]) => ({ name, value })),
    headerNames: () => Object.keys(h),
    headerValues: () => Object.values(h),
    toJson: () => ({ ...h }),
    clone: () => legacyHeaders({ ...h }),
  };
}

/** Captures the requests the SDK sends (no network); answers each with `status` and no body. */
function capture(status = (r: SentRequest) => (/comp=(metadata|list)/.test(r.url) ? 200 : 201)) {
  const sent: SentRequest[] = [];
  const client = {
    async sendRequest(request: SentRequest) {
      sent.push(request);
      return { request, status: status(request), headers: legacyHeaders({ "x-ms-request-id": "r", etag: '"0x1"', "last-modified": new Date().toUTCString(), "content-length": "0" }) };
    },
  };
  return { client: client as never, sent };
}

function viewOf(r: SentRequest, tamper: Record<string, string> = {}): BlobRequestView {
  const url = new URL(r.url);
  const headers: Record<string, string> = {};
  for (const { name, value } of r.headers.headersArray()) headers[name.toLowerCase()] = value;
  if (typeof r.body === "string" || Buffer.isBuffer(r.body)) headers["content-length"] ??= String(Buffer.byteLength(r.body as string));
  Object.assign(headers, tamper);
  const raw = r.url.slice(r.url.indexOf(url.host) + url.host.length);
  const q = raw.indexOf("?");
  return {
    method: r.method,
    rawPath: q < 0 ? raw : raw.slice(0, q),
    rawQuery: q < 0 ? "" : raw.slice(q + 1),
    header: (n) => headers[n],
    headerNames: () => Object.keys(headers),
  };
}

const failsWith = (fn: () => void, code: string, status = 403) => {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof BlobError, String(e));
    assert.equal(e.code, code, e.message);
    assert.equal(e.status, status);
    return e;
  }
  assert.fail(`expected ${code}`);
};

test("Shared Key: what @azure/storage-blob signs verifies, path-style and host-style; any change fails", async () => {
  const { client, sent } = capture();
  const cred = new StorageSharedKeyCredential(account.name, account.key);
  const blob = new BlockBlobClient(`${BASE}/azureml-blobstore-x/LocalUpload/ab%20c/train.jsonl`, cred, { httpClient: client, retryOptions: { maxTries: 1 } });
  await blob.upload("hello", 5, { metadata: { upload_status: "completed" }, blobHTTPHeaders: { blobContentType: "application/json" } });
  await blob.setMetadata({ upload_status: "completed", name: "train", version: "1" });
  const now = Date.now();
  for (const r of sent) {
    const v = viewOf(r);
    verifySharedKey(v, account, [v.rawPath, v.rawPath.replace(`/blob/${account.name}`, "")], now);
  }
  const put = sent[0];
  // A changed signed header, another key, a stale date, another account: 403 AuthenticationFailed.
  failsWith(() => verifySharedKey(viewOf(put, { "x-ms-meta-upload_status": "pending" }), account, [viewOf(put).rawPath], now), "AuthenticationFailed");
  failsWith(() => verifySharedKey(viewOf(put, { "content-length": "6" }), account, [viewOf(put).rawPath], now), "AuthenticationFailed");
  failsWith(() => verifySharedKey(viewOf(put), { ...account, key: randomBytes(64).toString("base64") }, [viewOf(put).rawPath], now), "AuthenticationFailed");
  const stale = failsWith(() => verifySharedKey(viewOf(put), account, [viewOf(put).rawPath], now + 16 * 60 * 1000), "AuthenticationFailed");
  assert.match((stale as BlobError).authenticationErrorDetail ?? "", /too old/);
  failsWith(() => verifySharedKey(viewOf(put), { ...account, name: "otheracct" }, [viewOf(put).rawPath], now), "AuthenticationFailed");
  failsWith(() => verifySharedKey(viewOf(put, { "x-ms-date": "" }), account, [viewOf(put).rawPath], now), "AuthenticationFailed");

  // Host-style: the SDK signs /<account>/<container>/<blob>.
  const host = capture();
  const hostBlob = new BlockBlobClient(`https://${account.name}.blob.localhost:8443/c1/dir/a.jsonl`, cred, { httpClient: host.client, retryOptions: { maxTries: 1 } });
  await hostBlob.upload("x", 1);
  const hv = viewOf(host.sent[0]);
  assert.equal(hv.rawPath, "/c1/dir/a.jsonl");
  verifySharedKey(hv, account, [hv.rawPath], now);
  assert.deepEqual(parseSharedKey(hv.header("authorization")), { account: account.name, signature: hv.header("authorization")!.split(":")[1] });
});

test("Shared Key: list with a query signs the canonical query (names lowercased and sorted, values decoded)", async () => {
  const { client, sent } = capture();
  const container = new ContainerClient(`${BASE}/c1`, new StorageSharedKeyCredential(account.name, account.key), { httpClient: client, retryOptions: { maxTries: 1 } });
  try {
    for await (const _ of container.listBlobsFlat({ prefix: "LocalUpload/a b/", includeMetadata: true })) break;
  } catch {
    // The fake answer has no XML: the request is what is tested.
  }
  const v = viewOf(sent[0]);
  assert.match(v.rawQuery, /restype=container/);
  verifySharedKey(v, account, [v.rawPath], Date.now());
  assert.equal(canonicalizedResource("a", "/c", "restype=container&comp=list&Prefix=x%2Fy&include=metadata"), "/a/c\ncomp:list\ninclude:metadata\nprefix:x/y\nrestype:container");
});

test("SAS: service SAS of the SDK verifies for its permissions and scope; expiry, permission, scope and key are checked", () => {
  const now = Date.now();
  const cred = new StorageSharedKeyCredential(account.name, account.key);
  const blobSas = generateBlobSASQueryParameters(
    { containerName: "c1", blobName: "dir/a.jsonl", permissions: BlobSASPermissions.parse("rcw"), startsOn: new Date(now - 60_000), expiresOn: new Date(now + 3_600_000), protocol: "https" as never },
    cred,
  ).toString();
  const target = { level: "blob" as const, container: "c1", blob: "dir/a.jsonl" };
  verifySas(blobSas, account, target, "r", now, { protocol: "https" });
  verifySas(blobSas, account, target, "w", now, { protocol: "https" });
  failsWith(() => verifySas(blobSas, account, target, "d", now, { protocol: "https" }), "AuthorizationPermissionMismatch");
  failsWith(() => verifySas(blobSas, account, { ...target, blob: "dir/b.jsonl" }, "r", now, { protocol: "https" }), "AuthenticationFailed");
  failsWith(() => verifySas(blobSas, account, target, "r", now + 2 * 3_600_000, { protocol: "https" }), "AuthenticationFailed");
  failsWith(() => verifySas(blobSas, { ...account, key: randomBytes(64).toString("base64") }, target, "r", now, { protocol: "https" }), "AuthenticationFailed");
  failsWith(() => verifySas(blobSas, account, target, "r", now, { protocol: "http" }), "AuthorizationProtocolMismatch");
  failsWith(() => verifySas(blobSas.replace(/sp=[^&]+/, "sp=racwd"), account, target, "d", now, { protocol: "https" }), "AuthenticationFailed");

  // A container SAS covers every blob in the container, and listing with l.
  const containerSas = generateBlobSASQueryParameters({ containerName: "c1", permissions: ContainerSASPermissions.parse("rwl"), expiresOn: new Date(now + 600_000) }, cred).toString();
  verifySas(containerSas, account, { level: "blob", container: "c1", blob: "any/name.jsonl" }, "w", now, { protocol: "https" });
  verifySas(containerSas, account, { level: "container", container: "c1" }, "l", now, { protocol: "https" });
  failsWith(() => verifySas(containerSas, account, { level: "blob", container: "c2", blob: "x" }, "r", now, { protocol: "https" }), "AuthenticationFailed");
  // Older signed versions still verify (2019-12-12: no encryption scope line).
  const old = generateBlobSASQueryParameters({ containerName: "c1", blobName: "x", permissions: BlobSASPermissions.parse("r"), expiresOn: new Date(now + 600_000), version: "2019-12-12" }, cred).toString();
  verifySas(old, account, { level: "blob", container: "c1", blob: "x" }, "r", now, { protocol: "https" });
});

test("the self-signed certificate covers host-style blob names (<account>.blob.localhost)", () => {
  const x = new X509Certificate(createSelfSignedCertificate({ days: 1 }).cert);
  // checkHost answers the certificate name that matched (a wildcard one label deep; OpenSSL does not let *.localhost cover it).
  assert.equal(x.checkHost(`${account.name}.blob.localhost`), "*.blob.localhost");
});

test("the string to sign matches Azure's documented example (Get Container Metadata)", () => {
  // From "Authorize with Shared Key" (Blob service, version 2015-02-21 and later).
  const headers: Record<string, string> = { "x-ms-date": "Fri, 26 Jun 2015 23:39:12 GMT", "x-ms-version": "2015-02-21" };
  const view: BlobRequestView = { method: "GET", rawPath: "/mycontainer", rawQuery: "restype=container&comp=metadata&timeout=20", header: (n) => headers[n], headerNames: () => Object.keys(headers) };
  assert.equal(
    sharedKeyStringToSign("myaccount", view, "/mycontainer"),
    "GET\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:Fri, 26 Jun 2015 23:39:12 GMT\nx-ms-version:2015-02-21\n/myaccount/mycontainer\ncomp:metadata\nrestype:container\ntimeout:20",
  );
});
