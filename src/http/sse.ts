// Server-sent events as the openai client parses them: `data: <json>` frames, a final
// `data: [DONE]`, and a failure after the headers went out as a `data: {"error": …}` frame.
import type { FastifyReply } from "fastify";
import { toIngotError } from "./errors.ts";
import { errorBody } from "./errors.ts";
import type { Surface } from "./errors.ts";

export async function sendSse(reply: FastifyReply, surface: Surface, frames: AsyncIterable<object>, onError?: (e: unknown) => void): Promise<void> {
  await writeEventStream(reply, frames, {
    frame: (f) => `data: ${JSON.stringify(f)}\n\n`,
    done: "data: [DONE]\n\n",
    error: (e) => {
      onError?.(e);
      return `data: ${JSON.stringify(errorBody(surface, toIngotError(e)))}\n\n`;
    },
  });
}

/**
 * Writes an event stream: each item as `frame(item)`, then `done`; an error after the headers
 * went out becomes the frame `error(e)`. Shared by chat/completions streaming and the Responses
 * API's `event:`/`data:` frames.
 */
export async function writeEventStream<T>(reply: FastifyReply, items: AsyncIterable<T>, format: { frame: (item: T) => string; done?: string; error: (e: unknown) => string }): Promise<void> {
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    ...(reply.getHeaders() as Record<string, string>),
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
    connection: "keep-alive",
    "x-accel-buffering": "no",
  });
  // Frames that come in one turn of the event loop (a runner sends coalesced tokens in one
  // message) leave as one chunk in one socket write: one wakeup of the client instead of one
  // per frame. (res.cork() does not do this: on uncork, Node writes the chunk's size line, each
  // buffered frame and the closing CRLF with a syscall each, and on loopback every one of those
  // wakes the client.)
  let pending = "";
  const flush = () => {
    if (!pending) return;
    const text = pending;
    pending = "";
    if (!raw.destroyed) raw.write(text);
  };
  try {
    // A client that goes away stops the loop, which returns the items' iterator (freeing a generation's sequence at once).
    for await (const item of items) {
      if (raw.destroyed) break;
      if (!pending) setImmediate(flush);
      pending += format.frame(item);
    }
    pending += format.done ?? "";
  } catch (e) {
    pending += format.error(e);
  } finally {
    // The rest and the end of the chunked body go in one write.
    const rest = pending;
    pending = "";
    if (raw.destroyed) raw.end();
    else raw.end(rest);
  }
}
