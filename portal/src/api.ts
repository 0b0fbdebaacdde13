// The portal's only way to Ingot: the public APIs the SDKs use. ARM (management plane)
// needs a bearer token; the data plane (OpenAI v1 on the Foundry project endpoint) takes
// an account key. Signed in with a token, the portal lists the account's keys through ARM
// and uses key1 for the data plane, as the Foundry portal does for its playground.

export const ARM_API_VERSION = "2024-10-01";
export const METRICS_API_VERSION = "2023-10-01";
export const DEFAULT_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000";

export interface Session {
  mode: "key" | "token";
  /** The account key (key mode) or the bearer token (token mode) the user signed in with. */
  secret: string;
  subscription: string;
  resourceGroup: string;
  account: string;
  project: string;
  /** Key used for data-plane calls in token mode (key1 from listKeys). */
  dataKey?: string;
}

const STORAGE_KEY = "ingot.session";

export function loadSession(): Session | null {
  try {
    const raw = sessionStorage.getItem(STORAGE_KEY);
    return raw ? (JSON.parse(raw) as Session) : null;
  } catch {
    return null;
  }
}

export function saveSession(s: Session | null): void {
  if (s) sessionStorage.setItem(STORAGE_KEY, JSON.stringify(s));
  else sessionStorage.removeItem(STORAGE_KEY);
}

/** An API failure with Azure's code and a message the user can act on. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly param?: string;
  /** Azure's innererror, e.g. a 400 content_filter's {code: ResponsibleAIPolicyViolation, content_filter_result}. */
  readonly inner?: any;
  constructor(status: number, code: string, message: string, param?: string, inner?: any) {
    super(message);
    this.status = status;
    this.code = code;
    this.param = param;
    this.inner = inner;
  }
}

/** Turns any reply body into an ApiError whose message says what to do next. */
export async function errorFrom(res: Response): Promise<ApiError> {
  const text = await res.text().catch(() => "");
  let code = String(res.status);
  let message = text || res.statusText;
  let param: string | undefined;
  let inner: any;
  try {
    const body = JSON.parse(text);
    const err = body.error ?? body;
    code = String(err.code ?? code);
    message = String(err.message ?? message);
    param = err.param ?? undefined;
    inner = err.innererror ?? err.inner_error ?? undefined;
  } catch {
    // not JSON: keep the raw text
  }
  return new ApiError(res.status, code, withAdvice(res, code, message), param, inner);
}

function withAdvice(res: Response, code: string, message: string): string {
  if (code === "SignInLinkInvalid") return message;
  if (res.status === 401) return `${message} — the key or token was not accepted: check it (it may have expired or been regenerated) and sign in again.`;
  if (res.status === 403) return `${message} — your identity lacks a role on this account. Sign in as an Owner or Contributor (e.g. the token from 'ingot token').`;
  if (res.status === 429) {
    const after = res.headers.get("retry-after");
    return `${message}${after ? ` Try again in ${after} s,` : ""} or raise the deployment's capacity on the Deployments page.`;
  }
  if (code === "DeploymentNotFound") return `${message} — pick a deployment that exists on the Deployments page.`;
  return message;
}

function armHeaders(s: Session): Record<string, string> {
  if (s.mode !== "token") throw new ApiError(401, "TokenRequired", "This page uses the management API, which needs a token, not an account key. Sign out and sign in with the output of 'ingot token'.");
  return { authorization: `Bearer ${s.secret}` };
}

function dataHeaders(s: Session): Record<string, string> {
  if (s.mode === "key") return { "api-key": s.secret };
  if (s.dataKey) return { "api-key": s.dataKey };
  return { authorization: `Bearer ${s.secret}` };
}

async function call(url: string, init: RequestInit): Promise<any> {
  let res: Response;
  try {
    res = await fetch(url, init);
  } catch (e) {
    throw new ApiError(0, "NetworkError", `Cannot reach Ingot (${(e as Error).message}). Is the server still running?`);
  }
  if (!res.ok) throw await errorFrom(res);
  if (res.status === 204) return undefined;
  const text = await res.text();
  return text ? JSON.parse(text) : undefined;
}

export const accountId = (s: Session, account = s.account) =>
  `/subscriptions/${encodeURIComponent(s.subscription)}/resourceGroups/${encodeURIComponent(s.resourceGroup)}/providers/Microsoft.CognitiveServices/accounts/${encodeURIComponent(account)}`;

/** Calls an ARM path (absolute, starting with /subscriptions or /providers). */
export function arm(s: Session, method: string, path: string, body?: unknown, apiVersion = ARM_API_VERSION): Promise<any> {
  const url = `${path}${path.includes("?") ? "&" : "?"}api-version=${apiVersion}`;
  return call(url, {
    method,
    headers: { ...armHeaders(s), ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** The project's OpenAI v1 base path, e.g. /api/projects/default/openai/v1. */
export const dataBase = (s: Session) => `/api/projects/${encodeURIComponent(s.project || "default")}/openai/v1`;

/** Calls a data-plane path under the project's OpenAI v1 base (path starts with /). */
export function data(s: Session, method: string, path: string, body?: unknown): Promise<any> {
  const isForm = typeof FormData !== "undefined" && body instanceof FormData;
  return call(`${dataBase(s)}${path}`, {
    method,
    headers: { ...dataHeaders(s), ...(body === undefined || isForm ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : isForm ? (body as FormData) : JSON.stringify(body),
  });
}

/** Fetches a data-plane path as a raw Response (downloads such as results.csv). */
export async function dataRaw(s: Session, path: string): Promise<Response> {
  const res = await fetch(`${dataBase(s)}${path}`, { headers: dataHeaders(s) });
  if (!res.ok) throw await errorFrom(res);
  return res;
}

/** POSTs a streaming request and yields each server-sent event's parsed JSON until [DONE]. */
export async function* stream(s: Session, path: string, body: unknown, signal?: AbortSignal): AsyncGenerator<any> {
  let res: Response;
  try {
    res = await fetch(`${dataBase(s)}${path}`, { method: "POST", headers: { ...dataHeaders(s), "content-type": "application/json" }, body: JSON.stringify(body), signal });
  } catch (e) {
    if ((e as Error).name === "AbortError") return;
    throw new ApiError(0, "NetworkError", `Cannot reach Ingot (${(e as Error).message}). Is the server still running?`);
  }
  if (!res.ok || !res.body) throw await errorFrom(res);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let cut: number;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const frame = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      for (const line of frame.split("\n")) {
        if (!line.startsWith("data:")) continue;
        const payload = line.slice(5).trim();
        if (payload === "[DONE]") return;
        const parsed = JSON.parse(payload);
        if (parsed.error) throw new ApiError(500, String(parsed.error.code ?? "error"), String(parsed.error.message ?? "The stream failed."));
        yield parsed;
      }
    }
  }
}

/** Signs in: checks the credential against the API and, with a token, fetches the data-plane key. */
export async function signIn(draft: Session): Promise<Session> {
  const s = { ...draft, secret: draft.secret.trim() };
  if (!s.secret) throw new ApiError(400, "MissingCredential", "Paste an account key or a token (run 'ingot token' to print one).");
  if (s.mode === "token") {
    await arm(s, "GET", accountId(s));
    try {
      const keys = await arm(s, "POST", `${accountId(s)}/listKeys`);
      s.dataKey = keys.key1;
    } catch {
      // A Reader or OpenAI User cannot list keys: the data plane then gets the token itself.
      s.dataKey = undefined;
    }
  } else {
    await data(s, "GET", "/models");
  }
  return s;
}

/** Switches account (token mode): the new account's key for the data plane. */
export async function switchAccount(s: Session, account: string): Promise<Session> {
  // Every AIServices account has a project named 'default'; another account may lack the current one.
  const next: Session = { ...s, account, project: "default", dataKey: undefined };
  try {
    const keys = await arm(next, "POST", `${accountId(next)}/listKeys`);
    next.dataKey = keys.key1;
  } catch {
    next.dataKey = undefined;
  }
  return next;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Masks a key for display: first 4 and last 4 characters. */
export const mask = (key: string) => (key.length <= 8 ? "••••" : `${key.slice(0, 4)}${"•".repeat(8)}${key.slice(-4)}`);

/** POSTs a multipart form to a data-plane path with upload progress (0–1), e.g. a file upload. */
export function dataUpload(s: Session, path: string, form: FormData, onProgress?: (fraction: number) => void, signal?: AbortSignal): Promise<any> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `${dataBase(s)}${path}`);
    for (const [k, v] of Object.entries(dataHeaders(s))) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress?.(e.loaded / e.total);
    xhr.onerror = () => reject(new ApiError(0, "NetworkError", "The upload was interrupted: cannot reach Ingot. Check that the server is running and upload the file again."));
    xhr.onabort = () => reject(new ApiError(0, "Aborted", "The upload was cancelled."));
    xhr.onload = async () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        try {
          resolve(xhr.responseText ? JSON.parse(xhr.responseText) : undefined);
        } catch {
          reject(new ApiError(xhr.status, "InvalidResponse", "Ingot answered the upload with something that is not JSON."));
        }
        return;
      }
      const headers = new Headers();
      const after = xhr.getResponseHeader("retry-after");
      if (after) headers.set("retry-after", after);
      reject(await errorFrom(new Response(xhr.responseText, { status: xhr.status, statusText: xhr.statusText, headers })));
    };
    signal?.addEventListener("abort", () => xhr.abort());
    xhr.send(form);
  });
}

/** Azure's file import (dated route only): the server fetches `content_url` (Azure blob SAS or any web location). */
export function dataImport(s: Session, body: { purpose: string; filename: string; content_url: string }): Promise<any> {
  return call("/openai/files/import?api-version=2025-04-01-preview", { method: "POST", headers: { ...dataHeaders(s), "content-type": "application/json" }, body: JSON.stringify(body) });
}

/** Azure OpenAI's data-plane authoring API: the one deployments listing an account key may call. */
export const DEPLOYMENTS_API_VERSION = "2022-12-01";

/** A deployment as `GET /openai/deployments?api-version=2022-12-01` gives it (sku and capabilities are Ingot's additions). */
export interface DataDeployment {
  id: string;
  model: string;
  status: "notRunning" | "running" | "succeeded" | "canceled" | "failed" | "deleted";
  created_at: number;
  updated_at: number;
  error?: { code: string; message: string };
  sku?: { name: string; capacity: number };
  capabilities?: { chat_completion?: boolean; completion?: boolean; embeddings?: boolean };
}

/** The account's deployments through the data plane: works with a key as with a token. */
export async function listDataDeployments(s: Session): Promise<DataDeployment[]> {
  return (await call(`/openai/deployments?api-version=${DEPLOYMENTS_API_VERSION}`, { headers: dataHeaders(s) })).data;
}

export function getDataDeployment(s: Session, name: string): Promise<DataDeployment> {
  return call(`/openai/deployments/${encodeURIComponent(name)}?api-version=${DEPLOYMENTS_API_VERSION}`, { headers: dataHeaders(s) });
}

/** The data plane's model list for the project (OpenAI v1 shape with Azure's fields). */
export interface DataModelInfo {
  id: string;
  owned_by: string;
  created: number;
  model?: string;
  capabilities: { fine_tune: boolean; inference?: boolean; chat_completion: boolean; completion: boolean; embeddings: boolean };
  lifecycle_status: string;
}

export async function listDataModels(s: Session): Promise<DataModelInfo[]> {
  return (await data(s, "GET", "/models")).data;
}

/** Trades the one-time code of the link `ingot up` printed for an admin token, and signs in with it. */
export async function signInWithLink(code: string, draft: Omit<Session, "mode" | "secret">): Promise<Session> {
  const reply = await call("/portal/signin", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ code }) });
  return signIn({ ...draft, mode: "token", secret: reply.access_token });
}
