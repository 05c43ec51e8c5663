/**
 * The cost of one /api/metrics render with 20 processes publishing (this one + 19 snapshots of
 * its registry under other ids, as a fleet of web and worker processes would): time per render
 * (median and p90 of 50, cache off) and the size of the answer.
 *
 *   npx tsx bench/metrics-scrape.ts     # needs Redis on REDIS_URL (default 127.0.0.1:6379)
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { apiDuration, bookingTotal, dbQueryDuration, jobDuration } from '../lib/metrics';
import { metricsKeys, publishOnce, thisProcess } from '../lib/metrics/publish';
import { renderAll } from '../lib/metrics/scrape';
import { load, machine } from './lib';

const PROCESSES = Number(process.env.BENCH_PROCESSES ?? 20);
const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const ns = `benchscrape${randomBytes(3).toString('hex')}:`;

// A registry that has seen work: histograms with label sets, as a busy worker's has.
for (const op of ['select calls', 'insert calls', 'update appointments', 'select services', 'insert webhook_events', 'select companies']) dbQueryDuration.observe({ op }, 0.003);
for (const queue of ['webhooks', 'bookings', 'notifications']) for (const outcome of ['completed', 'failed']) jobDuration.observe({ queue, outcome }, 0.2);
apiDuration.observe({ service: 'calcom', method: 'POST /bookings' }, 0.1);
bookingTotal.inc({ status: 'created' });

const others = Array.from({ length: PROCESSES - 1 }, (_, i) => ({ id: `bench-host:${10_000 + i}`, type: i % 4 === 0 ? 'web' : 'bookings' }));
for (const who of others) await publishOnce(redis, ns, who, 60_000);
const self = thisProcess('web');
const times: number[] = [];
let bytes = 0;
for (let i = 0; i < 50; i++) {
  const t = performance.now();
  const { body } = await renderAll({ redis, ns, self, cacheMs: 0 });
  times.push(performance.now() - t);
  bytes = Buffer.byteLength(body);
}
times.sort((a, b) => a - b);
console.log(`bench/metrics-scrape — ${PROCESSES} processes publishing; ${machine()}; load ${load()}`);
console.log(`render: median ${times[25]!.toFixed(1)} ms, p90 ${times[45]!.toFixed(1)} ms; answer ${(bytes / 1e6).toFixed(2)} MB, ${bytes} bytes`);
for (const who of others) await redis.del(metricsKeys.process(ns, who.id));
await redis.del(metricsKeys.registrySet(ns));
redis.disconnect();
