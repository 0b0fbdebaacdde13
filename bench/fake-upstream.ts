// Child-process entry for bench/gateway-overhead.ts --upstream fake: an OpenAI-compatible server
// that answers every chat request at once with the same 8-token reply (streamed or whole, with
// usage), keeping connections alive. With no model competing for the CPU, what Ingot adds is
// measured alone. Prints `READY <port>`.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

const tokens = ["The", " sea", " is", " wide", " and", " deep", " and", " blue"];
const id = "chatcmpl-fake";
const whole = JSON.stringify({
  id,
  object: "chat.completion",
  created: 0,
  model: "fake",
  choices: [{ index: 0, message: { role: "assistant", content: tokens.join("") }, finish_reason: "length" }],
  usage: { prompt_tokens: 16, completion_tokens: tokens.length, total_tokens: 16 + tokens.length },
});
const chunk = (delta: object, finish: string | null) => `data: ${JSON.stringify({ id, object: "chat.completion.chunk", created: 0, model: "fake", choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
const stream =
  chunk({ role: "assistant", content: null }, null) +
  tokens.map((t, i) => chunk({ content: t }, i === tokens.length - 1 ? "length" : null)).join("") +
  `data: ${JSON.stringify({ id, object: "chat.completion.chunk", created: 0, model: "fake", choices: [], usage: { prompt_tokens: 16, completion_tokens: tokens.length, total_tokens: 16 + tokens.length } })}\n\ndata: [DONE]\n\n`;

const server = createServer((req, res) => {
  let body = "";
  req.on("data", (c) => (body += c));
  req.on("end", () => {
    if (req.url === "/v1/models" || req.url === "/health") return res.end('{"object":"list","data":[{"id":"fake","object":"model"}]}');
    if (req.url !== "/v1/chat/completions") return res.writeHead(404).end("{}");
    if (JSON.parse(body).stream) res.writeHead(200, { "content-type": "text/event-stream" }).end(stream);
    else res.writeHead(200, { "content-type": "application/json" }).end(whole);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => process.stdout.write(`READY ${(server.address() as AddressInfo).port}\n`));
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
