/**
 * Calls per second end to end: N calls, each a signed call_ended and a call_analyzed carrying a
 * booking (confirmed, ISO time, service), posted to the real ingress and carried through
 * webhooks → bookings → notifications to booked appointments in the zero-latency Cal.com
 * simulator. Measured against a no-op ceiling in the same run: the same ingress and queues with
 * bench/ceilings/noop-worker.ts, whose handlers only pass each call along.
 *
 * Two process layouts, each with callbook's workers and with the no-op ones:
 *   single    `web` + one `node dist/worker.js` serving every queue (the build: `npm run bench:e2e` builds first)
 *   procfile  every line of the Procfile as its own OS process, webhooks and bookings ×2
 *             (BENCH_SCALE), the rest ×1
 * Every run gets fresh state: its own redis-server (so memory figures are its own), database,
 * key prefix and simulator. The simulator's rate limit and CALCOM_RATE_LIMIT_PER_MINUTE are
 * raised out of the way; BENCH_COMPANIES companies (20), each with its own number, Cal.com
 * account and hour-long event type open 8–20 every day, give every call a distinct slot.
 *
 * The driver keeps BENCH_INFLIGHT calls (64) in flight, each call_ended then call_analyzed, as
 * fast as the ingress answers (or BENCH_RATE calls/s), and notes when each call_analyzed got
 * its 202. Latency of a call: from that 202 to `appointments.updated_at` of its booked row (set
 * by the bookings worker's clock just before the commit; the no-op records Date.now() at the
 * same point). Calls/s: N over the time from the first post to the last booking.
 *
 * A flood with both systems also prints each kind of process's CPU per call and the ratio's
 * ceiling from CPU alone (the no-op's CPU per call ÷ callbook's, MariaDB included when local):
 * what the ratio could be were both runs bound by the two cores and nothing else; and the same
 * quotient over the web and worker processes alone (the simulator, redis-server and MariaDB left
 * out), the part of the ratio that callbook's own code decides.
 *
 *   npm run bench:e2e                                  # 20,000 calls; single and procfile
 *   BENCH_CALLS=2000 BENCH_MODES=single BENCH_SYSTEMS=callbook npm run bench:e2e
 *   BENCH_CALLS=3000 BENCH_SYSTEMS=callbook BENCH_CALCOM_LATENCY_MS=200 npm run bench:e2e   # I/O-bound: scale-out
 *   BENCH_CALLS=2400 BENCH_RATE=40 BENCH_LATENCIES=/tmp/lat npm run bench:e2e   # paced; every call's accept time and latency to /tmp/lat.<layout>.<workers>.tsv
 *   BENCH_CALL_MINUTES=5 npm run bench:e2e   # webhooks as Retell sends them for a 5-minute call (bench/lib retellBody)
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { eq, sql } from 'drizzle-orm';
import { DateTime } from 'luxon';
import { Pool } from 'undici';
import { appointments, calls } from '../drizzle/schema';
import { Cipher } from '../lib/crypto';
import { connectDatabase, ensureDatabase, runMigrations } from '../lib/db';
import { bullPrefix, DEFAULT_JOB_OPTIONS, QUEUE_NAMES, type QueueName } from '../lib/queues';
import { signRetellBody } from '../lib/retell/signature';
import { importTenants } from '../lib/tenants/import';
import { tenantsFileSchema } from '../lib/tenants/file-schema';
import { readProcfile } from '../test/helpers/procfile';
import {
  benchVars,
  dropBenchState,
  forwardStdout,
  freePort,
  load,
  machine,
  mib,
  percentile,
  databaseServerPid,
  procStats,
  redisMemory,
  CALL_MINUTES,
  retellBody,
  retirePlainIndex,
  simAdmin,
  startProcess,
  startRedis,
  commandStats,
  diffCounts,
  perUnit,
  stopProcess,
  table,
  waitForHttp,
  waitForLine,
  type BenchCall,
  type ProcStats,
} from './lib';

const N = Number(process.env.BENCH_CALLS ?? 20_000);
const MODES = (process.env.BENCH_MODES ?? 'single,procfile').split(',') as Mode[];
const SYSTEMS = (process.env.BENCH_SYSTEMS ?? 'noop,callbook').split(',') as System[];
const INFLIGHT = Number(process.env.BENCH_INFLIGHT ?? 64);
const RATE = Number(process.env.BENCH_RATE ?? 0);
/**
 * Latency is also given for the calls accepted after the first BENCH_WARMUP_S seconds (5): a
 * freshly started worker runs its first seconds in V8's interpreter and fills its per-process
 * caches and connections, so a run's first calls queue behind a slower process.
 */
const WARMUP_MS = Number(process.env.BENCH_WARMUP_S ?? 5) * 1000;
const COMPANIES = Number(process.env.BENCH_COMPANIES ?? 20);
/**
 * Delay of every simulator answer (default 0, the issue's zero-latency simulator). Real Cal.com
 * answers in 100s of ms; with it set, bookings are bound by waiting, not CPU, and the scale-out
 * of the procfile layout shows even on two cores.
 */
const CALCOM_LATENCY_MS = Number(process.env.BENCH_CALCOM_LATENCY_MS ?? 0);
const SCALE: Record<string, number> = Object.fromEntries(
  (process.env.BENCH_SCALE ?? 'webhooks=2,bookings=2').split(',').map((kv) => {
    const [k, v] = kv.split('=');
    return [k!, Number(v)];
  }),
);
/** Extra node flags for worker processes, e.g. BENCH_NODE_FLAGS="--cpu-prof --cpu-prof-dir=/tmp/prof". */
const NODE_FLAGS = (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);
/** The same for the simulator and the ingress. */
const SIM_NODE_FLAGS = (process.env.BENCH_SIM_NODE_FLAGS ?? '').split(' ').filter(Boolean);
const WEB_NODE_FLAGS = (process.env.BENCH_WEB_NODE_FLAGS ?? '').split(' ').filter(Boolean);
// Hour-long slots, 8–20 every day: the simulator walks a day's slot grid (luxon, per slot) on
// every booking, so 12 slots a day keep it cheap; 20 companies × 12 a day reach 20,000 slots
// in 84 days.
const SLOT_MINUTES = 60;
const OPEN_HOUR = 8;
const CLOSE_HOUR = 20;
const ZONE = 'Europe/Berlin';
const STALL_MS = 120_000;

type Mode = 'single' | 'procfile';
type System = 'callbook' | 'noop';

const WORKER_SCRIPT = 'dist/worker.js';

interface ProcSpec {
  name: string;
  args: string[];
  queues: QueueName[];
}

/** The Procfile's lines (`node dist/…`), run with this driver's node; the pid is the process itself. */
function procfile(): ProcSpec[] {
  return [...readProcfile()].map(([name, words]) => {
    if (words[0] !== 'node') throw new Error(`Procfile line "${name}: ${words.join(' ')}" does not start with node`);
    const args = words.slice(1);
    const script = args.findIndex((a) => !a.startsWith('-'));
    return { name, args, queues: args[script] === WORKER_SCRIPT ? (args.slice(script + 1) as QueueName[]) : [] };
  });
}

function layout(mode: Mode, system: System): ProcSpec[] {
  const lines = procfile();
  const web = lines.find((l) => l.name === 'web')!;
  const worker = (spec: ProcSpec): ProcSpec => (system === 'noop' ? { ...spec, args: ['bench/ceilings/noop-worker.ts', ...spec.args.slice(spec.args.indexOf(WORKER_SCRIPT) + 1)] } : spec);
  // One worker process for every queue, with the node flags of the Procfile's worker lines.
  const flags = lines.find((l) => l.name === 'bookings')!.args.filter((a) => a.startsWith('-'));
  if (mode === 'single') return [web, worker({ name: 'worker', args: [...flags, WORKER_SCRIPT], queues: [...QUEUE_NAMES] })];
  const out: ProcSpec[] = [];
  for (const l of lines) for (let i = 0; i < (SCALE[l.name] ?? 1); i++) out.push(l.name === 'web' ? l : worker(l));
  return out;
}

/** Slot starts of an event type open OPEN_HOUR–CLOSE_HOUR every day with SLOT_MINUTES slots, as the simulator lays them out. */
function slotStarts(count: number): string[] {
  const out: string[] = [];
  for (let day = DateTime.now().setZone(ZONE).plus({ days: 1 }).startOf('day'); out.length < count; day = day.plus({ days: 1 })) {
    const close = day.set({ hour: CLOSE_HOUR });
    for (let t = day.set({ hour: OPEN_HOUR }); t.plus({ minutes: SLOT_MINUTES }) <= close && out.length < count; t = t.plus({ minutes: SLOT_MINUTES })) out.push(t.toISO()!);
  }
  return out;
}

const phone = (c: number) => `+4930100000${String(c).padStart(2, '0')}`;
const calKey = (c: number) => `cal_bench_key_${c}`;

function tenants() {
  return tenantsFileSchema.parse({
    companies: Array.from({ length: COMPANIES }, (_, c) => ({
      slug: `bench-${c}`,
      name: `Bench Salon ${c}`,
      calcomApiKey: calKey(c),
      calcomUsername: `bench-${c}`,
      branches: [{ slug: 'mitte', name: `Bench Salon ${c} Mitte`, timezone: ZONE, phoneNumbers: [phone(c)], defaultService: 'haircut' }],
      services: [{ slug: 'haircut', name: 'Haircut', calcomEventTypeId: 7000 + c, durationMinutes: SLOT_MINUTES, aliases: ['Haarschnitt'] }],
    })),
  });
}

async function seedSim(origin: string): Promise<void> {
  const post = (path: string, body: unknown) => simAdmin(origin, path, body);
  for (let c = 0; c < COMPANIES; c++) {
    await post('accounts', { apiKey: calKey(c), username: `bench-${c}`, timeZone: ZONE, rateLimitPerMinute: 1_000_000_000 });
    await post('event-types', { id: 7000 + c, slug: 'haircut', title: 'Haircut', lengthInMinutes: SLOT_MINUTES, ownerApiKey: calKey(c), schedule: { days: [1, 2, 3, 4, 5, 6, 7], startHour: OPEN_HOUR, endHour: CLOSE_HOUR } });
  }
  if (CALCOM_LATENCY_MS > 0) await post('faults', { latencyMs: CALCOM_LATENCY_MS });
}

/**
 * Sums over the metrics every process (web and workers) publishes to Redis: database statements by
 * operation (`<op>` count, `<op>:s` seconds) and jobs by queue (`job <queue>`, `job <queue>:s`).
 */
async function statementCounts(redis: Redis, redisPrefix: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const add = (k: string, v: number) => (out[k] = (out[k] ?? 0) + v);
  const keys = await redis.keys(`${redisPrefix}:metrics:proc:*`);
  for (const key of keys) {
    const raw = await redis.get(key);
    if (!raw) continue;
    const { metrics } = JSON.parse(raw) as { metrics: Array<{ name: string; values: Array<{ metricName?: string; labels: Record<string, string>; value: number }> }> };
    for (const v of metrics.find((m) => m.name === 'mcp_db_query_duration_seconds')?.values ?? []) {
      if (v.metricName === 'mcp_db_query_duration_seconds_count') add(v.labels.op!, v.value);
      if (v.metricName === 'mcp_db_query_duration_seconds_sum') add(`${v.labels.op!}:s`, v.value);
    }
    for (const v of metrics.find((m) => m.name === 'callbook_job_duration_seconds')?.values ?? []) {
      if (v.metricName === 'callbook_job_duration_seconds_count') add(`job ${v.labels.queue!}`, v.value);
      if (v.metricName === 'callbook_job_duration_seconds_sum') add(`job ${v.labels.queue!}:s`, v.value);
    }
  }
  return out;
}

/** Mean job time per queue and the slowest statement kinds by mean, from statementCounts. */
function timings(m: Record<string, number>): string {
  const mean = (k: string) => ((m[`${k}:s`] ?? 0) / (m[k] || 1)) * 1000;
  const jobs = ['webhooks', 'bookings', 'notifications'].filter((q) => m[`job ${q}`]).map((q) => `${q} ${mean(`job ${q}`).toFixed(0)} ms`);
  const ops = Object.keys(m)
    .filter((k) => !k.endsWith(':s') && !k.startsWith('job '))
    .sort((a, b) => mean(b) - mean(a))
    .map((k) => `${k} ${mean(k).toFixed(1)}`);
  const all = Object.keys(m).filter((k) => !k.endsWith(':s') && !k.startsWith('job '));
  const overall = (all.reduce((s, k) => s + (m[`${k}:s`] ?? 0), 0) / (all.reduce((s, k) => s + m[k]!, 0) || 1)) * 1000;
  return `jobs: ${jobs.join(', ')}; statements: mean ${overall.toFixed(1)} ms (${ops.join(', ')})`;
}

/** What each key is, for the memory breakdown. */
function kindOf(key: string, redisPrefix: string): string {
  const bull = `{${redisPrefix}}:`;
  if (key.startsWith(bull)) {
    const [queue, rest = ''] = key.slice(bull.length).split(/:(.*)/s);
    if (rest === 'events') return `${queue}: events stream`;
    if (/^(retell|booking|notify)-/.test(rest) || /^\d+$/.test(rest)) return `${queue}: job hashes`;
    return `${queue}: queue structures`;
  }
  const own = key.slice(redisPrefix.length + 1);
  if (own.startsWith('mcp:calcom:booking:')) return 'booking uids (mcp:calcom:booking:*, 24 h)';
  if (own.startsWith('bench:')) return 'benchmark probe';
  return 'other callbook keys (caches, limiter, metrics, breaker)';
}

async function keyMemory(redis: Redis, redisPrefix: string): Promise<Record<string, { keys: number; bytes: number }>> {
  const out: Record<string, { keys: number; bytes: number }> = {};
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'COUNT', 1000);
    cursor = next;
    const pipe = redis.pipeline();
    for (const k of keys) pipe.memory('USAGE', k, 'SAMPLES', '0');
    const sizes = (await pipe.exec()) ?? [];
    keys.forEach((k, i) => {
      const kind = kindOf(k, redisPrefix);
      const slot = (out[kind] ??= { keys: 0, bytes: 0 });
      slot.keys++;
      slot.bytes += Number(sizes[i]?.[1] ?? 0);
    });
  } while (cursor !== '0');
  return out;
}

interface Proc {
  name: string;
  child: ChildProcess;
  /** Milliseconds from spawn to the process's ready line (`ingress listening`, `workers started`). */
  startMs: Promise<number>;
}

// Ctrl-C or kill: exit through bench/lib's 'exit' handler, so no child outlives the driver.
process.once('SIGINT', () => process.exit(130));
process.once('SIGTERM', () => process.exit(143));

interface RunResult {
  mode: Mode;
  system: System;
  rate: number;
  seconds: number;
  drainedSeconds: number;
  postSeconds: number;
  p50: number;
  p99: number;
  /** p50 and p99 of the calls accepted after the warm-up (WARMUP_MS). */
  warm: { p50: number; p99: number };
  failed: number;
  procs: Array<{ name: string; stats: ProcStats; cpuSec: number; startMs?: number }>;
  redis: { before: number; peak: number; after: number; keys: number };
  retained: Record<string, { completed: number; failed: number; bytesPerJob: number }>;
  /** Redis commands (INFO commandstats) and database statements (mcp_db_query_duration_seconds_count{op}) during the run. */
  redisCommands: Record<string, number>;
  /** Microseconds redis-server spent inside each command during the run (INFO commandstats). */
  redisMicros: Record<string, number>;
  /** Requests the Cal.com simulator received during the run, by method and path. */
  calcomRequests: Record<string, number>;
  dbStatements: Record<string, number>;
  /** Bytes (MEMORY USAGE) and key counts after the run, by what the keys are. */
  memoryByKind: Record<string, { keys: number; bytes: number }>;
  loadBefore: string;
  loadAfter: string;
}

/**
 * Start-up of each process type: spawn → its ready log line (`ingress listening`, `workers
 * started`), measured one process at a time with LOG_LEVEL=info before the run proper (which
 * logs at warn), then stopped again.
 */
async function measureStartup(specs: ProcSpec[], vars: Record<string, string>): Promise<Map<ProcSpec, number>> {
  const out = new Map<ProcSpec, number>();
  for (const s of specs) {
    const spawned = performance.now();
    const child = startProcess([...(s.name === 'web' ? WEB_NODE_FLAGS : NODE_FLAGS), ...s.args], { ...vars, LOG_LEVEL: 'info' }, `${s.name} (start-up)`);
    await waitForLine(child, /ingress listening|workers started/, 120_000);
    out.set(s, performance.now() - spawned);
    await stopProcess(child);
  }
  return out;
}

async function run(mode: Mode, system: System): Promise<RunResult> {
  const loadBefore = load();
  const redisServer = await startRedis();
  const procs: Proc[] = [];
  let sim: ChildProcess | undefined;
  let simOrigin = 'http://127.0.0.1:9';
  if (system === 'callbook') {
    sim = startProcess([...SIM_NODE_FLAGS, 'sim/calcom/server.ts'], { PORT: '0' }, 'sim');
    const [, url] = await waitForLine(sim, /listening on (http:\/\/\S+\/v2)/);
    simOrigin = url!.replace(/\/v2$/, '');
    await seedSim(simOrigin);
  }
  const port = await freePort();
  const vars = benchVars({
    REDIS_URL: redisServer.url,
    PORT: String(port),
    HOST: '127.0.0.1',
    CALCOM_API_URL: `${simOrigin}/v2`,
    CALCOM_RATE_LIMIT_PER_MINUTE: '1000000000',
    // The sync worker's first run must not reach the real Retell API: a closed local port.
    RETELL_API_URL: 'http://127.0.0.1:9',
    // Worker metrics reach Redis every second, so the statement counts below are complete.
    METRICS_PUBLISH_INTERVAL_MS: '1000',
  });
  await ensureDatabase(vars.DATABASE_URL!);
  const database = connectDatabase(vars.DATABASE_URL!, 4);
  await runMigrations(database);
  const db = database.db;
  await importTenants({ db, cipher: new Cipher(vars.ENCRYPTION_KEY!) }, tenants(), 'bench');
  await retirePlainIndex(vars);

  const redis = new Redis(redisServer.url);
  const prefix = bullPrefix(vars.REDIS_PREFIX!);
  const queues = Object.fromEntries(QUEUE_NAMES.map((q) => [q, new Queue(q, { connection: redis, prefix })])) as Record<QueueName, Queue>;
  const specs = layout(mode, system);
  const startup = await measureStartup(specs, vars);
  for (const s of specs) {
    const child = startProcess([...(s.name === 'web' ? WEB_NODE_FLAGS : NODE_FLAGS), ...s.args], vars, s.name);
    forwardStdout(child, s.name);
    procs.push({ name: s.name, child, startMs: Promise.resolve(startup.get(s) ?? NaN) });
  }
  await waitForHttp(`http://127.0.0.1:${port}/healthz`, 120_000);
  const expected: Partial<Record<QueueName, number>> = {};
  for (const s of specs) for (const q of s.queues) expected[q] = (expected[q] ?? 0) + 1;
  for (const [q, n] of Object.entries(expected) as Array<[QueueName, number]>) {
    for (let i = 0; (await queues[q].getWorkersCount()) < n; i++) {
      if (i > 1200) throw new Error(`${q}: fewer than ${n} workers after 120 s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  // Let the start-up work (the sync worker's first run, metrics publishing) settle.
  await new Promise((r) => setTimeout(r, 2_000));
  const memBefore = await redisMemory(redis);
  const mariadbPid = databaseServerPid(vars.DATABASE_URL!);
  const all: Array<{ name: string; pid: number }> = [
    ...procs.map((p) => ({ name: p.name, pid: p.child.pid! })),
    ...(sim ? [{ name: 'simulator', pid: sim.pid! }] : []),
    ...(redisServer.pid ? [{ name: 'redis-server', pid: redisServer.pid }] : []),
    // The database server when it runs on this machine (shared with anything else using it).
    ...(mariadbPid ? [{ name: 'mariadb', pid: mariadbPid }] : []),
  ];
  const cpuBefore = all.map((p) => procStats(p.pid)?.cpuSec ?? 0);
  const redisBefore = await commandStats(redis);
  const dbStatementsBefore = await statementCounts(redis, vars.REDIS_PREFIX!);

  // The calls: company i % C, its (i / C)-th free slot, a caller of its own.
  const tag = randomBytes(3).toString('hex');
  const starts = slotStarts(Math.ceil(N / COMPANIES));
  const callOf = (i: number): BenchCall => ({
    callId: `call_${tag}_${i}`,
    to: phone(i % COMPANIES),
    from: `+49151${String(10_000_000 + i)}`,
    name: `Bench Caller ${i}`,
    start: starts[Math.floor(i / COMPANIES)],
    service: 'Haarschnitt',
  });
  const accepted = new Float64Array(N);
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: INFLIGHT });
  const post = async (body: string) => {
    const r = await pool.request({
      path: '/webhooks/retell',
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-retell-signature': signRetellBody(body, vars.RETELL_API_KEY!) },
      body,
    });
    const text = await r.body.text();
    if (r.statusCode !== 202) throw new Error(`ingress answered ${r.statusCode}: ${text}`);
  };

  console.error(`${mode}/${system}: ${specs.map((s) => s.name).join(', ')} up; posting ${N} calls`);
  const t0 = Date.now();
  let next = 0;
  const posting = Promise.all(
    Array.from({ length: INFLIGHT }, async () => {
      while (next < N) {
        const i = next++;
        if (RATE > 0) {
          const due = t0 + (i / RATE) * 1000;
          if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
        }
        const c = callOf(i);
        await post(retellBody('call_ended', c));
        await post(retellBody('call_analyzed', c));
        accepted[i] = Date.now();
      }
    }),
  ).then(() => Date.now());

  // Wait for every call to be booked (or failed), watching Redis memory and progress.
  const probeKey = `${vars.REDIS_PREFIX}:bench:booked`;
  const countDone = async (): Promise<{ booked: number; failed: number }> => {
    if (system === 'noop') return { booked: await redis.hlen(probeKey), failed: 0 };
    const rows = await db
      .select({ status: appointments.status, n: sql<number>`count(*)` })
      .from(appointments)
      .groupBy(appointments.status);
    const n = (s: string) => Number(rows.find((r) => r.status === s)?.n ?? 0);
    return { booked: n('booked'), failed: n('failed') };
  };
  let postedAt: number | undefined;
  void posting.then((t) => (postedAt = t));
  let last = { booked: -1, failed: 0 };
  let lastChange = Date.now();
  let lastReport = 0;
  for (;;) {
    const done = await countDone();
    if (done.booked !== last.booked) lastChange = Date.now();
    last = done;
    if (done.booked + done.failed >= N) break;
    if (Date.now() - lastChange > STALL_MS) {
      const counts = await Promise.all(QUEUE_NAMES.map(async (q) => `${q} ${JSON.stringify(await queues[q].getJobCounts('waiting', 'active', 'delayed', 'failed'))}`));
      throw new Error(`no progress for ${STALL_MS / 1000} s at ${done.booked} booked, ${done.failed} failed; ${counts.join('; ')}`);
    }
    if (Date.now() - lastReport > 10_000) {
      lastReport = Date.now();
      const waiting = await Promise.all((['webhooks', 'bookings', 'notifications'] as const).map(async (q) => `${q} ${await queues[q].getWaitingCount()}`));
      console.error(`  ${((Date.now() - t0) / 1000).toFixed(0)} s: ${next} calls posted, ${done.booked} booked, ${done.failed} failed; waiting: ${waiting.join(', ')}; load ${load()}`);
    }
    // The count scans appointments; once a second is plenty (the figures come from row timestamps).
    await new Promise((r) => setTimeout(r, system === 'noop' ? 100 : 1_000));
  }
  await posting;
  // Then until every queue is empty (the notifications are sent).
  for (;;) {
    const counts = await Promise.all(QUEUE_NAMES.filter((q) => q !== 'sync' && q !== 'default').map((q) => queues[q].getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children')));
    if (counts.every((c) => Object.values(c).every((v) => v === 0))) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const drainedAt = Date.now();

  // Per-call latency and the time of the last booking.
  const callIndex = (id: string) => Number(id.slice(id.lastIndexOf('_') + 1));
  let done: Array<[number, number]>;
  if (system === 'noop') {
    done = Object.entries(await redis.hgetall(probeKey)).map(([id, at]) => [callIndex(id), Number(at)]);
  } else {
    const rows = await db
      .select({ id: calls.retellCallId, at: appointments.updatedAt })
      .from(appointments)
      .innerJoin(calls, eq(calls.id, appointments.callId))
      .where(eq(appointments.status, 'booked'));
    done = rows.map((r) => [callIndex(r.id), r.at.getTime()]);
  }
  const lastBooked = done.reduce((m, [, at]) => Math.max(m, at), 0);
  const latencies = done.map(([i, at]) => at - accepted[i]!).sort((a, b) => a - b);
  const warmLatencies = done.filter(([i]) => accepted[i]! - t0 >= WARMUP_MS).map(([i, at]) => at - accepted[i]!).sort((a, b) => a - b);
  // BENCH_LATENCIES=<file>: every call's accept time and latency (ms), to see when the slow ones came.
  if (process.env.BENCH_LATENCIES) writeFileSync(`${process.env.BENCH_LATENCIES}.${mode}.${system}.tsv`, done.map(([i, at]) => `${accepted[i]! - t0}\t${at - accepted[i]!}`).join('\n'));
  const failedReason =
    last.failed > 0
      ? (await db.select({ reason: appointments.failureReason }).from(appointments).where(eq(appointments.status, 'failed')).limit(1))[0]?.reason
      : undefined;
  if (failedReason) console.error(`  ${last.failed} appointments failed, e.g.: ${failedReason}`);

  // Processes, Redis memory and what retention left behind.
  const startMs = await Promise.all(procs.map((p) => p.startMs));
  const stats = all.map((p, i) => {
    const s = procStats(p.pid)!;
    return { name: p.name, stats: s, cpuSec: s.cpuSec - cpuBefore[i]!, startMs: startMs[i] };
  });
  const memAfter = await redisMemory(redis);
  const retained: RunResult['retained'] = {};
  for (const q of ['webhooks', 'bookings', 'notifications'] as const) {
    const c = await queues[q].getJobCounts('completed', 'failed');
    const [sample] = await queues[q].getJobs(['completed'], 0, 0);
    const bytes = sample ? Number(await redis.memory('USAGE', `${prefix}:${q}:${sample.id}`, 'SAMPLES', '0')) : 0;
    retained[q] = { completed: c.completed ?? 0, failed: c.failed ?? 0, bytesPerJob: bytes };
  }
  const keys = await redis.dbsize();
  const memoryByKind = await keyMemory(redis, vars.REDIS_PREFIX!);
  await new Promise((r) => setTimeout(r, 1_500)); // one more metrics publication
  const redisAfter = await commandStats(redis);
  const redisCommands = diffCounts(redisAfter.calls, redisBefore.calls);
  const redisMicros = diffCounts(redisAfter.usec, redisBefore.usec);
  const dbStatements = diffCounts(await statementCounts(redis, vars.REDIS_PREFIX!), dbStatementsBefore);

  // What callbook asked Cal.com, from the simulator's own request log (ids folded into `:id`).
  const calcomRequests: Record<string, number> = {};
  if (sim) {
    const res = await fetch(`${simOrigin}/__sim/requests`);
    const { data } = (await res.json()) as { data: Array<{ method: string; path: string }> };
    for (const r of data) {
      const k = `${r.method} ${r.path.replace(/\/v2/, '').replace(/\/[0-9a-zA-Z_-]*\d[0-9a-zA-Z_-]*(?=\/|$)/g, '/:id')}`;
      calcomRequests[k] = (calcomRequests[k] ?? 0) + 1;
    }
  }

  pool.destroy().catch(() => {});
  for (const p of procs.reverse()) await stopProcess(p.child);
  if (sim) await stopProcess(sim);
  for (const q of Object.values(queues)) await q.close();
  redis.disconnect();
  await database.close();
  await dropBenchState({ ...vars, REDIS_URL: redisServer.url });
  await redisServer.stop();

  const seconds = (lastBooked - t0) / 1000;
  const result: RunResult = {
    mode,
    system,
    rate: last.booked / seconds,
    seconds,
    drainedSeconds: (drainedAt - t0) / 1000,
    postSeconds: ((postedAt ?? drainedAt) - t0) / 1000,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    warm: { p50: percentile(warmLatencies, 50), p99: percentile(warmLatencies, 99) },
    failed: last.failed,
    procs: stats,
    redis: { before: memBefore.used, peak: memAfter.peak, after: memAfter.used, keys },
    retained,
    redisCommands,
    redisMicros,
    calcomRequests,
    dbStatements,
    memoryByKind,
    loadBefore,
    loadAfter: load(),
  };
  console.error(
    `${mode}/${system}: ${result.rate.toFixed(0)} calls/s, last booking at ${seconds.toFixed(1)} s, drained at ${result.drainedSeconds.toFixed(1)} s, posted by ${result.postSeconds.toFixed(1)} s; p50 ${result.p50} ms, p99 ${result.p99} ms (after ${WARMUP_MS / 1000} s: ${result.warm.p50} / ${result.warm.p99} ms); Redis ${mib(result.redis.before)} → peak ${mib(result.redis.peak)} → ${mib(result.redis.after)} MiB`,
  );
  return result;
}

/** CPU milliseconds per call by kind of process (workers of a procfile layout summed as one kind). */
function cpuPerCall(r: RunResult): Map<string, number> {
  const m = new Map<string, number>();
  for (const p of r.procs) {
    const kind = p.name.startsWith('worker') ? 'worker' : p.name;
    m.set(kind, (m.get(kind) ?? 0) + (p.cpuSec * 1000) / N);
  }
  return m;
}

/**
 * What the two cores allow the ratio to be. Over a flood every process shares the machine's
 * cores, so were both runs bound by CPU alone, callbook's calls/s could be at most the no-op's
 * times (the no-op's CPU per call ÷ callbook's): the ratio's ceiling from CPU. Printed with each
 * kind of process's share, and how busy the cores were (CPU of the counted processes ÷ cores ×
 * seconds until the queues were empty; the driver posting the calls is not counted).
 */
function cpuBound(): string {
  const lines: string[] = [];
  for (const mode of MODES) {
    const noop = find(mode, 'noop');
    const ours = find(mode, 'callbook');
    if (!noop || !ours || RATE) continue;
    const a = cpuPerCall(noop);
    const b = cpuPerCall(ours);
    const kinds = [...new Set([...a.keys(), ...b.keys()])].filter((k) => (a.get(k) ?? 0) + (b.get(k) ?? 0) > 0);
    const sum = (m: Map<string, number>) => [...m.values()].reduce((x, y) => x + y, 0);
    const infra = ['simulator', 'redis-server', 'mariadb'];
    const ownCpu = (m: Map<string, number>) => sum(m) - infra.reduce((x, k) => x + (m.get(k) ?? 0), 0);
    const busy = (r: RunResult) => (sum(cpuPerCall(r)) * N) / 1000 / (r.drainedSeconds * cpus().length);
    const local = ours.procs.some((p) => p.name === 'mariadb');
    lines.push(
      '',
      `CPU per call by process, ${mode} layout (ms; "mariadb" only when DATABASE_URL names this machine${local ? '' : ': here it does not, so the bound below leaves the database out'}):`,
      '',
      table(
        ['workers', ...kinds, 'all', 'cores busy'],
        [noop, ours].map((r) => {
          const m = cpuPerCall(r);
          return [r.system, ...kinds.map((k) => (m.get(k) ?? 0).toFixed(2)), sum(m).toFixed(2), `${(busy(r) * 100).toFixed(0)} %`];
        }),
      ),
      '',
      `ratio's ceiling from CPU: ${sum(a).toFixed(2)} ÷ ${sum(b).toFixed(2)} ms = ${((sum(a) / sum(b)) * 100).toFixed(1)} % (measured: ${((ours.rate / noop.rate) * 100).toFixed(1)} %); ` +
        `30 % would need ≤ ${(sum(a) / 0.3).toFixed(2)} ms per call in all, of which the simulator, redis-server and MariaDB take ${(sum(b) - ownCpu(b)).toFixed(2)} ms here.`,
      // The same arithmetic over the web and worker processes alone: about what the ratio would be
      // were the simulator, Redis and MariaDB on cores of their own (a deployment's database and
      // Redis usually are). Not the goal's measure, which is the measured ratio above; the part of
      // it that callbook's own code decides.
      `callbook's own processes (web and workers) against the no-op's: ${ownCpu(a).toFixed(2)} ÷ ${ownCpu(b).toFixed(2)} ms = ${((ownCpu(a) / ownCpu(b)) * 100).toFixed(1)} %.`,
    );
  }
  return lines.join('\n');
}

const results: RunResult[] = [];
for (const mode of MODES) for (const system of SYSTEMS) results.push(await run(mode, system));

const find = (mode: Mode, system: System) => results.find((r) => r.mode === mode && r.system === system);
const retention = (q: QueueName) => {
  const o = DEFAULT_JOB_OPTIONS[q];
  const fmt = (r: unknown) => (typeof r === 'object' && r ? `${(r as { count?: number }).count ?? '∞'} / ${((r as { age?: number }).age ?? 0) / 3600} h` : String(r));
  return `completed ${fmt(o.removeOnComplete)}, failed ${fmt(o.removeOnFail)}`;
};

/** The sizes of one call's two webhooks, for the header. */
function bodySizes(): string {
  const c: BenchCall = { callId: 'call_size', to: '+493000000000', from: '+4917000000000', name: 'Anna Schmidt', start: new Date().toISOString(), service: 'Haarschnitt' };
  const kb = (e: 'call_ended' | 'call_analyzed') => (Buffer.byteLength(retellBody(e, c)) / 1024).toFixed(1);
  return `call_ended ${kb('call_ended')} KB + call_analyzed ${kb('call_analyzed')} KB${CALL_MINUTES > 0 ? `: a ${CALL_MINUTES}-minute call's transcript, each word with its timing` : ''}`;
}
console.log(`\nbench/e2e — ${N} calls (${bodySizes()}, signed), ${INFLIGHT} in flight${RATE ? `, paced at ${RATE} calls/s` : ''}; ${COMPANIES} companies; ${CALCOM_LATENCY_MS ? `Cal.com simulator answering after ${CALCOM_LATENCY_MS} ms` : 'zero-latency Cal.com simulator'}`);
console.log(`${machine()}\n`);
console.log(
  table(
    ['layout', 'workers', 'calls/s', 'last booking s', 'queues empty s', 'p50 ms', 'p99 ms', `p50 / p99 ms after ${WARMUP_MS / 1000} s`, 'ratio to no-op', 'CPU ms/call (ours / all)', 'failed', 'Redis MiB before / peak / after', 'load before → after'],
    results.map((r) => {
      const noop = find(r.mode, 'noop');
      const ours = r.procs.filter((p) => p.name !== 'simulator' && p.name !== 'redis-server' && p.name !== 'mariadb').reduce((a, p) => a + p.cpuSec, 0);
      const all = r.procs.filter((p) => p.name !== 'mariadb').reduce((a, p) => a + p.cpuSec, 0);
      return [
        r.mode,
        r.system,
        r.rate.toFixed(0),
        r.seconds.toFixed(1),
        r.drainedSeconds.toFixed(1),
        r.p50,
        r.p99,
        `${r.warm.p50} / ${r.warm.p99}`,
        r.system === 'callbook' && noop ? `${((r.rate / noop.rate) * 100).toFixed(1)} %` : '–',
        `${((ours * 1000) / N).toFixed(1)} / ${((all * 1000) / N).toFixed(1)}`,
        r.failed,
        `${mib(r.redis.before)} / ${mib(r.redis.peak)} / ${mib(r.redis.after)}`,
        `${r.loadBefore.split(' / ')[0]} → ${r.loadAfter.split(' / ')[0]}`,
      ];
    }),
  ),
);
for (const system of SYSTEMS) {
  const s = find('single', system);
  const p = find('procfile', system);
  if (s && p) console.log(`\nscaling ${system}: procfile / single = ${(p.rate / s.rate).toFixed(2)}×`);
}
console.log('\nCPU ms/call: user + system CPU of the web and worker processes (ours), and with the simulator and redis-server (all), over the run, per call; the driver is not counted, MariaDB (when local) is in the process table below.');
console.log('\nprocesses (peak RSS = VmHWM; start-up = spawn → its ready log line; CPU = user + system seconds from the first post until the queues were empty):\n');
console.log(
  table(
    ['layout', 'workers', 'process', 'peak RSS MiB', 'RSS at end MiB', 'start-up ms', 'CPU s'],
    results.flatMap((r) =>
      r.procs.map((p) => [r.mode, r.system, p.name, p.stats.peakRssMiB.toFixed(0), p.stats.rssMiB.toFixed(0), p.startMs === undefined ? '–' : p.startMs.toFixed(0), p.cpuSec.toFixed(1)]),
    ),
  ),
);
console.log(cpuBound());
console.log('\nround trips per call (Redis: INFO commandstats of the run\'s own Redis; database: mcp_db_query_duration_seconds_count by operation, all processes; Cal.com: the request log of the simulator):\n');
console.log(
  table(
    ['layout', 'workers', 'Redis commands per call', 'DB statements per call', 'Cal.com requests per call'],
    results.map((r) => [
      r.mode,
      r.system,
      perUnit(r.redisCommands, N),
      r.system === 'noop' ? '–' : perUnit(Object.fromEntries(Object.entries(r.dbStatements).filter(([k]) => !k.endsWith(':s') && !k.startsWith('job '))), N),
      r.system === 'noop' ? '–' : perUnit(r.calcomRequests, N, 0.01),
    ]),
  ),
);
console.log("\nredis-server's time inside commands per call (µs; INFO commandstats: a script's evalsha includes what it runs, reading requests and writing replies are not in it), against its CPU per call:\n");
console.log(
  table(
    ['layout', 'workers', 'µs in commands per call (biggest)', 'redis-server CPU µs per call'],
    results.map((r) => {
      const cpu = r.procs.find((p) => p.name === 'redis-server')?.cpuSec;
      return [r.mode, r.system, perUnit(r.redisMicros, N, 1), cpu === undefined ? '–' : ((cpu * 1e6) / N).toFixed(0)];
    }),
  ),
);
console.log('\nwhere the time went (mean job time per queue, mean statement time by kind in ms, from the workers\' own metrics):\n');
for (const r of results.filter((x) => x.system === 'callbook')) console.log(`- ${r.mode}: ${timings(r.dbStatements)}`);
console.log('\nRedis memory after the run by kind of key (MEMORY USAGE, MiB / keys):\n');
const kinds = [...new Set(results.flatMap((r) => Object.keys(r.memoryByKind)))].sort();
console.log(
  table(
    ['kind', ...results.map((r) => `${r.mode} ${r.system}`)],
    kinds.map((k) => [k, ...results.map((r) => (r.memoryByKind[k] ? `${mib(r.memoryByKind[k]!.bytes)} / ${r.memoryByKind[k]!.keys}` : '–'))]),
  ),
);
console.log('\njobs left in Redis after the run (retention: removeOnComplete / removeOnFail count / age):\n');
console.log(
  table(
    ['layout', 'workers', 'queue', 'policy', 'completed kept', 'failed kept', 'bytes per completed job', 'Redis keys'],
    results.flatMap((r) =>
      (['webhooks', 'bookings', 'notifications'] as const).map((q) => [r.mode, r.system, q, retention(q), r.retained[q]!.completed, r.retained[q]!.failed, r.retained[q]!.bytesPerJob, r.redis.keys]),
    ),
  ),
);
process.exit(0);
