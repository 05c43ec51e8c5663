/**
 * How many bookings per second one bookings worker process completes against the zero-latency
 * Cal.com simulator. Three OS processes: the simulator, one worker (`workers/index.ts bookings`)
 * and this driver, which enqueues N booking jobs and waits until every appointment is booked.
 * The ceiling, measured in the same run, is the simulator taking the same POSTs directly at the
 * same concurrency: what the worker would do if callbook cost nothing.
 *
 *   npm run bench:bookings            # N=2000, concurrency 5 and 20
 *   BENCH_N=500 BENCH_CONCURRENCY=10 npm run bench:bookings
 */
import { DateTime } from 'luxon';
import { Queue } from 'bullmq';
import { eq } from 'drizzle-orm';
import { appointments, branches, companies, services } from '../drizzle/schema';
import { bookingIdempotencyKey } from '../lib/calls/idempotency';
import { upsertCustomer } from '../lib/calls/record-call';
import { Cipher } from '../lib/crypto';
import { connectDatabase, ensureDatabase, runMigrations } from '../lib/db';
import { bullPrefix, jobIds, type BookingJob } from '../lib/queues';
import { createRedis } from '../lib/redis';
import { benchVars, dropBenchState, machine, percentile, simAdmin, startProcess, stopProcess, table, waitForLine } from './lib';

const N = Number(process.env.BENCH_N ?? 2000);
const CONCURRENCIES = (process.env.BENCH_CONCURRENCY ?? '5,20').split(',').map(Number);
const KEY = 'cal_bench_key';
// The ceiling books on its own account: a host's busy time spans all of its event types.
const CEILING_KEY = 'cal_bench_ceiling';

async function seedSim(origin: string, eventTypeId: number, key: string): Promise<void> {
  const post = (path: string, body: unknown) => simAdmin(origin, path, body);
  await post('accounts', { apiKey: key, username: key, timeZone: 'Europe/Berlin', rateLimitPerMinute: 100_000_000 }).catch(() => {});
  await post('event-types', { id: eventTypeId, slug: `bench-${eventTypeId}`, title: 'Bench', lengthInMinutes: 30, ownerApiKey: key, schedule: { days: [1, 2, 3, 4, 5, 6, 7], startHour: 0, endHour: 24 } });
}

/** Distinct half-hour slots from tomorrow on. */
function slots(n: number): string[] {
  const first = DateTime.now().setZone('Europe/Berlin').plus({ days: 1 }).startOf('day');
  return Array.from({ length: n }, (_, i) => first.plus({ minutes: 30 * i }).toUTC().toISO()!);
}

async function ceiling(url: string, eventTypeId: number, concurrency: number): Promise<number> {
  const starts = slots(N);
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < starts.length) {
        const start = starts[next++]!;
        const r = await fetch(`${url}/bookings`, {
          method: 'POST',
          headers: { authorization: `Bearer ${CEILING_KEY}`, 'cal-api-version': '2024-08-13', 'content-type': 'application/json' },
          body: JSON.stringify({ start, eventTypeId, attendee: { name: 'Bench', timeZone: 'Europe/Berlin', phoneNumber: '+4917000000000' } }),
        });
        if (r.status !== 201) throw new Error(`ceiling booking failed: ${r.status} ${await r.text()}`);
      }
    }),
  );
  return N / ((performance.now() - t0) / 1000);
}

async function run(concurrency: number, round: number) {
  const eventTypeId = 9000 + round * 2;
  const simProc = startProcess(['sim/calcom/server.ts'], { PORT: '0' }, 'sim');
  const [, url] = await waitForLine(simProc, /listening on (http:\/\/\S+\/v2)/);
  const origin = url!.replace(/\/v2$/, '');
  await seedSim(origin, eventTypeId, KEY);
  await seedSim(origin, eventTypeId + 1, CEILING_KEY);
  const vars = benchVars({ CALCOM_API_URL: url!, CONCURRENCY_BOOKINGS: String(concurrency), CALCOM_RATE_LIMIT_PER_MINUTE: '100000000', DB_POOL_SIZE: String(concurrency + 5) });
  await ensureDatabase(vars.DATABASE_URL!);
  const database = connectDatabase(vars.DATABASE_URL!, 10);
  await runMigrations(database);
  const db = database.db;
  const cipher = new Cipher(vars.ENCRYPTION_KEY!);
  const [c] = await db.insert(companies).values({ slug: 'bench', name: 'Bench', calcomApiKeyEnc: cipher.encrypt(KEY), calcomUsername: KEY, operatorEmails: [] });
  const companyId = Number(c.insertId);
  const [b] = await db.insert(branches).values({ companyId, slug: 'main', name: 'Main', timezone: 'Europe/Berlin' });
  const [s] = await db.insert(services).values({ companyId, slug: 'cut', name: 'Cut', calcomEventTypeId: eventTypeId, durationMinutes: 30, aliases: [] });
  const jobs: BookingJob[] = [];
  for (const [i, start] of slots(N).entries()) {
    const customerId = await upsertCustomer(db, companyId, `+4917${String(10_000_000 + i)}`, `Bench ${i}`);
    jobs.push({ companyId, branchId: Number(b.insertId), customerId, serviceId: Number(s.insertId), start, idempotencyKey: bookingIdempotencyKey({ companyId, callRef: `bench-${i}`, eventTypeId, startIso: start }), source: 'cli' });
  }

  console.error(`concurrency ${concurrency}: ${N} jobs prepared; measuring the ceiling`);
  const ceilingRate = await ceiling(url!, eventTypeId + 1, concurrency);
  console.error(`ceiling ${ceilingRate.toFixed(0)} req/s; starting the worker`);

  const connection = createRedis(vars.REDIS_URL!, 'client');
  const queue = new Queue('bookings', { connection, prefix: bullPrefix(vars.REDIS_PREFIX!) });
  const worker = startProcess(['workers/index.ts', 'bookings'], vars, 'worker');
  for (let i = 0; i < 200 && (await queue.getWorkersCount()) === 0; i++) await new Promise((r) => setTimeout(r, 100));
  console.error(`worker up; enqueueing`);
  const t0 = performance.now();
  await queue.addBulk(jobs.map((j) => ({ name: 'book', data: j, opts: { jobId: jobIds.booking(j.idempotencyKey), removeOnComplete: false } })));
  for (;;) {
    const failed = await queue.getFailedCount();
    if (failed > 0) throw new Error(`${failed} booking jobs failed: ${(await queue.getFailed(0, 0))[0]?.failedReason}`);
    const [row] = await db.select({ n: appointments.id }).from(appointments).where(eq(appointments.status, 'booked')).orderBy(appointments.id).limit(1).offset(N - 1);
    if (row) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const seconds = (performance.now() - t0) / 1000;
  const completed = await queue.getJobs(['completed'], 0, N);
  const latencies = completed.map((j) => j.finishedOn! - j.timestamp).sort((a, b) => a - b);
  await stopProcess(worker);
  await stopProcess(simProc);
  await queue.close();
  connection.disconnect();
  await database.close();
  await dropBenchState(vars);
  return { concurrency, rate: N / seconds, seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), ceilingRate };
}

const results = [];
for (const [i, c] of CONCURRENCIES.entries()) results.push(await run(c, i));
console.log(`\nbench/bookings — ${N} bookings, one worker process, zero-latency simulator; ${machine()}\n`);
console.log(
  table(
    ['concurrency', 'bookings/s', 'wall s', 'job p50 ms', 'job p99 ms', 'ceiling (sim direct) req/s', 'ratio'],
    results.map((r) => [r.concurrency, r.rate.toFixed(0), r.seconds.toFixed(1), r.p50, r.p99, r.ceilingRate.toFixed(0), `${((r.rate / r.ceilingRate) * 100).toFixed(1)} %`]),
  ),
);
console.log('\njob p50/p99: from enqueue to completion; all jobs are enqueued at once, so they include queueing time.');
process.exit(0);
