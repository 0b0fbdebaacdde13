// Placeholder: replaced by the page's implementation.
export function PlaygroundPage() {
  return <h1>Playground</h1>;
}
