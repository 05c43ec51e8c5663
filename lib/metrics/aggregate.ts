/**
 * What /api/metrics serves: this process's metrics plus those every live worker process
 * published to Redis, combined by prom-client's AggregatorRegistry (the same merge it uses for
 * Node's cluster module), per metric aggregator.
 */
import { AggregatorRegistry } from 'prom-client';
import type { Redis } from 'ioredis';
import { registry } from './index';
import { processKey } from './publish';

export async function aggregatedMetrics(redis: Redis, ns: string): Promise<{ contentType: string; body: string }> {
  const own = processKey(ns);
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${ns}metrics:proc:*`, 'COUNT', 500);
    cursor = next;
    keys.push(...found.filter((k) => k !== own));
  } while (cursor !== '0');
  const published = keys.length ? await redis.mget(...keys) : [];
  type Snapshot = Awaited<ReturnType<typeof registry.getMetricsAsJSON>>;
  const all: Snapshot[] = [await registry.getMetricsAsJSON(), ...published.filter((v): v is string => v !== null).map((v) => JSON.parse(v) as Snapshot)];
  const merged = AggregatorRegistry.aggregate(all);
  return { contentType: registry.contentType, body: await merged.metrics() };
}
