// A minimal DER encoder that makes self-signed X.509 v3 certificates with node:crypto alone
// (no openssl binary, no dependency): `ingot up --tls self-signed` and the test fixtures.
// The certificate is its own trust anchor (CA:true), so clients trust it with `ca: cert`
// or NODE_EXTRA_CA_CERTS.
//
// Kept rather than replaced by @peculiar/x509 2.2.0 (what `selfsigned` 5 builds on), measured
// in issue 12: it brings 14 @peculiar packages plus tsyringe, asn1js and pvtsutils (~4.7 MB), is async only, and fails at import without a
// process-wide Reflect polyfill ("tsyringe requires a reflect polyfill"), all for one
// certificate made at `ingot up --tls self-signed`. Its output is checked by node's own
// X509Certificate parser and a TLS handshake (test/unit/x509.test.ts).
import { createHash, generateKeyPairSync, randomBytes, sign } from "node:crypto";
import type { KeyObject } from "node:crypto";
import { isIPv4, isIPv6 } from "node:net";

// --- DER primitives --------------------------------------------------------------------

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export function tlv(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), length(content.length), content]);
}

const sequence = (...items: Buffer[]) => tlv(0x30, Buffer.concat(items));
const set = (...items: Buffer[]) => tlv(0x31, Buffer.concat(items));
const octetString = (b: Buffer) => tlv(0x04, b);
const bitString = (b: Buffer, unusedBits = 0) => tlv(0x03, Buffer.concat([Buffer.from([unusedBits]), b]));
const utf8String = (s: string) => tlv(0x0c, Buffer.from(s, "utf8"));
const boolean = (v: boolean) => tlv(0x01, Buffer.from([v ? 0xff : 0x00]));
const nullValue = () => Buffer.from([0x05, 0x00]);
/** Context-specific tag: [n] EXPLICIT (constructed) or IMPLICIT (primitive). */
const explicit = (n: number, content: Buffer) => tlv(0xa0 | n, content);
const implicit = (n: number, content: Buffer) => tlv(0x80 | n, content);

/** A non-negative INTEGER from big-endian bytes (a leading 0 keeps the sign bit clear). */
function unsignedInteger(bytes: Buffer): Buffer {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  let b = bytes.subarray(i);
  if (b[0] & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return tlv(0x02, b);
}

export function oid(dotted: string): Buffer {
  const arcs = dotted.split(".").map(Number);
  const out: number[] = [40 * arcs[0] + arcs[1]];
  for (const arc of arcs.slice(2)) {
    const chunk: number[] = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift(0x80 | (v & 0x7f));
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

/** UTCTime for 1950–2049, GeneralizedTime otherwise (RFC 5280 §4.1.2.5). */
function time(d: Date): Buffer {
  const iso = d.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = iso.slice(0, 19).replace(/[-T:]/g, "");
  const year = d.getUTCFullYear();
  if (year >= 1950 && year < 2050) return tlv(0x17, Buffer.from(`${digits.slice(2)}Z`, "ascii"));
  return tlv(0x18, Buffer.from(`${digits}Z`, "ascii"));
}

export function derToPem(der: Buffer, label: string): string {
  const b64 = der.toString("base64").replace(/(.{64})/g, "$1\n").replace(/\n$/, "");
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

// --- names and addresses -----------------------------------------------------------------

function ipBytes(ip: string): Buffer {
  if (isIPv4(ip)) return Buffer.from(ip.split(".").map(Number));
  // IPv6: expand "::", allow a trailing dotted IPv4 part.
  let text = ip;
  const tail: number[] = [];
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4[1].split(".").map(Number);
    tail.push((a << 8) | b, (c << 8) | d);
    text = text.slice(0, -v4[1].length).replace(/:$/, "") || ":";
    if (text.endsWith(":") && !text.endsWith("::")) text += ":";
  }
  const [head, rest] = text.includes("::") ? text.split("::") : [text, undefined];
  const parse = (s: string | undefined) => (s ? s.split(":").filter((x) => x !== "").map((h) => parseInt(h, 16)) : []);
  const left = parse(head);
  const right = [...parse(rest), ...tail];
  const groups = rest === undefined && !text.includes("::") ? [...left, ...tail] : [...left, ...new Array(8 - left.length - right.length).fill(0), ...right];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(g, i * 2));
  return out;
}

function generalName(host: string): Buffer {
  if (isIPv4(host) || isIPv6(host)) return implicit(7, ipBytes(host));
  return implicit(2, Buffer.from(host, "ascii"));
}

const name = (commonName: string, organization: string) =>
  sequence(set(sequence(oid("2.5.4.10"), utf8String(organization))), set(sequence(oid("2.5.4.3"), utf8String(commonName))));

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return sequence(oid(id), ...(critical ? [boolean(true)] : []), octetString(value));
}

// --- the certificate ---------------------------------------------------------------------

// *.blob.localhost: host-style blob URLs (<account>.blob.localhost:<port>, what azure-ai-ml builds from a storage suffix of localhost:<port>).
export const DEFAULT_TLS_HOSTS = ["localhost", "*.localhost", "*.blob.localhost", "127.0.0.1", "::1"];

export interface SelfSignedOptions {
  /** Hosts beyond DEFAULT_TLS_HOSTS: DNS names or IP addresses, for the subjectAltName. */
  hosts?: string[];
  keyType?: "rsa" | "ec";
  /** Validity in days from `notBefore` (default 825). */
  days?: number;
  /** Default: one hour ago, to tolerate clocks a little behind. */
  notBefore?: Date;
  commonName?: string;
  /** Use this key instead of generating one. */
  privateKey?: KeyObject;
  publicKey?: KeyObject;
}

export interface SelfSignedCertificate {
  /** PEM "CERTIFICATE". */
  cert: string;
  /** PEM "PRIVATE KEY" (PKCS#8). */
  key: string;
}

/** A self-signed X.509 v3 certificate for TLS servers, usable as its own trust anchor. */
export function createSelfSignedCertificate(opts: SelfSignedOptions = {}): SelfSignedCertificate {
  const keyType = opts.keyType ?? "rsa";
  const { privateKey, publicKey } =
    opts.privateKey && opts.publicKey
      ? { privateKey: opts.privateKey, publicKey: opts.publicKey }
      : keyType === "ec"
        ? generateKeyPairSync("ec", { namedCurve: "P-256" })
        : generateKeyPairSync("rsa", { modulusLength: 2048 });
  const isEc = privateKey.asymmetricKeyType === "ec";
  const signatureAlgorithm = isEc ? sequence(oid("1.2.840.10045.4.3.2")) : sequence(oid("1.2.840.113549.1.1.11"), nullValue());
  const spki = publicKey.export({ type: "spki", format: "der" });
  const keyId = createHash("sha1").update(spki).digest();
  const notBefore = opts.notBefore ?? new Date(Date.now() - 3600_000);
  const notAfter = new Date(notBefore.getTime() + (opts.days ?? 825) * 86400_000);
  const hosts = [...new Set([...DEFAULT_TLS_HOSTS, ...(opts.hosts ?? [])])];
  const serial = randomBytes(16);
  serial[0] &= 0x7f;
  serial[0] |= 0x01; // positive and non-zero
  const subject = name(opts.commonName ?? "Ingot local", "Ingot");
  // keyUsage bits: digitalSignature(0), keyEncipherment(2, RSA only), keyCertSign(5).
  const keyUsage = bitString(Buffer.from([isEc ? 0x84 : 0xa4]), 2);

  const tbs = sequence(
    explicit(0, unsignedInteger(Buffer.from([2]))), // v3
    unsignedInteger(serial),
    signatureAlgorithm,
    subject,
    sequence(time(notBefore), time(notAfter)),
    subject,
    spki,
    explicit(
      3,
      sequence(
        extension("2.5.29.19", true, sequence(boolean(true))), // basicConstraints: CA
        extension("2.5.29.15", true, keyUsage),
        extension("2.5.29.37", false, sequence(oid("1.3.6.1.5.5.7.3.1"), oid("1.3.6.1.5.5.7.3.2"))), // serverAuth, clientAuth
        extension("2.5.29.17", false, sequence(...hosts.map(generalName))),
        extension("2.5.29.14", false, octetString(keyId)),
        extension("2.5.29.35", false, sequence(implicit(0, keyId))),
      ),
    ),
  );
  const signature = sign("sha256", tbs, privateKey);
  const der = sequence(tbs, signatureAlgorithm, bitString(signature));
  return { cert: derToPem(der, "CERTIFICATE"), key: privateKey.export({ type: "pkcs8", format: "pem" }) as string };
}
