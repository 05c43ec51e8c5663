/**
 * What /api/metrics serves: this process's metrics plus those every live worker process
 * published to Redis, combined by prom-client's AggregatorRegistry (the same merge it uses for
 * Node's cluster module), per metric aggregator.
 */
import { AggregatorRegistry } from 'prom-client';
import { redisKeys } from '../redis/keys';
import type { Redis } from 'ioredis';
import { registry } from './index';
import { getValues, scanKeys } from '../redis';
import { processKey } from './publish';

export async function aggregatedMetrics(redis: Redis, ns: string): Promise<{ contentType: string; body: string }> {
  const own = processKey(ns);
  // SCAN on every master of a cluster; GET per key there (an MGET across slots is refused).
  const keys = (await scanKeys(redis, ns + redisKeys.metricsProcessPattern(), undefined, 500)).filter((k) => k !== own);
  const published = await getValues(redis, keys);
  type Snapshot = Awaited<ReturnType<typeof registry.getMetricsAsJSON>>;
  const all: Snapshot[] = [await registry.getMetricsAsJSON(), ...published.filter((v): v is string => v !== null).map((v) => JSON.parse(v) as Snapshot)];
  const merged = AggregatorRegistry.aggregate(all);
  return { contentType: registry.contentType, body: await merged.metrics() };
}
