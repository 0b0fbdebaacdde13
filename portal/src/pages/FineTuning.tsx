// Placeholder: replaced by the page's implementation.
export function FineTuningPage() {
  return <h1>FineTuning</h1>;
}
