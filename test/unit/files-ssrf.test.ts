// SSRF protection of file imports (src/lib/ip-policy.ts, src/lib/url-download.ts). Refused
// addresses are never connected to: the tests inject DNS and a request function, and the only
// real connections go to a server on 127.0.0.1.
import assert from "node:assert/strict";
import { once } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";
import test from "node:test";
import { classifyAddress } from "../../src/lib/ip-policy.ts";
import { checkUrl, DownloadFailed, openDownload, UrlRefused } from "../../src/lib/url-download.ts";
import type { DownloadPolicy } from "../../src/lib/url-download.ts";

test("address kinds, IPv4 and IPv6, including IPv4 embedded in IPv6", () => {
  const cases: [string, string][] = [
    ["8.8.8.8", "public"],
    ["127.0.0.1", "loopback"],
    ["127.255.0.9", "loopback"],
    ["10.1.2.3", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["172.32.0.1", "public"],
    ["192.168.1.1", "private"],
    ["169.254.169.254", "metadata"],
    ["169.254.1.1", "link-local"],
    ["100.64.0.1", "cgnat"],
    ["100.100.100.200", "metadata"],
    ["0.0.0.0", "unspecified"],
    ["224.0.0.1", "multicast"],
    ["255.255.255.255", "reserved"],
    ["192.0.2.10", "reserved"],
    ["::1", "loopback"],
    ["::", "unspecified"],
    ["[::1]", "loopback"],
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:7f00:1", "loopback"],
    ["::ffff:169.254.169.254", "metadata"],
    ["64:ff9b::10.0.0.1", "private"],
    ["2002:c0a8:0101::1", "private"],
    ["fc00::1", "private"],
    ["fd12:3456::1", "private"],
    ["fe80::1%eth0", "link-local"],
    ["fd00:ec2::254", "metadata"],
    ["ff02::1", "multicast"],
    ["2001:db8::1", "reserved"],
    ["2606:4700:4700::1111", "public"],
  ];
  for (const [address, kind] of cases) assert.equal(classifyAddress(address), kind, address);
  assert.equal(classifyAddress("example.com"), undefined);
});

/** A request function that fails the test if anything tries to connect. */
const noConnect: DownloadPolicy["request"] = () => {
  throw new Error("must not connect");
};
const dns = (table: Record<string, string[]>) => async (host: string) => {
  const a = table[host];
  if (!a) throw Object.assign(new Error("not found"), { code: "ENOTFOUND" });
  return a.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
};

async function refused(url: string, policy: DownloadPolicy, pattern: RegExp) {
  await assert.rejects(checkUrl(url, policy), (e: Error) => {
    assert.ok(e instanceof UrlRefused, e.message);
    assert.match(e.message, pattern);
    return true;
  });
}

test("refused: loopback, private, link-local, metadata, CGNAT, http, other schemes; unless the flag allows", async () => {
  const policy: DownloadPolicy = { allowPrivate: false, request: noConnect, lookup: dns({ "blob.internal.test": ["10.20.30.40"], "both.test": ["93.184.216.34", "192.168.0.9"] }) };
  await refused("https://127.0.0.1/x", policy, /^The address 127\.0\.0\.1 is a loopback address; .*--allow-private-import-urls/);
  await refused("https://[::1]:8443/x", policy, /loopback/);
  await refused("https://169.254.169.254/latest/meta-data/", policy, /^The address 169\.254\.169\.254 is a cloud metadata address/);
  await refused("https://100.64.1.1/x", policy, /carrier-grade NAT/);
  await refused("https://[fe80::1]/x", policy, /link-local/);
  await refused("https://0x7f.1/x", policy, /loopback/); // the URL parser normalizes odd IPv4 spellings
  await refused("https://blob.internal.test/c/train.jsonl?sig=x", policy, /^The host 'blob\.internal\.test' resolves to 10\.20\.30\.40, which is a private-network address/);
  // One bad address among several is enough: the connection could land on any of them.
  await refused("https://both.test/x", policy, /resolves to 192\.168\.0\.9/);
  await refused("http://files.example.com/x", policy, /^Plain http URLs are not imported: use https/);
  await refused("file:///etc/passwd", policy, /^Only https URLs can be imported/);
  await refused("not a url", policy, /is not a valid absolute URL/);
  await refused("https://nowhere.test/x", policy, /could not be resolved \(ENOTFOUND\)/);

  const open: DownloadPolicy = { ...policy, allowPrivate: true };
  assert.equal((await checkUrl("http://127.0.0.1:10000/x", open)).address, "127.0.0.1");
  assert.equal((await checkUrl("https://blob.internal.test/x", open)).address, "10.20.30.40");
});

test("the connection is pinned to the checked address: a changed DNS answer (rebinding) is not asked", async () => {
  let lookups = 0;
  const answers = ["93.184.216.34", "127.0.0.1"];
  const seen: string[] = [];
  const policy: DownloadPolicy = {
    allowPrivate: false,
    lookup: async () => [{ address: answers[Math.min(lookups++, 1)], family: 4 }],
    request: (_url, options) => {
      // What the socket would connect to: ask the request's own resolver.
      options.lookup!("files.example", { all: true }, (_err: unknown, list: unknown) => seen.push((list as { address: string }[])[0].address));
      options.lookup!("files.example", {}, (_err: unknown, address: unknown) => seen.push(address as string));
      throw new Error("stop here");
    },
  };
  const checked = await checkUrl("https://files.example/train.jsonl", policy);
  await assert.rejects(openDownload(checked, policy), /stop here/);
  assert.deepEqual(seen, ["93.184.216.34", "93.184.216.34"]);
  assert.equal(lookups, 1);
});

/** A local server reached through an injected request function, standing in for a public host. */
async function withServer(handler: http.RequestListener, fn: (policy: DownloadPolicy) => Promise<void>) {
  const server = http.createServer(handler);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  const policy: DownloadPolicy = {
    allowPrivate: false,
    lookup: dns({ "files.example": ["93.184.216.34"], "internal.example": ["10.0.0.7"], "other.example": ["93.184.216.35"] }),
    request: (_url, options) => http.request({ ...options, protocol: "http:", hostname: "127.0.0.1", port, lookup: undefined }),
    idleTimeoutMs: 2000,
  };
  try {
    await fn(policy);
  } finally {
    server.closeAllConnections();
    server.close();
  }
}

const drain = async (body: AsyncIterable<Uint8Array>) => {
  const parts: Uint8Array[] = [];
  for await (const c of body) parts.push(c);
  return Buffer.concat(parts).toString();
};

test("download: body, length, checked redirects, refused redirect to a private address, status errors", async () => {
  await withServer(
    (req, res) => {
      if (req.url === "/data") return res.writeHead(200, { "content-length": "5" }).end("hello");
      if (req.url === "/hop") return res.writeHead(302, { location: "https://other.example/data" }).end();
      if (req.url === "/evil") return res.writeHead(302, { location: "https://internal.example/secret" }).end();
      if (req.url === "/down") return res.writeHead(307, { location: "http://other.example/data" }).end();
      res.writeHead(403, { "x-ms-error-code": "AuthenticationFailed" }).end();
    },
    async (policy) => {
      const d = await openDownload(await checkUrl("https://files.example/data", policy), policy);
      assert.equal(d.contentLength, 5);
      assert.equal(await drain(d.body), "hello");
      assert.equal(await drain((await openDownload(await checkUrl("https://files.example/hop", policy), policy)).body), "hello");
      await assert.rejects(openDownload(await checkUrl("https://files.example/evil", policy), policy), (e: Error) => e instanceof UrlRefused && /10\.0\.0\.7, which is a private-network address/.test(e.message));
      await assert.rejects(openDownload(await checkUrl("https://files.example/down", policy), policy), /redirected from https to plain http/);
      await assert.rejects(openDownload(await checkUrl("https://files.example/sas", policy), policy), (e: Error) =>
        e instanceof DownloadFailed && e.message === "The URL answered 403 Forbidden (AuthenticationFailed). Check that the SAS token grants read access and has not expired.",
      );
    },
  );
});

test("download: a body cut short is an error, not a short file", async () => {
  await withServer(
    (_req, res) => {
      res.writeHead(200, { "content-length": "100" });
      res.write("partial", () => res.destroy());
    },
    async (policy) => {
      const d = await openDownload(await checkUrl("https://files.example/data", policy), policy);
      await assert.rejects(drain(d.body), DownloadFailed);
    },
  );
});

test("download: abort before reading (the size is over the cap) raises nothing unhandled", async () => {
  let serverSawClose!: () => void;
  const closed = new Promise<void>((resolve) => (serverSawClose = resolve));
  await withServer(
    (req, res) => {
      req.socket.once("close", () => serverSawClose());
      res.writeHead(200, { "content-length": "1000000" });
      res.write("x".repeat(1000));
    },
    async (policy) => {
      const d = await openDownload(await checkUrl("https://files.example/data", policy), policy);
      assert.equal(d.contentLength, 1_000_000);
      d.abort();
      // Once the connection is closed at both ends, whatever the abort set off has happened.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([closed, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error("the aborted download's connection stayed open for 5 s")), 5000)))]);
      clearTimeout(timer);
      await new Promise((r) => setImmediate(r));
    },
  );
});
