// Compact JWS (RS256) with node:crypto only: enough for the tokens Ingot issues and verifies.
import { createHash, createPublicKey, sign, verify } from "node:crypto";
import type { KeyObject } from "node:crypto";

export type JwtHeader = { alg: string; typ?: string; kid?: string; x5t?: string } & Record<string, unknown>;
export type JwtPayload = Record<string, unknown>;

export const b64url = (data: Buffer | string): string => Buffer.from(data).toString("base64url");

export function signJwt(header: JwtHeader, payload: JwtPayload, privateKey: KeyObject | string): string {
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  const signature = sign("sha256", Buffer.from(input), privateKey);
  return `${input}.${b64url(signature)}`;
}

export interface DecodedJwt {
  header: JwtHeader;
  payload: JwtPayload;
  signingInput: string;
  signature: Buffer;
}

/** Splits and parses a compact JWS; undefined when it is not one. Does not check the signature. */
export function decodeJwt(token: string): DecodedJwt | undefined {
  const parts = token.split(".");
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p)) || !parts[0] || !parts[1]) return undefined;
  try {
    const header = JSON.parse(Buffer.from(parts[0], "base64url").toString("utf8")) as unknown;
    const payload = JSON.parse(Buffer.from(parts[1], "base64url").toString("utf8")) as unknown;
    if (!isObject(header) || !isObject(payload) || typeof header.alg !== "string") return undefined;
    return { header: header as JwtHeader, payload, signingInput: `${parts[0]}.${parts[1]}`, signature: Buffer.from(parts[2], "base64url") };
  } catch {
    return undefined;
  }
}

/** True when `token` has the shape of a JWT (three base64url parts, a JSON header with `alg`). */
export function looksLikeJwt(token: string): boolean {
  return decodeJwt(token) !== undefined;
}

export function verifyRs256(decoded: DecodedJwt, publicKey: KeyObject | string): boolean {
  if (decoded.header.alg !== "RS256") return false;
  try {
    return verify("sha256", Buffer.from(decoded.signingInput), publicKey, decoded.signature);
  } catch {
    return false;
  }
}

/** RFC 7638 thumbprint of an RSA public key: a stable `kid`. */
export function rsaThumbprint(key: KeyObject | string): string {
  const pub = typeof key !== "string" && key.type === "public" ? key : createPublicKey(key);
  const jwk = pub.export({ format: "jwk" }) as { e: string; n: string };
  return b64url(createHash("sha256").update(JSON.stringify({ e: jwk.e, kty: "RSA", n: jwk.n })).digest());
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
