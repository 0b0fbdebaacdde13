// Files API (reference §4.1–4.2): Azure dated `/openai/files?api-version=…` (create answers
// 201 + Location, status `pending` while validating) and OpenAI v1 `/openai/v1/files` (200,
// status `uploaded`), plus the project form. Uploads are multipart, streamed to a temporary
// blob as they arrive; `POST /openai/files/import` fetches a URL instead.
import { Readable } from "node:stream";
import multipart from "@fastify/multipart";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { errors } from "../../core/errors.ts";
import { tooLarge } from "../../core/files/service.ts";
import type { StagedBlob } from "../../core/ports/index.ts";
import type { FileRecord } from "../../core/files/types.ts";
import { AZURE_OPENAI_VERSIONS, checkApiVersion } from "../api-versions.ts";
import type { AppContext } from "../context.ts";

type Query = Record<string, string | undefined>;
type FileParams = { Params: { id: string }; Querystring: Query };
type Dialect = "azure" | "v1";

/** The wire file object. Azure's dated API says `pending` where OpenAI says `uploaded` (reference §7.3). */
export function fileObject(f: FileRecord, dialect: Dialect): Record<string, unknown> {
  const o: Record<string, unknown> = {
    object: "file",
    id: f.id,
    bytes: f.bytes,
    created_at: Math.floor(f.createdAt / 1000),
    filename: f.filename,
    purpose: f.purpose,
    status: dialect === "azure" && f.status === "uploaded" ? "pending" : f.status,
    status_details: f.statusDetails,
  };
  if (f.expiresAt) o.expires_at = Math.floor(f.expiresAt / 1000);
  return o;
}

const baseUrlOf = (request: FastifyRequest) => `${request.protocol}://${request.host}`;

export function registerFileRoutes(app: FastifyInstance, ctx: AppContext): void {
  // Its own scope: the multipart parser and the catch-all below apply to these routes only.
  app.register(async (scope) => {
    await scope.register(multipart, {
      // busboy stops passing bytes at the cap and skips the rest of the file, so the request is
      // still read to its end and the client gets the 413 instead of a reset connection.
      limits: { fileSize: ctx.files.maxBytes, files: 1, fields: 20, fieldSize: 64 * 1024, parts: 40 },
      throwFileSizeLimit: false,
    });
    // Any other content type reaches the handler, which says what to send.
    scope.addContentTypeParser("*", (_request, _payload, done) => done(null, undefined));

    const config = { config: { surface: "openai" as const, action: "authoring" as const } };
    const version = (request: FastifyRequest<{ Querystring: Query }>) =>
      checkApiVersion(request.query["api-version"], AZURE_OPENAI_VERSIONS, ctx.settings.skipApiVersionCheck);

    // Azure dated.
    scope.post<{ Querystring: Query }>("/openai/files", config, async (request, reply) => {
      version(request);
      const f = await upload(ctx, request);
      return created(request, reply, f);
    });
    scope.post<{ Querystring: Query; Body: Record<string, unknown> | undefined }>("/openai/files/import", config, async (request, reply) => {
      version(request);
      const body = request.body;
      if (!body || typeof body !== "object" || Array.isArray(body))
        throw errors.invalid('Send a JSON body: {"purpose": "fine-tune", "filename": "train.jsonl", "content_url": "https://…"}.', null, "invalidPayload");
      const f = await ctx.files.import(request.account, {
        purpose: body.purpose,
        filename: body.filename,
        contentUrl: body.content_url,
        expiresAfter: body.expires_after,
      });
      return created(request, reply, f);
    });
    scope.get<{ Querystring: Query }>("/openai/files", config, async (request) => {
      version(request);
      return list(ctx, request, "azure");
    });
    scope.get<FileParams>("/openai/files/:id", config, async (request) => {
      version(request);
      return fileObject(ctx.files.require(request.account, request.params.id), "azure");
    });
    scope.delete<FileParams>("/openai/files/:id", config, async (request) => {
      version(request);
      return remove(ctx, request);
    });
    scope.get<FileParams>("/openai/files/:id/content", config, async (request, reply) => {
      version(request);
      return content(ctx, request, reply);
    });

    // OpenAI v1 and the Foundry project endpoint.
    for (const prefix of ["/openai/v1", "/api/projects/:project/openai/v1"]) {
      scope.post(`${prefix}/files`, config, async (request) => fileObject(await upload(ctx, request), "v1"));
      scope.get<{ Querystring: Query }>(`${prefix}/files`, config, async (request) => list(ctx, request, "v1"));
      scope.get<FileParams>(`${prefix}/files/:id`, config, async (request) => fileObject(ctx.files.require(request.account, request.params.id), "v1"));
      scope.delete<FileParams>(`${prefix}/files/:id`, config, async (request) => remove(ctx, request));
      scope.get<FileParams>(`${prefix}/files/:id/content`, config, async (request, reply) => content(ctx, request, reply));
    }
  });
}

/** Azure's create: 201 with the new file's URL. */
function created(request: FastifyRequest<{ Querystring: Query }>, reply: FastifyReply, f: FileRecord) {
  const v = request.query["api-version"];
  reply.code(201).header("location", `${baseUrlOf(request)}/openai/files/${f.id}${v ? `?api-version=${encodeURIComponent(v)}` : ""}`);
  return fileObject(f, "azure");
}

async function upload(ctx: AppContext, request: FastifyRequest): Promise<FileRecord> {
  if (!request.isMultipart())
    throw errors.invalid(
      "Upload the file as multipart/form-data with a 'file' part and a 'purpose' field (e.g. purpose=fine-tune); to import from a URL use POST /openai/files/import.",
      null,
      "invalidPayload",
    );
  const done = ctx.files.beginUpload(request.account);
  const upload: { staged?: StagedBlob } = {};
  try {
    const { fields, partName } = await receiveParts(ctx, request, upload);
    const staged = upload.staged;
    if (!staged) throw errors.invalid("Missing required parameter: 'file' (the multipart part holding the file's content).", "file", "invalidPayload");
    const expiresAfter =
      fields["expires_after[anchor]"] !== undefined || fields["expires_after[seconds]"] !== undefined
        ? { anchor: fields["expires_after[anchor]"], seconds: fields["expires_after[seconds]"] }
        : fields.expires_after !== undefined
          ? parseJsonField(fields.expires_after, "expires_after")
          : undefined;
    // create() owns the content from here: it commits it or discards it.
    upload.staged = undefined;
    return await ctx.files.create(request.account, { purpose: fields.purpose, filename: fields.filename ?? (partName || "file"), expiresAfter, staged });
  } catch (e) {
    // Whatever failed (a cut stream, a bad field), the temporary content goes at once.
    if (upload.staged) await ctx.files.discard(upload.staged).catch(() => {});
    throw e;
  } finally {
    done();
  }
}

/** Reads the multipart body: the fields, and the file part streamed to a temporary blob (`into.staged`). */
async function receiveParts(ctx: AppContext, request: FastifyRequest, into: { staged?: StagedBlob }): Promise<{ fields: Record<string, string>; partName?: string }> {
  const fields: Record<string, string> = {};
  let partName: string | undefined;
  try {
    for await (const part of request.parts()) {
      if (part.type === "field") {
        fields[part.fieldname] = String(part.value);
        continue;
      }
      if (part.fieldname !== "file") {
        part.file.resume();
        throw errors.invalid(`Unexpected file part '${part.fieldname}'; send the file in the part named 'file'.`, part.fieldname, "invalidPayload");
      }
      partName = part.filename;
      const stream = part.file;
      const max = ctx.files.maxBytes;
      into.staged = await ctx.files.stage(
        (async function* () {
          yield* stream;
          // busboy cut the file at the cap (and read past the rest of it).
          if (stream.truncated) throw tooLarge(max);
        })(),
      );
    }
  } catch (e) {
    throw multipartError(e);
  }
  return { fields, partName };
}

function parseJsonField(value: string, name: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    throw errors.invalid(`'${name}' must be JSON, e.g. {"anchor": "created_at", "seconds": 86400}.`, name, "invalidPayload");
  }
}

/** @fastify/multipart's own limit errors, in words that say what to change. */
function multipartError(e: unknown): unknown {
  const code = (e as { code?: string }).code;
  if (code === "FST_FILES_LIMIT") return errors.invalid("Send one file per request, in the part named 'file'.", "file", "invalidPayload");
  if (code === "FST_PARTS_LIMIT" || code === "FST_FIELDS_LIMIT")
    return errors.invalid("Too many form fields; send 'file', 'purpose' and optionally 'expires_after'.", null, "invalidPayload");
  // The client went away mid-upload: nobody reads the answer, but it is not the server's fault.
  if (code === "ECONNRESET" || code === "FST_MP_PREMATURE_CLOSE")
    return errors.invalid("The upload ended before the whole multipart body arrived; send it again.", "file", "invalidPayload");
  if (code === "FST_REQ_FILE_TOO_LARGE" || code === "FST_PROTO_VIOLATION" || code === "FST_INVALID_MULTIPART_CONTENT_TYPE")
    return errors.invalid(`The multipart body could not be read: ${(e as Error).message}.`, null, "invalidPayload");
  // busboy's parse errors ("Unexpected end of form", "Malformed part header") are plain Errors without a code.
  if (e instanceof Error && Object.getPrototypeOf(e) === Error.prototype && code === undefined)
    return errors.invalid(`The multipart body could not be read: ${e.message}. Send multipart/form-data with a 'file' part and a 'purpose' field.`, null, "invalidPayload");
  return e;
}

function list(ctx: AppContext, request: FastifyRequest<{ Querystring: Query }>, dialect: Dialect) {
  const q = request.query;
  const limit = q.limit === undefined ? undefined : /^\d+$/.test(q.limit) ? Number(q.limit) : NaN;
  const page = ctx.files.list(request.account, { purpose: q.purpose || undefined, after: q.after || undefined, limit, order: q.order as "asc" | "desc" | undefined });
  const data = page.data.map((f) => fileObject(f, dialect));
  return { object: "list", data, first_id: page.data[0]?.id ?? null, last_id: page.data.at(-1)?.id ?? null, has_more: page.hasMore };
}

async function remove(ctx: AppContext, request: FastifyRequest<FileParams>) {
  await ctx.files.delete(request.account, request.params.id);
  return { object: "file", id: request.params.id, deleted: true };
}

function content(ctx: AppContext, request: FastifyRequest<FileParams>, reply: FastifyReply) {
  const { record, body } = ctx.files.content(request.account, request.params.id);
  reply
    .header("content-type", "application/octet-stream")
    .header("content-length", String(record.bytes))
    .header("content-disposition", `attachment; filename*=UTF-8''${encodeURIComponent(record.filename)}`);
  return reply.send(body instanceof Readable ? body : Readable.from(body));
}
