/**
 * After a Redis restart that takes seconds to load its data, the processes' connections take
 * commands again right after the load, not seconds later. ioredis's ready check, finding
 * `loading:1`, waits for Redis's own estimate of the load (whole seconds, at least one, up to
 * 10 s) before it looks again — unless told otherwise (`maxLoadingRetryTime`, lib/redis). In a
 * chaos run the ingress answered 503 for 5 s after a 3.5 s AOF load: long enough for every retry
 * of a webhook to fail.
 *
 * A private redis-server whose load is slowed (`key-load-delay`, 100 µs a key, 10,000 keys in the
 * AOF's RDB part; clients served during the load every KiB loaded), kill -9, restart, and the
 * producer and client connections made while it loads, five times. Without the setting a round
 * now and then finds its connections back seconds after the load (7.9 s in one of three rounds of
 * one run of two here: Redis's estimate early in a load is far too long); with it, every round of
 * four runs was back within 3 ms. Worker connections skip the ready check: they take LOADING
 * errors and retry on their own.
 */
import { afterAll, expect, it } from 'vitest';
import { createRedis } from '../lib/redis';
import { redisCommand, startRedis, waitFor, type RedisProc } from './chaos/harness';

let redis: RedisProc | undefined;
afterAll(async () => {
  await redis?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Until INFO persistence shows `field` (redis-server may be starting: refused connections count as not yet). */
const waitForInfo = (port: number, field: string) =>
  waitFor(`redis-server reporting ${field}`, async () => (await redisCommand(port, 'INFO', 'persistence')).includes(field), 10_000, 10);

/** Milliseconds until `conn` answers PING again (polling every 20 ms). */
async function backAfter(conn: ReturnType<typeof createRedis>, since: number): Promise<number> {
  for (;;) {
    if (await conn.ping().then(() => true, () => false)) return Date.now() - since;
    if (Date.now() - since > 20_000) throw new Error('connection not back within 20 s');
    await sleep(20);
  }
}

it('producer and client connections made during a long load answer within moments of its end', async () => {
  redis = await startRedis({ extraArgs: ['--key-load-delay', '100', '--loading-process-events-interval-bytes', '1024'] });
  const filler = createRedis(redis.url, 'client');
  for (let batch = 0; batch < 10; batch++) {
    const p = filler.pipeline();
    for (let i = 0; i < 1_000; i++) p.set(`fill:${batch}:${i}`, 'v'.repeat(40));
    await p.exec();
  }
  // Into the AOF's RDB part, which is what key-load-delay slows.
  await filler.bgrewriteaof();
  filler.disconnect();
  await sleep(100);
  await waitForInfo(redis.port, 'aof_rewrite_in_progress:0');

  const rounds: Array<{ loadMs: number; producerLag: number; clientLag: number }> = [];
  for (let round = 0; round < 5; round++) {
    await redis.kill9();
    const startedAt = Date.now();
    const started = redis.start(); // resolves once a fresh connection's PING answers PONG: the load is over
    await waitForInfo(redis.port, 'loading:1');
    const producer = createRedis(redis.url, 'producer');
    const client = createRedis(redis.url, 'client');
    await started;
    const loadedAt = Date.now();
    const [producerLag, clientLag] = await Promise.all([backAfter(producer, loadedAt), backAfter(client, loadedAt)]);
    producer.disconnect();
    client.disconnect();
    rounds.push({ loadMs: loadedAt - startedAt, producerLag, clientLag });
  }
  console.log(JSON.stringify(rounds));

  for (const r of rounds) {
    // The scenario happened: the load took a while…
    expect(r.loadMs).toBeGreaterThan(700);
    // …and the connections were back right after it (the ready check looks every 250 ms).
    expect(r.producerLag).toBeLessThan(400);
    expect(r.clientLag).toBeLessThan(400);
  }
}, 60_000);
