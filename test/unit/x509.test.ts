// Self-signed certificates from the dependency-free DER encoder: they parse, carry the SANs
// and validity asked for, and serve TLS to a client that trusts them.
// The fixture pair in test/fixtures/tls/ was made with createSelfSignedCertificate({
// notBefore: new Date("2024-01-01T00:00:00Z"), days: 365 * 32, commonName: "Ingot test fixture" }).
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer, request } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { resolveTls, selfSignedPaths, TlsConfigError } from "../../src/http/tls.ts";
import { createSelfSignedCertificate, oid } from "../../src/lib/x509.ts";

function get(port: number, ca: string, servername?: string, host = "127.0.0.1"): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path: "/", ca, servername, headers: servername ? { host: servername } : {} }, (res) => {
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve(body));
    });
    req.on("error", reject);
    req.end();
  });
}

async function serve(cert: string, key: string): Promise<{ port: number; close: () => Promise<void> }> {
  const server = createServer({ cert, key }, (_req, res) => res.end("hello over tls"));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { port: (server.address() as AddressInfo).port, close: () => new Promise<void>((r) => server.close(() => r())) };
}

test("OIDs encode in base 128", () => {
  assert.deepEqual([...oid("1.2.840.113549.1.1.11")], [0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b]);
  assert.deepEqual([...oid("2.5.29.17")], [0x06, 0x03, 0x55, 0x1d, 0x11]);
});

for (const keyType of ["rsa", "ec"] as const) {
  test(`a ${keyType} certificate parses, is its own CA, and names localhost and the loopback addresses`, async () => {
    const notBefore = new Date("2024-01-01T00:00:00Z");
    const { cert, key } = createSelfSignedCertificate({ keyType, notBefore, days: 365 * 30, hosts: ["myhost.test", "10.1.2.3", "fe80::1"] });
    const x = new X509Certificate(cert);
    assert.equal(x.ca, true);
    assert.ok(x.checkIssued(x));
    assert.ok(x.verify(x.publicKey));
    assert.equal(x.publicKey.asymmetricKeyType, keyType);
    assert.equal(new Date(x.validFrom).toISOString(), notBefore.toISOString());
    // 30 years crosses 2050, where the encoding switches from UTCTime to GeneralizedTime.
    assert.equal(new Date(x.validTo).toISOString(), new Date(notBefore.getTime() + 365 * 30 * 86400_000).toISOString());
    for (const host of ["localhost", "myhost.test"]) assert.equal(x.checkHost(host), host);
    for (const ip of ["127.0.0.1", "::1", "10.1.2.3", "fe80::1"]) assert.equal(x.checkIP(ip), ip);
    assert.match(x.subjectAltName ?? "", /DNS:\*\.localhost/);
    assert.deepEqual(x.keyUsage, ["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"]);

    const server = await serve(cert, key);
    try {
      assert.equal(await get(server.port, cert), "hello over tls");
      assert.equal(await get(server.port, cert, "localhost", "localhost"), "hello over tls");
      // Without trusting it, the client refuses.
      await assert.rejects(get(server.port, readFileSync(new URL("../fixtures/tls/cert.pem", import.meta.url), "utf8")), /self[- ]signed|unable to verify|certificate/i);
    } finally {
      await server.close();
    }
  });
}

test("the fixture pair is valid for decades and serves localhost", async () => {
  const cert = readFileSync(new URL("../fixtures/tls/cert.pem", import.meta.url), "utf8");
  const key = readFileSync(new URL("../fixtures/tls/key.pem", import.meta.url), "utf8");
  const x = new X509Certificate(cert);
  assert.ok(new Date(x.validTo).getUTCFullYear() >= 2054);
  assert.ok(new Date(x.validFrom).getTime() <= Date.now());
  const server = await serve(cert, key);
  try {
    assert.equal(await get(server.port, cert), "hello over tls");
  } finally {
    await server.close();
  }
});

test("resolveTls: given files, a self-signed pair made once and reused, and usage errors", () => {
  const dir = mkdtempSync(join(tmpdir(), "ingot-tls-"));
  try {
    assert.equal(resolveTls({ dataDir: dir }), undefined);
    const first = resolveTls({ dataDir: dir, selfSigned: true, hosts: ["myhost.test"] })!;
    const { certFile, keyFile } = selfSignedPaths(dir);
    assert.equal(first.certFile, certFile);
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    assert.equal(new X509Certificate(first.cert).checkHost("myhost.test"), "myhost.test");
    const second = resolveTls({ dataDir: dir, selfSigned: true })!;
    assert.equal(second.cert, first.cert);
    assert.equal(second.key, first.key);
    const given = resolveTls({ dataDir: "/nonexistent", certFile, keyFile })!;
    assert.equal(given.cert, first.cert);
    assert.throws(() => resolveTls({ dataDir: dir, certFile }), TlsConfigError);
    assert.throws(() => resolveTls({ dataDir: dir, certFile, keyFile, selfSigned: true }), TlsConfigError);
    assert.throws(() => resolveTls({ dataDir: dir, certFile: keyFile, keyFile }), /not a PEM certificate/);
    assert.throws(() => resolveTls({ dataDir: dir, certFile: join(dir, "missing.pem"), keyFile }), /Cannot read/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
