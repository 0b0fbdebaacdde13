// Service SAS for a container of Ingot's blob service: what the project endpoint hands out so that
// @azure/storage-blob's ContainerClient(sasUri) can upload a dataset. Signed exactly as
// verifySas (core/ml/blob-auth.ts) checks it: sv >= 2020-12-06, sr=c.
import { createHmac } from "node:crypto";

export const SAS_VERSION = "2025-01-05";

/** The SAS query (without '?') for `container` of `account`, granting `permissions` until `expiresAt`. */
export function containerSas(account: { name: string; key: string }, container: string, permissions: string, expiresAt: number): string {
  const se = new Date(expiresAt).toISOString().replace(/\.\d{3}Z$/, "Z");
  const canonical = `/blob/${account.name}/${container}`;
  // sp, st, se, resource, identifier, sip, spr, sv, sr, snapshot time, ses, rscc, rscd, rsce, rscl, rsct
  const stringToSign = [permissions, "", se, canonical, "", "", "", SAS_VERSION, "c", "", "", "", "", "", "", ""].join("\n");
  const sig = createHmac("sha256", Buffer.from(account.key, "base64")).update(stringToSign, "utf8").digest("base64");
  return new URLSearchParams({ sv: SAS_VERSION, sr: "c", sp: permissions, se, sig }).toString();
}
