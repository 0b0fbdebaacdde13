// Ingot's Azure Blob endpoint: the subset of the Blob REST API that @azure/storage-blob and
// azure-ai-ml's upload use (reference azure-ml.md §4), behind every workspace's datastores.
//
// Why Ingot serves it itself rather than running Azurite as the embedded default: no second
// process or port to start, supervise and secure (the blob URLs are Ingot's own host and port,
// over the same TLS); the content lives under DATA_DIR through the BlobStore port like every
// other file Ingot keeps (one backup, one disk budget, gone with the workspace); and one identity:
// Ingot's own bearer tokens and RBAC open it, next to the account keys listSecrets hands out,
// which Azurite (with its fixed well-known key) cannot do.
//
// Addressing: path-style `https://<host:port>/blob/<account>/<container>/<blob>` (as Azurite's
// `/<account>/…`), and host-style `https://<account>.blob.<suffix>/<container>/<blob>` (what
// Python builds from its cloud's storage suffix), rewritten to the path-style form before
// routing (blobHostRewrite, used by server.ts). Auth, by the route itself (the pipeline calls
// config.authenticate): Shared Key, SAS signed with the account key, or an Ingot bearer token
// (storage or management audience) of a principal with write on the workspace. Errors in
// Blob's XML shape with x-ms-error-code, x-ms-request-id and x-ms-version.
import type { IncomingMessage } from "node:http";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { hasSas, parseSharedKey, verifySas, verifySharedKey } from "../../core/ml/blob-auth.ts";
import type { BlobPermission, BlobRequestView, BlobTarget } from "../../core/ml/blob-auth.ts";
import { Readable } from "node:stream";
import { BlobError, blobErrors, checkConditions, parseRange } from "../../core/ml/blobs.ts";
import type { BlobConditions, BlobContainerRecord, BlobContentProperties, BlobRecord } from "../../core/ml/blobs.ts";
import type { StorageAccountRecord } from "../../core/ml/datastores.ts";
import { workspaceArmId } from "../../core/ml/workspaces.ts";
import { DEFAULT_TENANT_ID } from "../../core/identity/service.ts";
import { IngotError } from "../../core/errors.ts";
import type { AppContext } from "../context.ts";
import { bearerToken } from "../identity/bearer.ts";
import { toIngotError } from "../errors.ts";

/** The service version Ingot answers with when the client names none (one the SDKs of 2024-2026 know). */
export const BLOB_SERVICE_VERSION = "2025-01-05";
const HOST_STYLE = /^([a-z0-9]{3,24})\.blob\./i;
/** A block list body is small (50,000 ids at most); more is not a block list. */
const MAX_BLOCK_LIST_BYTES = 8 * 1024 * 1024;

/**
 * Fastify's rewriteUrl: a request to `<account>.blob.<suffix>` becomes `/blob/<account>/…`, so
 * host-style URLs reach the same routes. The original URL stays in request.originalUrl (Shared
 * Key signs the path as sent).
 */
export function blobHostRewrite(req: IncomingMessage): string {
  const url = req.url ?? "/";
  const host = HOST_STYLE.exec(String(req.headers.host ?? ""));
  return host ? `/blob/${host[1].toLowerCase()}${url.startsWith("/") ? url : `/${url}`}` : url;
}

interface BlobAddress {
  account: string;
  container?: string;
  blob?: string;
  /** The resource's own percent-encoded path, `/<container>/<blob>` (Shared Key may sign this). */
  resourcePath: string;
}

/** `/blob/<account>[/<container>[/<blob…>]]` of the (rewritten) URL. */
function addressOf(url: string): BlobAddress {
  const path = url.split("?")[0];
  const rest = path.replace(/^\/blob\/?/i, "");
  const slash = rest.indexOf("/");
  const account = decodeSegment(slash < 0 ? rest : rest.slice(0, slash)).toLowerCase();
  const resourceRaw = slash < 0 ? "" : rest.slice(slash);
  const inner = resourceRaw.replace(/^\//, "");
  const cut = inner.indexOf("/");
  const container = cut < 0 ? inner : inner.slice(0, cut);
  const blob = cut < 0 ? "" : inner.slice(cut + 1);
  return {
    account,
    ...(container ? { container: decodeSegment(container).toLowerCase() } : {}),
    ...(blob ? { blob: decodeSegment(blob) } : {}),
    resourcePath: resourceRaw || "/",
  };
}

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new BlobError(400, "InvalidUri", "The requested URI does not represent any resource on the server: it has a malformed percent-encoding.");
  }
}

type Query = Record<string, string | undefined>;

/** The operation a request asks for: its handler's name, the SAS permission and scope level it needs. */
function operationOf(method: string, q: Query, a: BlobAddress): { op: string; permission: BlobPermission; target: BlobTarget } {
  const comp = q.comp?.toLowerCase();
  const restype = q.restype?.toLowerCase();
  const m = method === "HEAD" ? "GET" : method;
  const target = (level: BlobTarget["level"]): BlobTarget => ({ level, ...(a.container ? { container: a.container } : {}), ...(a.blob ? { blob: a.blob } : {}) });
  if (!a.container) {
    if (m === "GET" && comp === "list") return { op: "listContainers", permission: "l", target: target("service") };
    if (m === "GET" && comp === "properties" && (restype === "account" || restype === "service")) return { op: "accountProperties", permission: "r", target: target("service") };
    return { op: "unsupported", permission: "r", target: target("service") };
  }
  if (!a.blob) {
    if (restype !== "container") return { op: "unsupported", permission: "r", target: target("container") };
    if (m === "PUT" && !comp) return { op: "createContainer", permission: "c", target: target("container") };
    if (m === "PUT" && comp === "metadata") return { op: "setContainerMetadata", permission: "w", target: target("container") };
    if (m === "GET" && comp === "list") return { op: "listBlobs", permission: "l", target: target("container") };
    if (m === "GET" && (!comp || comp === "metadata")) return { op: "containerProperties", permission: "r", target: target("container") };
    if (m === "DELETE" && !comp) return { op: "deleteContainer", permission: "d", target: target("container") };
    return { op: "unsupported", permission: "r", target: target("container") };
  }
  if (m === "PUT" && comp === "block") return { op: "putBlock", permission: "w", target: target("blob") };
  if (m === "PUT" && comp === "blocklist") return { op: "putBlockList", permission: "w", target: target("blob") };
  if (m === "PUT" && comp === "metadata") return { op: "setBlobMetadata", permission: "w", target: target("blob") };
  if (m === "PUT" && comp === "properties") return { op: "setBlobProperties", permission: "w", target: target("blob") };
  if (m === "PUT" && !comp) return { op: "putBlob", permission: "w", target: target("blob") };
  if (m === "GET" && !comp) return { op: "getBlob", permission: "r", target: target("blob") };
  if (m === "GET" && comp === "metadata") return { op: "getBlobMetadata", permission: "r", target: target("blob") };
  if (m === "DELETE" && !comp) return { op: "deleteBlob", permission: "d", target: target("blob") };
  return { op: "unsupported", permission: "r", target: target("blob") };
}

function requestView(request: FastifyRequest): BlobRequestView {
  const original = request.originalUrl ?? request.url;
  const q = original.indexOf("?");
  const headers = request.headers;
  return {
    method: request.method,
    rawPath: q < 0 ? original : original.slice(0, q),
    rawQuery: q < 0 ? "" : original.slice(q + 1),
    header: (name) => {
      const v = headers[name];
      return v === undefined ? undefined : Array.isArray(v) ? v.join(", ") : String(v);
    },
    headerNames: () => Object.keys(headers),
  };
}

const xmlEscape = (s: string) => s.replace(/[<>&"']/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[c]!);
const rfc1123 = (ms: number) => new Date(ms).toUTCString();
const XML_HEAD = '<?xml version="1.0" encoding="utf-8"?>';

export function blobErrorXml(e: IngotError, requestId: string, now: number): string {
  const detail = e instanceof BlobError && e.authenticationErrorDetail ? `<AuthenticationErrorDetail>${xmlEscape(e.authenticationErrorDetail)}</AuthenticationErrorDetail>` : "";
  return `${XML_HEAD}<Error><Code>${xmlEscape(e.code)}</Code><Message>${xmlEscape(`${e.message}\nRequestId:${requestId}\nTime:${new Date(now).toISOString()}`)}</Message>${detail}</Error>`;
}

/** `x-ms-meta-*` headers with their names as sent (Node lowercases request.headers; Azure keeps the case). */
function metadataOf(request: FastifyRequest): Record<string, string> {
  const raw = request.raw.rawHeaders;
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i];
    if (/^x-ms-meta-/i.test(name)) out[name.slice("x-ms-meta-".length)] = raw[i + 1];
  }
  return out;
}

const header = (request: FastifyRequest, name: string) => {
  const v = request.headers[name];
  return v === undefined ? undefined : Array.isArray(v) ? v.join(", ") : String(v);
};

function conditionsOf(request: FastifyRequest): BlobConditions {
  const c: BlobConditions = {};
  const m = header(request, "if-match");
  const nm = header(request, "if-none-match");
  const ms = header(request, "if-modified-since");
  const us = header(request, "if-unmodified-since");
  if (m !== undefined) c.ifMatch = m;
  if (nm !== undefined) c.ifNoneMatch = nm;
  if (ms !== undefined) c.ifModifiedSince = ms;
  if (us !== undefined) c.ifUnmodifiedSince = us;
  return c;
}

/** Content headers of Put Blob (Content-*) or of Put Block List / Set Properties (x-ms-blob-content-*). */
function contentPropertiesOf(request: FastifyRequest, prefix: "" | "x-ms-blob-"): Partial<BlobContentProperties> {
  const p: Partial<BlobContentProperties> = {};
  const get = (n: string) => header(request, prefix ? `x-ms-blob-${n}` : n);
  const set = <K extends keyof BlobContentProperties>(k: K, v: string | undefined) => {
    if (v !== undefined) p[k] = v;
  };
  // Put Blob takes x-ms-blob-content-* too, and they win over the plain headers (Azure's rule).
  const both = (n: string) => header(request, `x-ms-blob-${n}`) ?? (prefix ? undefined : header(request, n));
  const pick = prefix ? get : both;
  set("contentType", pick("content-type"));
  set("contentEncoding", pick("content-encoding"));
  set("contentLanguage", pick("content-language"));
  set("contentDisposition", pick("content-disposition"));
  set("cacheControl", pick("cache-control"));
  set("contentMd5", prefix ? get("content-md5") : (header(request, "content-md5") ?? header(request, "x-ms-blob-content-md5")));
  return p;
}

function blobHeaders(b: BlobRecord): Record<string, string> {
  const h: Record<string, string> = {
    etag: b.etag,
    "last-modified": rfc1123(b.updatedAt),
    "x-ms-creation-time": rfc1123(b.createdAt),
    "x-ms-blob-type": "BlockBlob",
    "x-ms-lease-state": "available",
    "x-ms-lease-status": "unlocked",
    "x-ms-server-encrypted": "true",
    "x-ms-access-tier": "Hot",
    "x-ms-access-tier-inferred": "true",
    "accept-ranges": "bytes",
  };
  if (b.contentType) h["content-type"] = b.contentType;
  if (b.contentEncoding) h["content-encoding"] = b.contentEncoding;
  if (b.contentLanguage) h["content-language"] = b.contentLanguage;
  if (b.contentDisposition) h["content-disposition"] = b.contentDisposition;
  if (b.cacheControl) h["cache-control"] = b.cacheControl;
  for (const [k, v] of Object.entries(b.metadata)) h[`x-ms-meta-${k}`] = v;
  return h;
}

function containerHeaders(c: BlobContainerRecord): Record<string, string> {
  const h: Record<string, string> = {
    etag: c.etag,
    "last-modified": rfc1123(c.updatedAt),
    "x-ms-lease-state": "available",
    "x-ms-lease-status": "unlocked",
    "x-ms-has-immutability-policy": "false",
    "x-ms-has-legal-hold": "false",
    "x-ms-default-encryption-scope": "$account-encryption-key",
    "x-ms-deny-encryption-scope-override": "false",
  };
  for (const [k, v] of Object.entries(c.metadata)) h[`x-ms-meta-${k}`] = v;
  return h;
}

function blobXml(b: BlobRecord, withMetadata: boolean): string {
  const prop = (tag: string, v: string) => (v ? `<${tag}>${xmlEscape(v)}</${tag}>` : `<${tag} />`);
  const meta = withMetadata ? `<Metadata>${Object.entries(b.metadata).map(([k, v]) => `<${k}>${xmlEscape(v)}</${k}>`).join("")}</Metadata>` : "";
  return (
    `<Blob><Name>${xmlEscape(b.name)}</Name><Properties>` +
    `<Creation-Time>${rfc1123(b.createdAt)}</Creation-Time><Last-Modified>${rfc1123(b.updatedAt)}</Last-Modified><Etag>${xmlEscape(b.etag)}</Etag>` +
    `<Content-Length>${b.size}</Content-Length>${prop("Content-Type", b.contentType)}${prop("Content-Encoding", b.contentEncoding)}${prop("Content-Language", b.contentLanguage)}` +
    `<Content-CRC64 />${prop("Content-MD5", b.contentMd5)}${prop("Cache-Control", b.cacheControl)}${prop("Content-Disposition", b.contentDisposition)}` +
    `<BlobType>BlockBlob</BlobType><AccessTier>Hot</AccessTier><AccessTierInferred>true</AccessTierInferred><LeaseStatus>unlocked</LeaseStatus><LeaseState>available</LeaseState><ServerEncrypted>true</ServerEncrypted>` +
    `</Properties>${meta}<OrMetadata /></Blob>`
  );
}

async function readSmallBody(request: FastifyRequest, max: number): Promise<string> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of request.raw as AsyncIterable<Buffer>) {
    bytes += chunk.byteLength;
    if (bytes > max) throw new BlobError(413, "RequestBodyTooLarge", `The request body is too large (more than ${max} bytes) for this operation.`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** `<BlockList><Latest>id</Latest>…</BlockList>` → the list, in order. */
export function parseBlockList(xml: string): { kind: "Latest" | "Uncommitted" | "Committed"; id: string }[] {
  if (!/<BlockList\b/i.test(xml)) throw new BlobError(400, "InvalidXmlDocument", "XML specified is not syntactically valid: the body must be a <BlockList> of <Latest>, <Uncommitted> or <Committed> block ids.");
  const out: { kind: "Latest" | "Uncommitted" | "Committed"; id: string }[] = [];
  for (const m of xml.matchAll(/<(Latest|Uncommitted|Committed)>\s*([^<]*?)\s*<\/\1>/g)) out.push({ kind: m[1] as "Latest" | "Uncommitted" | "Committed", id: m[2] });
  return out;
}

/** What the pipeline's authentication found, for the handler. */
const AUTHENTICATED = new WeakMap<FastifyRequest, StorageAccountRecord>();

export function registerBlobRoutes(root: FastifyInstance, ctx: AppContext): void {
  root.register(async (app) => {
    // Bodies are blob content, streamed to the store as they come: no parsing, whatever the Content-Type.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser("*", (_request, _payload, done) => done(null, undefined));

    app.setErrorHandler((error, request, reply) => {
      const e = toIngotError(error);
      if (e.status >= 500) request.log.error({ err: error }, "blob request failed");
      if (reply.sent) return;
      stampHeaders(request, reply);
      reply
        .code(e.status)
        .header("x-ms-error-code", e.code)
        .header("content-type", "application/xml")
        .send(request.method === "HEAD" ? undefined : blobErrorXml(e, request.id, Date.now()));
    });

    /** The service's headers on every answer. */
    const stampHeaders = (request: FastifyRequest, reply: FastifyReply) => {
      reply.header("x-ms-request-id", request.id);
      reply.header("x-ms-version", header(request, "x-ms-version") ?? BLOB_SERVICE_VERSION);
      reply.header("date", rfc1123(Date.now()));
      const clientId = header(request, "x-ms-client-request-id");
      if (clientId) reply.header("x-ms-client-request-id", clientId.slice(0, 1024));
    };

    /** Called by the pipeline (server.ts) before routing: Shared Key, SAS, or a bearer token with write on the workspace. */
    const authenticate = (request: FastifyRequest, reply: FastifyReply) => {
      stampHeaders(request, reply);
      const address = addressOf(request.url);
      const view = requestView(request);
      const authorization = header(request, "authorization");
      const sas = hasSas(view.rawQuery);
      if (!authorization && !sas) {
        reply.header("www-authenticate", `Bearer authorization_uri=${request.protocol}://${request.host}/${DEFAULT_TENANT_ID}/oauth2/authorize resource_id=https://storage.azure.com`);
        throw new BlobError(401, "NoAuthenticationInformation", "Server failed to authenticate the request. Send a Shared Key Authorization header (the key listSecrets returns), a SAS in the query, or 'Authorization: Bearer <token>' from Ingot's token endpoint.");
      }
      const account = address.account ? ctx.mlBlobs.account(address.account) : undefined;
      const now = Date.now();
      if (authorization && parseSharedKey(authorization)) {
        if (!account) throw new BlobError(403, "AuthenticationFailed", `Server failed to authenticate the request: Ingot has no storage account '${address.account}'. Use the accountName of a workspace's datastore.`);
        verifySharedKey(view, account, [view.rawPath, address.resourcePath], now);
      } else if (authorization) {
        const token = bearerToken(request);
        if (!token) throw new BlobError(401, "InvalidAuthenticationInfo", "Authentication information is not given in the correct format: use 'SharedKey <account>:<signature>' or 'Bearer <token>'.");
        let principal;
        try {
          principal = ctx.identity.verifyToken(token, "storage");
        } catch (e) {
          throw new BlobError(401, "InvalidAuthenticationInfo", `Server failed to authenticate the request: ${(e as Error).message}`);
        }
        if (!account) throw new BlobError(404, "ResourceNotFound", `The specified resource does not exist: Ingot has no storage account '${address.account}'. Use the accountName of a workspace's datastore.`);
        const workspace = ctx.workspaces.getByWorkspaceId(account.workspaceId);
        if (!workspace) throw new BlobError(404, "ResourceNotFound", `The specified resource does not exist: storage account '${account.name}' has no workspace.`);
        if (!ctx.identity.isAuthorized(principal, workspaceArmId(workspace), "accountWrite"))
          throw new BlobError(
            403,
            "AuthorizationPermissionMismatch",
            `This request is not authorized to perform this operation using this permission: principal '${principal.objectId}' needs write (Contributor or Owner) on workspace ${workspaceArmId(workspace)} to use its storage account.`,
          );
      } else {
        if (!account) throw new BlobError(403, "AuthenticationFailed", `Server failed to authenticate the request: Ingot has no storage account '${address.account}'.`);
        const { permission, target } = operationOf(request.method, request.query as Query, address);
        const exists = address.container && address.blob ? ctx.mlBlobs.find(account.name, address.container, address.blob) !== undefined : undefined;
        verifySas(view.rawQuery, account, target, permission, now, { protocol: request.protocol, clientIp: request.ip, ...(exists === undefined ? {} : { blobExists: exists }) });
      }
      if (!account) throw new BlobError(404, "ResourceNotFound", "The specified resource does not exist.");
      AUTHENTICATED.set(request, account);
    };

    app.route({
      // HEAD is its own method here: Fastify's automatic HEAD route would send Content-Length 0 instead of the blob's size.
      method: ["GET", "HEAD", "PUT", "DELETE"],
      exposeHeadRoute: false,
      url: "/blob/*",
      config: { surface: "blob", authenticate },
      handler: async (request, reply) => {
        const account = AUTHENTICATED.get(request);
        if (!account) throw new BlobError(401, "NoAuthenticationInformation", "Server failed to authenticate the request.");
        const a = addressOf(request.url);
        const q = request.query as Query;
        const { op } = operationOf(request.method, q, a);
        const blobs = ctx.mlBlobs;
        const container = a.container ?? "";
        const name = a.blob ?? "";
        const head = request.method === "HEAD";
        const base = `${request.protocol}://${request.host}${/^\/blob\//i.test(request.originalUrl ?? request.url) ? `/blob/${account.name}` : ""}/`;
        switch (op) {
          case "listContainers": {
            const prefix = q.prefix ?? "";
            const list = blobs.listContainers(account.name).filter((c) => c.name.startsWith(prefix));
            reply.header("content-type", "application/xml");
            return `${XML_HEAD}<EnumerationResults ServiceEndpoint="${xmlEscape(base)}"><Prefix>${xmlEscape(prefix)}</Prefix><Containers>${list
              .map((c) => `<Container><Name>${xmlEscape(c.name)}</Name><Properties><Last-Modified>${rfc1123(c.updatedAt)}</Last-Modified><Etag>${xmlEscape(c.etag)}</Etag><LeaseStatus>unlocked</LeaseStatus><LeaseState>available</LeaseState><HasImmutabilityPolicy>false</HasImmutabilityPolicy><HasLegalHold>false</HasLegalHold></Properties></Container>`)
              .join("")}</Containers><NextMarker /></EnumerationResults>`;
          }
          case "accountProperties":
            reply.header("x-ms-sku-name", "Standard_LRS").header("x-ms-account-kind", "StorageV2").header("x-ms-is-hns-enabled", "false");
            if (q.restype?.toLowerCase() === "service") {
              reply.header("content-type", "application/xml");
              return `${XML_HEAD}<StorageServiceProperties><DefaultServiceVersion>${BLOB_SERVICE_VERSION}</DefaultServiceVersion></StorageServiceProperties>`;
            }
            return reply.code(200).send();
          case "createContainer": {
            const c = blobs.createContainer(account.name, container, metadataOf(request));
            return reply.code(201).headers({ etag: c.etag, "last-modified": rfc1123(c.updatedAt) }).send();
          }
          case "setContainerMetadata": {
            const updated = blobs.setContainerMetadata(account.name, container, metadataOf(request));
            return reply.code(200).headers({ etag: updated.etag, "last-modified": rfc1123(updated.updatedAt) }).send();
          }
          case "containerProperties":
            return reply.code(200).headers(containerHeaders(blobs.container(account.name, container))).send();
          case "deleteContainer":
            await blobs.deleteContainer(account.name, container);
            return reply.code(202).send();
          case "listBlobs": {
            const prefix = q.prefix ?? "";
            const max = q.maxresults === undefined ? undefined : Number(q.maxresults);
            if (max !== undefined && (!Number.isInteger(max) || max < 1)) throw blobErrors.invalidQuery("maxresults", "a positive integer");
            const include = (q.include ?? "").toLowerCase().split(",");
            const r = blobs.listBlobs(account.name, container, { prefix, ...(q.delimiter ? { delimiter: q.delimiter } : {}), ...(q.marker ? { marker: q.marker } : {}), ...(max ? { maxResults: max } : {}) });
            const items = [...r.blobs.map((b) => ({ name: b.name, xml: blobXml(b, include.includes("metadata")) })), ...r.prefixes.map((p) => ({ name: p, xml: `<BlobPrefix><Name>${xmlEscape(p)}</Name></BlobPrefix>` }))].sort((x, y) =>
              x.name < y.name ? -1 : x.name > y.name ? 1 : 0,
            );
            reply.header("content-type", "application/xml");
            return (
              `${XML_HEAD}<EnumerationResults ServiceEndpoint="${xmlEscape(base)}" ContainerName="${xmlEscape(container)}">` +
              `<Prefix>${xmlEscape(prefix)}</Prefix>${q.marker ? `<Marker>${xmlEscape(q.marker)}</Marker>` : ""}${max ? `<MaxResults>${max}</MaxResults>` : ""}${q.delimiter ? `<Delimiter>${xmlEscape(q.delimiter)}</Delimiter>` : ""}` +
              `<Blobs>${items.map((i) => i.xml).join("")}</Blobs>${r.nextMarker ? `<NextMarker>${xmlEscape(r.nextMarker)}</NextMarker>` : "<NextMarker />"}</EnumerationResults>`
            );
          }
          case "putBlob": {
            const type = header(request, "x-ms-blob-type");
            if (type && type.toLowerCase() !== "blockblob") throw blobErrors.unsupported(`${type} blobs`);
            if (header(request, "x-ms-copy-source")) throw blobErrors.unsupported("copying blobs (x-ms-copy-source)");
            const b = await blobs.putBlob(account.name, container, name, request.raw, contentPropertiesOf(request, ""), metadataOf(request), conditionsOf(request));
            return reply.code(201).headers({ etag: b.etag, "last-modified": rfc1123(b.updatedAt), "content-md5": b.contentMd5, "x-ms-request-server-encrypted": "true" }).send();
          }
          case "putBlock": {
            const { contentMd5 } = await blobs.putBlock(account.name, container, name, q.blockid ?? "", request.raw, header(request, "content-md5"));
            return reply.code(201).headers({ "content-md5": contentMd5, "x-ms-request-server-encrypted": "true" }).send();
          }
          case "putBlockList": {
            const list = parseBlockList(await readSmallBody(request, MAX_BLOCK_LIST_BYTES));
            const b = await blobs.putBlockList(account.name, container, name, list, contentPropertiesOf(request, "x-ms-blob-"), metadataOf(request), conditionsOf(request));
            return reply.code(201).headers({ etag: b.etag, "last-modified": rfc1123(b.updatedAt), "x-ms-request-server-encrypted": "true" }).send();
          }
          case "setBlobMetadata": {
            const b = blobs.setMetadata(account.name, container, name, metadataOf(request), conditionsOf(request));
            return reply.code(200).headers({ etag: b.etag, "last-modified": rfc1123(b.updatedAt), "x-ms-request-server-encrypted": "true" }).send();
          }
          case "setBlobProperties": {
            const b = blobs.setProperties(account.name, container, name, contentPropertiesOf(request, "x-ms-blob-"), conditionsOf(request));
            return reply.code(200).headers({ etag: b.etag, "last-modified": rfc1123(b.updatedAt) }).send();
          }
          case "getBlobMetadata": {
            const b = blobs.blob(account.name, container, name);
            const h: Record<string, string> = { etag: b.etag, "last-modified": rfc1123(b.updatedAt) };
            for (const [k, v] of Object.entries(b.metadata)) h[`x-ms-meta-${k}`] = v;
            return reply.code(200).headers(h).send();
          }
          case "getBlob": {
            const b = blobs.blob(account.name, container, name);
            const conditions = conditionsOf(request);
            if (conditions.ifNoneMatch !== undefined && (conditions.ifNoneMatch.trim() === "*" || conditions.ifNoneMatch.split(",").some((t) => t.trim() === b.etag)))
              return reply.code(304).headers({ etag: b.etag, "last-modified": rfc1123(b.updatedAt) }).send();
            checkConditions({ ...conditions, ifNoneMatch: undefined }, b, false);
            const range = head ? undefined : parseRange(header(request, "x-ms-range") ?? header(request, "range"), b.size);
            reply.headers(blobHeaders(b));
            if (range) {
              reply.code(206).header("content-range", `bytes ${range.start}-${range.end}/${b.size}`).header("content-length", String(range.end - range.start + 1));
              if (b.contentMd5) reply.header("x-ms-blob-content-md5", b.contentMd5);
            } else {
              reply.code(200).header("content-length", String(b.size));
              if (b.contentMd5) reply.header("content-md5", b.contentMd5);
            }
            if (head) return reply.send();
            const abort = new AbortController();
            request.raw.once("close", () => abort.abort());
            return reply.send(Readable.from(blobs.read(b, range, abort.signal)));
          }
          case "deleteBlob":
            await blobs.deleteBlob(account.name, container, name, conditionsOf(request));
            return reply.code(202).header("x-ms-delete-type-permanent", "true").send();
          default:
            throw new BlobError(
              400,
              "UnsupportedQueryParameter",
              `Ingot's blob service does not support ${request.method} ${request.url.split("?")[0]} with comp='${q.comp ?? ""}' restype='${q.restype ?? ""}'. It serves containers (create, properties, list blobs), block blobs (Put Blob, Put Block, Put Block List, Get/Head, metadata, properties, Delete).`,
            );
        }
      },
    });
  });
}
