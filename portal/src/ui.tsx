// Small building blocks shared by the portal's pages.
import { createContext, useContext, useEffect, useRef, useState } from "react";
import type { ReactNode } from "react";
import type { Session } from "./api.ts";

export interface SessionContextValue {
  session: Session;
  setSession(s: Session | null): void;
}

export const SessionContext = createContext<SessionContextValue | null>(null);

export function useSession(): SessionContextValue {
  const v = useContext(SessionContext);
  if (!v) throw new Error("useSession outside a signed-in page");
  return v;
}

/** The current hash route, e.g. "#/deployments" → ["deployments"], with its query. */
export function useRoute(): { parts: string[]; query: URLSearchParams } {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const on = () => setHash(location.hash);
    window.addEventListener("hashchange", on);
    // The hash may have changed between render and this effect (a redirect during render).
    on();
    return () => window.removeEventListener("hashchange", on);
  }, []);
  const [path, q = ""] = hash.replace(/^#\/?/, "").split("?");
  return { parts: path.split("/").filter(Boolean).map(decodeURIComponent), query: new URLSearchParams(q) };
}

export const navigate = (to: string) => {
  location.hash = to.startsWith("#") ? to : `#${to}`;
};

export function ErrorBox({ error, onDismiss }: { error: unknown; onDismiss?: () => void }) {
  if (!error) return null;
  const e = error as { message?: string; code?: string };
  return (
    <div className="error" role="alert" data-testid="error">
      {e.code && e.code !== "undefined" ? <strong>{e.code}: </strong> : null}
      {e.message ?? String(error)}
      {onDismiss ? (
        <button className="link" onClick={onDismiss} aria-label="Dismiss">
          ×
        </button>
      ) : null}
    </div>
  );
}

export function ProgressBar({ value, label }: { value: number | null; label?: string }) {
  return (
    <div className="progress" role="progressbar" aria-valuenow={value ?? undefined} aria-valuemin={0} aria-valuemax={100}>
      <div className={value === null ? "bar indeterminate" : "bar"} style={value === null ? undefined : { width: `${Math.max(0, Math.min(100, value))}%` }} />
      {label ? <span className="progress-label">{label}</span> : null}
    </div>
  );
}

/** What Tab can reach inside a dialog, in document order. */
const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';
const focusables = (root: HTMLElement) => [...root.querySelectorAll<HTMLElement>(FOCUSABLE)].filter((el) => !el.hidden && el.getClientRects().length > 0);
/** Open dialogs, innermost last: only the innermost handles Tab and Escape. */
const openDialogs: HTMLElement[] = [];
let dialogIds = 0;

/**
 * A modal dialog (WAI-ARIA dialog pattern): aria-modal, labelled by its title; focus moves in
 * when it opens (to a `data-autofocus` element, else the first control of its body), Tab and
 * Shift+Tab cycle inside it, Escape closes it, and focus returns to what opened it.
 */
export function Modal({ title, children, onClose, className, closeOnBackdrop = true }: { title: string; children: ReactNode; onClose(): void; className?: string; closeOnBackdrop?: boolean }) {
  const ref = useRef<HTMLDivElement>(null);
  const [titleId] = useState(() => `dialog-title-${++dialogIds}`);
  const close = useRef(onClose);
  close.current = onClose;
  // Taken while rendering, before focus moves in: what to give focus back to on close.
  const [opener] = useState(() => (document.activeElement instanceof HTMLElement ? document.activeElement : null));
  useEffect(() => {
    const dialog = ref.current!;
    openDialogs.push(dialog);
    const body = focusables(dialog).filter((el) => !el.closest("header"));
    (dialog.querySelector<HTMLElement>("[data-autofocus]") ?? body[0] ?? focusables(dialog)[0] ?? dialog).focus();
    const onKey = (e: KeyboardEvent) => {
      if (openDialogs.at(-1) !== dialog) return;
      if (e.key === "Escape") {
        e.preventDefault();
        close.current();
        return;
      }
      if (e.key !== "Tab") return;
      const items = focusables(dialog);
      if (items.length === 0) {
        e.preventDefault();
        dialog.focus();
        return;
      }
      const [first, last] = [items[0], items[items.length - 1]];
      const active = document.activeElement;
      // Focus outside the dialog (a control that vanished, a click on the backdrop) comes back in.
      if (!(active instanceof Node) || !dialog.contains(active) || active === dialog) {
        e.preventDefault();
        (e.shiftKey ? last : first).focus();
      } else if (!e.shiftKey && active === last) {
        e.preventDefault();
        first.focus();
      } else if (e.shiftKey && active === first) {
        e.preventDefault();
        last.focus();
      }
    };
    document.addEventListener("keydown", onKey);
    return () => {
      document.removeEventListener("keydown", onKey);
      openDialogs.splice(openDialogs.indexOf(dialog), 1);
      if (opener?.isConnected) opener.focus();
    };
  }, []);
  return (
    <div className="modal-backdrop" onClick={closeOnBackdrop ? onClose : undefined}>
      <div ref={ref} className={className ? `modal ${className}` : "modal"} role="dialog" aria-modal="true" aria-labelledby={titleId} tabIndex={-1} onClick={(e) => e.stopPropagation()}>
        <header>
          <h2 id={titleId}>{title}</h2>
          <button type="button" className="link" onClick={onClose} aria-label="Close">
            ×
          </button>
        </header>
        {children}
      </div>
    </div>
  );
}

/**
 * Copies `text`; says "Copied" only once the clipboard took it, and says so when it did not
 * (no clipboard on a page served over plain http from another machine, or permission denied).
 */
export function CopyButton({ text, label = "Copy" }: { text: string; label?: string }) {
  const [state, setState] = useState<"idle" | "copied" | "failed">("idle");
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(timer.current), []);
  return (
    <span className="copy">
      <button
        type="button"
        className="small"
        onClick={async () => {
          clearTimeout(timer.current);
          let next: "copied" | "failed" = "failed";
          try {
            if (!navigator.clipboard) throw new Error("no clipboard");
            await navigator.clipboard.writeText(text);
            next = "copied";
          } catch {
            next = "failed";
          }
          setState(next);
          timer.current = setTimeout(() => setState("idle"), next === "copied" ? 1200 : 6000);
        }}
      >
        {state === "copied" ? "Copied" : label}
      </button>
      <span className={state === "failed" ? "copy-status field-error" : "copy-status"} role="status" aria-live="polite">
        {state === "failed" ? "Could not copy: the browser refused the clipboard. Select the text and press Ctrl+C (⌘C)." : ""}
      </span>
    </span>
  );
}

export function Field({ label, hint, error, children }: { label: string; hint?: ReactNode; error?: string | null; children: ReactNode }) {
  return (
    <label className={error ? "field invalid" : "field"}>
      <span className="field-label">{label}</span>
      {children}
      {error ? <span className="field-error">{error}</span> : hint ? <span className="field-hint">{hint}</span> : null}
    </label>
  );
}

export interface Series {
  name: string;
  color: string;
  points: { x: number; y: number }[];
}

/** An SVG line chart: several series over a shared x axis (steps, days…). */
export function LineChart({ series, xLabel, yLabel, height = 220, testId, formatX }: { series: Series[]; xLabel: string; yLabel: string; height?: number; testId?: string; formatX?: (x: number) => string }) {
  const width = 560;
  const pad = { l: 48, r: 12, t: 10, b: 34 };
  const all = series.flatMap((s) => s.points);
  if (all.length === 0)
    return (
      <div className="chart empty" data-testid={testId} data-points={0}>
        No data yet.
      </div>
    );
  const xs = all.map((p) => p.x);
  const ys = all.map((p) => p.y);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const [y0, y1] = [Math.min(0, ...ys), Math.max(...ys) || 1];
  const sx = (x: number) => pad.l + ((x - x0) / (x1 - x0 || 1)) * (width - pad.l - pad.r);
  const sy = (y: number) => height - pad.b - ((y - y0) / (y1 - y0 || 1)) * (height - pad.t - pad.b);
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => y0 + f * (y1 - y0));
  const fx = formatX ?? ((x: number) => String(Math.round(x)));
  return (
    <figure className="chart" data-testid={testId} data-points={all.length}>
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={`${yLabel} by ${xLabel}`}>
        {ticks.map((t) => (
          <g key={t}>
            <line x1={pad.l} x2={width - pad.r} y1={sy(t)} y2={sy(t)} className="grid" />
            <text x={pad.l - 6} y={sy(t) + 4} textAnchor="end" className="tick">
              {Math.abs(t) >= 100 ? Math.round(t) : t.toFixed(2)}
            </text>
          </g>
        ))}
        <text x={pad.l} y={height - 8} className="tick">
          {fx(x0)}
        </text>
        <text x={width - pad.r} y={height - 8} textAnchor="end" className="tick">
          {fx(x1)}
        </text>
        <text x={(width + pad.l) / 2} y={height - 8} textAnchor="middle" className="axis">
          {xLabel}
        </text>
        {series.map((s) =>
          s.points.length === 1 ? (
            <circle key={s.name} cx={sx(s.points[0].x)} cy={sy(s.points[0].y)} r={3} fill={s.color} />
          ) : (
            <polyline key={s.name} fill="none" stroke={s.color} strokeWidth={2} points={s.points.map((p) => `${sx(p.x)},${sy(p.y)}`).join(" ")} />
          ),
        )}
      </svg>
      <figcaption>
        {series.map((s) => (
          <span key={s.name} className="legend">
            <i style={{ background: s.color }} /> {s.name}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}

/** Re-runs `load` every `ms` while `active`, returning the latest value and error. */
export function usePoll<T>(load: () => Promise<T>, ms: number, deps: unknown[], active = true): { value: T | undefined; error: unknown; reload(): void } {
  const [value, setValue] = useState<T>();
  const [error, setError] = useState<unknown>(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = async () => {
      try {
        const v = await load();
        if (stopped) return;
        setValue(v);
        setError(null);
      } catch (e) {
        if (!stopped) setError(e);
      }
      if (!stopped && active) timer = setTimeout(run, ms);
    };
    void run();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick, active]);
  return { value, error, reload: () => setTick((t) => t + 1) };
}

export const formatBytes = (n: number | undefined | null) => {
  if (n === undefined || n === null) return "—";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
};

export const formatTime = (unixSeconds: number | undefined | null) => (unixSeconds ? new Date(unixSeconds * 1000).toLocaleString() : "—");
