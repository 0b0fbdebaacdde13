// The "Deploy model" dialog (Foundry's flow, seed 001/002): deployment name, deployment type
// (SKU), capacity with the rate limits it buys, then an ARM PUT and live provisioning progress
// until the deployment succeeds or fails. Exported for reuse: the fine-tuning job page deploys
// checkpoints with it. Also holds the ARM shapes and SKU arithmetic the deployments pages share.
import { DEFAULT_POLICY, RaiPolicyPicker } from "./ContentFilterParts.tsx";
import { useEffect, useMemo, useRef, useState } from "react";
import { accountId, arm, sleep } from "../api.ts";
import type { Session } from "../api.ts";
import { ErrorBox, Field, formatBytes, Modal, navigate, ProgressBar, useSession } from "../ui.tsx";

// ---- ARM shapes (src/http/arm/shapes.ts) ----

export interface ArmSku {
  name: string;
  usageName?: string;
  capacity: { minimum: number; maximum: number; step?: number; default: number };
  rateLimits?: { key: string; renewalPeriod: number; count: number }[];
}

export interface ArmModel {
  format: string;
  name: string;
  version: string;
  publisher?: string;
  baseModel?: { format: string; name: string; version: string };
  isDefaultVersion?: boolean;
  lifecycleStatus: string;
  capabilities: Record<string, string>;
  finetuneCapabilities?: Record<string, string>;
  maxCapacity?: number;
  skus: ArmSku[];
  description?: string;
  license?: string;
  contextLength?: number;
  weightsSizeBytes?: number;
  weightsStatus?: "cached" | "partial" | "missing" | "not-built" | "upstream";
  weightsCached?: boolean;
  weightsDownloadedBytes?: number;
}

export interface ProvisioningDetails {
  phase?: string;
  percentComplete?: number;
  bytes?: number;
  totalBytes?: number;
  error?: string;
}

export interface ArmDeployment {
  id: string;
  name: string;
  sku: { name: string; capacity: number };
  systemData?: { createdAt?: string; lastModifiedAt?: string };
  properties: {
    provisioningState: string;
    model: { format: string; name: string; version: string; source?: string };
    capabilities?: Record<string, string>;
    rateLimits?: { key: string; renewalPeriod: number; count: number }[];
    currentCapacity?: number;
    provisioningDetails?: ProvisioningDetails;
    /** The content-filter policy (absent: Microsoft.DefaultV2). */
    raiPolicyName?: string;
  };
}

export const listModels = async (s: Session): Promise<ArmModel[]> => (await arm(s, "GET", `${accountId(s)}/models`)).value;
export const listDeployments = async (s: Session): Promise<ArmDeployment[]> => (await arm(s, "GET", `${accountId(s)}/deployments`)).value;
export const getDeployment = (s: Session, name: string): Promise<ArmDeployment> => arm(s, "GET", `${accountId(s)}/deployments/${encodeURIComponent(name)}`);

// ---- SKUs and the limits they buy (src/core/quotas/policy.ts) ----

const STANDARD = ["standard", "globalstandard", "datazonestandard", "developertier"];
const PROVISIONED = ["provisionedmanaged", "globalprovisionedmanaged", "datazoneprovisionedmanaged"];
const BATCH = ["globalbatch", "datazonebatch"];

export type SkuFamily = "standard" | "provisioned" | "batch";
export const skuFamily = (name: string): SkuFamily => (PROVISIONED.includes(name.toLowerCase()) ? "provisioned" : BATCH.includes(name.toLowerCase()) ? "batch" : "standard");

const SKU_LABELS: Record<string, string> = {
  GlobalStandard: "Global Standard",
  Standard: "Standard",
  DataZoneStandard: "Data Zone Standard",
  GlobalBatch: "Global Batch",
  DataZoneBatch: "Data Zone Batch",
  ProvisionedManaged: "Provisioned",
  GlobalProvisionedManaged: "Global Provisioned",
  DataZoneProvisionedManaged: "Data Zone Provisioned",
  DeveloperTier: "Developer",
};
export const skuLabel = (name: string) => SKU_LABELS[name] ?? name;

const n = (v: number) => v.toLocaleString("en-US");

/** What a capacity buys, in words: "1,000,000 tokens per minute · 6,000 requests per minute". */
export function limitsText(skuName: string, capacity: number): string {
  const family = skuFamily(skuName);
  if (family === "provisioned") return `${n(capacity)} requests in parallel (dedicated; no token limit)`;
  if (family === "batch") return "Batch jobs only: synchronous requests are refused";
  return `${n(capacity * 1000)} tokens per minute · ${n(capacity * 6)} requests per minute`;
}

export const capacityUnit = (skuName: string) => (skuFamily(skuName) === "provisioned" ? "PTU" : "K TPM");

// ---- names (src/core/deployments/rules.ts) ----

const NAME = /^[A-Za-z0-9-]{1,64}$/;

/** The API's deployment-name rule, with a message saying what to change (null when valid). */
export function deploymentNameProblem(name: string, taken: string[] = []): string | null {
  if (!name) return "Enter a deployment name: your code sends it as the model (or in the URL) to reach this deployment.";
  if (name.length > 64) return `A deployment name is at most 64 characters (this one is ${name.length}).`;
  if (!NAME.test(name)) {
    const bad = [...new Set(name.replace(/[A-Za-z0-9-]/g, ""))].map((c) => (c === " " ? "space" : `'${c}'`)).join(", ");
    return `Use only letters, digits and hyphens (-); remove ${bad}.`;
  }
  if (taken.includes(name)) return `A deployment named '${name}' already exists in this account. Choose another name.`;
  return null;
}

/** A valid default name from a model name (dots and underscores become hyphens), unique among `taken`. */
export function suggestName(model: string, taken: string[]): string {
  const base = model.replace(/[^A-Za-z0-9-]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 60) || "deployment";
  if (!taken.includes(base)) return base;
  for (let i = 2; ; i++) if (!taken.includes(`${base}-${i}`)) return `${base}-${i}`;
}

// ---- provisioning progress ----

const PHASES: Record<string, string> = {
  queued: "Queued",
  downloading: "Downloading weights",
  verifying: "Verifying weights",
  building: "Building model",
  loading: "Loading model",
  ready: "Ready",
  failed: "Failed",
};

export const isSettled = (state: string) => state === "Succeeded" || state === "Failed" || state === "Canceled";

/** A progress bar for a deployment that is still provisioning, with its phase and bytes. */
export function DeploymentProgress({ deployment }: { deployment: ArmDeployment }) {
  const p = deployment.properties.provisioningDetails ?? {};
  const state = deployment.properties.provisioningState;
  const pct = p.percentComplete ?? 0;
  const phase = p.phase ? (PHASES[p.phase] ?? p.phase) : state;
  const bytes = p.bytes !== undefined && p.totalBytes ? ` · ${formatBytes(p.bytes)} of ${formatBytes(p.totalBytes)}` : p.bytes ? ` · ${formatBytes(p.bytes)}` : "";
  const label = `${phase}${pct > 0 ? ` ${Math.round(pct)}%` : ""}${bytes}`;
  return <ProgressBar value={pct > 0 ? pct : null} label={label} />;
}

/** Polls a deployment until it settles; calls `onUpdate` with each reading. */
export async function waitForDeployment(s: Session, name: string, onUpdate: (d: ArmDeployment) => void, isCancelled: () => boolean): Promise<ArmDeployment | undefined> {
  for (;;) {
    const d = await getDeployment(s, name);
    if (isCancelled()) return undefined;
    onUpdate(d);
    if (isSettled(d.properties.provisioningState)) return d;
    await sleep(600);
  }
}

// ---- the dialog ----

export interface DeployDialogProps {
  model: { format: string; name: string; version: string };
  onClose(): void;
  onDeployed?(name: string): void;
}

export function DeployDialog({ model, onClose, onDeployed }: DeployDialogProps) {
  const { session } = useSession();
  const [catalogModel, setCatalogModel] = useState<ArmModel | null>(null);
  const [taken, setTaken] = useState<string[] | null>(null);
  const [usages, setUsages] = useState<Record<string, { current: number; limit: number }>>({});
  const [loadError, setLoadError] = useState<unknown>(null);
  const [name, setName] = useState("");
  const [touched, setTouched] = useState(false);
  const [skuName, setSkuName] = useState("");
  const [capacity, setCapacity] = useState(0);
  const [raiPolicy, setRaiPolicy] = useState(DEFAULT_POLICY);
  const [phase, setPhase] = useState<"form" | "deploying" | "done">("form");
  const [deployment, setDeployment] = useState<ArmDeployment | null>(null);
  const [error, setError] = useState<unknown>(null);
  const closed = useRef(false);
  useEffect(() => {
    closed.current = false;
    return () => {
      closed.current = true;
    };
  }, []);

  useEffect(() => {
    let cancelled = false;
    (async () => {
      try {
        const [models, deployments, usageList] = await Promise.all([
          listModels(session),
          listDeployments(session),
          arm(session, "GET", `${accountId(session)}/usages`).then((u) => u.value as { name: { value: string }; currentValue: number; limit: number }[]).catch(() => []),
        ]);
        if (cancelled) return;
        const found = models.find((m) => m.format === model.format && m.name === model.name && m.version === model.version);
        if (!found) throw new Error(`Model ${model.format}/${model.name} version ${model.version} is not in this account's catalog: it may have been deleted, or belong to another account.`);
        const names = deployments.map((d) => d.name);
        const u = Object.fromEntries(usageList.map((x) => [x.name.value, { current: x.currentValue, limit: x.limit }]));
        setCatalogModel(found);
        setTaken(names);
        setUsages(u);
        setName((current) => current || suggestName(model.name, names));
        const offers = deployableSkus(found);
        const first = offers[0];
        if (first) {
          setSkuName(first.name);
          setCapacity(defaultCapacity(first, u));
        }
      } catch (e) {
        if (!cancelled) setLoadError(e);
      }
    })();
    return () => {
      cancelled = true;
    };
  }, [session, model.format, model.name, model.version]);

  const offers = useMemo(() => (catalogModel ? deployableSkus(catalogModel) : []), [catalogModel]);
  const offer = offers.find((o) => o.name === skuName);
  const nameProblem = deploymentNameProblem(name, taken ?? []);
  const quota = offer?.usageName ? usages[offer.usageName] : undefined;
  const available = quota ? Math.max(0, quota.limit - quota.current) : undefined;
  const capacityProblem = offer ? capacityProblemOf(offer, capacity, available) : null;
  const noWeights = catalogModel?.weightsStatus === "upstream";
  const canDeploy = phase === "form" && !!catalogModel && !!offer && !nameProblem && !capacityProblem && !noWeights;

  const deploy = async () => {
    setTouched(true);
    if (!canDeploy || !offer) return;
    setError(null);
    setPhase("deploying");
    let created: ArmDeployment | undefined;
    try {
      const body = { sku: { name: offer.name, capacity }, properties: { model: { format: model.format, name: model.name, version: model.version }, raiPolicyName: raiPolicy } };
      created = (await arm(session, "PUT", `${accountId(session)}/deployments/${encodeURIComponent(name)}`, body)) as ArmDeployment;
      setDeployment(created);
      const settled = await waitForDeployment(session, name, setDeployment, () => closed.current);
      if (closed.current) return;
      setPhase("done");
      if (settled?.properties.provisioningState === "Succeeded") onDeployed?.(name);
    } catch (e) {
      if (closed.current) return;
      setError(e);
      setPhase(created ? "done" : "form");
    }
  };

  const state = deployment?.properties.provisioningState;
  const isChat = !!catalogModel && (catalogModel.capabilities.chatCompletion === "true");
  return (
    <Modal title="Deploy model" onClose={onClose}>
      <div className="deploy-dialog" data-testid="deploy-dialog">
        <div className="deploy-model">
          <span className="muted">Model</span> <b>{model.name}</b> <span className="muted">· {model.format} · version {model.version}</span>
        </div>
        <ErrorBox error={loadError} />
        {!catalogModel && !loadError ? <ProgressBar value={null} label="Loading the model's deployment options…" /> : null}
        {catalogModel && phase === "form" ? (
          <form
            className="form-grid"
            onSubmit={(e) => {
              e.preventDefault();
              void deploy();
            }}
          >
            {noWeights ? (
              <div className="notice">
                {model.name} has no open weights: Ingot can serve it only through an upstream endpoint. Deploy an open-weight model instead (for example Qwen2.5-0.5B-Instruct or tiny-chat).
              </div>
            ) : null}
            <Field label="Deployment name" error={touched || name ? nameProblem : null} hint="Your code reaches the model by this name: in the URL (Azure OpenAI) or as model (OpenAI v1, model inference).">
              <input
                name="deploymentName"
                value={name}
                autoFocus
                maxLength={80}
                onChange={(e) => {
                  setName(e.target.value);
                  setTouched(true);
                }}
              />
            </Field>
            <Field label="Deployment type" hint={offer ? skuHint(offer.name) : undefined}>
              <select
                name="sku"
                value={skuName}
                onChange={(e) => {
                  const next = offers.find((o) => o.name === e.target.value);
                  setSkuName(e.target.value);
                  if (next) setCapacity(defaultCapacity(next, usages));
                }}
              >
                {offers.map((o) => (
                  <option key={o.name} value={o.name}>
                    {skuLabel(o.name)} ({o.name})
                  </option>
                ))}
              </select>
            </Field>
            {offer ? (
              <Field
                label={skuFamily(offer.name) === "provisioned" ? "Capacity (provisioned throughput units)" : "Capacity (thousands of tokens per minute)"}
                error={capacityProblem}
                hint={
                  <>
                    {offer.capacity.minimum.toLocaleString("en-US")} to {offer.capacity.maximum.toLocaleString("en-US")}
                    {(offer.capacity.step ?? 1) > 1 ? ` in steps of ${offer.capacity.step}` : ""}
                    {quota ? ` · quota ${offer.usageName}: ${quota.current.toLocaleString("en-US")} of ${quota.limit.toLocaleString("en-US")} used, ${available!.toLocaleString("en-US")} available` : ""}
                  </>
                }
              >
                <div className="row">
                  <input
                    name="capacity"
                    type="number"
                    className="narrow"
                    min={offer.capacity.minimum}
                    max={offer.capacity.maximum}
                    step={offer.capacity.step ?? 1}
                    value={Number.isFinite(capacity) ? capacity : ""}
                    onChange={(e) => setCapacity(e.target.valueAsNumber)}
                  />
                  <span className="muted">{capacityUnit(offer.name)}</span>
                </div>
              </Field>
            ) : null}
            <RaiPolicyPicker session={session} value={raiPolicy} onChange={setRaiPolicy} />
            {offer ? (
              <div className="limits" data-testid="rate-limits">
                <span className="field-label">Rate limits</span> {Number.isFinite(capacity) && capacity > 0 ? limitsText(offer.name, capacity) : "—"}
              </div>
            ) : null}
            <ErrorBox error={error} onDismiss={() => setError(null)} />
            <div className="row actions">
              <span className="spacer" />
              <button type="button" onClick={onClose}>
                Cancel
              </button>
              <button type="submit" className="primary" disabled={!canDeploy}>
                Deploy
              </button>
            </div>
          </form>
        ) : null}
        {phase !== "form" ? (
          <div className="deploy-status" data-testid="deploy-status">
            <div className="row">
              <span>
                Deployment <b>{name}</b>
              </span>
              <span className={`state-${state ?? "Creating"}`} data-testid="deploy-state">
                {state ?? "Creating"}
              </span>
            </div>
            {deployment && !isSettled(deployment.properties.provisioningState) ? <DeploymentProgress deployment={deployment} /> : null}
            {!deployment && phase === "deploying" ? <ProgressBar value={null} label="Creating the deployment…" /> : null}
            {state === "Succeeded" ? (
              <div className="notice ok">
                {name} is ready: call it with model <code>{name}</code>. {offer ? limitsText(offer.name, capacity) : ""}.
              </div>
            ) : null}
            {state === "Failed" ? (
              <ErrorBox error={{ code: "DeploymentFailed", message: `${deployment?.properties.provisioningDetails?.error ?? "The deployment failed."} Delete it on the Deployments page, fix the cause, and deploy again.` }} />
            ) : null}
            <ErrorBox error={error} />
            <div className="row actions">
              <span className="spacer" />
              {state === "Succeeded" && isChat ? (
                <button
                  type="button"
                  onClick={() => {
                    onClose();
                    navigate(`/playground?deployment=${encodeURIComponent(name)}`);
                  }}
                >
                  Open in playground
                </button>
              ) : null}
              {deployment ? (
                <button
                  type="button"
                  onClick={() => {
                    onClose();
                    navigate(`/deployments/${encodeURIComponent(name)}`);
                  }}
                >
                  Go to deployment
                </button>
              ) : null}
              <button type="button" className={isSettled(state ?? "") ? "primary" : ""} onClick={onClose}>
                {isSettled(state ?? "") ? "Done" : "Close (keeps deploying)"}
              </button>
            </div>
          </div>
        ) : null}
      </div>
    </Modal>
  );
}

/** The SKUs a deployment may use: DeveloperTier serves fine-tuned (custom) models only. */
function deployableSkus(m: ArmModel): ArmSku[] {
  return m.skus.filter((s) => s.name !== "DeveloperTier" || m.baseModel);
}

function defaultCapacity(offer: ArmSku, usages: Record<string, { current: number; limit: number }>): number {
  const q = offer.usageName ? usages[offer.usageName] : undefined;
  const available = q ? Math.max(0, q.limit - q.current) : Infinity;
  const step = offer.capacity.step ?? 1;
  let c = Math.min(offer.capacity.default, offer.capacity.maximum, available);
  c = offer.capacity.minimum + Math.floor((c - offer.capacity.minimum) / step) * step;
  return Math.max(offer.capacity.minimum, c);
}

function capacityProblemOf(offer: ArmSku, capacity: number, available: number | undefined): string | null {
  const { minimum, maximum } = offer.capacity;
  const step = offer.capacity.step ?? 1;
  if (!Number.isFinite(capacity) || !Number.isInteger(capacity)) return "Enter a whole number.";
  if (capacity < minimum || capacity > maximum) return `Use ${minimum.toLocaleString("en-US")} to ${maximum.toLocaleString("en-US")}.`;
  if ((capacity - minimum) % step !== 0) return `Use a multiple of ${step} (from ${minimum}).`;
  if (available !== undefined && capacity > available)
    return `Only ${available.toLocaleString("en-US")} is left in quota ${offer.usageName}. Lower the capacity, or delete or scale down another deployment of this type.`;
  return null;
}

function skuHint(name: string): string {
  switch (skuFamily(name)) {
    case "provisioned":
      return "Dedicated throughput: requests run in parallel up to the capacity, with no token limit.";
    case "batch":
      return "For batch jobs: synchronous chat and embeddings requests are refused.";
    default:
      return name === "DeveloperTier" ? "For evaluating fine-tuned models: expires after 24 hours." : "Pay per token: capacity sets tokens and requests per minute.";
  }
}
