// The `ingot` command: dispatches to one module per subcommand. Each is imported only when
// it runs, so a client command does not load the whole server first.
import { CliError } from "./arm-client.ts";
import { closest } from "./args.ts";

const HELP = `Usage: ingot <command> [options]

Commands:
  up                 start the server (see: ingot up --help)
  token              print an access token for the local admin (see: ingot token --help)
  sp                 service principals: create, list, delete (see: ingot sp --help)
  deployment         create, list, show, delete deployments (az cognitiveservices account deployment flags)
  keys               list or regenerate an account's keys
  models             the model catalog and weights cache: list, show, add, pull, remove (see: ingot models --help)
  files              upload, list, show, delete datasets (see: ingot files --help)
  jobs               fine-tuning jobs: create (--wait shows progress), list, show, events, checkpoints, cancel (see: ingot jobs --help)
  batch              Batch API jobs: create (--wait shows progress), list, show, cancel, download (see: ingot batch --help)
  ml                 Azure ML as az ml: job (create -f job.yaml, stream…), serverless-endpoint, online-endpoint,
                     online-deployment (see: ingot ml --help)
  chat               chat with a deployment, streamed (see: ingot chat --help)
  rai                content filtering: policy and blocklist (see: ingot rai --help)
  dev make-model     build a deterministic GGUF model (see: ingot dev make-model --help)

Every command takes --help. Examples:
  ingot up
  ingot files upload --file train.jsonl
  ingot jobs create --model tiny-chat --training-file train.jsonl --wait
  ingot chat --deployment tiny-chat
`;

function suggest(command: string): string {
  const hint = closest(command, ["up", "token", "sp", "deployment", "keys", "models", "files", "jobs", "batch", "ml", "chat", "rai", "dev"]);
  return hint ? ` Did you mean 'ingot ${hint}'?` : "";
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case "up":
      return (await import("./commands/up.ts")).upCommand(rest);
    case "token":
      return (await import("./commands/token.ts")).tokenCommand(rest);
    case "sp":
      return (await import("./commands/sp.ts")).spCommand(rest);
    case "deployment":
      return (await import("./commands/deployment.ts")).deploymentCommand(rest);
    case "keys":
      return (await import("./commands/keys.ts")).keysCommand(rest);
    case "models":
      return (await import("./commands/models.ts")).modelsCommand(rest);
    case "files":
      return (await import("./commands/files.ts")).filesCommand(rest);
    case "jobs":
      return (await import("./commands/jobs.ts")).jobsCommand(rest);
    case "batch":
      return (await import("./commands/batch.ts")).batchCommand(rest);
    case "ml":
      return (await import("./commands/ml.ts")).mlCommand(rest);
    case "chat":
      return (await import("./commands/chat.ts")).chatCommand(rest);
    case "rai":
      return (await import("./commands/rai.ts")).raiCommand(rest);
    case "dev":
      if (rest[0] === "make-model") return (await import("./commands/make-model.ts")).makeModelCommand(rest.slice(1));
      process.stderr.write(`ingot dev: unknown subcommand '${rest[0] ?? ""}'. Try: ingot dev make-model --help\n`);
      return 2;
    case undefined:
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(HELP);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`ingot: unknown command '${command}'.${suggest(command)}\n${HELP}`);
      return 2;
  }
}

try {
  const code = await main(process.argv.slice(2));
  process.exitCode = code;
} catch (e) {
  if (e instanceof CliError) {
    process.stderr.write(`${e.message.startsWith("ingot ") ? "" : "ingot: "}${e.message}\n`);
    process.exitCode = e.exitCode;
  } else if ((e as { code?: string }).code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
    // The commands that parse with node's parseArgs directly: say what to type instead.
    const flag = /'([^']+)'/.exec((e as Error).message)?.[1] ?? "";
    const words = process.argv.slice(2).filter((w) => !w.startsWith("-")).slice(0, 2);
    const command = ["ingot", ...words.slice(0, words[0] === "up" || words[0] === "token" ? 1 : 2)].join(" ");
    process.stderr.write(`${command}: unknown option '${flag}'. Run '${command} --help' to see its options.\n`);
    process.exitCode = 2;
  } else if ((e as Error)?.constructor?.name === "UsageError" || (e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
    process.stderr.write(`ingot: ${(e as Error).message}\n`);
    process.exitCode = 2;
  } else throw e;
}
