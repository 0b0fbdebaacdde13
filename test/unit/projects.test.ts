// Rules of the project endpoint's connections and datasets (core/projects), the SAS it hands
// out (checked by the blob service's own verifier), and their SQLite store (migration 18).
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { IngotError } from "../../src/core/errors.ts";
import { verifySas } from "../../src/core/ml/blob-auth.ts";
import { ConnectionService } from "../../src/core/projects/connections.ts";
import { DatasetService, storedDataUri } from "../../src/core/projects/datasets.ts";
import type { DatasetStorage } from "../../src/core/projects/datasets.ts";
import { containerSas } from "../../src/core/projects/sas.ts";
import { SqliteProjectDataStore } from "../../src/store/sqlite/project-data-store.ts";
import { SqliteStore } from "../../src/store/sqlite/store.ts";

const dir = mkdtempSync(join(tmpdir(), "ingot-projects-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const REF = { account: "acct", project: "default", projectId: "/subscriptions/s/resourceGroups/g/providers/Microsoft.CognitiveServices/accounts/acct/projects/default" };
const SELF = { target: "https://localhost:8443/", key: "k1" };
const KEY = Buffer.alloc(64, 7).toString("base64");
const WHERE = { blobBase: "https://localhost:8443", subscription: "s", resourceGroup: "g" };

function withStore(fn: (store: SqliteProjectDataStore) => void): void {
  const db = new SqliteStore(join(dir, `${Math.random().toString(36).slice(2)}.db`));
  try {
    fn(new SqliteProjectDataStore(db.database));
  } finally {
    db.close();
  }
}

const storage = (): DatasetStorage & { containers: string[] } => {
  const containers: string[] = [];
  return { containers, account: () => ({ name: "projabc", key: KEY }), ensureContainer: (_a, c) => void containers.push(c) };
};

const invalid = (param: string) => (e: unknown) => e instanceof IngotError && e.status === 400 && e.param === param;

test("container SAS: the blob service's verifier accepts it for writes and lists in its container only, and not after expiry", () => {
  const now = Date.parse("2026-01-01T00:00:00Z");
  const query = containerSas({ name: "projabc", key: KEY }, "dataset-1", "racwdl", now + 3600_000);
  const ctx = { protocol: "https" };
  verifySas(query, { name: "projabc", key: KEY }, { container: "dataset-1", blob: "a.txt", level: "blob" }, "w", now, ctx);
  verifySas(query, { name: "projabc", key: KEY }, { container: "dataset-1", level: "container" }, "l", now, ctx);
  const failed = (detail: RegExp) => (e: unknown) => e instanceof IngotError && e.code === "AuthenticationFailed" && detail.test(JSON.stringify(e));
  assert.throws(() => verifySas(query, { name: "projabc", key: KEY }, { container: "dataset-2", blob: "a.txt", level: "blob" }, "w", now, ctx), failed(/Signature did not match/));
  assert.throws(() => verifySas(query, { name: "projabc", key: Buffer.alloc(64, 8).toString("base64") }, { container: "dataset-1", blob: "a.txt", level: "blob" }, "w", now, ctx), failed(/Signature did not match/));
  assert.throws(() => verifySas(query, { name: "projabc", key: KEY }, { container: "dataset-1", blob: "a.txt", level: "blob" }, "w", now + 3600_001, ctx), failed(/expired/));
  const readOnly = containerSas({ name: "projabc", key: KEY }, "dataset-1", "rl", now + 3600_000);
  assert.throws(() => verifySas(readOnly, { name: "projabc", key: KEY }, { container: "dataset-1", blob: "a.txt", level: "blob" }, "w", now, ctx), /permission/);
});

test("connections: the account's own AzureOpenAI connection is the default; key only with credentials; filters", () => {
  withStore((store) => {
    const svc = new ConnectionService(store, () => 5);
    const [own] = svc.list(REF, SELF);
    assert.deepEqual(svc.view(REF, own, false), { name: "acct", id: `${REF.projectId}/connections/acct`, type: "AzureOpenAI", target: SELF.target, isDefault: true, credentials: { type: "ApiKey" }, metadata: { ApiType: "Azure", Location: "local" } });
    assert.deepEqual(svc.view(REF, own, true).credentials, { type: "ApiKey", key: "k1" });
    svc.createOrUpdate(REF, "upstream", { category: "ApiKey", target: "http://127.0.0.1:9000/v1", authType: "ApiKey", credentials: { key: "secret" }, metadata: { kind: "openai" } });
    assert.equal(svc.list(REF, SELF).length, 2);
    assert.deepEqual(svc.filter(svc.list(REF, SELF), { connectionType: "AzureOpenAI", defaultConnection: "true" }).map((c) => c.name), ["acct"]);
    assert.deepEqual(svc.filter(svc.list(REF, SELF), { defaultConnection: "false" }).map((c) => c.name), ["upstream"]);
    assert.throws(() => svc.filter([], { defaultConnection: "yes" }), invalid("defaultConnection"));
    const up = svc.get(REF, SELF, "UPSTREAM")!;
    assert.deepEqual(svc.view(REF, up, false).credentials, { type: "ApiKey" });
    assert.deepEqual(svc.view(REF, up, true).credentials, { type: "ApiKey", key: "secret" });
    // The ARM body never carries the key.
    assert.doesNotMatch(JSON.stringify(svc.armBody(REF, up)), /secret/);
    assert.equal(svc.createOrUpdate(REF, "upstream", { category: "ApiKey", target: "http://127.0.0.1:9001/v1", authType: "ApiKey", credentials: { key: "s2" } }).created, false);
    assert.equal(svc.delete(REF, "upstream"), true);
    assert.equal(svc.delete(REF, "upstream"), false);
  });
});

test("connections: what a user connection must name", () => {
  withStore((store) => {
    const svc = new ConnectionService(store);
    const ok = { category: "AzureOpenAI", target: "https://other:8443/", authType: "ApiKey", credentials: { key: "x" } };
    assert.throws(() => svc.createOrUpdate(REF, "acct", ok), /account's own connection/);
    assert.throws(() => svc.createOrUpdate(REF, "a", ok), /invalid/);
    assert.throws(() => svc.createOrUpdate(REF, "c1x", { ...ok, category: "Redis" }), invalid("properties.category"));
    assert.throws(() => svc.createOrUpdate(REF, "c1x", { ...ok, target: "ftp://x" }), invalid("properties.target"));
    assert.throws(() => svc.createOrUpdate(REF, "c1x", { ...ok, authType: "AAD" }), invalid("properties.authType"));
    assert.throws(() => svc.createOrUpdate(REF, "c1x", { ...ok, credentials: {} }), invalid("properties.credentials.key"));
    const custom = svc.createOrUpdate(REF, "c1x", { category: "CustomKeys", target: "https://x/", authType: "CustomKeys", credentials: { keys: { a: "1" } } }).connection;
    assert.deepEqual(svc.view(REF, custom, true).credentials, { type: "CustomKeys", a: "1" });
  });
});

test("datasets: pending upload, create (201) then update (200) by merge-patch, list latest, versions, credentials, delete", () => {
  withStore((store) => {
    let now = 1000;
    const st = storage();
    const svc = new DatasetService(store, st, () => now);
    const pending = svc.startPendingUpload(REF, "train", "1", { pendingUploadType: "BlobReference" }, WHERE);
    assert.equal(pending.pendingUploadType, "BlobReference");
    assert.equal(pending.version, "1");
    assert.equal(pending.blobReference.credential.type, "SAS");
    assert.match(pending.blobReference.blobUri, /^https:\/\/localhost:8443\/blob\/projabc\/dataset-[0-9a-f]{40}$/);
    assert.ok(pending.blobReference.credential.sasUri.startsWith(`${pending.blobReference.blobUri}?sv=`));
    assert.equal(pending.blobReference.storageAccountArmId, "/subscriptions/s/resourceGroups/g/providers/Microsoft.Storage/storageAccounts/projabc");
    assert.deepEqual(st.containers, [pending.blobReference.blobUri.split("/").pop()]);
    // The SDK sends the blob's URL with its SAS: the SAS is not kept.
    const created = svc.createOrUpdate(REF, "train", "1", { type: "uri_file", dataUri: `${pending.blobReference.blobUri}/t.jsonl?sv=x&sig=secret`, tags: { a: "1", b: "2" } });
    assert.equal(created.created, true);
    assert.equal(created.dataset.dataUri, `${pending.blobReference.blobUri}/t.jsonl`);
    now = 2000;
    const updated = svc.createOrUpdate(REF, "train", "1", { description: "d", tags: { a: null, c: "3" } });
    assert.equal(updated.created, false);
    assert.deepEqual(svc.view(REF, updated.dataset), { id: `${REF.projectId}/datasets/train/versions/1`, name: "train", version: "1", type: "uri_file", dataUri: created.dataset.dataUri, isReference: false, description: "d", tags: { b: "2", c: "3" } });
    assert.throws(() => svc.createOrUpdate(REF, "train", "1", { type: "uri_folder" }), invalid("type"));
    assert.throws(() => svc.startPendingUpload(REF, "train", "1", {}, WHERE), /already has version/);
    now = 3000;
    svc.createOrUpdate(REF, "train", "2", { type: "uri_folder", dataUri: "https://x/blob/a/c" });
    svc.createOrUpdate(REF, "eval", "1", { type: "uri_file", dataUri: "https://x/blob/a/c/e.jsonl" });
    assert.deepEqual(svc.latest(REF).map((d) => `${d.name}:${d.version}`).sort(), ["eval:1", "train:2"]);
    assert.deepEqual(svc.versions(REF, "train").map((d) => d.version), ["1", "2"]);
    assert.equal(svc.credentials(REF, "train", "1", WHERE).blobReference.credential.type, "SAS");
    assert.equal(svc.delete(REF, "train", "1"), true);
    assert.throws(() => svc.require(REF, "train", "1"), (e: unknown) => e instanceof IngotError && e.status === 404);
    assert.throws(() => svc.credentials(REF, "train", "1", WHERE), (e: unknown) => e instanceof IngotError && e.status === 404);
  });
});

test("datasets: names, types and dataUri are checked", () => {
  withStore((store) => {
    const svc = new DatasetService(store, storage());
    assert.throws(() => svc.createOrUpdate(REF, "-bad", "1", { type: "uri_file", dataUri: "https://x/y" }), invalid("name"));
    assert.throws(() => svc.createOrUpdate(REF, "ok", "v/1", { type: "uri_file", dataUri: "https://x/y" }), invalid("version"));
    assert.throws(() => svc.createOrUpdate(REF, "ok", "1", { type: "mltable", dataUri: "https://x/y" }), invalid("type"));
    assert.throws(() => svc.createOrUpdate(REF, "ok", "1", { type: "uri_file" }), invalid("dataUri"));
    assert.throws(() => svc.createOrUpdate(REF, "ok", "1", { type: "uri_file", dataUri: "https://x/y", tags: { a: 1 } }), invalid("tags.a"));
    assert.throws(() => svc.startPendingUpload(REF, "ok", "1", { pendingUploadType: "TemporaryBlobReference" }, WHERE), invalid("pendingUploadType"));
    assert.equal(storedDataUri("https://a/b?sig=1"), "https://a/b");
  });
});
