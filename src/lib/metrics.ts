// A small Prometheus registry (text exposition format 0.0.4): counters, gauges, histograms.
type Labels = Record<string, string>;

const key = (labels: Labels) => JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)));
const render = (labels: Labels, extra: Labels = {}) => {
  const all = { ...labels, ...extra };
  const parts = Object.entries(all).map(([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`);
  return parts.length ? `{${parts.join(",")}}` : "";
};

abstract class Metric {
  readonly name: string;
  readonly help: string;
  abstract readonly type: string;
  constructor(name: string, help: string) {
    this.name = name;
    this.help = help;
  }
  abstract lines(): string[];
}

export class Counter extends Metric {
  readonly type = "counter";
  #values = new Map<string, { labels: Labels; value: number }>();
  inc(labels: Labels = {}, by = 1): void {
    const k = key(labels);
    const v = this.#values.get(k) ?? this.#values.set(k, { labels, value: 0 }).get(k)!;
    v.value += by;
  }
  lines(): string[] {
    return [...this.#values.values()].map((v) => `${this.name}${render(v.labels)} ${v.value}`);
  }
}

export class Gauge extends Metric {
  readonly type = "gauge";
  #collect: () => { labels: Labels; value: number }[];
  constructor(name: string, help: string, collect: () => { labels: Labels; value: number }[]) {
    super(name, help);
    this.#collect = collect;
  }
  lines(): string[] {
    return this.#collect().map((v) => `${this.name}${render(v.labels)} ${v.value}`);
  }
}

export class Histogram extends Metric {
  readonly type = "histogram";
  #buckets: number[];
  #values = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();
  constructor(name: string, help: string, buckets: number[]) {
    super(name, help);
    this.#buckets = buckets;
  }
  observe(labels: Labels, value: number): void {
    const k = key(labels);
    const v = this.#values.get(k) ?? this.#values.set(k, { labels, counts: this.#buckets.map(() => 0), sum: 0, count: 0 }).get(k)!;
    this.#buckets.forEach((b, i) => {
      if (value <= b) v.counts[i]++;
    });
    v.sum += value;
    v.count++;
  }
  lines(): string[] {
    return [...this.#values.values()].flatMap((v) => [
      ...this.#buckets.map((b, i) => `${this.name}_bucket${render(v.labels, { le: String(b) })} ${v.counts[i]}`),
      `${this.name}_bucket${render(v.labels, { le: "+Inf" })} ${v.count}`,
      `${this.name}_sum${render(v.labels)} ${v.sum}`,
      `${this.name}_count${render(v.labels)} ${v.count}`,
    ]);
  }
}

export class Registry {
  #metrics: Metric[] = [];
  add<M extends Metric>(metric: M): M {
    this.#metrics.push(metric);
    return metric;
  }
  text(): string {
    return this.#metrics.map((m) => [`# HELP ${m.name} ${m.help}`, `# TYPE ${m.name} ${m.type}`, ...m.lines()].join("\n")).join("\n") + "\n";
  }
}
