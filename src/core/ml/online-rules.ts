// Rules of Azure ML online endpoints that need no state (reference azure-ml.md §10): names,
// the traffic split, how a deployment's traffic is shared out, and the instance records of a
// scale. The service that stores and runs endpoints is online.ts.
import { errors } from "../errors.ts";

/** Azure's rule for online endpoint names: 3 to 32 characters, a letter first, then letters, digits and hyphens. */
const ENDPOINT_NAME = /^[a-zA-Z][a-zA-Z0-9-]{2,31}$/;
/** Deployments: the same, without "--" (it separates the parts of the instance record names). */
const DEPLOYMENT_NAME = /^[a-zA-Z][a-zA-Z0-9-]{2,31}$/;
/** Instance record names must stay valid deployment names (at most 64 characters). */
const RECORD_NAME_MAX = 64;
/** Most instances one deployment may have here: each is a runner process of the whole model. */
export const DEFAULT_MAX_INSTANCES = 8;

/** The name of instance `i`'s deployment record. */
export const instanceRecordName = (endpoint: string, deployment: string, i: number) => `${endpoint}--${deployment}--${i}`;

export const invalid = (message: string, target: string) => errors.armInvalid("UserError", message, target);

export function checkEndpointName(name: string): void {
  if (!ENDPOINT_NAME.test(name))
    throw invalid(`Online endpoint name '${name.slice(0, 64)}' is invalid: use 3 to 32 characters, starting with a letter, then letters, digits and hyphens (-).`, "name");
}

export function checkOnlineDeploymentName(endpoint: string, name: string): void {
  if (!DEPLOYMENT_NAME.test(name) || name.includes("--"))
    throw invalid(`Online deployment name '${name.slice(0, 64)}' is invalid: use 3 to 32 characters, starting with a letter, then letters, digits and single hyphens (-).`, "name");
  const longest = instanceRecordName(endpoint, name, DEFAULT_MAX_INSTANCES * 10).length;
  if (longest > RECORD_NAME_MAX + 1)
    throw invalid(
      `Endpoint '${endpoint}' and deployment '${name}' are too long together (${endpoint.length + name.length} characters): Ingot names each instance '<endpoint>--<deployment>--<n>', at most ${RECORD_NAME_MAX} characters. Use at most ${RECORD_NAME_MAX - 7} characters for both names together.`,
      "name",
    );
}

/**
 * Checks a traffic map against the endpoint's deployments: whole percents 0..100 naming existing
 * deployments, adding up to 100 (or all zero / empty: no traffic yet). Returns it with the
 * deployments' own spelling of their names.
 */
export function checkTraffic(traffic: unknown, deployments: string[], endpoint: string): Record<string, number> {
  if (traffic === undefined || traffic === null) return {};
  if (typeof traffic !== "object" || Array.isArray(traffic)) throw invalid(`'properties.traffic' must be an object of deployment name to percent, e.g. {"blue": 100}.`, "properties.traffic");
  const out: Record<string, number> = {};
  let sum = 0;
  for (const [name, value] of Object.entries(traffic as Record<string, unknown>)) {
    const d = deployments.find((x) => x.toLowerCase() === name.toLowerCase());
    if (!d)
      throw invalid(
        `'properties.traffic' names deployment '${name.slice(0, 64)}', which endpoint '${endpoint}' does not have${deployments.length ? ` (its deployments: ${deployments.map((x) => `'${x}'`).join(", ")})` : " (it has no deployments yet)"}. Create the deployment first, then set its traffic.`,
        "properties.traffic",
      );
    if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > 100)
      throw invalid(`'properties.traffic.${name}' must be a whole percent from 0 to 100, got ${JSON.stringify(value)}.`, "properties.traffic");
    out[d] = value;
    sum += value;
  }
  if (sum !== 0 && sum !== 100)
    throw invalid(
      `The traffic of endpoint '${endpoint}' adds up to ${sum}%; it must add up to 100% over its deployments (or be 0 everywhere). Change the percents in 'properties.traffic', e.g. ${JSON.stringify(suggest(out))}.`,
      "properties.traffic",
    );
  return out;
}

/** The same split scaled to 100 (the last one takes the rounding), suggested in the 400 for one that does not add up. */
export function suggest(traffic: Record<string, number>): Record<string, number> {
  const names = Object.keys(traffic);
  const sum = Object.values(traffic).reduce((a, b) => a + b, 0);
  if (names.length === 0) return {};
  if (sum === 0) return { [names[0]]: 100 };
  const out: Record<string, number> = {};
  let left = 100;
  names.forEach((n, i) => {
    out[n] = i === names.length - 1 ? left : Math.round((100 * traffic[n]) / sum);
    left -= out[n];
  });
  return out;
}

/**
 * Smooth weighted round robin (as nginx's): each pick adds every weight to its counter, takes
 * the largest, and subtracts the total from it. Over any run of `total` picks each name is
 * chosen exactly `weight` times, spread out rather than in blocks.
 */
export class WeightedRoundRobin {
  #current = new Map<string, number>();

  pick(weights: Record<string, number>): string | undefined {
    const entries = Object.entries(weights).filter(([, w]) => w > 0);
    if (entries.length === 0) return undefined;
    const total = entries.reduce((s, [, w]) => s + w, 0);
    let best: string | undefined;
    let bestValue = -Infinity;
    for (const [name, w] of entries) {
      const v = (this.#current.get(name) ?? 0) + w;
      this.#current.set(name, v);
      if (v > bestValue) {
        best = name;
        bestValue = v;
      }
    }
    this.#current.set(best!, bestValue - total);
    for (const name of this.#current.keys()) if (!(name in weights)) this.#current.delete(name);
    return best;
  }
}

/** Least outstanding requests; ties go round robin from the one after the last pick. */
export function leastOutstanding(candidates: string[], inFlight: (name: string) => number, after: number): number {
  let best = -1;
  let bestLoad = Infinity;
  for (let k = 0; k < candidates.length; k++) {
    const i = (after + 1 + k) % candidates.length;
    const load = inFlight(candidates[i]);
    if (load < bestLoad) {
      best = i;
      bestLoad = load;
    }
  }
  return best;
}

/** The instance records a deployment of `capacity` instances has, and those a scale-down removes. */
export function instancePlan(endpoint: string, deployment: string, from: number, to: number): { keep: string[]; add: string[]; remove: string[] } {
  const names = (a: number, b: number) => Array.from({ length: Math.max(0, b - a) }, (_, k) => instanceRecordName(endpoint, deployment, a + k));
  return { keep: names(0, Math.min(from, to)), add: names(from, to), remove: names(to, from) };
}

