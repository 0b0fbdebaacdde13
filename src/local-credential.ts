// The local admin credential a running server leaves in its data dir for the `ingot` CLI on
// the same machine: where the server listens (and the certificate to trust when it serves
// https), and a service principal's client id and secret for the token endpoint. The CLI
// gets its tokens from `POST /{tenant}/oauth2/v2.0/token` as @azure/identity's
// ClientSecretCredential does, so it never opens the database and never signs a token itself.
//
// Why a service principal (not the admin user's signing key or a pre-minted token): the secret
// is stored hashed, rotated at every start, revocable (`ingot sp delete`), and tokens are only
// issued by the server that is actually running on that data dir. The file is 0600 and removed
// when the server closes.
import { createHash, randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import type { FastifyInstance } from "fastify";
import type { IdentityService } from "./core/identity/service.ts";

export const LOCAL_CREDENTIAL_FILE = "local-admin.json";
/** The service principal the local CLI signs in as: Owner at "/", like the local admin user. */
export const LOCAL_ADMIN_SP_NAME = "ingot-local-admin";

export interface LocalCredential {
  /** The server's base URL as a local client reaches it, e.g. http://127.0.0.1:8080. */
  endpoint: string;
  tenant: string;
  clientId: string;
  clientSecret: string;
  /** PEM certificate to trust when the server serves https (its own, possibly self-signed). */
  ca?: string;
  /** The server process that wrote the file. */
  pid: number;
}

export const localCredentialPath = (dataDir: string) => join(dataDir, LOCAL_CREDENTIAL_FILE);

/**
 * The local admin service principal of one replica on a shared database (`--database`): each
 * data dir and host its own, so a replica starting does not rotate the secret another one wrote
 * into its credential file.
 */
export const replicaLocalAdminName = (dataDir: string) =>
  `${LOCAL_ADMIN_SP_NAME}-${createHash("sha256").update(`${hostname()}:${resolve(dataDir)}`).digest("hex").slice(0, 8)}`;

/** How a client on this machine reaches a server bound to `address` (a wildcard bind is reached on loopback). */
export function localEndpoint(address: AddressInfo, https: boolean): string {
  let host = address.address;
  if (host === "0.0.0.0" || host === "") host = "127.0.0.1";
  else if (host === "::") host = "::1";
  return `${https ? "https" : "http"}://${host.includes(":") ? `[${host}]` : host}:${address.port}`;
}

/**
 * Once `app` listens: (re)creates the local admin service principal with a fresh secret and
 * writes the credential file (0600, atomically); removes it again when `app` closes, unless
 * another server has replaced it meanwhile.
 */
export function publishLocalCredential(app: FastifyInstance, identity: IdentityService, dataDir: string, tls?: { cert: string }, spName = LOCAL_ADMIN_SP_NAME): void {
  const path = localCredentialPath(dataDir);
  let written: string | undefined;
  app.addHook("onListen", async () => {
    if (written !== undefined) return; // listening on several addresses (e.g. "localhost"): the first one is enough
    const address = app.server.address();
    if (!address || typeof address === "string") return;
    const admin = identity.admin();
    const sp = identity.createServicePrincipal({ displayName: spName, role: "Owner", scope: "/", tenantId: admin.tenantId });
    const credential: LocalCredential = {
      endpoint: localEndpoint(address, tls !== undefined),
      tenant: sp.tenant,
      clientId: sp.appId,
      clientSecret: sp.password,
      ...(tls ? { ca: tls.cert } : {}),
      pid: process.pid,
    };
    written = `${JSON.stringify(credential, null, 2)}\n`;
    const tmp = `${path}.${randomBytes(6).toString("hex")}.tmp`;
    writeFileSync(tmp, written, { mode: 0o600, flag: "wx" });
    renameSync(tmp, path);
  });
  app.addHook("onClose", async () => {
    if (written === undefined) return;
    try {
      if (readFileSync(path, "utf8") === written) rmSync(path, { force: true });
    } catch {
      // already gone
    }
  });
}
