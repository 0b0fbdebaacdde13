// How the data-plane commands (files, jobs, chat) reach a running Ingot: the endpoint as for
// ArmClient (--endpoint, INGOT_ENDPOINT, the server running on --data-dir, http://127.0.0.1:8080), an account key (--api-key,
// AZURE_OPENAI_API_KEY or INGOT_API_KEY, else key1 from ARM listKeys with the local admin's
// token), and the Azure OpenAI dated routes (`/openai/...?api-version=`).
import { openAsBlob } from "node:fs";
import { stat } from "node:fs/promises";
import { basename } from "node:path";
import { accountPath, ArmClient, CliError } from "./arm-client.ts";
import type { OptionSpec, Values } from "./args.ts";
import { localEndpointOf } from "./local-access.ts";

/** Files and fine-tuning need a version that has them; any supported one works for chat. */
export const DATA_API_VERSION = "2025-04-01-preview";

/** Flags every data-plane command takes. */
export const DATA_OPTIONS = {
  endpoint: { type: "string" },
  "api-key": { type: "string" },
  "api-version": { type: "string" },
  name: { type: "string", short: "n" },
  "resource-group": { type: "string", short: "g" },
  subscription: { type: "string" },
  token: { type: "string" },
  "data-dir": { type: "string" },
  database: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const satisfies OptionSpec;

export const OUTPUT_OPTION = { output: { type: "string", short: "o" } } as const satisfies OptionSpec;

export const DATA_HELP = `Connection options:
  --endpoint URL              Ingot's address (default INGOT_ENDPOINT, else the server running
                              on --data-dir, else http://127.0.0.1:8080)
  --api-key KEY               account key (default AZURE_OPENAI_API_KEY or INGOT_API_KEY, else
                              key1 of the account, read through ARM with the local admin's token)
  -n, --name ACCOUNT          account whose key1 is used (default ingot)
  -g, --resource-group RG     its resource group (default ingot)
  --subscription ID           its subscription (default 00000000-0000-0000-0000-000000000000)
  --token TOKEN               ARM bearer token for reading the key (default INGOT_TOKEN, else one
                              from the running server, with the local admin credential it keeps
                              in --data-dir)
  --data-dir DIR              data dir of the running local server (default ./.ingot)
  --database URL              instead: sign the ARM token with this PostgreSQL database's key
                              (default INGOT_DATABASE_URL; the URL given to 'ingot up --database')
  --api-version V             data-plane api-version (default ${DATA_API_VERSION})
  -h, --help                  this help`;

export interface DataClientOptions {
  endpoint?: string;
  apiKey?: string;
  apiVersion?: string;
  token?: string;
  dataDir?: string;
  database?: string;
  subscription?: string;
  resourceGroup?: string;
  account?: string;
}

export interface CallOptions {
  query?: Record<string, string | number | undefined>;
  json?: unknown;
  form?: FormData;
  signal?: AbortSignal;
}

/** What a failed fetch says, in a line. */
function describeCause(e: unknown): string {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (e as Error).message;
}

export class DataClient {
  readonly endpoint: string;
  readonly apiVersion: string;
  readonly #opts: DataClientOptions;
  #key: Promise<string> | undefined;
  /** Where the key came from, for the hint on a 401. */
  #keySource = "";

  constructor(opts: DataClientOptions) {
    this.#opts = opts;
    this.endpoint = (opts.endpoint ?? process.env.INGOT_ENDPOINT ?? localEndpointOf(opts.dataDir) ?? "http://127.0.0.1:8080").replace(/\/+$/, "");
    this.apiVersion = opts.apiVersion ?? DATA_API_VERSION;
  }

  static fromValues(v: Values): DataClient {
    const s = (k: string) => (typeof v[k] === "string" ? (v[k] as string) : undefined);
    return new DataClient({
      endpoint: s("endpoint"),
      apiKey: s("api-key"),
      apiVersion: s("api-version"),
      token: s("token"),
      dataDir: s("data-dir"),
      database: s("database"),
      subscription: s("subscription"),
      resourceGroup: s("resource-group"),
      account: s("name"),
    });
  }

  /** The account key: given, from the environment, or key1 through ARM listKeys. */
  key(): Promise<string> {
    this.#key ??= this.#resolveKey();
    return this.#key;
  }

  async #resolveKey(): Promise<string> {
    const o = this.#opts;
    if (o.apiKey) return ((this.#keySource = "--api-key"), o.apiKey);
    if (process.env.AZURE_OPENAI_API_KEY) return ((this.#keySource = "AZURE_OPENAI_API_KEY"), process.env.AZURE_OPENAI_API_KEY);
    if (process.env.INGOT_API_KEY) return ((this.#keySource = "INGOT_API_KEY"), process.env.INGOT_API_KEY);
    const arm = new ArmClient({ endpoint: this.endpoint, token: o.token, dataDir: o.dataDir, database: o.database });
    try {
      await arm.token();
    } catch (e) {
      if (e instanceof CliError) throw new CliError(`${e.message.replace(/\.$/, "")} — or pass the account key with --api-key (or AZURE_OPENAI_API_KEY).`, e.exitCode);
      throw e;
    }
    const path = `${accountPath(o.subscription ?? "00000000-0000-0000-0000-000000000000", o.resourceGroup ?? "ingot", o.account ?? "ingot")}/listKeys`;
    const { body } = await arm.call("POST", path);
    if (typeof body?.key1 !== "string") throw new CliError(`ARM listKeys of account '${o.account ?? "ingot"}' returned no key1; pass --api-key.`);
    this.#keySource = `key1 of account '${o.account ?? "ingot"}'`;
    return body.key1;
  }

  #url(path: string, query: CallOptions["query"] = {}): string {
    const params = new URLSearchParams({ "api-version": this.apiVersion });
    for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
    return `${this.endpoint}${path}?${params}`;
  }

  async #fetch(method: string, path: string, opts: CallOptions): Promise<Response> {
    const headers: Record<string, string> = { "api-key": await this.key() };
    let body: string | FormData | undefined;
    if (opts.json !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(opts.json);
    } else if (opts.form) body = opts.form;
    let res: Response;
    try {
      res = await fetch(this.#url(path, opts.query), { method, headers, body, signal: opts.signal });
    } catch (e) {
      if ((e as Error).name === "AbortError") throw e;
      throw new CliError(`Cannot reach Ingot at ${this.endpoint} (${describeCause(e)}). Start it with 'ingot up', or point --endpoint / INGOT_ENDPOINT at it.`);
    }
    if (res.status >= 400) throw await this.#error(res, method, path);
    return res;
  }

  /** An Azure error body as a CliError with the server's code and message. */
  async #error(res: Response, method: string, path: string): Promise<CliError> {
    const text = await res.text().catch(() => "");
    let err: { code?: string; message?: string } | undefined;
    try {
      err = JSON.parse(text)?.error;
    } catch {
      // not JSON
    }
    let message = err?.message ? `(${err.code ?? res.status}) ${err.message}` : `HTTP ${res.status} from ${method} ${path}${text ? `: ${text.slice(0, 300)}` : ""}`;
    if (res.status === 401) message += ` (the key used was ${this.#keySource}; pass the account's key with --api-key, see 'ingot keys list')`;
    return new CliError(message);
  }

  /** A JSON call; returns the parsed body (undefined when empty). */
  async call(method: string, path: string, opts: CallOptions = {}): Promise<any> {
    const res = await this.#fetch(method, path, opts);
    const text = await res.text();
    return text ? JSON.parse(text) : undefined;
  }

  /** POSTs with `stream: true` and yields each server-sent event's JSON; a `data: {"error"}` frame throws. */
  async *stream(path: string, json: unknown, signal?: AbortSignal): AsyncGenerator<any> {
    const res = await this.#fetch("POST", path, { json, signal });
    if (!res.body) return;
    let buffer = "";
    let data: string[] = [];
    const decoder = new TextDecoder();
    const flush = function* (): Generator<any> {
      if (data.length === 0) return;
      const payload = data.join("\n");
      data = [];
      if (payload === "[DONE]") return;
      const frame = JSON.parse(payload);
      if (frame?.error) throw new CliError(`(${frame.error.code ?? "error"}) ${frame.error.message ?? "the stream failed"}`);
      yield frame;
    };
    for await (const chunk of res.body) {
      buffer += decoder.decode(chunk as Uint8Array, { stream: true });
      let nl: number;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, nl).replace(/\r$/, "");
        buffer = buffer.slice(nl + 1);
        if (line === "") yield* flush();
        else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      }
    }
    yield* flush();
  }

  /** Uploads a local file as multipart (read from disk as it is sent, not loaded whole). */
  async uploadFile(path: string, purpose: string): Promise<any> {
    try {
      if (!(await stat(path)).isFile()) throw new Error("not a file");
    } catch {
      throw new CliError(`No file at '${path}'. Give the path of a JSONL file, e.g. --file ./train.jsonl.`, 2);
    }
    const form = new FormData();
    form.set("purpose", purpose);
    form.set("file", await openAsBlob(path), basename(path));
    return this.call("POST", "/openai/files", { form });
  }
}
