// Placeholder: replaced by the page's implementation.
export function UsagePage() {
  return <h1>Usage</h1>;
}
