// Server-side download of a user-given URL (file import) without server-side request forgery:
// the host is resolved once, every address it resolves to is checked (ip-policy.ts), and the
// connection is pinned to the checked address, so a DNS answer that changes between the check
// and the connect (rebinding) cannot redirect it. Redirects are checked the same way, hop by hop.
import { lookup as dnsLookup } from "node:dns/promises";
import http from "node:http";
import type { ClientRequest, IncomingMessage, RequestOptions } from "node:http";
import https from "node:https";
import { isIP } from "node:net";
import { classifyAddress, KIND_WORDS } from "./ip-policy.ts";

export interface ResolvedAddress {
  address: string;
  family: number;
}

export interface DownloadPolicy {
  /** Operator flag: allow loopback, private, link-local and metadata addresses, and plain http. */
  allowPrivate: boolean;
  /** DNS (default: the system resolver, which also reads /etc/hosts, as connections do). */
  lookup?: (hostname: string) => Promise<ResolvedAddress[]>;
  /** Opens a request (default: node:http / node:https); tests inject one that never connects. */
  request?: (url: URL, options: RequestOptions) => ClientRequest;
  /** No bytes for this long ends the download (default 30 s). */
  idleTimeoutMs?: number;
  maxRedirects?: number;
}

/** The URL may not be fetched (a 400 for the caller): scheme, address, or name resolution. */
export class UrlRefused extends Error {
  override name = "UrlRefused";
}

/** The fetch went wrong at the other end or on the way: status, timeout, connection. */
export class DownloadFailed extends Error {
  override name = "DownloadFailed";
}

export interface CheckedUrl {
  url: URL;
  /** The address the connection will use. */
  address: string;
  family: number;
}

export interface Download {
  body: AsyncIterable<Uint8Array>;
  /** From Content-Length, when the server sent one. */
  contentLength: number | undefined;
  /** Stops the transfer (the body iterator then ends with an error). */
  abort(): void;
}

const FLAG = "--allow-private-import-urls";

/** Checks scheme and host; resolves the host and checks every address. Throws UrlRefused saying why. */
export async function checkUrl(raw: string, policy: DownloadPolicy): Promise<CheckedUrl> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UrlRefused(`'${raw.slice(0, 200)}' is not a valid absolute URL; give an https URL such as an Azure Blob SAS URL.`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:")
    throw new UrlRefused(`Only https URLs can be imported (got '${url.protocol}'); give an https URL such as an Azure Blob SAS URL.`);
  if (url.protocol === "http:" && !policy.allowPrivate)
    throw new UrlRefused(`Plain http URLs are not imported: use https (an Azure Blob SAS URL is https), or start Ingot with ${FLAG} to allow http and local addresses.`);
  const host = url.hostname.replace(/^\[|\]$/g, "");
  let addresses: ResolvedAddress[];
  if (isIP(host)) addresses = [{ address: host, family: isIP(host) }];
  else {
    try {
      addresses = await (policy.lookup ?? systemLookup)(host);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new UrlRefused(`The host '${host}' could not be resolved${code ? ` (${code})` : ""}; check the URL's host name.`);
    }
    if (addresses.length === 0) throw new UrlRefused(`The host '${host}' has no addresses; check the URL's host name.`);
  }
  if (!policy.allowPrivate) {
    for (const a of addresses) {
      const kind = classifyAddress(a.address) ?? "reserved";
      if (kind === "public") continue;
      const where = a.address === host ? `The address ${host}` : `The host '${host}' resolves to ${a.address}, which`;
      throw new UrlRefused(
        `${where} is ${KIND_WORDS[kind]}; Ingot does not fetch from loopback, private, link-local or metadata addresses. ` +
          `Use a publicly reachable https URL (e.g. an Azure Blob SAS URL), or start Ingot with ${FLAG} if this address is meant to be reachable.`,
      );
    }
  }
  return { url, address: addresses[0].address, family: addresses[0].family };
}

async function systemLookup(hostname: string): Promise<ResolvedAddress[]> {
  return dnsLookup(hostname, { all: true, verbatim: true });
}

function defaultRequest(url: URL, options: RequestOptions): ClientRequest {
  return (url.protocol === "https:" ? https : http).request(options);
}

/** GETs a checked URL over a connection pinned to its checked address, following checked redirects. */
export async function openDownload(first: CheckedUrl, policy: DownloadPolicy): Promise<Download> {
  let checked = first;
  for (let hop = 0; ; hop++) {
    const res = await get(checked, policy);
    const status = res.statusCode ?? 0;
    if (status >= 300 && status < 400 && res.headers.location) {
      res.resume();
      if (hop >= (policy.maxRedirects ?? 5)) throw new DownloadFailed(`The URL redirected more than ${policy.maxRedirects ?? 5} times; give the final URL.`);
      const next = new URL(res.headers.location, checked.url).toString();
      if (checked.url.protocol === "https:" && next.startsWith("http:") && !policy.allowPrivate)
        throw new DownloadFailed("The URL redirected from https to plain http; give an https URL that does not.");
      checked = await checkUrl(next, policy);
      continue;
    }
    if (status < 200 || status >= 300) {
      res.resume();
      const code = res.headers["x-ms-error-code"];
      const hint = status === 403 || status === 401
        ? " Check that the SAS token grants read access and has not expired."
        : status === 404 ? " Check the URL: the blob or file does not exist." : "";
      throw new DownloadFailed(`The URL answered ${status}${res.statusMessage ? ` ${res.statusMessage}` : ""}${typeof code === "string" ? ` (${code})` : ""}.${hint}`);
    }
    const length = Number(res.headers["content-length"]);
    return {
      body: body(res),
      contentLength: Number.isFinite(length) && res.headers["content-length"] !== undefined ? length : undefined,
      abort: () => res.destroy(new DownloadFailed("The download was stopped.")),
    };
  }
}

async function* body(res: IncomingMessage): AsyncIterable<Uint8Array> {
  try {
    for await (const chunk of res) yield chunk as Uint8Array;
  } catch (e) {
    throw e instanceof DownloadFailed ? e : new DownloadFailed(`The download broke off: ${(e as Error).message}.`);
  } finally {
    if (!res.complete) res.destroy();
  }
  if (!res.complete) throw new DownloadFailed("The download broke off before the end of the file.");
}

function get(checked: CheckedUrl, policy: DownloadPolicy): Promise<IncomingMessage> {
  const { url, address, family } = checked;
  // The pinned resolver: the socket connects to the checked address whatever DNS says now.
  const lookup = (_host: string, opts: { all?: boolean }, cb: (...args: unknown[]) => void) =>
    opts?.all ? cb(null, [{ address, family }]) : cb(null, address, family);
  const options: RequestOptions & { servername?: string } = {
    protocol: url.protocol,
    hostname: url.hostname.replace(/^\[|\]$/g, ""),
    port: url.port || undefined,
    path: `${url.pathname}${url.search}`,
    method: "GET",
    headers: { "user-agent": "ingot-file-import", accept: "*/*" },
    auth: url.username ? `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}` : undefined,
    lookup: lookup as RequestOptions["lookup"],
    agent: false,
  };
  const timeout = policy.idleTimeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    const req = (policy.request ?? defaultRequest)(url, options);
    req.setTimeout(timeout, () => req.destroy(new DownloadFailed(`The URL did not answer within ${Math.round(timeout / 1000)} s.`)));
    req.once("response", (res) => {
      res.setTimeout(timeout, () => res.destroy(new DownloadFailed(`The download stalled: no data for ${Math.round(timeout / 1000)} s.`)));
      // Errors reach the reader through the body's iterator; one after it stopped reading must not crash the process.
      res.on("error", () => {});
      resolve(res);
    });
    // `on`, not `once`: a second error (a timeout after a reset) would otherwise be unhandled.
    req.on("error", (e) => reject(e instanceof DownloadFailed ? e : new DownloadFailed(`Could not fetch the URL: ${(e as Error).message}.`)));
    req.end();
  });
}
