// What the deployments pages show alike whether the session holds a token (ARM) or an account
// key (the data plane): the state cell, the list table, the detail page's head, and its
// endpoints and code. Each page maps its own deployment shape onto these.
import type { ReactNode } from "react";
import { EndpointsTable, endpointsFor, Snippets } from "./Snippets.tsx";
import type { DeploymentKind } from "./Snippets.tsx";

/** A deployment's state (ARM's provisioning words) and what goes under it: progress, the error. */
export function StateCell({ state, children }: { state: string; children?: ReactNode }) {
  return (
    <div className="state-cell">
      <span className={`state-${state}`} data-testid="state">
        {state}
      </span>
      {children}
    </div>
  );
}

/** One row of the deployments table; `limits` only where the page shows the Rate limits column. */
export interface DeploymentRow {
  name: string;
  model: ReactNode;
  state: ReactNode;
  type: string;
  capacity: string;
  limits?: string;
  created: string;
}

export function DeploymentTable({ rows, showLimits = false }: { rows: DeploymentRow[]; showLimits?: boolean }) {
  return (
    <table data-testid="deployments">
      <thead>
        <tr>
          <th>Name</th>
          <th>Model</th>
          <th>State</th>
          <th>Type</th>
          <th>Capacity</th>
          {showLimits ? <th>Rate limits</th> : null}
          <th>Created</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.name} data-deployment={r.name}>
            <td>
              <a href={`#/deployments/${encodeURIComponent(r.name)}`}>
                <b>{r.name}</b>
              </a>
            </td>
            <td>{r.model}</td>
            <td className="state-col">{r.state}</td>
            <td>{r.type}</td>
            <td>{r.capacity}</td>
            {showLimits ? <td className="small">{r.limits}</td> : null}
            <td className="small muted">{r.created}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The detail page's head: crumbs, the name, its state, Open in playground for a chat deployment, then the page's own actions. */
export function DeploymentHead({ name, state, chat, children }: { name: string; state: ReactNode; chat: boolean; children?: ReactNode }) {
  return (
    <>
      <div className="crumbs">
        <a href="#/deployments">Deployments</a> / <span>{name}</span>
      </div>
      <div className="page-head row">
        <h1 data-testid="deployment-title">{name}</h1>
        {state}
        <span className="spacer" />
        {chat ? (
          <a className="button" href={`#/playground?deployment=${encodeURIComponent(name)}`}>
            Open in playground
          </a>
        ) : null}
        {children}
      </div>
    </>
  );
}

/** The detail page's tail: the deployment's endpoints on every surface and ready-to-paste code. */
export function DeploymentEndpoints({ origin, project, name, kind }: { origin: string; project: string; name: string; kind: DeploymentKind }) {
  return (
    <>
      <h2>Endpoints</h2>
      <EndpointsTable endpoints={endpointsFor(origin, project, name, kind)} />
      <h2>Code</h2>
      <Snippets origin={origin} deployment={name} kind={kind} />
    </>
  );
}
