// The data dir holds the database (account keys, the token signing key, service principals'
// secrets) and TLS keys: only their owner may read them. Directories 0700, files 0600; wider
// permissions found on an existing path are tightened, and the caller logs what changed.
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from "node:fs";

const onPosix = process.platform !== "win32";

/** Creates `dir` (and parents) as 0700, or tightens it; returns a note when it was wider. */
export function ensurePrivateDir(dir: string): string | undefined {
  if (!existsSync(dir)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (onPosix) chmodSync(dir, 0o700); // mkdir's mode is masked by the umask
    return undefined;
  }
  return tighten(dir, 0o700);
}

/** Makes `file` 0600: created empty when `create` and missing, tightened when wider. Returns a note when it was wider. */
export function ensurePrivateFile(file: string, create = false): string | undefined {
  if (!existsSync(file)) {
    if (!create) return undefined;
    closeSync(openSync(file, "a", 0o600));
    if (onPosix) chmodSync(file, 0o600);
    return undefined;
  }
  return tighten(file, 0o600);
}

function tighten(path: string, mode: number): string | undefined {
  if (!onPosix) return undefined;
  const current = statSync(path).mode & 0o777;
  if ((current & ~mode) === 0) return undefined;
  chmodSync(path, mode);
  return `${path} was readable by others (mode ${current.toString(8).padStart(3, "0")}): set to ${mode.toString(8)}`;
}
