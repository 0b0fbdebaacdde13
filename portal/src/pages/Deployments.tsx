// Placeholder: replaced by the page's implementation.
export function DeploymentsPage() {
  return <h1>Deployments</h1>;
}
