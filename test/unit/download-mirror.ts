// A local Hugging Face-style mirror for download tests: serves registered files at
// /{owner}/{repo}/resolve/{revision}/{path} with Range support, records every request, and
// can misbehave on demand (cut the connection mid-file, ignore Range, answer an error).
import { createServer } from "node:http";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface MirrorRequest {
  path: string;
  range: string | undefined;
  authorization: string | undefined;
  status: number;
  /** Body bytes the mirror sent (before any cut). */
  bytesSent: number;
}

export class Mirror {
  readonly requests: MirrorRequest[] = [];
  /** Next request only: send this many body bytes, then drop the connection. */
  cutNextAfter: number | undefined;
  /** Answer 200 with the whole file even when asked for a range (a server without Range support). */
  ignoreRange = false;
  /** Answer every request with this status. */
  failWith: number | undefined;
  /** Hold each response this long before sending (to overlap concurrent callers). */
  delayMs = 0;
  #files = new Map<string, Buffer>();
  #server: Server;
  url = "";

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(): Promise<Mirror> {
    const server = createServer();
    const mirror = new Mirror(server);
    server.on("request", (req, res) => void mirror.#handle(req, res));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    mirror.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return mirror;
  }

  /** Serves `body` for an hf: URI's file, e.g. put("owner/repo", "main", "f.gguf", bytes). */
  put(repo: string, revision: string, path: string, body: Buffer): void {
    this.#files.set(`/${repo}/resolve/${revision}/${path}`, body);
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((r) => this.#server.close(() => r()));
  }

  async #handle(req: import("node:http").IncomingMessage, res: import("node:http").ServerResponse): Promise<void> {
    const record: MirrorRequest = { path: decodeURIComponent(req.url ?? ""), range: req.headers.range, authorization: req.headers.authorization, status: 0, bytesSent: 0 };
    this.requests.push(record);
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    const body = this.#files.get(record.path);
    const reply = (status: number, headers: Record<string, string | number> = {}, data?: Buffer) => {
      record.status = status;
      res.writeHead(status, headers);
      if (!data) return void res.end();
      const cut = this.cutNextAfter;
      this.cutNextAfter = undefined;
      if (cut !== undefined && cut < data.length) {
        record.bytesSent = cut;
        res.write(data.subarray(0, cut), () => setTimeout(() => res.socket?.destroy(), 30));
        return;
      }
      record.bytesSent = data.length;
      res.end(data);
    };
    if (this.failWith) return reply(this.failWith, { "content-type": "text/plain" }, Buffer.from("error"));
    if (!body) return reply(404, { "content-type": "text/plain" }, Buffer.from("Entry not found"));
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? "");
    if (m && !this.ignoreRange) {
      const start = Number(m[1]);
      if (start >= body.length) return reply(416, { "content-range": `bytes */${body.length}` });
      return reply(206, { "content-range": `bytes ${start}-${body.length - 1}/${body.length}`, "content-length": body.length - start, "accept-ranges": "bytes" }, body.subarray(start));
    }
    return reply(200, { "content-length": body.length, "accept-ranges": "bytes" }, body);
  }
}
