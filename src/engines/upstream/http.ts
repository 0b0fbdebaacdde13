// A small HTTP client for OpenAI-compatible upstreams on node:http (keep-alive agents, no
// per-request allocation beyond the request itself: the gateway overhead is measured in
// bench/gateway-overhead.ts), with the two timeouts an upstream needs: until the reply's
// headers, and between body chunks. Plus the server-sent-events reader for streamed replies.
import { Agent as HttpAgent, request as httpRequest } from "node:http";
import type { IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";

/** Why a request to an upstream failed without a usable HTTP reply. */
export class UpstreamTransportError extends Error {
  readonly reason: "connect" | "timeout" | "closed" | "aborted";
  constructor(reason: UpstreamTransportError["reason"], message: string) {
    super(message);
    this.name = "UpstreamTransportError";
    this.reason = reason;
  }
}

class StaleSocketError extends Error {}

const IDLE_SOCKET_MS = 4_000;

export interface UpstreamReply {
  status: number;
  headers: IncomingMessage["headers"];
  /** The body, chunk by chunk; throws UpstreamTransportError on an idle timeout, a reset or the caller's abort. */
  body: AsyncIterable<Buffer>;
  /** Discards the rest of the body (and the connection, if the body is not finished). */
  discard(): void;
}

export class UpstreamClient {
  // Idle kept-alive sockets close after 4 s: servers commonly drop theirs after 5 s (llama-server's
  // HTTP library, uvicorn under vLLM, Node), and a request on a socket just dropped fails.
  #http = new HttpAgent({ keepAlive: true, maxSockets: 512, timeout: IDLE_SOCKET_MS });
  #https = new HttpsAgent({ keepAlive: true, maxSockets: 512, timeout: IDLE_SOCKET_MS });

  /**
   * Sends one request; resolves with the reply once its headers arrive. `timeoutMs` bounds the wait
   * for the headers and, afterwards, each wait for the next body chunk.
   */
  async send(url: URL, init: { method: string; headers: Record<string, string>; body?: string; timeoutMs: number; signal?: AbortSignal }): Promise<UpstreamReply> {
    try {
      return await this.#send(url, init, false);
    } catch (e) {
      // A kept-alive connection the server had just closed (llama-server closes every connection
      // after a streamed reply, a moment after the reply ends): the request never reached it. Again,
      // on a connection of its own, which cannot be stale.
      if (e instanceof StaleSocketError) return this.#send(url, init, true);
      throw e;
    }
  }

  #send(url: URL, init: { method: string; headers: Record<string, string>; body?: string; timeoutMs: number; signal?: AbortSignal }, fresh: boolean): Promise<UpstreamReply> {
    return new Promise((resolve, reject) => {
      if (init.signal?.aborted) return reject(new UpstreamTransportError("aborted", "the request was cancelled"));
      const https = url.protocol === "https:";
      const headers: Record<string, string> = { ...init.headers };
      if (init.body !== undefined) {
        headers["content-type"] ??= "application/json";
        headers["content-length"] = String(Buffer.byteLength(init.body));
      }
      const req = (https ? httpsRequest : httpRequest)(url, { method: init.method, headers, agent: fresh ? false : https ? this.#https : this.#http });
      let settled = false;
      let timer: ReturnType<typeof setTimeout> | undefined = setTimeout(() => {
        req.destroy(new UpstreamTransportError("timeout", `no reply within ${init.timeoutMs} ms`));
      }, init.timeoutMs);
      const onAbort = () => req.destroy(new UpstreamTransportError("aborted", "the request was cancelled"));
      init.signal?.addEventListener("abort", onAbort, { once: true });
      const cleanup = () => {
        clearTimeout(timer);
        timer = undefined;
        init.signal?.removeEventListener("abort", onAbort);
      };
      req.on("error", (e: Error & { code?: string }) => {
        if (settled) return;
        settled = true;
        cleanup();
        if (req.reusedSocket && (e.code === "ECONNRESET" || e.code === "EPIPE")) return reject(new StaleSocketError());
        reject(e instanceof UpstreamTransportError ? e : new UpstreamTransportError("connect", `${e.code ?? e.name}: ${e.message}`));
      });
      req.on("response", (res) => {
        settled = true;
        clearTimeout(timer);
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: readBody(res, init.timeoutMs, init.signal, cleanup),
          discard: () => {
            cleanup();
            if (!res.complete) res.destroy();
            else res.resume();
          },
        });
      });
      req.end(init.body);
    });
  }

  close(): void {
    this.#http.destroy();
    this.#https.destroy();
  }
}

async function* readBody(res: IncomingMessage, idleMs: number, signal: AbortSignal | undefined, done: () => void): AsyncGenerator<Buffer> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => res.destroy(new UpstreamTransportError("timeout", `the upstream sent nothing for ${idleMs} ms`)), idleMs);
  };
  const onAbort = () => res.destroy(new UpstreamTransportError("aborted", "the request was cancelled"));
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    arm();
    for await (const chunk of res) {
      arm();
      yield chunk as Buffer;
    }
    if (!res.complete) throw new UpstreamTransportError("closed", "the upstream closed the connection before the reply was complete");
  } catch (e) {
    if (e instanceof UpstreamTransportError) throw e;
    throw new UpstreamTransportError("closed", `the upstream connection failed mid-reply (${(e as Error).message})`);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
    done();
    if (!res.complete) res.destroy();
  }
}

/** The whole body as text (error replies, non-streamed JSON). At most `limit` bytes are kept. */
export async function readText(reply: UpstreamReply, limit = 4 << 20): Promise<string> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of reply.body) {
    if (size < limit) parts.push(chunk);
    size += chunk.length;
  }
  return Buffer.concat(parts).toString("utf8");
}

/**
 * Server-sent events: yields the `data` of each event (multi-line data joined by "\n"), in order.
 * Comments and other fields are skipped. Ends with the body.
 */
export async function* sseData(body: AsyncIterable<Buffer>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffer = "";
  let data: string[] = [];
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      let line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (line.endsWith("\r")) line = line.slice(0, -1);
      if (line === "") {
        if (data.length) yield data.join("\n");
        data = [];
      } else if (line.startsWith("data:")) {
        data.push(line.charCodeAt(5) === 32 ? line.slice(6) : line.slice(5));
      }
    }
  }
  buffer += decoder.decode();
  if (buffer.startsWith("data:")) data.push(buffer.charCodeAt(5) === 32 ? buffer.slice(6) : buffer.slice(5));
  if (data.length) yield data.join("\n");
}
