// One-time sign-in codes for the local portal: `ingot up` prints a link carrying one (as
// Jupyter prints its token link), and the portal trades it for an admin token. A code works
// once and only for a short while, so a link left in a terminal's scrollback or a shell
// history opens nothing later. Codes live in memory only: a restart forgets them.
import { createHash, randomBytes } from "node:crypto";

export const SIGN_IN_CODE_TTL_MS = 10 * 60_000;
/** Outstanding codes kept at most; issuing more forgets the oldest. */
const MAX_OUTSTANDING = 16;

const digest = (code: string) => createHash("sha256").update(code).digest("hex");

export class SignInCodes {
  readonly ttlMs: number;
  #clock: () => number;
  /** sha256 of each outstanding code → when it expires (only digests are kept). */
  #codes = new Map<string, number>();

  constructor(opts: { clock?: () => number; ttlMs?: number } = {}) {
    this.#clock = opts.clock ?? Date.now;
    this.ttlMs = opts.ttlMs ?? SIGN_IN_CODE_TTL_MS;
  }

  /** A new code (256 random bits, URL-safe) and when it expires. */
  issue(): { code: string; expiresAt: number } {
    this.#prune();
    while (this.#codes.size >= MAX_OUTSTANDING) this.#codes.delete(this.#codes.keys().next().value!);
    const code = randomBytes(32).toString("base64url");
    const expiresAt = this.#clock() + this.ttlMs;
    this.#codes.set(digest(code), expiresAt);
    return { code, expiresAt };
  }

  /** True once for a code issued here and not yet expired; it is spent either way. */
  redeem(code: string): boolean {
    this.#prune();
    const key = digest(code);
    const expiresAt = this.#codes.get(key);
    this.#codes.delete(key);
    return expiresAt !== undefined && expiresAt > this.#clock();
  }

  #prune(): void {
    const now = this.#clock();
    for (const [key, expiresAt] of this.#codes) if (expiresAt <= now) this.#codes.delete(key);
  }
}
