/**
 * Every process — web and workers — writes its registry as JSON to Redis every
 * PUBLISH_INTERVAL_MS under `metrics:proc:<host>:<pid>` (TTL three intervals) and lists itself
 * in the sorted set `metrics:procs` (score = when its entry expires). The web process that
 * Prometheus scrapes reads that set — no SCAN of the keyspace — and serves every live process's
 * series under its own `process` label (./scrape.ts), so a restarted process starts new series
 * instead of lowering a sum.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { redisKeys } from '../redis/keys';
import type { Redis } from 'ioredis';
import { registry } from './index';

export const PUBLISH_INTERVAL_MS = 5_000;

/** Who a series came from: `process` is unique per OS process, `process_type` says what it runs. */
export interface ProcessIdentity {
  /** `<host>:<pid>` */
  id: string;
  /** `web`, a queue name, or `worker` for a process serving several queues. */
  type: string;
}

export type MetricsSnapshot = Awaited<ReturnType<typeof registry.getMetricsAsJSON>>;

export interface PublishedSnapshot {
  process: ProcessIdentity;
  metrics: MetricsSnapshot;
}

/**
 * A process's `process` label: host, pid and a boot id. The boot id matters in containers, where
 * every process is pid 1 on a host name that survives a restart in place: without it a restarted
 * container would continue its predecessor's series from 0, which Prometheus reads as a reset.
 */
const BOOT_ID = randomBytes(3).toString('hex');
export function thisProcess(type: string): ProcessIdentity {
  return { id: `${hostname()}:${process.pid}:${BOOT_ID}`, type };
}

export const metricsKeys = {
  registrySet: (ns: string) => `${ns}metrics:procs`,
  process: (ns: string, id: string) => `${ns}metrics:proc:${id}`,
};

export async function publishOnce(
  redis: Redis,
  ns: string,
  who: ProcessIdentity,
  intervalMs = PUBLISH_INTERVAL_MS,
  snapshot: () => Promise<MetricsSnapshot> = () => registry.getMetricsAsJSON(),
): Promise<void> {
  const ttl = intervalMs * 3;
  const body: PublishedSnapshot = { process: who, metrics: await snapshot() };
  await redis.set(metricsKeys.process(ns, who.id), JSON.stringify(body), 'PX', ttl);
  await redis.zadd(metricsKeys.registrySet(ns), Date.now() + ttl, who.id);
}

/** Publish now and every `intervalMs`; the returned stop() removes this process's entry. */
export function startMetricsPublisher(
  redis: Redis,
  ns: string,
  who: ProcessIdentity,
  onError: (err: unknown) => void,
  intervalMs = PUBLISH_INTERVAL_MS,
): () => Promise<void> {
  let inFlight: Promise<void> = Promise.resolve();
  const tick = () => {
    inFlight = publishOnce(redis, ns, who, intervalMs).catch(onError);
  };
  tick();
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    // A publish still under way would write the entry back after the delete.
    await inFlight;
    await Promise.all([redis.del(metricsKeys.process(ns, who.id)), redis.zrem(metricsKeys.registrySet(ns), who.id)]).catch(onError);
  };
}
