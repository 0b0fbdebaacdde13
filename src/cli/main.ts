// The `ingot` command: dispatches to one module per subcommand.
import { CliError } from "./arm-client.ts";
import { deploymentCommand } from "./commands/deployment.ts";
import { keysCommand } from "./commands/keys.ts";
import { makeModelCommand } from "./commands/make-model.ts";
import { modelsCommand } from "./commands/models.ts";
import { spCommand } from "./commands/sp.ts";
import { tokenCommand } from "./commands/token.ts";
import { upCommand, UsageError } from "./commands/up.ts";

const HELP = `Usage: ingot <command> [options]

Commands:
  up                 start the server (see: ingot up --help)
  token              print an access token for the local admin (see: ingot token --help)
  sp                 service principals: create, list, delete (see: ingot sp --help)
  deployment         create, list, show, delete deployments (az cognitiveservices account deployment flags)
  keys               list or regenerate an account's keys
  models             the model catalog and weights cache: list, show, add, pull, remove (see: ingot models --help)
  dev make-model     build a deterministic GGUF model (see: ingot dev make-model --help)
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case "up":
      return upCommand(rest);
    case "token":
      return tokenCommand(rest);
    case "sp":
      return spCommand(rest);
    case "deployment":
      return deploymentCommand(rest);
    case "keys":
      return keysCommand(rest);
    case "models":
      return modelsCommand(rest);
    case "dev":
      if (rest[0] === "make-model") return makeModelCommand(rest.slice(1));
      process.stderr.write(`ingot dev: unknown subcommand '${rest[0] ?? ""}'. Try: ingot dev make-model --help\n`);
      return 2;
    case undefined:
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(HELP);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`ingot: unknown command '${command}'.\n${HELP}`);
      return 2;
  }
}

try {
  const code = await main(process.argv.slice(2));
  process.exitCode = code;
} catch (e) {
  if (e instanceof CliError) {
    process.stderr.write(`ingot: ${e.message}\n`);
    process.exitCode = e.exitCode;
  } else if (e instanceof UsageError || (e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
    process.stderr.write(`ingot: ${(e as Error).message}\n`);
    process.exitCode = 2;
  } else throw e;
}
