/**
 * callbook on a Redis Cluster (`REDIS_CLUSTER_NODES`): three redis-server masters on loopback
 * ports joined by `redis-cli --cluster create`, then the end-to-end path — signed webhook →
 * ingress → webhooks → bookings → Cal.com simulator — plus a metrics scrape (a registry set, no
 * MGET across slots) and cache invalidation (no multi-key DEL across slots), and a
 * short chaos run (the Procfile's processes, a kill -9, a master restarted) on a cluster of its
 * own. `CHAOS_CLUSTER=1 npm run test:chaos` runs the long chaos run on a cluster.
 */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen, type RunningServer } from '../apps/ingress/server';
import { appointments, calls } from '../drizzle/schema';
import { cacheKeys } from '../lib/cache';
import { CalcomBudgetSpent, CalcomRateLimiter } from '../lib/calcom';
import { redisKeys } from '../lib/redis/keys';
import { publishEvent } from '../lib/events';
import { EventHub, type LiveEventMessage } from '../lib/events/hub';
import { metricsKeys, publishOnce } from '../lib/metrics/publish';
import { bullPrefix } from '../lib/queues';
import { isCluster, masters, scanKeys } from '../lib/redis';
import { startWorkers, type RunningWorkers } from '../workers';
import { printFigures, runShortChaos, startRedisCluster, type RedisClusterProc } from './chaos/harness';
import { startSimTestEnv, stopSimTestEnv, type SeededSim } from './helpers/calcom';
import { SCRAPE_HEADERS, type TestEnv } from './helpers/env';
import { callId, retellEvent, signed } from './helpers/fixtures';

let cluster: RedisClusterProc;
let sim: SeededSim;
let env: TestEnv;
let server: RunningServer;
let workers: RunningWorkers;

beforeAll(async () => {
  cluster = await startRedisCluster(3);
  // REDIS_URL left out on purpose: with cluster nodes it is optional.
  ({ sim, env } = await startSimTestEnv({ REDIS_URL: '', REDIS_CLUSTER_NODES: cluster.csv,}));
  server = await listen(env.ctx, 0, '127.0.0.1');
  workers = startWorkers(env.ctx, ['webhooks', 'bookings', 'notifications']);
});
afterAll(async () => {
  await workers?.close();
  await server?.close();
  await stopSimTestEnv({ env, sim });
  await cluster?.stop();
});

function nextWeekday(days: number): string {
  const d = new Date(Date.now() + days * 86400_000);
  while ([0, 6].includes(d.getUTCDay())) d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}

describe('on a 3-master Redis Cluster', () => {
  it('every connection is a cluster client and BullMQ keys share one slot', async () => {
    expect(env.config.REDIS_URL).toBe(`redis://${cluster.csv.split(',')[0]}`);
    expect(isCluster(env.ctx.redis)).toBe(true);
    expect(await masters(env.ctx.redis)).toHaveLength(3);
    const prefix = bullPrefix(env.config.REDIS_PREFIX);
    const slots = new Set(
      await Promise.all(['webhooks:wait', 'bookings:id', 'notifications:meta', 'default:events'].map((k) => env.ctx.redis.cluster('KEYSLOT', `${prefix}:${k}`))),
    );
    expect(slots.size).toBe(1);
  });

  it('a signed call becomes one Cal.com booking: ingress → webhooks → bookings', async () => {
    const id = callId();
    const vars = { booking_confirmed: 'ja', appointment_datetime: `${nextWeekday(9)}T10:00`, service: 'Haarschnitt', customer_name: 'Anna' };
    for (const payload of [retellEvent('call_ended', { callId: id, vars }), retellEvent('call_analyzed', { callId: id, vars, analysis: vars })]) {
      const body = JSON.stringify(payload);
      const res = await fetch(`http://127.0.0.1:${server.port}/webhooks/retell`, { method: 'POST', body, headers: await signed(body) });
      expect(res.status).toBe(202);
    }
    const db = env.ctx.database.db;
    let appt: typeof appointments.$inferSelect | undefined;
    for (let i = 0; i < 200 && appt?.status !== 'booked'; i++) {
      const [call] = await db.select().from(calls).where(eq(calls.retellCallId, id));
      if (call?.appointmentId) [appt] = await db.select().from(appointments).where(eq(appointments.id, call.appointmentId));
      if (appt?.status !== 'booked') await new Promise((r) => setTimeout(r, 50));
    }
    expect(appt?.status).toBe('booked');
    const inCal = sim.sim.bookings().filter((b) => b.metadata.callbook_key === appt!.idempotencyKey);
    expect(inCal).toHaveLength(1);
    expect(inCal[0]!.uid).toBe(appt!.calcomBookingUid);
  });

  it('/api/metrics serves processes whose keys live on different masters (registry set, GET per key), each under its own label', async () => {
    // Stand-ins for other processes: their keys hash to different slots, hence masters.
    const ns = env.ctx.ns;
    const series = /^mcp_webhook_total\{status="accepted",process="([^"]+)",process_type="[^"]+"\} (\d+)$/;
    const scrape = async () => {
      const res = await fetch(`http://127.0.0.1:${server.port}/api/metrics`, { headers: SCRAPE_HEADERS });
      expect(res.status).toBe(200);
      return new Map((await res.text()).split('\n').flatMap((l) => {
        const m = series.exec(l);
        return m ? [[m[1]!, Number(m[2])] as const] : [];
      }));
    };
    const alone = await scrape();
    expect(alone.size).toBe(1);
    const [ownValue] = [...alone.values()];
    expect(ownValue).toBeGreaterThan(0);
    const others = Array.from({ length: 12 }, (_, i) => ({ id: `elsewhere:${1000 + i}`, type: 'bookings' }));
    for (const who of others) await publishOnce(env.ctx.redis, ns, who, 60_000);
    const holders = new Set<string>();
    for (const node of await masters(env.ctx.redis)) {
      if ((await scanKeys(node, `${ns}metrics:proc:*`)).length) holders.add(`${node.options.host}:${node.options.port}`);
    }
    expect(holders.size).toBeGreaterThan(1);

    // 12 published copies of this process's counters plus this process's own, each its own series.
    const all = await scrape();
    expect(all.size).toBe(13);
    for (const who of others) expect(all.get(who.id)).toBe(ownValue);
    for (const who of others) await env.ctx.redis.del(metricsKeys.process(ns, who.id));
    await env.ctx.redis.del(metricsKeys.registrySet(ns));
  });

  it('live events published through the cluster reach a subscriber on one node (cluster pub/sub reaches every node)', async () => {
    const hub = new EventHub({ redisUrl: env.config.REDIS_URL, ns: env.ctx.ns });
    const got: LiveEventMessage[] = [];
    const stop = await hub.subscribe(42, { onEvent: (e) => got.push(e) });
    await publishEvent(env.ctx.redis, env.ctx.ns, { type: 'call.updated', companyId: 42, branchId: 1, callId: 'c1', status: 'ended' });
    for (let i = 0; i < 100 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    stop();
    await hub.close();
    expect(got.map((e) => e.type)).toEqual(['call.updated']);
  });

  it('the Cal.com limiter\'s window and its deferred turns share a slot: a refused booking job takes its turn without CROSSSLOT', async () => {
    const limiter = new CalcomRateLimiter({ redis: env.ctx.redis, keyPrefix: env.ctx.ns, limitPerMinute: 2 });
    const apiKey = `cal_cluster_${Date.now()}`;
    expect(await limiter.tryAcquire(apiKey)).toBe(0);
    expect(await limiter.tryAcquire(apiKey)).toBe(0);
    await expect(limiter.deferring().acquire(apiKey)).rejects.toBeInstanceOf(CalcomBudgetSpent);
    expect(await env.ctx.redis.exists(redisKeys.calcomRateLimitTurns(limiter.keyFor(apiKey)))).toBe(1);
  });

  it('cache invalidation deletes keys of many slots without CROSSSLOT', async () => {
    const keys = Array.from({ length: 20 }, (_, i) => cacheKeys.availability(1001, `2026-12-${String(i + 1).padStart(2, '0')}`));
    for (const k of keys) await env.ctx.cache.set(k, { slots: [] }, 60_000);
    expect(await env.ctx.cache.invalidate(...keys.slice(0, 5))).toBe(5);
    for (const k of keys.slice(0, 5)) expect(await env.ctx.redis.exists(env.ctx.ns + k)).toBe(0);
    expect(await env.ctx.cache.invalidatePrefix('mcp:calcom:availability:1001:')).toBe(15);
    expect(await scanKeys(env.ctx.redis, `${env.ctx.ns}mcp:calcom:availability:1001:*`)).toEqual([]);
  });
});

it('a short chaos run on its own cluster: a kill -9, a master restarted, faults — one booking per call that asked', async () => {
  const report = await runShortChaos({ calls: 60, cluster: true, concurrency: 12, minDurationMs: 5_000, redisRestartAt: 0.5, burstEveryMs: 2_000 });
  printFigures('chaos (short) on a Redis Cluster: 60 calls', report);
  expect(report.violations).toEqual([]);
  expect(report.figures.redis_restarts).toBe(1);
}, 180_000);
