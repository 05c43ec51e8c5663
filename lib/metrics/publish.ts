/**
 * Worker processes have no HTTP listener: every PUBLISH_INTERVAL_MS they write their registry as
 * JSON to Redis under `metrics:proc:<host>:<pid>` with a TTL of three intervals, so a process
 * that died drops out of the sum by itself. The ingress adds them up (./aggregate.ts).
 */
import { hostname } from 'node:os';
import { redisKeys } from '../redis/keys';
import type { Redis } from 'ioredis';
import { registry } from './index';

export const PUBLISH_INTERVAL_MS = 5_000;

export function processKey(ns: string): string {
  return ns + redisKeys.metricsProcess(hostname(), process.pid);
}

export async function publishOnce(redis: Redis, ns: string, intervalMs = PUBLISH_INTERVAL_MS): Promise<void> {
  await redis.set(processKey(ns), JSON.stringify(await registry.getMetricsAsJSON()), 'PX', intervalMs * 3);
}

/** Publish now and every `intervalMs`; the returned stop() removes this process's entry. */
export function startMetricsPublisher(redis: Redis, ns: string, onError: (err: unknown) => void, intervalMs = PUBLISH_INTERVAL_MS): () => Promise<void> {
  const tick = () => publishOnce(redis, ns, intervalMs).catch(onError);
  void tick();
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await redis.del(processKey(ns)).catch(onError);
  };
}
