// How CLI commands reach a running Ingot's management plane: the endpoint (--endpoint,
// INGOT_ENDPOINT, else the one the server of --data-dir wrote in its credential file, else the
// default local address) and a bearer token (--token, INGOT_TOKEN, or one from that server's
// token endpoint for the local admin service principal, as `ingot token` gets it).
import { CliError } from "./errors.ts";
import { databaseToken, localEndpointOf, localToken } from "./local-access.ts";

export { CliError } from "./errors.ts";

export const ARM_API_VERSION = "2024-10-01";
export const MANAGEMENT_RESOURCE = "https://management.azure.com";

export interface ArmClientOptions {
  endpoint?: string;
  token?: string;
  dataDir?: string;
  /** postgres:// URL (default INGOT_DATABASE_URL): sign the admin token with that database's key instead of asking the server. */
  database?: string;
}

export class ArmClient {
  readonly endpoint: string;
  #opts: ArmClientOptions;
  #token: Promise<string> | undefined;

  constructor(opts: ArmClientOptions) {
    this.#opts = opts;
    const explicit = opts.endpoint ?? process.env.INGOT_ENDPOINT;
    this.endpoint = (explicit ?? localEndpointOf(opts.dataDir) ?? "http://127.0.0.1:8080").replace(/\/+$/, "");
    const given = opts.token ?? process.env.INGOT_TOKEN;
    if (given) this.#token = Promise.resolve(given);
  }

  /** The bearer token: given, or asked of the running server with the local admin credential. */
  token(): Promise<string> {
    const database = this.#opts.database ?? (process.env.INGOT_DATABASE_URL || undefined);
    this.#token ??= database
      ? Promise.resolve().then(() => databaseToken(database, "management").accessToken)
      : localToken({ dataDir: this.#opts.dataDir, endpoint: this.endpoint, resource: MANAGEMENT_RESOURCE }).then((t) => t.accessToken);
    return this.#token;
  }

  /**
   * Calls an ARM path (or an absolute URL the server gave, e.g. an LRO's Location, whose own
   * api-version is kept); returns the JSON body (undefined for empty replies); ARM errors become
   * CliErrors with Azure's message.
   */
  async call(method: string, path: string, body?: unknown, apiVersion = ARM_API_VERSION): Promise<{ status: number; body: any; headers: Headers }> {
    const target = /^https?:\/\//.test(path) ? path : `${this.endpoint}${path}`;
    const url = /[?&]api-version=/.test(target) ? target : `${target}${target.includes("?") ? "&" : "?"}api-version=${apiVersion}`;
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: { authorization: `Bearer ${await this.token()}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      throw new CliError(`Cannot reach Ingot at ${this.endpoint} (${(e as Error).cause ?? (e as Error).message}). Start it with 'ingot up', or point --endpoint / INGOT_ENDPOINT at it.`);
    }
    const text = await res.text();
    let parsed: any;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (res.status >= 400) {
      const err = parsed?.error;
      throw new ArmError(err ? `(${err.code}) ${err.message}` : `HTTP ${res.status} from ${method} ${path}${text ? `: ${text.slice(0, 300)}` : ""}`, res.status, err?.code, err?.message);
    }
    if (text && parsed === undefined) throw new CliError(`${method} ${path} answered HTTP ${res.status} with a body that is not JSON; is ${this.endpoint} an Ingot?`);
    return { status: res.status, body: parsed, headers: res.headers };
  }
}

/** An ARM error reply: Azure's code and message, and the HTTP status. */
export class ArmError extends CliError {
  readonly status: number;
  readonly code: string | undefined;
  /** The server's message alone (without the code). */
  readonly detail: string;
  constructor(message: string, status: number, code?: string, detail?: string) {
    super(message);
    this.status = status;
    this.code = code;
    this.detail = detail ?? message;
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
