// Placeholder: replaced by the page's implementation.
export function CatalogPage() {
  return <h1>Catalog</h1>;
}
