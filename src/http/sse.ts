// Server-sent events as the openai client parses them: `data: <json>` frames, a final
// `data: [DONE]`, and a failure after the headers went out as a `data: {"error": …}` frame.
import type { FastifyReply } from "fastify";
import { toIngotError } from "./errors.ts";
import { errorBody } from "./errors.ts";
import type { Surface } from "./errors.ts";

export async function sendSse(reply: FastifyReply, surface: Surface, frames: AsyncIterable<object>, onError?: (e: unknown) => void): Promise<void> {
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
  // message) leave in one socket write: one wakeup of the client instead of one per frame.
  let corked = false;
  const uncork = () => {
    if (!corked) return;
    corked = false;
    raw.uncork();
  };
  try {
    for await (const frame of frames) {
      if (raw.destroyed) break;
      if (!corked) {
        corked = true;
        raw.cork();
        setImmediate(uncork);
      }
      raw.write(`data: ${JSON.stringify(frame)}\n\n`);
    }
    if (!raw.destroyed) raw.write("data: [DONE]\n\n");
  } catch (e) {
    onError?.(e);
    if (!raw.destroyed) raw.write(`data: ${JSON.stringify(errorBody(surface, toIngotError(e)))}\n\n`);
  } finally {
    uncork();
    raw.end();
  }
}
