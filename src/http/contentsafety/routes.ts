// Azure AI Content Safety's data plane under /contentsafety (issue 14 item 4; reference
// azure-api-2.md §2): translation only; the rules are core/safety/content-safety.ts. The
// pipeline authenticates these routes as the other data-plane surfaces (an account key in
// Ocp-Apim-Subscription-Key or api-key, or a Cognitive Services bearer token) and shapes their
// errors as Azure.Core's (errors.ts, surface "contentsafety").
//
// The colon in `text:analyze` is literal: Fastify's router reads ':' as a parameter marker, so
// fixed routes escape it ('::'); the blocklist actions ({name}:addOrUpdateBlocklistItems) share
// one parameter route and are split at the last colon here.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { checkApiVersion } from "../api-versions.ts";
import type { AppContext } from "../context.ts";
import { csErrors, type ContentSafetyService } from "../../core/safety/content-safety.ts";
import { IngotError } from "../../core/errors.ts";

export const CONTENT_SAFETY_VERSIONS = ["2023-10-01", "2024-09-01"];

const BASE = "/contentsafety";
const READ = { config: { surface: "contentsafety" as const } };
// Changing a blocklist through a token needs what writing files does (Contributor or Cognitive Services OpenAI Contributor); keys can do everything.
const WRITE = { config: { surface: "contentsafety" as const, action: "authoring" as const } };

type Query = Record<string, string | undefined>;

function service(ctx: AppContext, request: FastifyRequest): ContentSafetyService {
  checkApiVersion((request.query as Query)["api-version"], CONTENT_SAFETY_VERSIONS, ctx.settings.skipApiVersionCheck);
  if (!ctx.contentSafety) throw new IngotError("unavailable", "ServiceUnavailable", "Content Safety is not configured on this server.");
  return ctx.contentSafety;
}

/** A non-negative integer query parameter (top, skip, maxpagesize), or undefined. */
function intParam(q: Query, name: string, min: number): number | undefined {
  const v = q[name];
  if (v === undefined || v === "") return undefined;
  if (!/^\d{1,9}$/.test(v) || Number(v) < min) throw csErrors.invalid(`Query parameter '${name}' must be an integer of at least ${min}; got '${v.slice(0, 20)}'.`, name);
  return Number(v);
}

export function registerContentSafetyRoutes(app: FastifyInstance, ctx: AppContext): void {
  // PATCH bodies are JSON merge patches (the SDK sends application/merge-patch+json).
  if (!app.hasContentTypeParser("application/merge-patch+json"))
    app.addContentTypeParser("application/merge-patch+json", { parseAs: "string" }, (_request, body, done) => {
      const text = (body as string).trim();
      if (!text) return done(null, undefined);
      try {
        done(null, JSON.parse(text));
      } catch (e) {
        done(csErrors.invalid(`The request body is not valid JSON: ${(e as Error).message}`), undefined);
      }
    });

  app.post(`${BASE}/text::analyze`, READ, async (request) => {
    const cs = service(ctx, request);
    return cs.analyzeText(request.account, cs.parseAnalyzeText(request.body));
  });

  app.post(`${BASE}/text::shieldPrompt`, READ, async (request) => service(ctx, request).shieldPrompt(request.body));

  app.post(`${BASE}/text::detectProtectedMaterial`, READ, async (request) => service(ctx, request).detectProtectedMaterial(request.body));

  app.post(`${BASE}/image::analyze`, READ, async (request) => {
    service(ctx, request);
    // No image classifier exists in Ingot: say so rather than answer a made-up analysis.
    throw csErrors.invalid("Ingot does not classify images: image:analyze is not available on this server. Analyze text with POST /contentsafety/text:analyze.", "image");
  });

  app.get(`${BASE}/text/blocklists`, READ, async (request) => ({ value: service(ctx, request).listBlocklists(request.account) }));

  app.get(`${BASE}/text/blocklists/:blocklistName`, READ, async (request) => {
    const { blocklistName } = request.params as { blocklistName: string };
    return service(ctx, request).getBlocklist(request.account, blocklistName);
  });

  app.patch(`${BASE}/text/blocklists/:blocklistName`, WRITE, async (request, reply) => {
    const { blocklistName } = request.params as { blocklistName: string };
    const { blocklist, created } = service(ctx, request).patchBlocklist(request.account, blocklistName, request.body);
    return reply.code(created ? 201 : 200).send(blocklist);
  });

  app.delete(`${BASE}/text/blocklists/:blocklistName`, WRITE, async (request, reply) => {
    const { blocklistName } = request.params as { blocklistName: string };
    service(ctx, request).deleteBlocklist(request.account, blocklistName);
    return reply.code(204).send();
  });

  // {blocklistName}:addOrUpdateBlocklistItems and {blocklistName}:removeBlocklistItems.
  app.post(`${BASE}/text/blocklists/:blocklistAction`, WRITE, async (request: FastifyRequest, reply: FastifyReply) => {
    const cs = service(ctx, request);
    const { blocklistAction } = request.params as { blocklistAction: string };
    const at = blocklistAction.lastIndexOf(":");
    const name = at > 0 ? blocklistAction.slice(0, at) : blocklistAction;
    const action = at > 0 ? blocklistAction.slice(at + 1).toLowerCase() : "";
    if (action === "addorupdateblocklistitems") return cs.addOrUpdateItems(request.account, name, request.body);
    if (action === "removeblocklistitems") {
      cs.removeItems(request.account, name, request.body);
      return reply.code(204).send();
    }
    throw new IngotError(
      "not_found",
      "ResourceNotFound",
      `No action POST /contentsafety/text/blocklists/${blocklistAction.slice(0, 100)}. A blocklist's actions are {blocklistName}:addOrUpdateBlocklistItems and {blocklistName}:removeBlocklistItems.`,
    );
  });

  app.get(`${BASE}/text/blocklists/:blocklistName/blocklistItems`, READ, async (request) => {
    const cs = service(ctx, request);
    const { blocklistName } = request.params as { blocklistName: string };
    const q = request.query as Query;
    const page = { top: intParam(q, "top", 0), skip: intParam(q, "skip", 0), maxpagesize: intParam(q, "maxpagesize", 1) };
    const { value, next } = cs.listItems(request.account, blocklistName, page);
    if (!next) return { value };
    const link = new URL(`${request.protocol}://${request.host}${request.url}`);
    link.searchParams.set("skip", String(next.skip));
    if (next.top !== undefined) link.searchParams.set("top", String(next.top));
    return { value, nextLink: link.toString() };
  });

  app.get(`${BASE}/text/blocklists/:blocklistName/blocklistItems/:blocklistItemId`, READ, async (request) => {
    const { blocklistName, blocklistItemId } = request.params as { blocklistName: string; blocklistItemId: string };
    return service(ctx, request).getItem(request.account, blocklistName, blocklistItemId);
  });
}
