// `ingot rai policy|blocklist …`: an account's content-filter policies (raiPolicies), custom
// blocklists (raiBlocklists) and their items, over a running Ingot's ARM API, with the flag
// style of `ingot deployment`. Reference azure-api-2.md §1.
import { readFileSync } from "node:fs";
import { accountPath, ArmClient, CliError, printOutput } from "../arm-client.ts";
import { dispatch, outputFormat, parseCommand, required } from "../args.ts";
import type { OptionSpec, Values } from "../args.ts";

const COMMON = `common options:
  -n, --name ACCOUNT          account name (default ingot)
  -g, --resource-group RG     resource group (default ingot)
  --subscription ID           subscription (default 00000000-0000-0000-0000-000000000000)
  --endpoint URL              Ingot's address (default INGOT_ENDPOINT, else the server running
                              on --data-dir, else http://127.0.0.1:8080)
  --token TOKEN               bearer token (default INGOT_TOKEN, else one from the running server)
  --data-dir DIR              data dir of the running local server (default ./.ingot)
  -o, --output json|table|tsv output format (default json)`;

const COMMON_OPTIONS: OptionSpec = {
  name: { type: "string", short: "n" },
  "resource-group": { type: "string", short: "g" },
  subscription: { type: "string" },
  endpoint: { type: "string" },
  token: { type: "string" },
  "data-dir": { type: "string" },
  database: { type: "string" },
  output: { type: "string", short: "o" },
  help: { type: "boolean", short: "h" },
};

const HELP = `Usage: ingot rai <policy|blocklist> <subcommand> [options]

Content filtering of an account's deployments:
  policy      content-filter policies: list, show, create, update, delete (see: ingot rai policy --help)
  blocklist   custom blocklists: list, show, create, delete, and their items: item add, item list,
              item delete (see: ingot rai blocklist --help)

A deployment picks its policy with 'ingot deployment create --rai-policy NAME'
(default Microsoft.DefaultV2).
`;

const FILTER_KEYS: Record<string, string> = {
  hate: "Hate",
  sexual: "Sexual",
  violence: "Violence",
  selfharm: "Selfharm",
  jailbreak: "Jailbreak",
  indirectattack: "Indirect Attack",
  protectedmaterialtext: "Protected Material Text",
  protectedmaterialcode: "Protected Material Code",
  profanity: "Profanity",
};
const MULTI_LEVEL = new Set(["Hate", "Sexual", "Violence", "Selfharm"]);

const POLICY_HELP = `Usage: ingot rai policy <list|show|create|update|delete> [options]

show/delete/create/update:
  --policy-name NAME          the policy (built-ins Microsoft.Default and Microsoft.DefaultV2 are read-only)
create/update:
  --file policy.json          the policy as ARM's body ({"properties": {...}}) or its properties alone;
                              the flags below then change it
  --base NAME                 basePolicyName (default Microsoft.DefaultV2 on create)
  --mode MODE                 Default, Asynchronous_filter, Blocking or Deferred
  --filter CAT:SIDE[:LEVEL][:annotate]   repeatable. CAT: hate, sexual, violence, self_harm, jailbreak,
                              indirect_attack, protected_material_text, protected_material_code, profanity;
                              SIDE: prompt, completion or both; LEVEL: low, medium, high (the lowest
                              severity filtered, for the four harm categories), on or off;
                              annotate: annotate only, never block
  --blocklist NAME:SIDE[:annotate]   repeatable: attach a custom blocklist (SIDE prompt, completion or both)
  --remove-blocklist NAME     (update) detach a blocklist from both sides
${COMMON}

Examples:
  ingot rai policy list -o table
  ingot rai policy create --policy-name strict --base Microsoft.DefaultV2 --mode Asynchronous_filter \\
    --filter hate:prompt:low --filter violence:both:high --blocklist competitors:prompt
  ingot rai policy update --policy-name strict --filter jailbreak:prompt:off
  ingot rai policy create --policy-name from-file --file policy.json
  ingot rai policy delete --policy-name strict
`;

const BLOCKLIST_HELP = `Usage: ingot rai blocklist <list|show|create|delete> [options]
       ingot rai blocklist item <add|list|delete> [options]

  --blocklist-name NAME       the blocklist
  --description TEXT          (create) what the list is for
item add:
  --pattern TEXT              the item's pattern (plain: case-insensitive words; with --regex a
                              case-sensitive regular expression)
  --regex                     the pattern(s) are regular expressions
  --item-name NAME            the item's name (default: derived from the pattern)
  --file items.txt            add one item per non-empty line in one batch (addRaiBlocklistItems)
item delete:
  --item-name NAME            repeatable; several are deleted in one batch (deleteRaiBlocklistItems)
${COMMON}

Examples:
  ingot rai blocklist create --blocklist-name competitors --description "rival brands"
  ingot rai blocklist item add --blocklist-name competitors --pattern "acme corp"
  ingot rai blocklist item add --blocklist-name competitors --pattern "acme[0-9]+" --regex
  ingot rai blocklist item add --blocklist-name competitors --file items.txt
  ingot rai blocklist item list --blocklist-name competitors -o table
  ingot rai blocklist item delete --blocklist-name competitors --item-name acme-corp
`;

const POLICY_TABLE: [string, (p: any) => unknown][] = [
  ["Name", (p) => p.name],
  ["Type", (p) => p.properties.type],
  ["Mode", (p) => p.properties.mode],
  ["Base", (p) => p.properties.basePolicyName ?? ""],
  ["Blocklists", (p) => (p.properties.customBlocklists ?? []).map((b: any) => `${b.blocklistName}:${b.source}`).join(",")],
];
const BLOCKLIST_TABLE: [string, (b: any) => unknown][] = [
  ["Name", (b) => b.name],
  ["Description", (b) => b.properties.description ?? ""],
];
const ITEM_TABLE: [string, (i: any) => unknown][] = [
  ["Name", (i) => i.name],
  ["Pattern", (i) => i.properties.pattern],
  ["Regex", (i) => i.properties.isRegex],
];

interface Ctx {
  command: string;
  v: Values;
  base: string;
  arm: ArmClient;
  output: string | undefined;
}

function setup(command: string, args: string[], extra: OptionSpec, help: string, maxPositionals = 0): Ctx | undefined {
  const { values: v } = parseCommand(command, args, { ...COMMON_OPTIONS, ...extra }, maxPositionals);
  if (v.help) {
    process.stdout.write(help);
    return undefined;
  }
  const output = outputFormat(command, v);
  const base = accountPath(String(v.subscription ?? "00000000-0000-0000-0000-000000000000"), String(v["resource-group"] ?? "ingot"), String(v.name ?? "ingot"));
  const arm = new ArmClient({ endpoint: v.endpoint as string | undefined, token: v.token as string | undefined, dataDir: v["data-dir"] as string | undefined, database: v.database as string | undefined });
  return { command, v, base, arm, output };
}

const sidesOf = (command: string, side: string, what: string): ("Prompt" | "Completion")[] => {
  const s = side.toLowerCase();
  if (s === "prompt") return ["Prompt"];
  if (s === "completion") return ["Completion"];
  if (s === "both") return ["Prompt", "Completion"];
  throw new CliError(`${command}: ${what}: the side must be prompt, completion or both; got '${side}'.`, 2);
};

/** `hate:prompt:low`, `jailbreak:prompt:off`, `violence:both:high:annotate` → contentFilters entries. */
export function parseFilterFlag(command: string, text: string): Record<string, unknown>[] {
  const parts = text.split(":");
  if (parts.length < 2 || parts.length > 4) throw new CliError(`${command}: --filter '${text}' must be CATEGORY:SIDE[:LEVEL][:annotate], e.g. hate:prompt:low.`, 2);
  const name = FILTER_KEYS[parts[0].toLowerCase().replace(/[\s_-]/g, "")];
  if (!name) throw new CliError(`${command}: --filter '${text}': unknown category '${parts[0]}'. Use one of: ${Object.values(FILTER_KEYS).map((n) => n.toLowerCase().replace(/ /g, "_").replace("selfharm", "self_harm")).join(", ")}.`, 2);
  let level = "on";
  let blocking = true;
  for (const extra of parts.slice(2)) {
    const e = extra.toLowerCase();
    if (e === "annotate") blocking = false;
    else if (["low", "medium", "high", "on", "off"].includes(e)) level = e;
    else throw new CliError(`${command}: --filter '${text}': '${extra}' is not low, medium, high, on, off or annotate.`, 2);
  }
  if (!MULTI_LEVEL.has(name) && ["low", "medium", "high"].includes(level))
    throw new CliError(`${command}: --filter '${text}': ${name} has no severity levels; use on or off.`, 2);
  const enabled = level !== "off";
  return sidesOf(command, parts[1], `--filter '${text}'`).map((source) => ({
    name,
    source,
    enabled,
    blocking: enabled && blocking,
    ...(MULTI_LEVEL.has(name) ? { severityThreshold: ["low", "medium", "high"].includes(level) ? level[0].toUpperCase() + level.slice(1) : "Medium" } : {}),
  }));
}

export function parseBlocklistFlag(command: string, text: string): Record<string, unknown>[] {
  const parts = text.split(":");
  if (parts.length < 2 || parts.length > 3 || !parts[0] || (parts[2] !== undefined && parts[2].toLowerCase() !== "annotate"))
    throw new CliError(`${command}: --blocklist '${text}' must be NAME:SIDE[:annotate], e.g. competitors:prompt.`, 2);
  return sidesOf(command, parts[1], `--blocklist '${text}'`).map((source) => ({ blocklistName: parts[0], source, blocking: parts[2] === undefined }));
}

/** Applies the flags to a policy's properties: a filter replaces the same filter on its side; a blocklist the same list on its side. */
function applyPolicyFlags(c: Ctx, props: Record<string, any>): Record<string, any> {
  const out = { ...props };
  if (c.v.base !== undefined) out.basePolicyName = c.v.base;
  if (c.v.mode !== undefined) out.mode = c.v.mode;
  const filters = ((c.v.filter as unknown as string[] | undefined) ?? []).flatMap((f) => parseFilterFlag(c.command, f));
  if (filters.length) {
    const same = (a: any, b: any) => String(a.name).toLowerCase().replace(/[\s_-]/g, "") === String(b.name).toLowerCase().replace(/[\s_-]/g, "") && a.source === b.source;
    out.contentFilters = [...(out.contentFilters ?? []).filter((f: any) => !filters.some((n) => same(f, n))), ...filters];
  }
  const removed = new Set(((c.v["remove-blocklist"] as unknown as string[] | undefined) ?? []).map((n) => n.toLowerCase()));
  const lists = ((c.v.blocklist as unknown as string[] | undefined) ?? []).flatMap((b) => parseBlocklistFlag(c.command, b));
  if (lists.length || removed.size) {
    // The legacy promptBlocklists/completionBlocklists fold into customBlocklists, so one form is sent.
    const current = [
      ...(out.customBlocklists ?? []),
      ...(out.promptBlocklists ?? []).map((b: any) => ({ ...b, source: "Prompt" })),
      ...(out.completionBlocklists ?? []).map((b: any) => ({ ...b, source: "Completion" })),
    ];
    delete out.promptBlocklists;
    delete out.completionBlocklists;
    const kept = current.filter((b: any) => !removed.has(String(b.blocklistName).toLowerCase()) && !lists.some((n) => n.blocklistName === b.blocklistName && n.source === b.source));
    const seen = new Set<string>();
    out.customBlocklists = [...kept, ...lists].filter((b: any) => {
      const k = `${b.blocklistName}\u0000${b.source}`;
      return seen.has(k) ? false : (seen.add(k), true);
    });
  }
  return out;
}

function readJson(command: string, path: string): any {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new CliError(`${command}: cannot read --file ${path}: ${(e as Error).message}`, 2);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CliError(`${command}: --file ${path} is not JSON: ${(e as Error).message}`, 2);
  }
}

const POLICY_OPTIONS: OptionSpec = {
  "policy-name": { type: "string" },
  file: { type: "string" },
  base: { type: "string" },
  mode: { type: "string" },
  filter: { type: "string", multiple: true },
  blocklist: { type: "string", multiple: true },
  "remove-blocklist": { type: "string", multiple: true },
};

const policyPath = (c: Ctx) => `${c.base}/raiPolicies/${encodeURIComponent(required(c.command, c.v, "policy-name", "--policy-name strict"))}`;

function policyCommand(argv: string[]): Promise<number> {
  const sub = (name: string, run: (c: Ctx) => Promise<number>) => async (args: string[]) => {
    const c = setup(`ingot rai policy ${name}`, args, POLICY_OPTIONS, POLICY_HELP);
    return c ? run(c) : 0;
  };
  const write = (create: boolean) => async (c: Ctx) => {
    const path = policyPath(c);
    let props: Record<string, any> = {};
    if (typeof c.v.file === "string") {
      const body = readJson(c.command, c.v.file);
      props = body && typeof body === "object" && body.properties && typeof body.properties === "object" ? body.properties : body;
    } else if (!create) {
      props = (await c.arm.call("GET", path)).body.properties;
      delete props.type;
    }
    if (create && props.basePolicyName === undefined && c.v.base === undefined) props.basePolicyName = "Microsoft.DefaultV2";
    if (create && props.mode === undefined && c.v.mode === undefined) props.mode = "Default";
    const { body } = await c.arm.call("PUT", path, { properties: applyPolicyFlags(c, props) });
    printOutput(c.output, body, POLICY_TABLE);
    return 0;
  };
  return dispatch("ingot rai policy", argv, POLICY_HELP, {
    list: sub("list", async (c) => {
      printOutput(c.output, (await c.arm.call("GET", `${c.base}/raiPolicies`)).body.value, POLICY_TABLE);
      return 0;
    }),
    show: sub("show", async (c) => {
      const { body } = await c.arm.call("GET", policyPath(c));
      if (c.output === "table" || c.output === "tsv")
        printOutput(c.output, body.properties.contentFilters, [
          ["Filter", (f) => f.name],
          ["Side", (f) => f.source],
          ["Enabled", (f) => f.enabled],
          ["Blocking", (f) => f.blocking],
          ["Threshold", (f) => f.severityThreshold ?? ""],
        ]);
      else printOutput(c.output, body);
      return 0;
    }),
    create: sub("create", write(true)),
    update: sub("update", write(false)),
    delete: sub("delete", async (c) => {
      await c.arm.call("DELETE", policyPath(c));
      return 0;
    }),
  });
}

const BLOCKLIST_OPTIONS: OptionSpec = {
  "blocklist-name": { type: "string" },
  description: { type: "string" },
};
const ITEM_OPTIONS: OptionSpec = {
  "blocklist-name": { type: "string" },
  pattern: { type: "string" },
  regex: { type: "boolean" },
  "item-name": { type: "string", multiple: true },
  file: { type: "string" },
};

const blocklistPath = (c: Ctx) => `${c.base}/raiBlocklists/${encodeURIComponent(required(c.command, c.v, "blocklist-name", "--blocklist-name competitors"))}`;

/** An item name from its pattern (names allow letters, digits, _ . -). */
export function itemNameOf(pattern: string, taken: Set<string>): string {
  const stem = pattern.toLowerCase().replace(/[^a-z0-9_.-]+/g, "-").replace(/^[^a-z0-9]+|-+$/g, "").slice(0, 48) || "item";
  let name = stem;
  for (let i = 2; taken.has(name); i++) name = `${stem}-${i}`;
  taken.add(name);
  return name;
}

function blocklistCommand(argv: string[]): Promise<number> {
  const sub = (prefix: string, name: string, options: OptionSpec, run: (c: Ctx) => Promise<number>) => async (args: string[]) => {
    const c = setup(`ingot rai blocklist ${prefix}${name}`, args, options, BLOCKLIST_HELP);
    return c ? run(c) : 0;
  };
  const item = (args: string[]) =>
    dispatch("ingot rai blocklist item", args, BLOCKLIST_HELP, {
      add: sub("item ", "add", ITEM_OPTIONS, async (c) => {
        const path = blocklistPath(c);
        const isRegex = c.v.regex === true;
        const names = (c.v["item-name"] as unknown as string[] | undefined) ?? [];
        if (typeof c.v.file === "string") {
          if (c.v.pattern !== undefined) throw new CliError(`${c.command}: give --pattern or --file, not both.`, 2);
          let text: string;
          try {
            text = readFileSync(c.v.file, "utf8");
          } catch (e) {
            throw new CliError(`${c.command}: cannot read --file ${c.v.file}: ${(e as Error).message}`, 2);
          }
          const patterns = text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
          if (!patterns.length) throw new CliError(`${c.command}: --file ${c.v.file} has no patterns (one per line).`, 2);
          const existing = (await c.arm.call("GET", `${path}/raiBlocklistItems`)).body.value as any[];
          const taken = new Set(existing.map((i) => String(i.name)));
          const items = patterns.map((pattern) => ({ name: itemNameOf(pattern, taken), properties: { pattern, isRegex } }));
          await c.arm.call("POST", `${path}/addRaiBlocklistItems`, items);
          printOutput(c.output, (await c.arm.call("GET", `${path}/raiBlocklistItems`)).body.value, ITEM_TABLE);
          return 0;
        }
        const pattern = required(c.command, c.v, "pattern", '--pattern "acme corp"');
        let itemName = names[0];
        if (!itemName) {
          const existing = (await c.arm.call("GET", `${path}/raiBlocklistItems`)).body.value as any[];
          itemName = itemNameOf(pattern, new Set(existing.map((i) => String(i.name))));
        }
        const { body } = await c.arm.call("PUT", `${path}/raiBlocklistItems/${encodeURIComponent(itemName)}`, { properties: { pattern, isRegex } });
        printOutput(c.output, body, ITEM_TABLE);
        return 0;
      }),
      list: sub("item ", "list", ITEM_OPTIONS, async (c) => {
        printOutput(c.output, (await c.arm.call("GET", `${blocklistPath(c)}/raiBlocklistItems`)).body.value, ITEM_TABLE);
        return 0;
      }),
      delete: sub("item ", "delete", ITEM_OPTIONS, async (c) => {
        const path = blocklistPath(c);
        const names = (c.v["item-name"] as unknown as string[] | undefined) ?? [];
        if (!names.length) throw new CliError(`${c.command}: --item-name is required (repeat it to delete several). Run '${c.command} --help'.`, 2);
        if (names.length === 1) await c.arm.call("DELETE", `${path}/raiBlocklistItems/${encodeURIComponent(names[0])}`);
        else await c.arm.call("POST", `${path}/deleteRaiBlocklistItems`, names);
        return 0;
      }),
    });
  return dispatch("ingot rai blocklist", argv, BLOCKLIST_HELP, {
    list: sub("", "list", BLOCKLIST_OPTIONS, async (c) => {
      printOutput(c.output, (await c.arm.call("GET", `${c.base}/raiBlocklists`)).body.value, BLOCKLIST_TABLE);
      return 0;
    }),
    show: sub("", "show", BLOCKLIST_OPTIONS, async (c) => {
      const path = blocklistPath(c);
      const { body } = await c.arm.call("GET", path);
      const items = (await c.arm.call("GET", `${path}/raiBlocklistItems`)).body.value;
      if (c.output === "table" || c.output === "tsv") printOutput(c.output, items, ITEM_TABLE);
      else printOutput(c.output, { ...body, items });
      return 0;
    }),
    create: sub("", "create", BLOCKLIST_OPTIONS, async (c) => {
      const { body } = await c.arm.call("PUT", blocklistPath(c), { properties: c.v.description === undefined ? {} : { description: c.v.description } });
      printOutput(c.output, body, BLOCKLIST_TABLE);
      return 0;
    }),
    delete: sub("", "delete", BLOCKLIST_OPTIONS, async (c) => {
      await c.arm.call("DELETE", blocklistPath(c));
      return 0;
    }),
    item,
  });
}

export function raiCommand(argv: string[]): Promise<number> {
  return dispatch("ingot rai", argv, HELP, { policy: policyCommand, blocklist: blocklistCommand });
}
