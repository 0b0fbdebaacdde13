// The JWTs Ingot issues and verifies (RS256), through fast-jwt: parsing, signing and signature
// checks are the library's; the claim rules (audience, expiry against the service's clock, who
// the token names) stay with the identity service, which words their errors as ARM does.
//
// fast-jwt rather than jose: jose signs and verifies only asynchronously (WebCrypto), and
// issuing and checking a token is synchronous throughout Ingot (bearer authentication, the
// token endpoint, the CLI and ~40 test call sites); fast-jwt's signer and verifier are
// synchronous on node:crypto.
import { createHash, createPublicKey } from "node:crypto";
import type { KeyObject } from "node:crypto";
import { createDecoder, createSigner, createVerifier } from "fast-jwt";

export type JwtHeader = { alg: string; typ?: string; kid?: string; x5t?: string } & Record<string, unknown>;
export type JwtPayload = Record<string, unknown>;

const b64url = (data: Buffer | string): string => Buffer.from(data).toString("base64url");
const pem = (key: KeyObject | string, type: "pkcs8" | "spki"): string =>
  typeof key === "string" ? key : (key.export({ type, format: "pem" }) as string);

const decoder = createDecoder({ complete: true });
const verifiers = new Map<string, (token: string) => unknown>();

export function signJwt(header: JwtHeader, payload: JwtPayload, privateKey: KeyObject | string): string {
  const { alg, kid, ...rest } = header;
  const sign = createSigner({ key: pem(privateKey, "pkcs8"), algorithm: alg as "RS256", ...(kid ? { kid } : {}), header: { alg, ...rest } });
  // The caller's iat (from its clock) is kept; the library adds one only where it is missing.
  return sign(payload);
}

export interface DecodedJwt {
  header: JwtHeader;
  payload: JwtPayload;
}

/** Parses a compact JWS; undefined when it is not one. Does not check the signature. */
export function decodeJwt(token: string): DecodedJwt | undefined {
  try {
    const { header, payload } = decoder(token) as { header: JwtHeader; payload: JwtPayload };
    if (typeof header.alg !== "string" || !token.split(".")[2]) return undefined;
    return { header, payload };
  } catch {
    return undefined;
  }
}

/** True when `token` has the shape of a JWT (three base64url parts, a JSON header with `alg`). */
export function looksLikeJwt(token: string): boolean {
  return decodeJwt(token) !== undefined;
}

/** True when `token` is RS256 and its signature verifies with `publicKey` (claims are not checked here). */
export function verifyRs256(token: string, publicKey: KeyObject | string): boolean {
  const key = pem(publicKey, "spki");
  let verify = verifiers.get(key);
  if (!verify) {
    verify = createVerifier({ key, algorithms: ["RS256"], ignoreExpiration: true, ignoreNotBefore: true, cache: false }) as (token: string) => unknown;
    verifiers.set(key, verify);
  }
  try {
    verify(token);
    return true;
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
