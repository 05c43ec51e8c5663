/**
 * The round-trip ceiling of bench/live.ts: the bare server's route (bench/ceilings/bare.ts) that,
 * before it answers, makes the round trips the ingress made per function request in the same run
 * (bench/live counts them: Redis requests as redis-server's read events, DB statements, Cal.com
 * requests) one after another, and nothing else: a Redis GET, a prepared `SELECT ?` through a
 * mysql2 pool of the ingress's size, a keep-alive GET of the simulator's `/v2/slots` (which answers after its
 * latency, as for the ingress). What those round trips alone cost a Node process at this pace,
 * with no parsing, validation, logic or logging of callbook's around them.
 *
 * It sends through the ingress's own clients (lib/redis's connection options, lib/http/keep-alive's
 * transport, mysql2 with the ingress's pool size), but small payloads: what it costs is a floor
 * for the ingress's I/O, and the ingress's CPU above it an upper bound of callbook's own work.
 *
 * ROUND_TRIPS: JSON, the ingress's means per function request (both functions alike), e.g.
 *   {"redis":5.5,"db":2.5,"http":0.77}
 * Fractions are kept exact over the run: each request makes the whole round trips its running
 * total has passed. Also REDIS_URL, REDIS_PREFIX (its one key: `<prefix>:round-trips`, an hour),
 * DATABASE_URL, DB_POOL_SIZE (10), SLOTS_URL (with its query), CALCOM_KEY; PORT and HOST as every
 * ceiling (./serve). Prints `listening on <port>`.
 */
import { Hono } from 'hono';
import mysql from 'mysql2/promise';
import { z } from 'zod';
import { keepAliveRequest } from '../../lib/http/keep-alive';
import { createRedis } from '../../lib/redis';
import { answerFunction, serveCeiling } from './serve';

const roundTrips = z.object({ redis: z.number().min(0), db: z.number().min(0), http: z.number().min(0) });
const env = z
  .object({
    ROUND_TRIPS: z.string().transform((s) => JSON.parse(s) as unknown).pipe(roundTrips),
    REDIS_URL: z.string().min(1),
    REDIS_PREFIX: z.string().min(1),
    DATABASE_URL: z.string().min(1),
    DB_POOL_SIZE: z.coerce.number().int().positive().default(10),
    SLOTS_URL: z.url(),
    CALCOM_KEY: z.string().min(1),
  })
  .parse(process.env);

// The ingress's own clients: its Redis connection options (command timeout included) and its Cal.com transport.
const redis = createRedis(env.REDIS_URL, 'client');
const key = `${env.REDIS_PREFIX}:round-trips`;
const pool = mysql.createPool({ uri: env.DATABASE_URL, connectionLimit: env.DB_POOL_SIZE });
await redis.set(key, 'x', 'EX', 3600);
await pool.execute('SELECT ? AS v', [1]);

/** A GET of the day's slots as the Cal.com client sends it: its transport, a cleared 10 s timer, the body read as text. */
async function calcom(): Promise<void> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(new Error('slots: no answer within 10 s')), 10_000);
  try {
    const res = await keepAliveRequest(env.SLOTS_URL, { method: 'GET', headers: { authorization: `Bearer ${env.CALCOM_KEY}`, 'cal-api-version': '2024-09-04' }, signal: ac.signal });
    if (res.status !== 200) throw new Error(`slots: ${res.status} ${res.text.slice(0, 200)}`);
  } finally {
    clearTimeout(timer);
  }
}

/** Running totals per kind: a request makes the round trips its share carries past a whole number. */
const totals = { redis: 0, db: 0, http: 0 };
function due(kind: keyof typeof totals): number {
  const before = totals[kind];
  totals[kind] = before + env.ROUND_TRIPS[kind];
  return Math.floor(totals[kind]) - Math.floor(before);
}

const app = new Hono();
app.post('/functions/retell/:name', (c) =>
  answerFunction(c, async () => {
    for (let i = due('redis'); i > 0; i--) await redis.get(key);
    for (let i = due('db'); i > 0; i--) await pool.execute('SELECT ? AS v', [i]);
    for (let i = due('http'); i > 0; i--) await calcom();
  }),
);

serveCeiling(app, async () => {
  redis.disconnect();
  await pool.end();
});
