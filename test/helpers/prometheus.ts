/** Reading Prometheus text in tests: series (name with its labels) → value. */
export type Scrape = Map<string, number>;

export function parseScrape(text: string): Scrape {
  const out: Scrape = new Map();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

/** Sum of a metric's series over all processes whose labels include every `labels` pair. */
export function total(scrape: Scrape, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const [series, v] of scrape) {
    const brace = series.indexOf('{');
    if ((brace < 0 ? series : series.slice(0, brace)) !== name) continue;
    if (Object.entries(labels).every(([k, val]) => series.includes(`${k}="${val}"`))) sum += v;
  }
  return sum;
}

/** Metric names (TYPE lines) of a scrape. */
export function metricNames(text: string): Set<string> {
  return new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!));
}
