/**
 * What /api/metrics serves: every live process's metrics, each series labelled with the
 * `process` (`<host>:<pid>`) and `process_type` it came from. Nothing is summed across
 * processes: a worker that restarts starts fresh series under a new `process` label, which
 * Prometheus' rate() reads as a new series, never as a counter reset of a total. Dashboards sum
 * with `sum without (process, process_type) (rate(...))`.
 *
 * The live processes come from the registry set (./publish.ts), not a SCAN. The rendered answer
 * is cached for `cacheMs`, so a burst of scrapes (several Prometheus replicas, a dashboard
 * refresh) costs one read of Redis.
 */
import type { Redis } from 'ioredis';
import { AggregatorRegistry } from 'prom-client';
import { getValues } from '../redis';
import { registry } from './index';
import { metricsKeys, publishOnce, type MetricsSnapshot, type ProcessIdentity, type PublishedSnapshot } from './publish';

export interface ScrapeOptions {
  redis: Redis;
  ns: string;
  self: ProcessIdentity;
  /** How long a rendered answer is served again (0: never cached). */
  cacheMs: number;
  /** Refresh scrape-time gauges (breaker states from Redis) before this process's registry is read. */
  beforeScrape?: () => Promise<void>;
  /** This process's publishing interval (METRICS_PUBLISH_INTERVAL_MS): its entry lives three of them. */
  publishIntervalMs?: number;
}

export interface Scraped {
  contentType: string;
  body: string;
}

/** Ids of the processes whose entries have not expired; expired ones leave the set here. */
export async function liveProcesses(redis: Redis, ns: string, now = Date.now()): Promise<string[]> {
  const set = metricsKeys.registrySet(ns);
  await redis.zremrangebyscore(set, '-inf', String(now));
  return redis.zrange(set, '0', '-1');
}

/** Each value of each metric gets its process's labels; `sum` then merges nothing (labels differ). */
function labelled(snapshot: PublishedSnapshot): MetricsSnapshot {
  const extra = { process: snapshot.process.id, process_type: snapshot.process.type };
  return snapshot.metrics.map((m) => ({
    ...m,
    // prom-client omits some default metrics (aggregator 'omit') from a merge; per process they all stay.
    aggregator: 'sum',
    values: m.values.map((v) => ({ ...v, labels: { ...v.labels, ...extra } })),
  })) as MetricsSnapshot;
}

/**
 * Gauges every web process refreshes from Redis at scrape time: only the serving process's value
 * is current, another's is its last scrape's (a closed breaker would still read open there).
 */
const SERVED_FRESH = new Set(['mcp_circuit_breaker_state']);

export async function renderAll(o: ScrapeOptions): Promise<Scraped> {
  await o.beforeScrape?.();
  const own = await registry.getMetricsAsJSON();
  // Published before it is served: behind a load balancer the next scrape may go through another
  // web process, which serves this one's series from Redis — never older than what was served here.
  await publishOnce(o.redis, o.ns, o.self, o.publishIntervalMs, async () => own);
  const ids = (await liveProcesses(o.redis, o.ns)).filter((id) => id !== o.self.id);
  // GET per key on a cluster (an MGET across slots is refused); MGET in chunks otherwise.
  const published = await getValues(o.redis, ids.map((id) => metricsKeys.process(o.ns, id)));
  const snapshots: PublishedSnapshot[] = [{ process: o.self, metrics: own }];
  for (const raw of published) {
    if (raw === null) continue;
    const other = JSON.parse(raw) as PublishedSnapshot;
    snapshots.push({ ...other, metrics: other.metrics.filter((m) => !SERVED_FRESH.has(m.name)) as MetricsSnapshot });
  }
  const merged = AggregatorRegistry.aggregate(snapshots.map(labelled));
  return { contentType: registry.contentType, body: await merged.metrics() };
}

/** A scrape function with a short-lived cache shared by concurrent callers. */
export function metricsScraper(o: ScrapeOptions): () => Promise<Scraped> {
  let cached: { at: number; answer: Promise<Scraped> } | undefined;
  return () => {
    const now = Date.now();
    if (cached && now - cached.at < o.cacheMs) return cached.answer;
    const answer = renderAll(o);
    cached = { at: now, answer };
    // A failed render is not served again.
    answer.catch(() => {
      if (cached?.answer === answer) cached = undefined;
    });
    return answer;
  };
}
