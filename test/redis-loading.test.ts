/**
 * After a Redis restart that takes seconds to load its AOF, the processes' connections take
 * commands again right after the load, not seconds later: ioredis's ready check waits for Redis's
 * own estimate of the load (up to 10 s) between looks unless told otherwise, and in a chaos run the
 * ingress answered 503 for 5 s after a 3.5 s load — long enough for every retry of a webhook to
 * fail. A private redis-server with AOF, a dataset that takes about 2 s to load, kill -9, restart.
 * Without `maxLoadingRetryTime` (lib/redis) this failed in two runs of three (a connection back
 * 2.5 s after the load); whether it does depends on where in the load its first look falls.
 */
import { afterAll, expect, it } from 'vitest';
import { createRedis, whenReady } from '../lib/redis';
import { startRedis, type RedisProc } from './chaos/harness';

let redis: RedisProc | undefined;
afterAll(async () => {
  await redis?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Milliseconds until `conn` answers PING again (polling every 20 ms). */
async function backAfter(conn: ReturnType<typeof createRedis>, since: number): Promise<number> {
  for (;;) {
    const ok = await conn.ping().then(() => true, () => false);
    if (ok) return Date.now() - since;
    if (Date.now() - since > 20_000) throw new Error('connection not back within 20 s');
    await sleep(20);
  }
}

it('producer and client connections answer within moments of the end of an AOF load', async () => {
  redis = await startRedis();
  // A dataset whose AOF takes a second or more to load.
  const filler = createRedis(redis.url, 'client');
  const value = 'v'.repeat(40);
  for (let batch = 0; batch < 150; batch++) {
    const p = filler.pipeline();
    for (let i = 0; i < 10_000; i++) p.set(`fill:${batch}:${i}`, value);
    await p.exec();
  }
  filler.disconnect();
  await sleep(1_200); // appendfsync everysec

  const producer = createRedis(redis.url, 'producer');
  const client = createRedis(redis.url, 'client');
  await whenReady(producer);
  await whenReady(client);

  await redis.kill9();
  await sleep(300); // down a moment, as a restarted server is: the connections retry meanwhile
  const startedAt = Date.now();
  await redis.start(); // resolves once a fresh connection's PING answers PONG: the load is over
  const loadedAt = Date.now();
  const [producerLag, clientLag] = await Promise.all([backAfter(producer, loadedAt), backAfter(client, loadedAt)]);
  producer.disconnect();
  client.disconnect();

  // The scenario happened: the load itself took a while…
  expect(loadedAt - startedAt).toBeGreaterThan(700);
  // …and the connections were back right after it (the ready check looks every 250 ms).
  expect(producerLag).toBeLessThan(600);
  expect(clientLag).toBeLessThan(600);
  console.log(`load ${loadedAt - startedAt} ms; back after: producer ${producerLag} ms, client ${clientLag} ms`);
}, 60_000);
