/**
 * Webhooks per second the real ingress accepts, against two ceilings measured in the same run:
 *
 *   bare     bench/ceilings/bare.ts     the same Hono + @hono/node-server, read the body, 204
 *   enqueue  bench/ceilings/enqueue.ts  bare + `queue.add` to the same webhooks queue (same
 *                                       options, same deterministic job id), no verification
 *   ingress  apps/ingress/main.ts       the real thing: rate limit (Redis), HMAC signature,
 *                                       JSON + zod, AES-GCM seal, `queue.add`, 202
 *
 * Each target is its own OS process; they run one after another, never side by side. A private
 * redis-server (bench/lib startRedis), a private database (migrated) and key prefix. autocannon
 * with 50 connections posts pre-signed ~2 KB call_analyzed bodies, each with its own call id, so
 * no job is deduplicated; every body is signed when its target's turn starts (Retell's window
 * is 5 minutes). After each run the driver checks that the queue holds one job per 2xx answer,
 * then deletes the run's keys.
 *
 *   npm run bench:ingress                                  # 10 s per target, 3 s warm-up
 *   BENCH_DURATION=20 BENCH_ROUNDS=3 npm run bench:ingress   # rounds interleave targets; medians
 */
import { randomBytes } from 'node:crypto';
import autocannon from 'autocannon';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { connectDatabase, ensureDatabase, runMigrations } from '../lib/db';
import { bullPrefix } from '../lib/queues';
import { deletePrefixed } from '../lib/redis';
import { signRetellBody } from '../lib/retell/signature';
import { benchVars, dropBenchState, forwardStdout, freePort, load, machine, procStats, retellBody, startProcess, startRedis, stopProcess, table, waitForHttp, waitForLine } from './lib';

const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 1);
/**
 * Distinct bodies per target: more than the enqueue ceiling takes in WARMUP + DURATION seconds
 * (the bare target reuses them). A 2-core AMD EPYC took 19,500 req/s on the enqueue target, 254,000
 * bodies in the default 13 s; 150,000 ran out there. 400,000 bodies hold about 0.8 GB. The run
 * stops, saying so, when they run out: raise BENCH_BODIES.
 */
const BODIES = Number(process.env.BENCH_BODIES ?? 400_000);

type Target = 'bare' | 'enqueue' | 'ingress';
const TARGETS = (process.env.BENCH_TARGETS ?? 'bare,enqueue,ingress').split(',') as Target[];
/** Extra node flags for the target processes, e.g. BENCH_NODE_FLAGS="--cpu-prof --cpu-prof-dir=/tmp/prof". */
const NODE_FLAGS = (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);

interface Run {
  target: Target;
  rps: number;
  p50: number;
  p99: number;
  ok: number;
  non2xx: number;
  errors: number;
  jobs: number | null;
  /** CPU time of the server process per answered request (user + system), µs. */
  cpuUs: number;
}

// Ctrl-C or kill: exit through 'exit' handlers (bench/lib stops its redis-server there).
process.once('SIGINT', () => process.exit(130));
process.once('SIGTERM', () => process.exit(143));

const redisServer = await startRedis();
const vars = benchVars({ REDIS_URL: redisServer.url, RATE_LIMIT_FLOOD_PER_MINUTE: '1000000000', RATE_LIMIT_COMPANY_PER_MINUTE: '1000000000', HOST: '127.0.0.1' });
await ensureDatabase(vars.DATABASE_URL!);
const database = connectDatabase(vars.DATABASE_URL!, 2);
await runMigrations(database);
await database.close();
const redis = new Redis(redisServer.url);
const queue = new Queue('webhooks', { connection: redis.duplicate(), prefix: bullPrefix(vars.REDIS_PREFIX!) });

// Bodies are built once (distinct call ids, ~2 KB) and signed per target.
const runId = randomBytes(3).toString('hex');
const bodies = Array.from({ length: BODIES }, (_, i) =>
  retellBody('call_analyzed', {
    callId: `call_${runId}_${i.toString(36).padStart(6, '0')}_${randomBytes(6).toString('hex')}`,
    to: '+4930555000',
    from: `+49151${String(10_000_000 + i)}`,
    name: `Anna Beispiel ${i}`,
    start: '2026-12-01T11:00:00+01:00',
    service: 'Haarschnitt',
  }),
);
console.error(`${BODIES} bodies of ${Buffer.byteLength(bodies[0]!)} bytes; ${machine()}; load ${load()}`);

const clean = () => deletePrefixed(redis, vars.REDIS_PREFIX!);

function start(target: Target, port: number) {
  const env = { ...vars, PORT: String(port) };
  return startProcess([...NODE_FLAGS, target === 'ingress' ? 'apps/ingress/main.ts' : `bench/ceilings/${target}.ts`], env, target);
}

async function blast(url: string, seconds: number, signatures: string[], next: { i: number }, wrap: boolean) {
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: seconds,
    method: 'POST',
    requests: [
      {
        // Called for every request: the next body, never one sent before.
        setupRequest: (req) => {
          // The bare ceiling enqueues nothing, so it may reuse bodies; the others must not.
          const i = wrap ? next.i++ % bodies.length : next.i++;
          if (i >= bodies.length) throw new Error(`ran out of distinct bodies (${bodies.length}); raise BENCH_BODIES`);
          return { ...req, body: bodies[i]!, headers: { 'content-type': 'application/json', 'x-retell-signature': signatures[i]! } };
        },
      },
    ],
  });
  return result;
}

async function measure(target: Target): Promise<Run> {
  const port = await freePort();
  const child = start(target, port);
  if (target === 'ingress') {
    forwardStdout(child, target);
    await waitForHttp(`http://127.0.0.1:${port}/healthz`);
  } else {
    await waitForLine(child, /listening on \d+/);
  }
  const now = Date.now();
  const signatures = bodies.map((b) => signRetellBody(b, vars.RETELL_API_KEY!, now));
  const url = `http://127.0.0.1:${port}/webhooks/retell`;
  const next = { i: 0 };
  await blast(url, WARMUP, signatures, next, target === 'bare');
  await clean();
  const cpu0 = procStats(child.pid!)!.cpuSec;
  const r = await blast(url, DURATION, signatures, next, target === 'bare');
  const cpuUs = ((procStats(child.pid!)!.cpuSec - cpu0) * 1e6) / Math.max(1, r['2xx']);
  const jobs = target === 'bare' ? null : await queue.count();
  await stopProcess(child);
  await clean();
  const ok = r['2xx'];
  // Requests still in flight when a blast ends land after it: up to one per connection from the
  // warm-up (after the clean) and from the measured run.
  if (jobs !== null && (jobs < ok || jobs > ok + 2 * CONNECTIONS)) console.error(`warning: ${target}: ${ok} answers 2xx but ${jobs} jobs in the queue`);
  console.error(`${target}: ${(ok / DURATION).toFixed(0)} req/s, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, server CPU ${cpuUs.toFixed(0)} µs/request, non-2xx ${r.non2xx}, errors ${r.errors}, timeouts ${r.timeouts}; load ${load()}`);
  return { target, rps: ok / DURATION, p50: r.latency.p50, p99: r.latency.p99, ok, non2xx: r.non2xx, errors: r.errors + r.timeouts, jobs, cpuUs };
}

const loadBefore = load();
const runs: Run[] = [];
for (let round = 0; round < ROUNDS; round++) for (const t of TARGETS) runs.push(await measure(t));
const loadAfter = load();

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const byTarget = (t: Target) => {
  const rs = runs.filter((r) => r.target === t);
  return {
    rps: median(rs.map((r) => r.rps)),
    p50: median(rs.map((r) => r.p50)),
    p99: median(rs.map((r) => r.p99)),
    cpuUs: median(rs.map((r) => r.cpuUs)),
    non2xx: rs.reduce((s, r) => s + r.non2xx + r.errors, 0),
  };
};
const none = { rps: NaN, p50: NaN, p99: NaN, cpuUs: NaN, non2xx: 0 };
const bare = TARGETS.includes('bare') ? byTarget('bare') : none;
const enqueue = TARGETS.includes('enqueue') ? byTarget('enqueue') : none;
const ours = TARGETS.includes('ingress') ? byTarget('ingress') : none;
const pct = (a: number, b: number) => `${((a / b) * 100).toFixed(1)} %`;

console.log(`\nbench/ingress — ${CONNECTIONS} connections, ${DURATION} s per target after ${WARMUP} s warm-up, ${ROUNDS} round(s) (medians), ~${(Buffer.byteLength(bodies[0]!) / 1024).toFixed(1)} KB signed call_analyzed bodies, distinct call ids`);
console.log(`${machine()}; load average (1/5/15 min) ${loadBefore} before, ${loadAfter} after\n`);
console.log(
  table(
    ['target', 'req/s', 'p50 ms', 'p99 ms', 'server CPU µs/request', 'non-2xx + errors', 'ingress req/s ÷ this'],
    [
      ['bare Hono, 204', bare.rps.toFixed(0), bare.p50, bare.p99, bare.cpuUs.toFixed(0), bare.non2xx, pct(ours.rps, bare.rps)],
      ['Hono + queue.add, no verification', enqueue.rps.toFixed(0), enqueue.p50, enqueue.p99, enqueue.cpuUs.toFixed(0), enqueue.non2xx, pct(ours.rps, enqueue.rps)],
      ['callbook ingress (apps/ingress/main.ts)', ours.rps.toFixed(0), ours.p50, ours.p99, ours.cpuUs.toFixed(0), ours.non2xx, '100 %'],
    ],
  ),
);
if (ROUNDS > 1) {
  console.log('\nevery run:\n');
  console.log(table(['target', 'req/s', 'p50 ms', 'p99 ms', 'server CPU µs/request', 'jobs in queue'], runs.map((r) => [r.target, r.rps.toFixed(0), r.p50, r.p99, r.cpuUs.toFixed(0), r.jobs ?? '–'])));
}

await queue.close();
redis.disconnect();
await dropBenchState({ ...vars, REDIS_URL: redisServer.url });
await redisServer.stop();
process.exit(0);
