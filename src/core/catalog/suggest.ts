// "Did you mean" for model names: edit distance on lowercase names, plus shared prefixes,
// so 'gpt4.1-mini', 'Gpt-4.1-mimi' and 'qwen2.5-0.5b' all find their entry.

function distance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length];
}

/** Up to `limit` candidates close to `query`, best first; none when nothing is plausibly meant. */
export function closeMatches(query: string, candidates: string[], limit = 3): string[] {
  const q = query.toLowerCase();
  const scored = [...new Set(candidates)].map((c) => {
    const l = c.toLowerCase();
    let score = distance(q, l);
    // One name inside the other ('qwen2.5-0.5b' → 'Qwen2.5-0.5B-Instruct') is a strong hint, whatever the length difference.
    if (l.includes(q) || q.includes(l)) score = Math.min(score, 1 + Math.abs(l.length - q.length) / 1000);
    return { c, score };
  });
  const threshold = Math.max(2, Math.floor(q.length / 3));
  return scored
    .filter((s) => s.score <= threshold)
    .sort((a, b) => a.score - b.score || a.c.localeCompare(b.c))
    .slice(0, limit)
    .map((s) => s.c);
}
