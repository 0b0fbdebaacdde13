// TLS material for the server: a given certificate and key, or a self-signed pair made once
// in the data dir and reused (so clients that trust it keep trusting it across restarts).
import { X509Certificate } from "node:crypto";
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ensurePrivateDir, ensurePrivateFile } from "../lib/private-files.ts";
import { createSelfSignedCertificate } from "../lib/x509.ts";

export interface TlsOptions {
  certFile?: string;
  keyFile?: string;
  selfSigned?: boolean;
  dataDir: string;
  /** Extra SAN hosts for a newly made self-signed certificate (e.g. the --host address). */
  hosts?: string[];
}

export interface TlsMaterial {
  cert: string;
  key: string;
  /** Where the certificate is on disk (to give to clients as their CA). */
  certFile: string;
}

export class TlsConfigError extends Error {}

/** Where `--tls self-signed` keeps its pair. */
export const selfSignedPaths = (dataDir: string) => ({ certFile: join(dataDir, "tls", "cert.pem"), keyFile: join(dataDir, "tls", "key.pem") });

export function resolveTls(opts: TlsOptions): TlsMaterial | undefined {
  if (opts.certFile || opts.keyFile) {
    if (opts.selfSigned) throw new TlsConfigError("Give either --tls-cert and --tls-key, or --tls self-signed, not both.");
    if (!opts.certFile || !opts.keyFile) throw new TlsConfigError("--tls-cert and --tls-key go together: give both PEM files.");
    return load(opts.certFile, opts.keyFile);
  }
  if (!opts.selfSigned) return undefined;
  const { certFile, keyFile } = selfSignedPaths(opts.dataDir);
  if (existsSync(certFile) && existsSync(keyFile)) {
    ensurePrivateFile(keyFile);
    const existing = load(certFile, keyFile);
    // Regenerate only when it expired; otherwise clients' trust in it stays valid.
    if (new Date(new X509Certificate(existing.cert).validTo).getTime() > Date.now()) return existing;
  }
  ensurePrivateDir(opts.dataDir);
  ensurePrivateDir(join(opts.dataDir, "tls"));
  const { cert, key } = createSelfSignedCertificate({ hosts: opts.hosts, days: 825 });
  writeAtomically(keyFile, key, 0o600);
  writeAtomically(certFile, cert, 0o644);
  return { cert, key, certFile };
}

function load(certFile: string, keyFile: string): TlsMaterial {
  let cert: string;
  let key: string;
  try {
    cert = readFileSync(certFile, "utf8");
    key = readFileSync(keyFile, "utf8");
  } catch (e) {
    throw new TlsConfigError(`Cannot read the TLS files: ${(e as Error).message}`);
  }
  try {
    new X509Certificate(cert);
  } catch {
    throw new TlsConfigError(`${certFile} is not a PEM certificate.`);
  }
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(key)) throw new TlsConfigError(`${keyFile} is not a PEM private key.`);
  return { cert, key, certFile };
}

function writeAtomically(path: string, data: string, mode: number): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data, { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, path);
}
