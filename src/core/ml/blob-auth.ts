// Authentication of Ingot's blob service as Azure Storage does it: Shared Key (an HMAC-SHA256
// of the canonicalized request with the account key, x-ms-date within 15 minutes) and SAS
// (service SAS sr=c|b and account SAS ss/srt, signed with the account key: signature, start,
// expiry, protocol, IP range and permissions checked). Bearer tokens are the http layer's
// (the identity service verifies them). Pure functions over a view of the request.
import { createHmac, timingSafeEqual } from "node:crypto";
import { BlobError } from "./blobs.ts";

/** Azure rejects Shared Key requests whose date is further than this from its clock. */
export const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;

/** What authentication needs of a request, as it arrived (before any URL rewrite). */
export interface BlobRequestView {
  method: string;
  /** The path as sent, percent-encoded, without the query. */
  rawPath: string;
  /** The query as sent (after '?'), percent-encoded; "" when none. */
  rawQuery: string;
  /** A header's value by lowercase name (repeated headers joined with ", "), or undefined. */
  header(name: string): string | undefined;
  /** Every header name, lowercase. */
  headerNames(): string[];
}

/** The operation a request performs, for SAS permissions and scopes. */
export type BlobPermission = "r" | "a" | "c" | "w" | "d" | "l";

export interface BlobTarget {
  container?: string;
  blob?: string;
  /** Container-level operation (create, properties, list) rather than a blob's. */
  level: "service" | "container" | "blob";
}

const authFailed = (detail: string) =>
  new BlobError(403, "AuthenticationFailed", "Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature.", {
    authenticationErrorDetail: detail,
  });

const hmac = (key: Buffer, text: string) => createHmac("sha256", key).update(text, "utf8").digest();

function sameSignature(expected: Buffer, given: string): boolean {
  const g = Buffer.from(given, "base64");
  return g.byteLength === expected.byteLength && timingSafeEqual(g, expected);
}

const dec = (s: string) => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};

/** The query's parameters as `[name, value]`, decoded, in order. */
export function queryPairs(rawQuery: string): [string, string][] {
  if (!rawQuery) return [];
  return rawQuery
    .split("&")
    .filter((p) => p !== "")
    .map((p) => {
      const i = p.indexOf("=");
      return i < 0 ? [dec(p), ""] : [dec(p.slice(0, i)), dec(p.slice(i + 1))];
    });
}

/** Azure's CanonicalizedResource: `/account/path`, then each query parameter `\nname:v1,v2` (names lowercased and sorted, values sorted). */
export function canonicalizedResource(account: string, path: string, rawQuery: string, opts: { skipEmptyValues?: boolean } = {}): string {
  const params = new Map<string, string[]>();
  for (const [name, value] of queryPairs(rawQuery)) {
    if (opts.skipEmptyValues && value === "") continue;
    const k = name.toLowerCase();
    params.set(k, [...(params.get(k) ?? []), value]);
  }
  let s = `/${account}${path || "/"}`;
  for (const k of [...params.keys()].sort()) s += `\n${k}:${params.get(k)!.sort().join(",")}`;
  return s;
}

/**
 * Azure's CanonicalizedHeaders: every x-ms-* header, lowercase, sorted by name, `name:value\n`.
 * Azure sorts culture-aware (hyphens weigh nothing first); `ordinal` gives the plain sort some
 * clients use. Both orders sign the same headers.
 */
export function canonicalizedHeaders(req: BlobRequestView, order: "azure" | "ordinal" = "azure"): string {
  const names = [...new Set(req.headerNames().filter((n) => n.startsWith("x-ms-")))];
  const ord = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  names.sort(order === "ordinal" ? ord : (a, b) => ord(a.replace(/-/g, ""), b.replace(/-/g, "")) || ord(a, b));
  return names.map((n) => `${n}:${(req.header(n) ?? "").replace(/\s+/g, " ").trim()}\n`).join("");
}

/** The Shared Key string-to-sign of the Blob service (version 2009-09-19 and later). */
export function sharedKeyStringToSign(account: string, req: BlobRequestView, path: string, opts: { headerOrder?: "azure" | "ordinal"; skipEmptyQueryValues?: boolean } = {}): string {
  const h = (name: string) => req.header(name) ?? "";
  const length = h("content-length");
  return (
    [
      req.method.toUpperCase(),
      h("content-encoding"),
      h("content-language"),
      length === "0" ? "" : length,
      h("content-md5"),
      h("content-type"),
      // Date is signed empty when x-ms-date carries the time.
      req.header("x-ms-date") !== undefined ? "" : h("date"),
      h("if-modified-since"),
      h("if-match"),
      h("if-none-match"),
      h("if-unmodified-since"),
      h("range"),
    ].join("\n") +
    "\n" +
    canonicalizedHeaders(req, opts.headerOrder) +
    canonicalizedResource(account, path, req.rawQuery, { skipEmptyValues: opts.skipEmptyQueryValues })
  );
}

/** `SharedKey account:signature` → its parts, or undefined when the header is not Shared Key. */
export function parseSharedKey(authorization: string | undefined): { account: string; signature: string } | undefined {
  const m = /^SharedKey\s+([^:\s]+):(\S+)$/i.exec(authorization?.trim() ?? "");
  return m ? { account: m[1], signature: m[2] } : undefined;
}

/**
 * Verifies a Shared Key request for `account` (base64 `key`). `paths` are the request's
 * percent-encoded paths it may have signed: the path as sent (path-style clients sign
 * `/blob/<account>/…` as it is) and the resource's own `/<container>/<blob>`.
 */
export function verifySharedKey(req: BlobRequestView, account: { name: string; key: string }, paths: string[], now: number): void {
  const parsed = parseSharedKey(req.header("authorization"));
  if (!parsed) throw authFailed("The Authorization header is not 'SharedKey <account>:<signature>'.");
  if (parsed.account.toLowerCase() !== account.name) throw authFailed(`The Authorization header names account '${parsed.account}', but the request is for account '${account.name}'.`);
  const dateText = req.header("x-ms-date") ?? req.header("date");
  if (!dateText) throw authFailed("Request date header not specified: send x-ms-date (or Date).");
  const date = Date.parse(dateText);
  if (Number.isNaN(date)) throw authFailed(`The x-ms-date '${dateText.slice(0, 64)}' is not an RFC 1123 date.`);
  if (Math.abs(now - date) > MAX_CLOCK_SKEW_MS)
    throw authFailed(`Request date header too old or too far in the future: '${dateText}' (server time ${new Date(now).toUTCString()}); Azure allows 15 minutes. Check the client's clock.`);
  const key = Buffer.from(account.key, "base64");
  const tried = new Set<string>();
  for (const path of paths)
    for (const headerOrder of ["azure", "ordinal"] as const)
      for (const skipEmptyQueryValues of [false, true]) {
        const s = sharedKeyStringToSign(account.name, req, path, { headerOrder, skipEmptyQueryValues });
        if (tried.has(s)) continue;
        tried.add(s);
        if (sameSignature(hmac(key, s), parsed.signature)) return;
      }
  const shown = sharedKeyStringToSign(account.name, req, paths[0] ?? req.rawPath);
  throw authFailed(`The MAC signature found in the HTTP request '${parsed.signature}' is not the same as any computed signature. Server used following string to sign: '${shown.replace(/\n/g, "\\n")}'. Use the key that listSecrets returns for this account.`);
}

/** Whether the query carries a SAS (a signature). */
export const hasSas = (rawQuery: string) => queryPairs(rawQuery).some(([k]) => k.toLowerCase() === "sig");

function ipv4(s: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s.replace(/^::ffff:/, ""));
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  return parts.some((p) => p > 255) ? undefined : parts.reduce((a, p) => a * 256 + p, 0);
}

function sasTime(value: string, field: string): number {
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw authFailed(`Signed ${field} '${value.slice(0, 64)}' is not an ISO 8601 UTC time.`);
  return t;
}

/**
 * Verifies a SAS query for `account`: service SAS (sr=c|b, canonical resource
 * /blob/<account>/<container>[/<blob>]) or account SAS (ss including b), its signature with the
 * account key, time window, protocol, IP range, scope and the permission the operation needs.
 */
export function verifySas(
  rawQuery: string,
  account: { name: string; key: string },
  target: BlobTarget,
  permission: BlobPermission,
  now: number,
  context: { protocol: string; clientIp?: string; blobExists?: boolean },
): void {
  const q = new Map<string, string>();
  for (const [k, v] of queryPairs(rawQuery)) q.set(k.toLowerCase(), v);
  const get = (k: string) => q.get(k) ?? "";
  const sv = get("sv");
  const sig = get("sig");
  if (!sv) throw authFailed("The SAS has no signed version (sv).");
  if (sv < "2015-04-05") throw authFailed(`Signed version '${sv}' is older than 2015-04-05, which Ingot does not accept.`);
  if (get("si")) throw authFailed("Stored access policies (si) are not supported by Ingot's blob service: sign the SAS with its permissions and expiry.");
  const account_ = get("ss") !== "" || get("srt") !== "";
  const sp = get("sp");
  const st = get("st");
  const se = get("se");
  const sip = get("sip");
  const spr = get("spr");
  let stringToSign: string;
  if (account_) {
    stringToSign = [account.name, sp, get("ss"), get("srt"), st, se, sip, spr, sv, ...(sv >= "2020-12-06" ? [get("ses")] : []), ""].join("\n");
  } else {
    const sr = get("sr");
    if (sr !== "c" && sr !== "b") throw authFailed(`Signed resource '${sr}' is not supported: use sr=c (container) or sr=b (blob).`);
    const canonical = `/blob/${account.name}/${target.container ?? ""}${sr === "b" ? `/${target.blob ?? ""}` : ""}`;
    const headers = [get("rscc"), get("rscd"), get("rsce"), get("rscl"), get("rsct")];
    if (sv >= "2020-12-06") stringToSign = [sp, st, se, canonical, "", sip, spr, sv, sr, "", get("ses"), ...headers].join("\n");
    else if (sv >= "2018-11-09") stringToSign = [sp, st, se, canonical, "", sip, spr, sv, sr, "", ...headers].join("\n");
    else stringToSign = [sp, st, se, canonical, "", sip, spr, sv, ...headers].join("\n");
  }
  if (!sig || !sameSignature(hmac(Buffer.from(account.key, "base64"), stringToSign), sig))
    throw authFailed(`Signature did not match. String to sign used was ${stringToSign.replace(/\n/g, "\\n")}. Sign the SAS with the key listSecrets returns, for this container or blob.`);
  if (!se) throw authFailed("The SAS has no expiry (se).");
  if (now > sasTime(se, "expiry")) throw authFailed(`Signed expiry time [${se}] must be after signed start time and the current time [${new Date(now).toUTCString()}]: the SAS has expired. Make a new one.`);
  if (st && now < sasTime(st, "start") - MAX_CLOCK_SKEW_MS) throw authFailed(`Signed start time [${st}] is in the future.`);
  if (spr && !spr.split(",").includes(context.protocol)) throw new BlobError(403, "AuthorizationProtocolMismatch", `This request is not authorized to perform this operation using this protocol: the SAS allows ${spr}.`);
  if (sip) {
    const [lo, hi = lo] = sip.split("-").map(ipv4);
    const ip = context.clientIp ? ipv4(context.clientIp) : undefined;
    if (lo === undefined || hi === undefined || ip === undefined || ip < lo || ip > hi)
      throw new BlobError(403, "AuthorizationSourceIPMismatch", `This request is not authorized to perform this operation using this source IP ${context.clientIp ?? "(unknown)"}: the SAS allows ${sip}.`);
  }
  if (account_) {
    if (!get("ss").includes("b")) throw new BlobError(403, "AuthorizationServiceMismatch", "This request is not authorized to perform this operation using this service: the account SAS's ss does not include b (blob).");
    const needed = target.level === "blob" ? "o" : target.level === "container" ? "c" : "s";
    if (!get("srt").includes(needed)) throw new BlobError(403, "AuthorizationResourceTypeMismatch", `This request is not authorized to perform this operation using this resource type: the account SAS's srt needs '${needed}'.`);
  } else {
    const sr = get("sr");
    const inScope =
      sr === "c" ? target.container !== undefined && (target.level !== "container" || permission === "l" || permission === "r") : target.level === "blob" && target.blob !== undefined;
    if (!inScope) throw new BlobError(403, "AuthorizationResourceTypeMismatch", `This request is not authorized to perform this operation using this resource type: a ${sr === "c" ? "container" : "blob"} SAS does not cover it.`);
  }
  const granted = (p: string) => sp.includes(p);
  const allowed =
    granted(permission) ||
    // A create-only SAS may write a blob that is not there yet; write covers create and add.
    (permission === "w" && granted("c") && context.blobExists === false) ||
    (permission === "c" && granted("w"));
  if (!allowed) throw new BlobError(403, "AuthorizationPermissionMismatch", `This request is not authorized to perform this operation using this permission: it needs '${permission}', the SAS grants '${sp}'.`);
}
