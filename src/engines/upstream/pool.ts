// The endpoints of one upstream model (its baseUrl list): least-outstanding-requests choice,
// health checks, and taking an endpoint out after a connection error or a 5xx until a check
// finds it answering again.
import type { UpstreamSpec } from "../../core/ports/index.ts";

export interface UpstreamEndpoint {
  /** The API base as configured, without a trailing slash (…/v1). */
  baseUrl: string;
  /** The server root (the base without a trailing /v1): where llama-server and vLLM keep /tokenize, /lora-adapters. */
  root: string;
  /** The base's query (Azure's ?api-version=…), appended to every API path. */
  query: string;
  outstanding: number;
  healthy: boolean;
  /** Why it was last taken out (shown in logs and load errors). */
  problem?: string;
}

export function endpointsOf(spec: UpstreamSpec): UpstreamEndpoint[] {
  const urls = Array.isArray(spec.baseUrl) ? spec.baseUrl : [spec.baseUrl];
  return urls.map((raw) => {
    const u = new URL(raw);
    const query = u.search;
    u.search = "";
    u.hash = "";
    const baseUrl = u.toString().replace(/\/+$/, "");
    return { baseUrl, root: baseUrl.replace(/\/v1$/, ""), query, outstanding: 0, healthy: true };
  });
}

/** An API path under the endpoint's base: `chat/completions` → http://h/v1/chat/completions?api-version=… */
export const apiUrl = (e: UpstreamEndpoint, path: string) => new URL(`${e.baseUrl}/${path}${e.query}`);
/** A path under the server root (llama-server's and vLLM's own endpoints). */
export const rootUrl = (e: UpstreamEndpoint, path: string) => new URL(`${e.root}/${path}`);

export class UpstreamPool {
  readonly endpoints: UpstreamEndpoint[];
  #next = 0;

  constructor(spec: UpstreamSpec) {
    this.endpoints = endpointsOf(spec);
  }

  /**
   * The endpoint for the next attempt: among those not yet tried, the healthy one with the fewest
   * requests in flight (ties in turn); when none is healthy, an unhealthy one (it may be back).
   */
  pick(tried: ReadonlySet<UpstreamEndpoint>, usable: (e: UpstreamEndpoint) => boolean = () => true): UpstreamEndpoint | undefined {
    let best: UpstreamEndpoint | undefined;
    const n = this.endpoints.length;
    const start = this.#next++ % n;
    for (const wantHealthy of [true, false]) {
      for (let k = 0; k < n; k++) {
        const e = this.endpoints[(start + k) % n];
        if (e.healthy !== wantHealthy || tried.has(e) || !usable(e)) continue;
        if (!best || e.outstanding < best.outstanding) best = e;
      }
      if (best) return best;
    }
    return undefined;
  }

  markDown(e: UpstreamEndpoint, problem: string): boolean {
    const was = e.healthy;
    e.healthy = false;
    e.problem = problem;
    return was;
  }

  markUp(e: UpstreamEndpoint): boolean {
    const was = e.healthy;
    e.healthy = true;
    e.problem = undefined;
    return !was;
  }

  get outstanding(): number {
    return this.endpoints.reduce((a, e) => a + e.outstanding, 0);
  }
}
