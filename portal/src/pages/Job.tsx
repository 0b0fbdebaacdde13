// Placeholder: replaced by the page's implementation.
export function JobPage({ id }: { id: string }) {
  return <h1>Job {id}</h1>;
}
