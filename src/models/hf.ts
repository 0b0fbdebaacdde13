// `hf:` weights URIs and where they download from: `{base}/{owner}/{repo}/resolve/{revision}/{path}`,
// the layout of Hugging Face and of its mirrors (HF_ENDPOINT, as huggingface_hub reads it).

export interface HfFile {
  owner: string;
  repo: string;
  /** Path of the file inside the repository (may contain '/'). */
  path: string;
  /** Branch, tag or commit; `main` when the URI names none. */
  revision: string;
}

export const DEFAULT_HF_ENDPOINT = "https://huggingface.co";

/** Parses `hf:<owner>/<repo>/<path/in/repo.gguf>[@<revision>]`. */
export function parseHfUri(uri: string): HfFile {
  if (!uri.startsWith("hf:")) throw new Error(`not an hf: URI: ${uri}`);
  let rest = uri.slice(3);
  let revision = "main";
  const at = rest.lastIndexOf("@");
  if (at > 0) {
    revision = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  const [owner, repo, ...path] = rest.split("/");
  if (!owner || !repo || path.length === 0 || path.some((p) => !p) || !revision)
    throw new Error(`hf: URI '${uri}' must be hf:<owner>/<repo>/<path/in/repo.gguf>[@<revision>]`);
  return { owner, repo, path: path.join("/"), revision };
}

export interface BaseUrl {
  url: string;
  /** Where the URL came from, for messages that tell the operator what to change. */
  source: "option" | "HF_ENDPOINT" | "default";
}

/** The download base: the modelsBaseUrl option, else env HF_ENDPOINT, else huggingface.co. */
export function resolveBaseUrl(option: string | undefined, env: NodeJS.ProcessEnv = process.env): BaseUrl {
  const pick = (url: string, source: BaseUrl["source"]): BaseUrl => ({ url: url.replace(/\/+$/, ""), source });
  if (option) return pick(option, "option");
  if (env.HF_ENDPOINT) return pick(env.HF_ENDPOINT, "HF_ENDPOINT");
  return pick(DEFAULT_HF_ENDPOINT, "default");
}

export function hfFileUrl(base: string, f: HfFile): string {
  const enc = (s: string) => s.split("/").map(encodeURIComponent).join("/");
  return `${base}/${enc(f.owner)}/${enc(f.repo)}/resolve/${encodeURIComponent(f.revision)}/${enc(f.path)}`;
}

/** A sentence naming the base URL and how to change it. */
export function describeBase(base: BaseUrl): string {
  switch (base.source) {
    case "option":
      return `The download base URL is ${base.url} (set by --base-url / the modelsBaseUrl option).`;
    case "HF_ENDPOINT":
      return `The download base URL is ${base.url} (from HF_ENDPOINT).`;
    default:
      return `The download base URL is ${base.url}; set HF_ENDPOINT to download from a mirror instead.`;
  }
}
