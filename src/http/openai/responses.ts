// The Responses API (issue 15 item 1) on OpenAI v1 (/openai/v1/responses), the Foundry project
// endpoint (/api/projects/{p}/openai/v1/responses) and Azure's dated route
// (/openai/responses?api-version=2025-03-01-preview or later). Generation goes through the same
// content-filter path as chat completions (a filtered prompt is the same 400 content_filter).
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { errors, IngotError } from "../../core/errors.ts";
import type { ChatMessage } from "../../core/generation/types.ts";
import { autoDeployment } from "../../core/router/router.ts";
import { chatPromptText, filteredGeneration } from "../../core/safety/filter.ts";
import { AZURE_OPENAI_VERSIONS, checkApiVersion } from "../api-versions.ts";
import type { AppContext } from "../context.ts";
import { toIngotError } from "../errors.ts";
import { limitsOnReply } from "../rate-limit-headers.ts";
import { writeEventStream } from "../sse.ts";
import { clientGone, withLimits } from "./handlers.ts";
import { ResponseBuilder, type OutputItem, type ResponseEvent, type ResponseJson } from "./responses-events.ts";
import { conversationFor, newId, parseResponsesRequest } from "./responses-request.ts";

/** Azure serves Responses from 2025-03-01-preview on. */
export const RESPONSES_API_VERSIONS = AZURE_OPENAI_VERSIONS.filter((v) => v >= "2025-03-01-preview" && v.endsWith("preview"));

type IdParams = { Params: { id: string }; Querystring: Record<string, string | undefined> };

function deploymentOf(body: unknown): string {
  const model = (body as { model?: unknown } | null)?.model;
  if (model === undefined) throw errors.missing("model");
  if (typeof model !== "string" || !model) throw errors.invalid("Invalid 'model': expected the name of a deployment (a non-empty string).", "model");
  return model;
}

/** What the model said, as the next turn of a chain sees it. */
function assistantTurn(output: OutputItem[]): ChatMessage {
  const text = output.flatMap((i) => (i.type === "message" ? i.content.map((c) => c.text) : [])).join("");
  const calls = output.flatMap((i) => (i.type === "function_call" ? [{ id: i.call_id, name: i.name, arguments: i.arguments }] : []));
  return { role: "assistant", content: text, ...(calls.length ? { toolCalls: calls } : {}) };
}

async function create(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, apiVersion: string | undefined) {
  const body = request.body;
  if (typeof body !== "object" || body === null || Array.isArray(body))
    throw errors.invalid('The request body must be a JSON object, e.g. {"model": "<deployment>", "input": "Hello"}.', null, "invalid_request_body");
  const named = deploymentOf(body);
  // "auto": the account's model router (issue 15 item 4), if it has one.
  const deployment = autoDeployment(named, ctx.deployments.list(request.account), ctx.catalog) ?? named;
  return withLimits(ctx, request, reply, deployment, async () => {
    const req = parseResponsesRequest(body, deployment);
    const chain = ctx.responses.conversationBefore(request.account, req.previousResponseId);
    const messages = conversationFor(req, chain);
    const signal = clientGone(reply);
    const call = { account: request.account, deployment, prompts: [chatPromptText(messages)], streaming: req.stream, choices: 1, signal };
    const stream = await filteredGeneration(ctx.safety, call, () => ctx.generation.chat(request.account, { ...req.chat, messages }, signal, limitsOnReply(reply, apiVersion)));
    const builder = new ResponseBuilder({ id: newId("resp"), created_at: stream.created, model: stream.model, ...req.echo });
    const store = (response: ResponseJson) => {
      if (!req.store) return;
      ctx.responses.save({
        id: response.id,
        account: request.account,
        body: response as unknown as Record<string, unknown>,
        inputItems: req.inputItems,
        conversation: [...chain, ...req.input, assistantTurn(builder.output)],
      });
    };
    if (!req.stream) {
      for await (const c of stream.chunks) if (c.type !== "content_filter") builder.push(c);
      const { response } = builder.finish(stream.usage);
      store(response);
      return response;
    }
    async function* events(): AsyncGenerator<ResponseEvent> {
      yield* builder.start();
      for await (const c of stream.chunks) if (c.type !== "content_filter") yield* builder.push(c);
      const { events, response } = builder.finish(stream.usage);
      // Stored before response.completed leaves, so a client that chains at once finds it.
      store(response);
      yield* events;
    }
    return sendEvents(reply, events(), (e) => {
      request.log.error({ err: e }, "response stream failed");
      const err = toIngotError(e);
      return builder.error(err.code, err.message, err.param);
    });
  });
}

/**
 * Server-sent events as the Responses API sends them: `event: <type>` and `data: <json>`. A
 * client that goes away stops the loop, which returns the generation's iterator (freeing its
 * sequence at once, as chat streaming does).
 */
function sendEvents(reply: FastifyReply, events: AsyncIterable<ResponseEvent>, onError: (e: unknown) => ResponseEvent): Promise<void> {
  const frame = (e: ResponseEvent) => `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`;
  return writeEventStream(reply, events, { frame, error: (e) => frame(onError(e)) });
}

/** The stored events of a finished response, for `GET …?stream=true` (after `starting_after`). */
export function replayEvents(response: ResponseJson): ResponseEvent[] {
  const events: ResponseEvent[] = [];
  let seq = 0;
  const add = (type: string, fields: Record<string, unknown>) => events.push({ type, sequence_number: seq++, ...fields });
  const empty = { ...response, status: "in_progress", output: [], output_text: "", usage: null, incomplete_details: null };
  add("response.created", { response: empty });
  add("response.in_progress", { response: empty });
  response.output.forEach((item, output_index) => {
    if (item.type === "message") {
      add("response.output_item.added", { output_index, item: { ...item, status: "in_progress", content: [] } });
      item.content.forEach((part, content_index) => {
        add("response.content_part.added", { item_id: item.id, output_index, content_index, part: { ...part, text: "" } });
        if (part.text) add("response.output_text.delta", { item_id: item.id, output_index, content_index, delta: part.text, logprobs: [] });
        add("response.output_text.done", { item_id: item.id, output_index, content_index, text: part.text, logprobs: [] });
        add("response.content_part.done", { item_id: item.id, output_index, content_index, part });
      });
    } else {
      add("response.output_item.added", { output_index, item: { ...item, status: "in_progress", arguments: "" } });
      add("response.function_call_arguments.delta", { item_id: item.id, output_index, delta: item.arguments });
      add("response.function_call_arguments.done", { item_id: item.id, output_index, name: item.name, arguments: item.arguments });
    }
    add("response.output_item.done", { output_index, item });
  });
  add(response.status === "incomplete" ? "response.incomplete" : response.status === "failed" ? "response.failed" : "response.completed", { response });
  return events;
}

async function retrieve(ctx: AppContext, request: FastifyRequest<IdParams>, reply: FastifyReply) {
  const stored = ctx.responses.require(request.account, request.params.id);
  const response = stored.body as unknown as ResponseJson;
  const q = request.query;
  if (q.stream !== "true") return response;
  const after = q.starting_after === undefined ? -1 : Number(q.starting_after);
  if (!Number.isInteger(after) || after < -1) throw errors.invalid("Invalid 'starting_after': expected a non-negative integer (the sequence_number of the last event you have).", "starting_after");
  const events = replayEvents(response).filter((e) => e.sequence_number > after);
  return sendEvents(reply, (async function* () {
    yield* events;
  })(), () => {
    throw new Error("unreachable");
  });
}

function inputItems(ctx: AppContext, request: FastifyRequest<IdParams>) {
  const stored = ctx.responses.require(request.account, request.params.id);
  const q = request.query;
  const limit = q.limit === undefined ? 20 : Number(q.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw errors.invalid(`Invalid 'limit': ${q.limit}. Expected an integer from 1 to 100.`, "limit");
  const order = q.order ?? "desc";
  if (order !== "asc" && order !== "desc") throw errors.invalid(`Invalid 'order': '${order}'. Expected 'asc' or 'desc'.`, "order");
  let items = order === "asc" ? [...stored.inputItems] : [...stored.inputItems].reverse();
  if (q.after !== undefined) {
    const at = items.findIndex((i) => i.id === q.after);
    if (at < 0) throw errors.invalid(`Invalid 'after': no input item '${q.after}' in response '${stored.id}'. Send the id of an item from the previous page (its last_id).`, "after");
    items = items.slice(at + 1);
  }
  const data = items.slice(0, limit);
  return { object: "list", data, first_id: (data[0]?.id as string | undefined) ?? null, last_id: (data.at(-1)?.id as string | undefined) ?? null, has_more: items.length > limit };
}

export function registerResponsesRoutes(app: FastifyInstance, ctx: AppContext): void {
  const config = { config: { surface: "openai" as const } };
  const dated = (request: FastifyRequest) => {
    const version = (request.query as Record<string, string | undefined>)["api-version"];
    checkApiVersion(version, RESPONSES_API_VERSIONS, ctx.settings.skipApiVersionCheck);
    return version;
  };
  const routes = (prefix: string, version: (request: FastifyRequest) => string | undefined) => {
    app.post(`${prefix}/responses`, config, async (request, reply) => create(ctx, request, reply, version(request)));
    app.get<IdParams>(`${prefix}/responses/:id`, config, async (request, reply) => {
      version(request);
      return retrieve(ctx, request, reply);
    });
    app.delete<IdParams>(`${prefix}/responses/:id`, config, async (request) => {
      version(request);
      ctx.responses.delete(request.account, request.params.id);
      return { id: request.params.id, object: "response.deleted", deleted: true };
    });
    app.post<IdParams>(`${prefix}/responses/:id/cancel`, config, async (request) => {
      version(request);
      const stored = ctx.responses.require(request.account, request.params.id);
      // Only background responses can be cancelled; Ingot's responses are finished by the time they are stored.
      throw new IngotError("invalid_request", "invalid_request", `Response '${stored.id}' cannot be cancelled: only responses created with background=true can be cancelled, and this one is already ${String(stored.body.status)}.`, { param: null });
    });
    app.get<IdParams>(`${prefix}/responses/:id/input_items`, config, async (request) => {
      version(request);
      return inputItems(ctx, request);
    });
  };
  routes("/openai/v1", () => undefined);
  routes("/api/projects/:project/openai/v1", () => undefined);
  routes("/openai", dated);
  routes("/api/projects/:project/openai", dated);
}
