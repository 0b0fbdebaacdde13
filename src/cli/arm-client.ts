// How CLI commands reach a running Ingot's management plane: the endpoint (--endpoint,
// INGOT_ENDPOINT, or the default local address) and a bearer token (--token, INGOT_TOKEN,
// or one minted for the local admin from the data dir, as `ingot token` does).
import { existsSync } from "node:fs";
import { join } from "node:path";
import { IdentityService } from "../core/identity/service.ts";
import { SqliteIdentityStore } from "../store/sqlite/identity-store.ts";
import { SqliteStore } from "../store/sqlite/store.ts";

export const ARM_API_VERSION = "2024-10-01";

export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}

export function adminToken(dataDir: string): string {
  if (!existsSync(join(dataDir, "ingot.db")))
    throw new CliError(`No Ingot data in '${dataDir}'. Start the server once (ingot up --data-dir ${dataDir}), pass --data-dir, or give --token.`, 2);
  const store = new SqliteStore(join(dataDir, "ingot.db"));
  try {
    const identity = new IdentityService(new SqliteIdentityStore(store.database));
    identity.ensureDefaults();
    return identity.adminToken("management");
  } finally {
    store.close();
  }
}

export interface ArmClientOptions {
  endpoint?: string;
  token?: string;
  dataDir?: string;
}

export class ArmClient {
  readonly endpoint: string;
  #token: string;

  constructor(opts: ArmClientOptions) {
    this.endpoint = (opts.endpoint ?? process.env.INGOT_ENDPOINT ?? "http://127.0.0.1:8080").replace(/\/+$/, "");
    this.#token = opts.token ?? process.env.INGOT_TOKEN ?? adminToken(opts.dataDir ?? "./.ingot");
  }

  /** Calls an ARM path; returns the JSON body (undefined for empty replies); ARM errors become CliErrors with Azure's message. */
  async call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any; headers: Headers }> {
    const url = `${this.endpoint}${path}${path.includes("?") ? "&" : "?"}api-version=${ARM_API_VERSION}`;
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: { authorization: `Bearer ${this.#token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      throw new CliError(`Cannot reach Ingot at ${this.endpoint} (${(e as Error).cause ?? (e as Error).message}). Start it with 'ingot up', or point --endpoint / INGOT_ENDPOINT at it.`);
    }
    const text = await res.text();
    const parsed = text ? JSON.parse(text) : undefined;
    if (res.status >= 400) {
      const err = parsed?.error;
      throw new CliError(err ? `(${err.code}) ${err.message}` : `HTTP ${res.status} from ${method} ${path}`);
    }
    return { status: res.status, body: parsed, headers: res.headers };
  }
}

export const accountPath = (subscription: string, resourceGroup: string, account: string) =>
  `/subscriptions/${encodeURIComponent(subscription)}/resourceGroups/${encodeURIComponent(resourceGroup)}/providers/Microsoft.CognitiveServices/accounts/${encodeURIComponent(account)}`;

/** `--output json` (az's default) or `table`. */
export function printOutput(format: string | undefined, value: unknown, columns?: [string, (row: any) => unknown][]): void {
  if (format === undefined || format === "json") {
    process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    return;
  }
  if (format === "tsv" || format === "table") {
    const rows: any[] = Array.isArray(value) ? value : [value];
    const cols = columns ?? Object.keys(rows[0] ?? {}).map((k) => [k, (r: any) => r[k]] as [string, (row: any) => unknown]);
    const cells = rows.map((r) => cols.map(([, get]) => String(get(r) ?? "")));
    if (format === "tsv") {
      for (const line of cells) process.stdout.write(`${line.join("\t")}\n`);
      return;
    }
    const widths = cols.map(([h], i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
    const line = (c: string[]) => c.map((v, i) => v.padEnd(widths[i])).join("  ").trimEnd();
    process.stdout.write(`${line(cols.map(([h]) => h))}\n${line(widths.map((w) => "-".repeat(w)))}\n`);
    for (const c of cells) process.stdout.write(`${line(c)}\n`);
    return;
  }
  throw new CliError(`--output must be json, table or tsv; got '${format}'.`, 2);
}
