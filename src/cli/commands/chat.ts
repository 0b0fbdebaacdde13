// `ingot chat --deployment NAME`: a conversation with a deployment, streamed as it is generated.
// On a terminal it is interactive (prompt `> `, /reset, /exit, Ctrl-C stops an answer); with
// stdin from a pipe or file every line is one user message, so it is scriptable.
import { createInterface } from "node:readline";
import { CliError } from "../arm-client.ts";
import { numberFlag, parseCommand, required } from "../args.ts";
import { DATA_HELP, DATA_OPTIONS, DataClient } from "../data-client.ts";

const HELP = `Usage: ingot chat --deployment NAME [--system TEXT] [--temperature T] [--max-tokens N] [--message TEXT] [options]

Chats with a deployment of a running Ingot through its chat completions API, streaming each
answer as it is generated and keeping the conversation's history. After each answer the token
usage and the time to the first token go to stderr.

On a terminal: type a message at the '> ' prompt; /reset clears the history, /exit or Ctrl-D
ends, Ctrl-C stops an answer. With stdin from a pipe or a file, each line is one message and
each answer is printed on its own line(s); the first error ends the session with exit status 1.

Options:
  --deployment NAME           the deployment to talk to (e.g. tiny-chat)
  --system TEXT               a system message that starts the conversation
  --temperature T             sampling temperature (0-2; default the deployment's)
  --max-tokens N              at most N tokens per answer
  --message TEXT              send this one message, print the answer and exit
${DATA_HELP}

Examples:
  ingot chat --deployment tiny-chat
  printf 'Hello\\nAnd again\\n' | ingot chat --deployment tiny-chat --max-tokens 40
  ingot chat --deployment tiny-chat --message "Say hello" --temperature 0
`;

const OPTIONS = {
  ...DATA_OPTIONS,
  deployment: { type: "string" },
  system: { type: "string" },
  temperature: { type: "string" },
  "max-tokens": { type: "string" },
  message: { type: "string" },
} as const;

interface Message {
  role: "system" | "user" | "assistant";
  content: string;
}

export async function chatCommand(argv: string[]): Promise<number> {
  const cmd = "ingot chat";
  const { values: v } = parseCommand(cmd, argv, OPTIONS);
  if (v.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const deployment = required(cmd, v, "deployment", "--deployment tiny-chat");
  const temperature = numberFlag(cmd, v, "temperature", { min: 0, max: 2 });
  const maxTokens = numberFlag(cmd, v, "max-tokens", { integer: true, min: 1 });
  const client = DataClient.fromValues(v);
  const system = typeof v.system === "string" ? [{ role: "system" as const, content: v.system }] : [];
  const history: Message[] = [...system];
  const path = `/openai/deployments/${encodeURIComponent(deployment)}/chat/completions`;

  /** Sends `text` with the history so far, streams the answer to stdout; usage and timing to stderr. */
  const ask = async (text: string, signal?: AbortSignal): Promise<void> => {
    history.push({ role: "user", content: text });
    const started = performance.now();
    let firstAt: number | undefined;
    let content = "";
    let usage: { prompt_tokens?: number; completion_tokens?: number; total_tokens?: number } | undefined;
    let finish: string | undefined;
    try {
      const body = { messages: history, stream: true, stream_options: { include_usage: true }, temperature, max_tokens: maxTokens };
      for await (const frame of client.stream(path, body, signal)) {
        const choice = frame.choices?.[0];
        const delta = choice?.delta?.content;
        if (typeof delta === "string" && delta) {
          firstAt ??= performance.now();
          process.stdout.write(delta);
          content += delta;
        }
        if (choice?.finish_reason) finish = choice.finish_reason;
        if (frame.usage) usage = frame.usage;
      }
    } catch (e) {
      history.pop();
      if (content) process.stdout.write("\n");
      throw e;
    }
    process.stdout.write("\n");
    history.push({ role: "assistant", content });
    const parts = [
      usage ? `usage: ${usage.prompt_tokens} prompt + ${usage.completion_tokens} completion = ${usage.total_tokens} tokens` : "usage: not reported",
      `first token ${firstAt === undefined ? "-" : `${Math.round(firstAt - started)} ms`}`,
      `total ${Math.round(performance.now() - started)} ms`,
    ];
    if (finish === "length") parts.push("cut at --max-tokens");
    if (finish === "content_filter") parts.push("stopped by the content filter");
    process.stderr.write(`[${parts.join(" · ")}]\n`);
  };

  if (typeof v.message === "string") {
    await ask(v.message);
    return 0;
  }

  const tty = Boolean(process.stdin.isTTY);
  const rl = createInterface({ input: process.stdin, output: tty ? process.stdout : undefined, terminal: tty, prompt: "> " });
  let current: AbortController | undefined;
  rl.on("SIGINT", () => {
    if (current) current.abort();
    else rl.close();
  });
  if (tty) {
    process.stderr.write(`Chatting with ${deployment} at ${client.endpoint}. /reset clears the history, /exit or Ctrl-D ends.\n`);
    rl.prompt();
  }
  try {
    for await (const raw of rl) {
      const line = raw.trim();
      if (line === "/exit" || line === "/quit") break;
      if (line === "/reset") {
        history.splice(0, history.length, ...system);
        process.stderr.write("[history cleared]\n");
      } else if (line.startsWith("/") && !line.startsWith("//")) {
        process.stderr.write(`[unknown command '${line}'; use /reset or /exit (start a message with // to send a slash)]\n`);
      } else if (line) {
        current = new AbortController();
        try {
          await ask(line.startsWith("//") ? line.slice(1) : line, current.signal);
        } catch (e) {
          if ((e as Error).name === "AbortError") process.stderr.write("[answer stopped]\n");
          else if (tty && e instanceof CliError) process.stderr.write(`ingot: ${e.message}\n`);
          else throw e;
        } finally {
          current = undefined;
        }
      }
      if (tty) rl.prompt();
    }
  } finally {
    rl.close();
  }
  if (tty) process.stdout.write("\n");
  return 0;
}
