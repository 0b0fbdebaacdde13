// How the CLI signs in to the Ingot running on a data dir: it reads the credential file the
// server wrote when it started listening (src/local-credential.ts) and asks that server's
// token endpoint for a token, as @azure/identity's ClientSecretCredential does. Nothing is
// created or opened in the data dir: a wrong --data-dir, or a server that is not running, is
// an error that says what to do.
import { existsSync, readFileSync, statSync } from "node:fs";
import { getCACertificates, setDefaultCACertificates } from "node:tls";
import { resolve } from "node:path";
import { localCredentialPath } from "../local-credential.ts";
import type { LocalCredential } from "../local-credential.ts";
import { CliError } from "./errors.ts";
import { IdentityService } from "../core/identity/service.ts";
import type { Audience } from "../core/identity/types.ts";
import { SqliteIdentityStore } from "../store/sqlite/identity-store.ts";
import { DatabaseUnreachableError } from "../store/postgres/database.ts";
import { isPostgresUrl, openPostgresStore } from "../store/sql/open.ts";

export const DEFAULT_DATA_DIR = "./.ingot";

/** The credential file of the server running on `dataDir`; a CliError (exit 1) when there is none. */
export function readLocalCredential(dataDir: string): LocalCredential {
  const dir = resolve(dataDir);
  const hint = `Start the server with 'ingot up --data-dir ${dataDir}', pass the --data-dir of the running server, or give --token (and --endpoint).`;
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    // missing
  }
  if (!isDir) throw new CliError(`No Ingot data dir at '${dir}'. ${hint}`);
  const path = localCredentialPath(dir);
  if (!existsSync(path)) throw new CliError(`No running Ingot on data dir '${dir}' (it has no ${path.slice(dir.length + 1)}, which the server writes while it runs). ${hint}`);
  let parsed: Partial<LocalCredential>;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new CliError(`Cannot read ${path} (${(e as Error).message}). Restart the server ('ingot up --data-dir ${dataDir}') to write it again.`);
  }
  if (typeof parsed.endpoint !== "string" || typeof parsed.tenant !== "string" || typeof parsed.clientId !== "string" || typeof parsed.clientSecret !== "string")
    throw new CliError(`${path} is incomplete. Restart the server ('ingot up --data-dir ${dataDir}') to write it again.`);
  return parsed as LocalCredential;
}

/**
 * The local admin's token signed with the signing key in the PostgreSQL database at `url`
 * (`--database`, INGOT_DATABASE_URL): what every replica on that database verifies. No running
 * server is needed, and none on this machine.
 */
export function databaseToken(url: string, audience: Audience): LocalToken {
  if (!isPostgresUrl(url)) throw new CliError("--database takes a postgres:// URL (the one given to 'ingot up --database').", 2);
  let store: ReturnType<typeof openPostgresStore>;
  try {
    store = openPostgresStore(url);
  } catch (e) {
    if (e instanceof DatabaseUnreachableError) throw new CliError(e.message);
    throw e;
  }
  try {
    const identity = new IdentityService(new SqliteIdentityStore(store.database));
    identity.ensureDefaults();
    const tenant = identity.admin().tenantId;
    return { accessToken: identity.adminToken(audience, 3600), expiresIn: 3600, tenant, endpoint: "" };
  } finally {
    store.close();
  }
}

const trusted = new Set<string>();

/** Trusts the server's own certificate (self-signed or not) for this process's https calls. */
export function trustCertificate(pem: string | undefined): void {
  if (!pem || trusted.has(pem)) return;
  trusted.add(pem);
  setDefaultCACertificates([...getCACertificates("default"), pem]);
}

export interface LocalToken {
  accessToken: string;
  expiresIn: number;
  tenant: string;
  endpoint: string;
}

/**
 * A token for `resource` (e.g. https://management.azure.com) from the running server's token
 * endpoint, signed in as the local admin service principal. `endpoint` overrides the server
 * address written in the credential file (the same server reached another way).
 */
export async function localToken(opts: { dataDir?: string; endpoint?: string; resource: string }): Promise<LocalToken> {
  const dataDir = opts.dataDir ?? DEFAULT_DATA_DIR;
  const credential = readLocalCredential(dataDir);
  trustCertificate(credential.ca);
  const endpoint = (opts.endpoint ?? credential.endpoint).replace(/\/+$/, "");
  const url = `${endpoint}/${encodeURIComponent(credential.tenant)}/oauth2/v2.0/token`;
  let res: Response;
  try {
    res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "client_credentials",
        client_id: credential.clientId,
        client_secret: credential.clientSecret,
        scope: `${opts.resource.replace(/\/+$/, "")}/.default`,
      }),
    });
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw new CliError(
      `Cannot reach Ingot at ${endpoint} (${cause?.code ?? cause?.message ?? (e as Error).message}): the server of data dir '${resolve(dataDir)}' is not running. Start it with 'ingot up --data-dir ${dataDir}'.`,
    );
  }
  const text = await res.text();
  let body: { access_token?: string; expires_in?: number; error?: string; error_description?: string } = {};
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: reported below
  }
  if (!res.ok || typeof body.access_token !== "string") {
    const detail = body.error_description?.replace(/ Trace ID: .*$/, "") ?? `HTTP ${res.status}`;
    throw new CliError(
      `The Ingot at ${endpoint} refused the local admin credential of data dir '${resolve(dataDir)}' (${body.error ?? res.status}: ${detail}). Is it the server of that data dir? Restart it ('ingot up --data-dir ${dataDir}') to write a fresh credential.`,
    );
  }
  return { accessToken: body.access_token, expiresIn: body.expires_in ?? 3599, tenant: credential.tenant, endpoint: credential.endpoint };
}

/** The endpoint the credential file names, when there is one (no error otherwise). */
export function localEndpointOf(dataDir: string | undefined): string | undefined {
  try {
    const c = readLocalCredential(dataDir ?? DEFAULT_DATA_DIR);
    trustCertificate(c.ca);
    return c.endpoint;
  } catch {
    return undefined;
  }
}
