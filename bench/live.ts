/**
 * Latency of the live-call functions under load: 50 simulated calls at once, each asking
 * `check_availability` for a day and then `book_appointment` for a free slot of it, against the
 * Cal.com simulator answering every request after 50 ms.
 *
 * Three OS processes: the simulator (`sim/calcom/server.ts`, latency 50 ms, rate limit out of
 * the way), the real ingress HTTP server (`node dist/web.js` with the Procfile's flags for `web`, a child process, with
 * CALCOM_RATE_LIMIT_PER_MINUTE raised out of the way) and this driver, which holds one
 * keep-alive connection per simulated call and measures each request client-side, from
 * sending to the last byte of the answer. Bodies are signed with retell-sdk before the clock
 * starts. Every call books a distinct slot, so every booking must succeed.
 *
 * The ceiling, measured in the same run, is the same pair of requests sent straight to the
 * simulator (GET /v2/slots for the day, POST /v2/bookings), on a second account: 50 ms plus the
 * simulator's own time, what callbook would cost if it cost nothing. The CPU ceiling is the same
 * function requests at the same pace to a bare Hono server (bench/ceilings/bare.ts, through tsx's
 * loader, which acts only at import) with the ingress's node flags: what a request costs any Node
 * process on this machine at this pace, so the ingress's CPU per request reads as a multiple of it
 * from one day's machine to the next. The round-trip ceiling is the same again to that route
 * making, before it answers, the round trips the ingress made per request in this run — Redis
 * requests (redis-server's read events), DB statements, requests to the simulator — one after
 * another and nothing else (bench/ceilings/round-trips.ts): what the ingress's I/O alone costs at
 * this pace, so what is left above it is at most callbook's own work. Neither CPU ceiling is measured back
 * to back (BENCH_THINK_MS=0).
 *
 *   npm run bench:live                        # 50 calls at once, 20 rounds: 1000 of each function
 *   BENCH_CALLS=50 BENCH_ROUNDS=20 BENCH_LATENCY_MS=50 BENCH_LAYOUT=spread BENCH_THINK_MS=1000 BENCH_JITTER=1 npm run bench:live
 *   BENCH_THINK_MS=0 npm run bench:live       # saturation: back to back, no pause
 *   DB_POOL_SIZE=20 BENCH_PROFILE_DIR=/tmp/prof npm run bench:live   # ingress pool size; CPU profile
 *   BENCH_NODE_FLAGS="--perf-basic-prof" npm run bench:live   # extra node flags for the ingress (here: for `perf`)
 *   BENCH_IDLE_S=5                                # seconds the idle ingress is measured before the run
 *   BENCH_CALL_MINUTES=8 npm run bench:live   # call objects with an 8-minute call's real-time transcript (below)
 *
 * Besides latency it prints, per function request: Redis commands (INFO commandstats of its own
 * redis-server, net of what the idle ingress sends over as long), DB statements by operation, and
 * the ingress's CPU (also net of its idle CPU), with the CPU of the simulator, redis-server and a
 * MariaDB on this machine.
 *
 * BENCH_THINK_MS: the mean pause after each request, as a caller talks between function calls
 * (default 1000 ms — a real conversation leaves several seconds between function calls, so this
 * is about ten times a real call's rate). 0: back to back, a closed loop that measures
 * saturation (latency = 50 / throughput), not calls.
 *
 * BENCH_LAYOUT: `spread` (default) gives each simulated line its own run of slots, so
 * concurrent callers mostly ask about different days; `hot` gives the 50 concurrent calls
 * neighbouring slots, so they all ask about the same day while each booking clears that day
 * from the availability cache.
 */
import type { ChildProcess } from 'node:child_process';
import { DateTime } from 'luxon';
import Retell from 'retell-sdk';
import { Agent, request } from 'undici';
import { TieredCache } from '../lib/cache';
import { Cipher } from '../lib/crypto';
import { connectDatabase, ensureDatabase, runMigrations } from '../lib/db';
import { createRedis } from '../lib/redis';
import { importTenants } from '../lib/tenants/import';
import { tenantsFileSchema } from '../lib/tenants/file-schema';
import { prng } from '../test/helpers/prng';
import { realtimeTranscript } from '../test/helpers/transcript';
import { readProcfile } from '../test/helpers/procfile';
import { benchVars, CALL_MINUTES, commandCounts, readEvents, diffCounts, databaseServerPid, dropBenchState, freePort, load, machine, percentile, perUnit, procStats, retirePlainIndex, simAdmin, startProcess, startRedis, stopProcess, table, waitForHttp, waitForLine } from './lib';

const CALLS = Number(process.env.BENCH_CALLS ?? 50);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 20);
const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 50);
const LAYOUT = process.env.BENCH_LAYOUT === 'hot' ? 'hot' : 'spread';
/** Pause of a simulated call between its requests (the caller talking); 0 = back to back. */
const THINK_MS = Number(process.env.BENCH_THINK_MS ?? 1000);
/**
 * BENCH_JITTER=1 (default): each pause is drawn uniformly from [0.5, 1.5] × BENCH_THINK_MS and
 * every line starts after a random pause of up to BENCH_THINK_MS, so the 50 callers drift apart
 * as independent callers do. BENCH_JITTER=0 keeps them in lockstep: all 50 send their next
 * request within the same millisecond, every time (a burst test).
 */
const JITTER = process.env.BENCH_JITTER !== '0';
/** Seconds the ingress sits idle before the run, to measure what it costs doing nothing. */
const IDLE_S = Number(process.env.BENCH_IDLE_S ?? 5);
const rnd = prng(Number(process.env.BENCH_SEED ?? 7));
const pause = (ms: number) => (ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve());
const think = () => pause(JITTER ? THINK_MS * (0.5 + rnd()) : THINK_MS);
const stagger = () => pause(JITTER ? THINK_MS * rnd() : 0);
const KEY = 'cal_bench_live';
const CEILING_KEY = 'cal_bench_live_ceiling';
const EVENT_TYPE = 9100;
const CEILING_EVENT_TYPE = 9101;
const NUMBER = '+4930999000';
const ZONE = 'Europe/Berlin';
/** /api/metrics answers only with METRICS_TOKEN (apps/ingress/middleware/metrics-token). */
const METRICS_TOKEN = 'bench-live-metrics-token-0123456789';

async function seedSim(origin: string): Promise<void> {
  const post = (path: string, body: unknown) => simAdmin(origin, path, body);
  const allDay = { days: [1, 2, 3, 4, 5, 6, 7], startHour: 0, endHour: 24 };
  for (const [key, id] of [[KEY, EVENT_TYPE], [CEILING_KEY, CEILING_EVENT_TYPE]] as const) {
    await post('accounts', { apiKey: key, username: key, timeZone: ZONE, rateLimitPerMinute: 100_000_000 });
    await post('event-types', { id, slug: `live-${id}`, title: 'Cut', lengthInMinutes: 30, ownerApiKey: key, schedule: allDay });
  }
  await post('faults', { latencyMs: LATENCY_MS });
}

/** Slot of call (line, round): distinct half-hours from the day after tomorrow on. */
function slotOf(line: number, round: number): DateTime {
  const first = DateTime.now().setZone(ZONE).plus({ days: 2 }).startOf('day');
  const i = LAYOUT === 'hot' ? round * CALLS + line : line * ROUNDS + round;
  return first.plus({ minutes: 30 * i });
}

interface Timed {
  fn: string;
  ms: number;
}

async function timedPost(agent: Agent, url: string, body: string, headers: Record<string, string>): Promise<{ ms: number; status: number; json: any }> {
  const t0 = performance.now();
  const res = await request(url, { method: 'POST', body, headers, dispatcher: agent });
  const text = await res.body.text();
  return { ms: performance.now() - t0, status: res.statusCode, json: text ? JSON.parse(text) : null };
}

/**
 * BENCH_CALL_MINUTES=n (bench/lib `CALL_MINUTES`): each call object carries the real-time
 * transcript of an n-minute conversation, as Retell's does (test/helpers/transcript). 0 (default):
 * identity fields only, as every run before.
 */
const TRANSCRIPT = realtimeTranscript(CALL_MINUTES);
const bodySize = () => {
  const kib = Buffer.byteLength(functionBodies(0, 0).book) / 1024;
  return CALL_MINUTES > 0 ? `book_appointment bodies ${kib.toFixed(0)} KiB (call objects with a ${CALL_MINUTES}-minute call's transcript)` : `book_appointment bodies ${kib.toFixed(1)} KiB (identity fields only)`;
};

/** The two function requests of call (line, round), as Retell sends them (unsigned). */
function functionBodies(line: number, round: number): { check: string; book: string; slot: DateTime } {
  const slot = slotOf(line, round);
  const call = {
    call_id: `call_bench_${line}_${round}`,
    agent_id: 'agent_bench',
    call_type: 'phone_call',
    call_status: 'ongoing',
    direction: 'inbound',
    to_number: NUMBER,
    from_number: `+4917${10_000_000 + line * 1000 + round}`,
    start_timestamp: Date.now() - CALL_MINUTES * 60_000,
    ...TRANSCRIPT,
  };
  const check = JSON.stringify({ name: 'check_availability', call, args: { when: slot.toISODate(), service: 'Schnitt' } });
  const book = JSON.stringify({ name: 'book_appointment', call, args: { when: slot.toFormat('yyyy-MM-dd HH:mm'), service: 'Schnitt', customer_name: `Bench ${line}.${round}` } });
  return { check, book, slot };
}

/**
 * The drive every run shares: CALLS lines at once, each after its stagger running `rounds` rounds
 * of `step(line, round)` (which pauses with think() after each request). Returns the seconds from
 * the start to the last line's end.
 */
async function paceLines(rounds: number, step: (line: number, round: number) => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CALLS }, async (_, line) => {
      await stagger();
      for (let round = 0; round < rounds; round++) await step(line, round);
    }),
  );
  return (performance.now() - t0) / 1000;
}

/**
 * A ceiling server's run: the same requests at the same pace and concurrency, `rounds` per line,
 * to a bare Hono server (bench/ceilings/bare.ts: what one request costs a Node process at this
 * pace before it does anything — the wake-up, HTTP parsing, Hono, the answer) or to the same
 * route making the ingress's round trips first (bench/ceilings/round-trips.ts). `label` names the
 * server in errors. Returns the requests sent and the seconds taken.
 */
async function runCeilingRequests(base: string, rounds: number, label: string): Promise<{ requests: number; seconds: number }> {
  const agent = new Agent({ connections: CALLS, keepAliveTimeout: 60_000 });
  const headers = { 'content-type': 'application/json', 'x-retell-signature': 'unsigned' };
  let requests = 0;
  const seconds = await paceLines(rounds, async (line, round) => {
    const { check, book } = functionBodies(line, round);
    for (const [name, body] of [['check_availability', check], ['book_appointment', book]] as const) {
      const res = await timedPost(agent, `${base}/functions/retell/${name}`, body, headers);
      if (res.status !== 200) throw new Error(`${label}: ${res.status} ${JSON.stringify(res.json)}`);
      requests++;
      await think();
    }
  });
  await agent.close();
  return { requests, seconds };
}

/**
 * Starts a ceiling server (`script`, with `flags` and `env`), measures its idle CPU over IDLE_S,
 * warms it up with one round per line (as the callbook phase was), then sends ROUNDS rounds — as
 * many requests as the callbook phase — and returns its CPU per request net of its idle.
 */
async function measureCeilingServer(script: string, flags: string[], env: Record<string, string>, children: ChildProcess[]): Promise<{ netMs: number; requests: number; seconds: number }> {
  const name = script.replace(/^.*\/|\.ts$/g, '');
  const server = startProcess([...flags, script], { PORT: '0', HOST: '127.0.0.1', ...env }, name);
  children.push(server);
  const [, port] = await waitForLine(server, /listening on (\d+)/);
  const base = `http://127.0.0.1:${port}`;
  const cpu = () => procStats(server.pid!)?.cpuSec ?? NaN;
  const idle0 = cpu();
  await pause(IDLE_S * 1000);
  const idlePerSec = (cpu() - idle0) / IDLE_S;
  await runCeilingRequests(base, 1, name);
  const cpu0 = cpu();
  const run = await runCeilingRequests(base, ROUNDS, name);
  const netMs = ((cpu() - cpu0 - idlePerSec * run.seconds) * 1000) / run.requests;
  // Stopped before the next ceiling starts, so the two never share the cores.
  await stopProcess(server);
  return { netMs, ...run };
}

/** The callbook run: N lines, each call = check_availability then book_appointment. */
async function runCallbook(base: string, onStart: () => Promise<void>): Promise<{ samples: Timed[]; seconds: number; failures: string[] }> {
  const headers = (sig: string) => ({ 'content-type': 'application/json', 'x-retell-signature': sig });
  type Prepared = { check: [string, string]; book: [string, string]; start: string };
  const prepared: Prepared[][] = [];
  for (let line = 0; line < CALLS; line++) {
    const calls: Prepared[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const { check, book, slot } = functionBodies(line, round);
      calls.push({ check: [check, await Retell.sign(check, 'key_bench_retell')], book: [book, await Retell.sign(book, 'key_bench_retell')], start: slot.toUTC().toISO()! });
    }
    prepared.push(calls);
  }
  const agent = new Agent({ connections: CALLS, keepAliveTimeout: 60_000 });
  const samples: Timed[] = [];
  const failures: string[] = [];
  // One warm-up request per line (connections, JIT), not measured.
  await Promise.all(prepared.map(async (calls) => timedPost(agent, `${base}/functions/retell/check_availability`, calls[0]!.check[0], headers(calls[0]!.check[1]))));
  await onStart();
  const seconds = await paceLines(ROUNDS, async (line, round) => {
    const c = prepared[line]![round]!;
    const check = await timedPost(agent, `${base}/functions/retell/check_availability`, c.check[0], headers(c.check[1]));
    samples.push({ fn: 'check_availability', ms: check.ms });
    if (check.status !== 200 || check.json.status !== 'available') failures.push(`check ${c.start}: ${check.status} ${JSON.stringify(check.json)}`);
    await think();
    const book = await timedPost(agent, `${base}/functions/retell/book_appointment`, c.book[0], headers(c.book[1]));
    samples.push({ fn: 'book_appointment', ms: book.ms });
    if (book.status !== 200 || book.json.status !== 'booked') failures.push(`book ${c.start}: ${book.status} ${JSON.stringify(book.json)}`);
    await think();
  });
  await agent.close();
  return { samples, seconds, failures };
}

/** The simulator's GET /v2/slots for the day of a line's round, on the ceiling's account and event type. */
function ceilingSlotsUrl(simUrl: string, line: number, round: number): string {
  const day = slotOf(line, round).startOf('day');
  const q = new URLSearchParams({ eventTypeId: String(CEILING_EVENT_TYPE), start: day.toUTC().toISO()!, end: day.endOf('day').toUTC().toISO()!, timeZone: ZONE, format: 'range' });
  return `${simUrl}/slots?${q}`;
}

/** The ceiling: the same pair straight to the simulator, on its own account and event type. */
async function runCeiling(simUrl: string): Promise<{ samples: Timed[]; seconds: number }> {
  const agent = new Agent({ connections: CALLS, keepAliveTimeout: 60_000 });
  const h = { authorization: `Bearer ${CEILING_KEY}`, 'content-type': 'application/json' };
  const samples: Timed[] = [];
  const seconds = await paceLines(ROUNDS, async (line, round) => {
    const slot = slotOf(line, round);
    let t = performance.now();
    const slots = await request(ceilingSlotsUrl(simUrl, line, round), { headers: { ...h, 'cal-api-version': '2024-09-04' }, dispatcher: agent });
    await slots.body.text();
    samples.push({ fn: 'GET /v2/slots', ms: performance.now() - t });
    if (slots.statusCode !== 200) throw new Error(`ceiling slots: ${slots.statusCode}`);
    await think();
    t = performance.now();
    const body = JSON.stringify({ start: slot.toUTC().toISO(), eventTypeId: CEILING_EVENT_TYPE, attendee: { name: 'Bench', timeZone: ZONE, phoneNumber: '+4917000000000' } });
    const booked = await request(`${simUrl}/bookings`, { method: 'POST', body, headers: { ...h, 'cal-api-version': '2024-08-13' }, dispatcher: agent });
    const text = await booked.body.text();
    samples.push({ fn: 'POST /v2/bookings', ms: performance.now() - t });
    if (booked.statusCode !== 201) throw new Error(`ceiling booking: ${booked.statusCode} ${text}`);
    await think();
  });
  await agent.close();
  return { samples, seconds };
}

/** Counters from the ingress's /api/metrics that explain where time goes. */
async function scrape(base: string): Promise<{ l1: number; l2: number; dbQueries: number; dbSeconds: number; dbByOp: Record<string, number> }> {
  const res = await fetch(`${base}/api/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  if (!res.ok) throw new Error(`/api/metrics: ${res.status}`);
  const text = await res.text();
  const sum = (re: RegExp) => text.split('\n').filter((l) => re.test(l)).reduce((n, l) => n + Number(l.split(' ').pop()), 0);
  return {
    l1: sum(/^mcp_cache_hits_total\{.*cache="l1"/),
    l2: sum(/^mcp_cache_hits_total\{.*cache="l2"/),
    dbQueries: sum(/^mcp_db_query_duration_seconds_count/),
    dbSeconds: sum(/^mcp_db_query_duration_seconds_sum/),
    dbByOp: [...text.matchAll(/^mcp_db_query_duration_seconds_count\{[^}]*op="([^"]+)"[^}]*\} (\S+)/gm)].reduce<Record<string, number>>((by, m) => ({ ...by, [m[1]!]: (by[m[1]!] ?? 0) + Number(m[2]) }), {}),
  };
}

function rows(samples: Timed[], seconds: number) {
  const by = new Map<string, number[]>();
  for (const s of samples) (by.get(s.fn) ?? by.set(s.fn, []).get(s.fn)!).push(s.ms);
  return [...by].map(([fn, ms]) => {
    ms.sort((a, b) => a - b);
    return { fn, n: ms.length, p50: percentile(ms, 50), p95: percentile(ms, 95), p99: percentile(ms, 99), max: ms[ms.length - 1]!, rate: ms.length / seconds };
  });
}

const tenants = tenantsFileSchema.parse({
  companies: [
    {
      slug: 'bench',
      name: 'Bench',
      language: 'de',
      calcomApiKey: KEY,
      calcomUsername: KEY,
      branches: [{ slug: 'main', name: 'Main', timezone: ZONE, phoneNumbers: [NUMBER], defaultService: 'cut' }],
      services: [{ slug: 'cut', name: 'Cut', calcomEventTypeId: EVENT_TYPE, durationMinutes: 30, aliases: ['Schnitt'] }],
    },
  ],
});


async function main(): Promise<number> {
  const children: ChildProcess[] = [];
  let vars: Record<string, string> | undefined;
  // A redis-server of the run's own, so its command counts are the ingress's alone.
  const redisServer = await startRedis();
  try {
    const simProc = startProcess(['sim/calcom/server.ts'], { PORT: '0' }, 'sim');
    children.push(simProc);
    const [, simUrl] = await waitForLine(simProc, /listening on (http:\/\/\S+\/v2)/);
    const origin = simUrl!.replace(/\/v2$/, '');
    await seedSim(origin);

    const port = await freePort();
    vars = benchVars({ REDIS_URL: redisServer.url, METRICS_TOKEN, CALCOM_API_URL: simUrl!, CALCOM_RATE_LIMIT_PER_MINUTE: '100000000', PORT: String(port), HOST: '127.0.0.1', ...(process.env.DB_POOL_SIZE ? { DB_POOL_SIZE: process.env.DB_POOL_SIZE } : {}) });
    await ensureDatabase(vars.DATABASE_URL!);
    const database = connectDatabase(vars.DATABASE_URL!, 2);
    await runMigrations(database);
    const redis = createRedis(vars.REDIS_URL!, 'client');
    await importTenants({ db: database.db, cipher: new Cipher(vars.ENCRYPTION_KEY!), cache: new TieredCache(redis, `${vars.REDIS_PREFIX}:`) }, tenants, 'bench');
    await retirePlainIndex(vars);
    await database.close();

    // The built web entry (`npm run bench:live` builds first) with the Procfile's node flags for
    // it (heap caps), as production runs it.
    // BENCH_PROFILE_DIR=/tmp/prof writes a V8 CPU profile of the ingress there when it exits;
    // BENCH_NODE_FLAGS adds node flags to it (e.g. "--perf-basic-prof" for `perf`).
    const profile = process.env.BENCH_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`] : [];
    const nodeFlags = (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);
    const procfileFlags = (readProcfile().get('web') ?? []).filter((w) => w.startsWith('-'));
    const ingress = startProcess([...procfileFlags, ...profile, ...nodeFlags, 'dist/web.js'], vars, 'ingress');
    children.push(ingress);
    const base = `http://127.0.0.1:${port}`;
    await waitForHttp(`${base}/healthz`);
    console.error(`${CALLS} calls × ${ROUNDS} rounds, layout ${LAYOUT}, simulator latency ${LATENCY_MS} ms, DB pool ${vars.DB_POOL_SIZE ?? 'default'}; signing bodies`);

    // What the ingress spends doing nothing (timers, metrics publishing, queue listeners), so the
    // per-request figure can be read net of it.
    const idle0 = procStats(ingress.pid!);
    const idleCommands0 = await commandCounts(redis);
    const idleReads0 = await readEvents(redis);
    await pause(IDLE_S * 1000);
    const idle1 = procStats(ingress.pid!);
    const idleCommands = diffCounts(await commandCounts(redis), idleCommands0);
    // Less the bench's own two reads since idleReads0: the commandstats above and this INFO.
    const idleReadsPerSec = ((await readEvents(redis)) - idleReads0 - 2) / IDLE_S;
    const idleCpuPerSec = idle0 && idle1 ? (idle1.cpuSec - idle0.cpuSec) / IDLE_S : 0;

    const loadBefore = load();
    const before = await scrape(base);
    const commandsBefore = await commandCounts(redis);
    // CPU seconds of the ingress and of what it talks to, over the callbook phase.
    const mariadbPid = databaseServerPid(vars.DATABASE_URL!);
    const watched = { ingress: ingress.pid!, simulator: simProc.pid!, 'redis-server': redisServer.pid, ...(mariadbPid ? { MariaDB: mariadbPid } : {}) };
    const cpuNow = () => Object.fromEntries(Object.entries(watched).map(([name, pid]) => [name, procStats(pid)?.cpuSec ?? NaN]));
    // From the first measured request: the warm-up and the signing of bodies are left out.
    let cpu0 = cpuNow();
    // Redis round trips and Cal.com requests from the first measured request on, as the CPU.
    let readsBefore = 0;
    let phaseStart = 0;
    const live = await runCallbook(base, async () => {
      readsBefore = await readEvents(redis);
      phaseStart = Date.now();
      cpu0 = cpuNow();
    });
    // Less the bench's own read: this INFO (taken before the metrics scrape below, which reads Redis).
    const redisRoundTrips = ((await readEvents(redis)) - readsBefore - 1 - idleReadsPerSec * live.seconds) / live.samples.length;
    // Processes that used no CPU (or could not be read) are left out.
    const cpu = diffCounts(cpuNow(), cpu0);
    const ingressCpu = cpu.ingress ?? NaN;
    const after = await scrape(base);
    // Net of what the idle ingress sends on its own (queue and metrics housekeeping) over as long.
    const commands = Object.fromEntries(
      Object.entries(diffCounts(await commandCounts(redis), commandsBefore))
        .map(([k, v]) => [k, v - ((idleCommands[k] ?? 0) * live.seconds) / IDLE_S] as const)
        .filter(([, v]) => v > 0),
    );
    redis.disconnect();
    const simRequests = ((await (await fetch(`${origin}/__sim/requests`)).json()) as { data: Array<{ path: string; at: string; query?: Record<string, string> }> }).data;
    const slotGets = simRequests.filter((r) => r.path === '/v2/slots' && r.query?.eventTypeId === String(EVENT_TYPE)).length;
    // Every request the ingress sent the simulator from the first measured request on.
    const calcomRequests = simRequests.filter((r) => r.path.startsWith('/v2/') && Date.parse(r.at) >= phaseStart).length;
    console.error(`callbook done in ${live.seconds.toFixed(1)} s; measuring the ceiling on an emptied simulator`);
    // The ceiling starts from the same state: no bookings (the simulator's slot search walks all of them).
    await simAdmin(origin, 'reset', {});
    await simAdmin(origin, 'faults', { latencyMs: LATENCY_MS });
    const ceiling = await runCeiling(simUrl!);
    const loadAfter = load();
    // The CPU ceiling (paced runs only: back to back, a bare server would run many times faster
    // than the ingress, and a process spends less per request the busier it is).
    const bareCeiling = THINK_MS > 0 ? await measureCeilingServer('bench/ceilings/bare.ts', procfileFlags, {}, children) : undefined;
    // The round-trip ceiling: the bare route making the ingress's round trips per request, nothing else.
    const dbq = after.dbQueries - before.dbQueries;
    const roundTrips = { redis: Math.max(0, redisRoundTrips), db: dbq / live.samples.length, http: calcomRequests / live.samples.length };
    const roundTripCeiling =
      THINK_MS > 0
        ? await measureCeilingServer(
            'bench/ceilings/round-trips.ts',
            procfileFlags,
            { ROUND_TRIPS: JSON.stringify(roundTrips), REDIS_URL: redisServer.url, REDIS_PREFIX: vars.REDIS_PREFIX!, DATABASE_URL: vars.DATABASE_URL!, DB_POOL_SIZE: vars.DB_POOL_SIZE ?? '10', SLOTS_URL: ceilingSlotsUrl(simUrl!, 0, 0), CALCOM_KEY: CEILING_KEY },
            children,
          )
        : undefined;

    const all = [...rows(live.samples, live.seconds).map((r) => ({ ...r, via: 'callbook ingress' })), ...rows(ceiling.samples, ceiling.seconds).map((r) => ({ ...r, via: 'simulator direct (ceiling)' }))];
    const pace = THINK_MS > 0 ? (JITTER ? `pauses of ${THINK_MS / 2}–${THINK_MS * 1.5} ms between requests, random` : `${THINK_MS} ms pause after each request, in lockstep`) : 'back to back';
    console.log(`\nbench/live — ${CALLS} concurrent calls × ${ROUNDS} rounds (check_availability, then book_appointment; ${pace}), layout ${LAYOUT}, simulator latency ${LATENCY_MS} ms, ingress DB pool ${vars.DB_POOL_SIZE ?? 10}; ${bodySize()}; ${machine()}\n`);
    console.log(
      table(
        ['request', 'via', 'n', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'req/s'],
        all.map((r) => [r.fn, r.via, r.n, r.p50.toFixed(0), r.p95.toFixed(0), r.p99.toFixed(0), r.max.toFixed(0), r.rate.toFixed(0)]),
      ),
    );
    console.log(
      `\ncallbook phase: ${live.seconds.toFixed(1)} s, ${(live.samples.length / live.seconds).toFixed(0)} req/s overall; ` +
        `${slotGets} GET /v2/slots reached the simulator for ${ROUNDS * CALLS} availability checks (cache hits l1 ${after.l1 - before.l1}, l2 ${after.l2 - before.l2}); ` +
        (dbq ? `${dbq} DB statements, mean ${(((after.dbSeconds - before.dbSeconds) / dbq) * 1000).toFixed(2)} ms (pool wait included); ` : '') +
        `${live.failures.length} failed calls.`,
    );
    console.log(`Redis commands per function request, net of the idle ingress's own: ${perUnit(commands, live.samples.length, 0.1)}.`);
    console.log(`DB statements per function request: ${perUnit(diffCounts(after.dbByOp, before.dbByOp), live.samples.length, 0.1)}.`);
    const perRequest = (seconds: number) => ((seconds * 1000) / live.samples.length).toFixed(1);
    const others = Object.entries(cpu)
      .filter(([name]) => name !== 'ingress')
      .map(([name, seconds]) => `${name} ${seconds.toFixed(1)} s${name === 'MariaDB' ? ` (${perRequest(seconds)} ms per request)` : ''}`);
    console.log(
      `CPU in the callbook phase: ingress ${ingressCpu.toFixed(1)} s (${perRequest(ingressCpu)} ms per request; ${perRequest(ingressCpu - idleCpuPerSec * live.seconds)} ms net of its idle ${(idleCpuPerSec * 1000).toFixed(0)} ms per second, measured over ${IDLE_S} s before), ${others.join(', ')}.`,
    );
    const ingressNetMs = ((ingressCpu - idleCpuPerSec * live.seconds) * 1000) / live.samples.length;
    /** A ceiling's CPU per request as both lines print it. */
    const spent = ({ netMs, requests, seconds }: { netMs: number; requests: number; seconds: number }) =>
      `spent ${netMs.toFixed(2)} ms per request net of its idle (${requests} requests, ${(requests / seconds).toFixed(0)} req/s)`;
    if (!bareCeiling) console.log('CPU ceiling: not measured back to back (BENCH_THINK_MS=0), only at a pace.');
    else {
      const { netMs } = bareCeiling;
      const times = netMs > 0 ? `${(ingressNetMs / netMs).toFixed(1)}×` : 'not comparable to';
      console.log(
        `CPU ceiling at the same pace: a bare Hono server (bench/ceilings/bare.ts through tsx's loader, with the ingress's node flags) ${spent(bareCeiling)}; ` +
          `the ingress's ${ingressNetMs.toFixed(1)} ms is ${times} that.`,
      );
    }
    if (roundTripCeiling) {
      const { netMs } = roundTripCeiling;
      const rt = `${roundTrips.redis.toFixed(1)} to Redis, ${roundTrips.db.toFixed(1)} statements, ${roundTrips.http.toFixed(2)} to the simulator`;
      console.log(
        `Round-trip ceiling at the same pace: the bare route making the ingress's round trips per request one after another and nothing else (${rt}; bench/ceilings/round-trips.ts) ${spent(roundTripCeiling)}; ` +
          `the ingress's ${ingressNetMs.toFixed(1)} ms is ${netMs > 0 ? `${(ingressNetMs / netMs).toFixed(1)}× that, ` : ''}${(ingressNetMs - netMs).toFixed(1)} ms more (at most callbook's own work: the ceiling's payloads are small).`,
      );
    }
    console.log(`Load average (1/5/15 min) before: ${loadBefore}; after: ${loadAfter}.`);
    if (live.failures.length) console.log(live.failures.slice(0, 5).join('\n'));
    return live.failures.length ? 1 : 0;
  } finally {
    for (const child of children.reverse()) await stopProcess(child);
    if (vars) await dropBenchState(vars);
    await redisServer.stop();
  }
}

process.exit(await main());
