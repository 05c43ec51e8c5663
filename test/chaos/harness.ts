/**
 * The chaos harness: real OS processes and real failures, driven the way Retell drives callbook.
 *
 * - its own redis-server (AOF on, `appendfsync everysec`) on a free loopback port — or a 3-master
 *   Redis Cluster — never the machine's Redis;
 * - the Cal.com simulator as its own process (`sim/calcom/server.ts`), seeded and faulted over
 *   its `/__sim` admin API;
 * - the Procfile's processes (web, 2× webhooks, 2× bookings, notifications), each started as
 *   `node --import tsx <script>` — the tsx CLI would put a wrapper process in between, and a
 *   kill -9 of the wrapper leaves the real worker running;
 * - a driver that posts signed Retell webhooks with duplicates, bad signatures and shuffled
 *   order, and, like Retell, retries a 5xx, a 429, a timeout or a refused connection up to 3
 *   times with backoff;
 * - a window of calls that never get a webhook at all (an ingress outage as Retell sees it): they
 *   exist only in the Retell simulator and must be found by `callbook calls reconcile`, run once
 *   mid-storm and once after it, as its own OS process.
 *
 * `runChaos` plays the whole storm — kill -9 a random worker every few seconds and restart it,
 * restart Redis once, 5xx/hang/drop/429 faults — then clears the faults, resets the breaker,
 * retries what failed, waits for quiescence and checks the outcome in MariaDB and the simulator.
 * It returns the figures and every violation found (the tests assert there are none).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { freePort } from '../helpers/ports';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Queue } from 'bullmq';
import mysql from 'mysql2/promise';
import { Pool } from 'undici';
import type { QueueName } from '../../lib/queues';
import { signRetellBody } from '../../lib/retell/signature';
import { serviceBreaker } from '../../lib/resilience/service-breakers';
import { importTenants } from '../../lib/tenants/import';
import { tenantsFileSchema, type TenantsFile } from '../../lib/tenants/file-schema';
import { createRetellSim, startRetellSim } from '../../sim/retell';
import { createTestEnv, type TestEnv } from '../helpers/env';
import { retellEvent } from '../helpers/fixtures';
import { prng, shuffle } from '../helpers/prng';

export { prng, shuffle };

const run = promisify(execFile);
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const RETELL_KEY = 'key_test_retell_global';
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ───────────────────────── small tools ─────────────────────────


export async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 30_000, everyMs = 100): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** One RESP command over a fresh socket (no client library, so no reconnect logic in the way). */
export function redisCommand(port: number, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    let buf = '';
    sock.setTimeout(2_000, () => sock.destroy(new Error('timeout')));
    sock.on('connect', () => sock.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`));
    sock.on('data', (d) => {
      buf += d.toString();
      const nl = buf.indexOf('\r\n');
      if (nl < 0) return;
      if (buf[0] === '$') {
        const len = Number(buf.slice(1, nl));
        if (len < 0) return (sock.end(), resolve(''));
        if (buf.length < nl + 2 + len) return;
        sock.end();
        resolve(buf.slice(nl + 2, nl + 2 + len));
      } else {
        sock.end();
        resolve(buf.slice(0, nl));
      }
    });
    sock.on('error', reject);
  });
}

// ───────────────────────── redis-server ─────────────────────────

export interface RedisProc {
  port: number;
  dir: string;
  url: string;
  /** kill -9, then start again on the same port and directory (the AOF brings the data back). */
  restart(downMs?: number): Promise<void>;
  kill9(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * `logDir`: where redis-server's log goes (`redis-<port>.log`); the chaos run passes its own log
 * directory, kept when a run has violations, so the log outlives the data directory. `extraArgs`:
 * more redis-server arguments, on every start.
 */
export async function startRedis(opts: { cluster?: boolean; port?: number; logDir?: string; extraArgs?: string[] } = {}): Promise<RedisProc> {
  const port = opts.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), `callbook-redis-${port}-`));
  const args = [
    '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--daemonize', 'no', '--protected-mode', 'no',
    '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '', '--maxmemory-policy', 'noeviction',
    ...(opts.cluster ? ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '5000'] : []),
    ...(opts.extraArgs ?? []),
  ];
  let proc: ChildProcess | undefined;
  const log = createWriteStream(join(opts.logDir ?? dir, `redis-${port}.log`), { flags: 'a' });
  const self: RedisProc = {
    port,
    dir,
    url: `redis://127.0.0.1:${port}`,
    async start() {
      proc = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
      proc.stdout!.pipe(log, { end: false });
      proc.stderr!.pipe(log, { end: false });
      await waitFor(`redis-server on ${port}`, async () => (await redisCommand(port, 'PING')) === '+PONG', 20_000, 50);
    },
    async kill9() {
      const p = proc;
      if (!p || p.exitCode !== null) return;
      const gone = new Promise((r) => p.once('exit', r));
      p.kill('SIGKILL');
      await gone;
    },
    async restart(downMs = 500) {
      await self.kill9();
      await sleep(downMs);
      await self.start();
    },
    async stop() {
      const p = proc;
      if (p && p.exitCode === null) {
        const gone = new Promise((r) => p.once('exit', r));
        p.kill('SIGTERM');
        await Promise.race([gone, sleep(5_000).then(() => p.kill('SIGKILL'))]);
      }
      log.end();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await self.start();
  return self;
}

export interface RedisClusterProc {
  nodes: RedisProc[];
  /** `127.0.0.1:p1,127.0.0.1:p2,…` for REDIS_CLUSTER_NODES. */
  csv: string;
  stop(): Promise<void>;
}

async function clusterOk(port: number): Promise<boolean> {
  return (await redisCommand(port, 'CLUSTER', 'INFO')).includes('cluster_state:ok');
}

/** `masters` redis-servers with cluster mode on, joined by `redis-cli --cluster create`, waited on until cluster_state:ok. */
export async function startRedisCluster(masters = 3, logDir?: string): Promise<RedisClusterProc> {
  const nodes = await Promise.all(Array.from({ length: masters }, () => startRedis({ cluster: true, logDir })));
  const addrs = nodes.map((n) => `127.0.0.1:${n.port}`);
  await run('redis-cli', ['--cluster', 'create', ...addrs, '--cluster-replicas', '0', '--cluster-yes'], { timeout: 30_000 });
  await waitFor('cluster_state:ok on every node', async () => (await Promise.all(nodes.map((n) => clusterOk(n.port)))).every(Boolean), 30_000, 100);
  return {
    nodes,
    csv: addrs.join(','),
    async stop() {
      await Promise.all(nodes.map((n) => n.stop()));
    },
  };
}

/** After a master restarts, wait until every node reports the cluster healthy again. */
export async function waitClusterOk(cluster: RedisClusterProc): Promise<void> {
  await waitFor('cluster_state:ok after restart', async () => (await Promise.all(cluster.nodes.map((n) => clusterOk(n.port)))).every(Boolean), 30_000, 100);
}

// ───────────────────────── Cal.com simulator process ─────────────────────────

export interface SimFaults {
  errorRatio?: number;
  hangRatio?: number;
  dropAfterOkRatio?: number;
  burst429?: number;
  burst429ResetSeconds?: number;
  latencyMs?: number;
}

export interface SimBooking {
  uid: string;
  status: string;
  start: string;
  eventTypeId: number;
  metadata: Record<string, string | number | boolean>;
}

export interface SimProc {
  url: string;
  origin: string;
  admin<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
  setFaults(f: SimFaults): Promise<void>;
  clearFaults(): Promise<void>;
  bookings(): Promise<SimBooking[]>;
  /** Requests the simulator answered with an injected fault, by kind (500, hang, drop, 429). */
  faultCounts(): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

export async function startSimProcess(logDir: string): Promise<SimProc> {
  const port = await freePort();
  const proc = spawn(process.execPath, ['--import', 'tsx', 'sim/calcom/server.ts'], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = createWriteStream(join(logDir, 'calcom-sim.log'));
  proc.stdout!.pipe(log);
  proc.stderr!.pipe(log, { end: false });
  const origin = `http://127.0.0.1:${port}`;
  await waitFor('the Cal.com simulator', async () => (await fetch(`${origin}/__sim/bookings`)).ok, 30_000, 100);
  const admin = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${origin}/__sim${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await res.json()) as { data: T };
    if (!res.ok) throw new Error(`sim ${method} ${path} → ${res.status}: ${JSON.stringify(json)}`);
    return json.data;
  };
  return {
    url: `${origin}/v2`,
    origin,
    admin,
    setFaults: (f) => admin('POST', '/faults', f).then(() => undefined),
    clearFaults: () => admin('DELETE', '/faults').then(() => undefined),
    bookings: () => admin<SimBooking[]>('GET', '/bookings'),
    async faultCounts() {
      const reqs = await admin<Array<{ fault?: string }>>('GET', '/requests');
      const out: Record<string, number> = {};
      for (const r of reqs) for (const f of r.fault?.split(',') ?? []) if (!f.startsWith('latency')) out[f] = (out[f] ?? 0) + 1;
      return out;
    },
    async stop() {
      if (proc.exitCode !== null) return;
      const gone = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGKILL');
      await gone;
    },
  };
}

// ───────────────────────── tenants for the storm ─────────────────────────

export interface ChaosCompany {
  slug: string;
  number: string;
  apiKey: string;
  eventTypeId: number;
}

/** `n` companies, each its own Cal.com account, branch, number and one 30-minute service. */
export function chaosTenants(n: number): { file: TenantsFile; companies: ChaosCompany[] } {
  const companies: ChaosCompany[] = Array.from({ length: n }, (_, i) => ({
    slug: `chaos-${i}`,
    number: `+49301${String(i).padStart(6, '0')}`,
    apiKey: `cal_chaos_${i}_${randomBytes(4).toString('hex')}`,
    eventTypeId: 5000 + i,
  }));
  const file = tenantsFileSchema.parse({
    companies: companies.map((c, i) => ({
      slug: c.slug,
      name: `Chaos ${i}`,
      language: 'de',
      calcomApiKey: c.apiKey,
      calcomUsername: c.slug,
      branches: [{ slug: 'main', name: `Chaos ${i} Main`, timezone: 'Europe/Berlin', phoneNumbers: [c.number], defaultService: 'cut' }],
      services: [{ slug: 'cut', name: 'Haircut', calcomEventTypeId: c.eventTypeId, durationMinutes: 30, aliases: ['Haarschnitt'] }],
    })),
  });
  return { file, companies };
}

export async function seedSim(sim: SimProc, companies: ChaosCompany[]): Promise<void> {
  for (const c of companies) {
    await sim.admin('POST', '/accounts', { apiKey: c.apiKey, username: c.slug, timeZone: 'Europe/Berlin', rateLimitPerMinute: 1_000_000 });
    await sim.admin('POST', '/event-types', {
      id: c.eventTypeId,
      slug: 'cut',
      title: 'Haircut',
      lengthInMinutes: 30,
      ownerApiKey: c.apiKey,
      // Open around the clock, every day: every call gets a slot of its own.
      schedule: { days: [1, 2, 3, 4, 5, 6, 7], startHour: 0, endHour: 24 },
    });
  }
}

// ───────────────────────── the Procfile's processes ─────────────────────────

/** `name → [script, ...args]` from the Procfile (`node dist/<script> <args>` lines: the build, made by the global setup). */
export function procfile(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of readFileSync(join(ROOT, 'Procfile'), 'utf8').split('\n')) {
    const m = /^([a-z][\w-]*):\s*node\s+(.+)$/.exec(line.trim());
    if (m) out.set(m[1]!, m[2]!.split(/\s+/));
  }
  return out;
}

export interface Managed {
  type: string;
  instance: number;
  proc: ChildProcess;
  kills: number;
}

export class Fleet {
  readonly members: Managed[] = [];
  private readonly lines = procfile();
  private stopping = false;

  constructor(
    private readonly env: Record<string, string>,
    private readonly logDir: string,
  ) {}

  private spawnProc(type: string, instance: number, extraEnv: Record<string, string> = {}): ChildProcess {
    const line = this.lines.get(type);
    if (!line) throw new Error(`no Procfile line "${type}"`);
    const proc = spawn(process.execPath, line, {
      cwd: ROOT,
      env: { ...process.env, ...this.env, ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const log = createWriteStream(join(this.logDir, `${type}-${instance}.log`), { flags: 'a' });
    log.write(`--- pid ${proc.pid} started ${new Date().toISOString()}\n`);
    proc.stdout!.pipe(log, { end: false });
    proc.stderr!.pipe(log, { end: false });
    proc.once('exit', (code, signal) => log.end(`--- pid ${proc.pid} exited code=${code} signal=${signal}\n`));
    return proc;
  }

  start(type: string, instance: number, extraEnv: Record<string, string> = {}): Managed {
    const m: Managed = { type, instance, proc: this.spawnProc(type, instance, extraEnv), kills: 0 };
    this.members.push(m);
    return m;
  }

  workers(): Managed[] {
    return this.members.filter((m) => m.type !== 'web');
  }

  /** kill -9 one worker process and start its replacement; resolves once the old one is gone. */
  async kill9(m: Managed): Promise<void> {
    const old = m.proc;
    if (old.exitCode === null && old.signalCode === null) {
      const gone = new Promise((r) => old.once('exit', r));
      old.kill('SIGKILL');
      await gone;
    }
    m.kills++;
    if (!this.stopping) m.proc = this.spawnProc(m.type, m.instance);
  }

  /** Every worker process has published its metrics to Redis: it is connected and serving. */
  async waitWorkersReady(redis: { zrange(key: string, start: string, stop: string): Promise<string[]> }, ns: string, timeoutMs = 60_000): Promise<void> {
    const host = hostname();
    await waitFor(
      'worker processes to start',
      async () => {
        // A process publishes as `<host>:<pid>:<boot id>` (lib/metrics/publish thisProcess).
        const live = await redis.zrange(`${ns}metrics:procs`, '0', '-1');
        for (const m of this.workers()) {
          if (m.proc.exitCode !== null) throw new Error(`${m.type}-${m.instance} exited with ${m.proc.exitCode}; see ${this.logDir}`);
          if (!live.some((id) => id.startsWith(`${host}:${m.proc.pid}:`))) return false;
        }
        return true;
      },
      timeoutMs,
      200,
    );
  }

  dead(): Managed[] {
    return this.members.filter((m) => m.proc.exitCode !== null || m.proc.signalCode !== null);
  }

  /** SIGTERM everything (workers drain), SIGKILL what is still there after `graceMs`. */
  async stopAll(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    await Promise.all(
      this.members.map(async (m) => {
        const p = m.proc;
        if (p.exitCode !== null || p.signalCode !== null) return;
        const gone = new Promise((r) => p.once('exit', r));
        p.kill('SIGTERM');
        await Promise.race([gone, sleep(graceMs).then(() => p.kill('SIGKILL'))]);
        await gone;
      }),
    );
  }
}

// ───────────────────────── calls and the driver ─────────────────────────

export type BadMode = 'wrong_key' | 'tampered' | 'stale' | 'malformed' | 'missing';
const BAD_MODES: BadMode[] = ['wrong_key', 'tampered', 'stale', 'malformed', 'missing'];

export interface Delivery {
  kind: 'valid' | 'duplicate' | 'bad';
  callId: string;
  event: string;
  body: string;
  bad?: BadMode;
}

export interface PlannedCall {
  callId: string;
  company: ChaosCompany;
  /** The start asked for (UTC ISO), when the caller asked for a booking. */
  asks?: string;
  /** Never delivered as a webhook: only Retell's API knows it (the reconcile window). */
  lost?: boolean;
}

const EVENTS = ['call_started', 'call_ended', 'call_analyzed'] as const;

function callBody(event: (typeof EVENTS)[number], call: PlannedCall, caller: string, detailsInEnded: boolean): string {
  const vars = call.asks
    ? { booking_confirmed: 'ja', appointment_datetime: call.asks, service: 'Haarschnitt', customer_name: `Caller ${caller.slice(-4)}` }
    : { booking_confirmed: 'nein' };
  const withVars = event === 'call_analyzed' || (event === 'call_ended' && detailsInEnded);
  return JSON.stringify(
    retellEvent(event, {
      callId: call.callId,
      agentId: 'agent_chaos',
      from: caller,
      to: call.company.number,
      transcript: 'Agent: Hallo!\nUser: Einen Haarschnitt bitte.',
      summary: 'Caller asked for a haircut.',
      vars: withVars ? vars : undefined,
      analysis: vars,
    }),
  );
}

export interface Plan {
  calls: PlannedCall[];
  /** The lost calls' call objects as Retell's API holds them (analysed). */
  lostCalls: Array<Record<string, unknown>>;
  badCallIds: string[];
  deliveries: Delivery[];
  duplicates: number;
  bad: number;
}

/**
 * The storm's webhooks: every call's three events; `dupRatio` of them delivered twice; bad
 * signatures (`badRatio` of the valid deliveries) on call ids of their own, so nothing they
 * carry may show up anywhere; all of it shuffled. `askRatio` of the calls ask for a booking, each
 * for a distinct 30-minute slot of its company, from `startDay` on. A window of `lostRatio` of
 * the calls (consecutive, from the middle) gets no delivery at all.
 */
export function planStorm(o: { calls: number; companies: ChaosCompany[]; seed: number; dupRatio: number; badRatio: number; askRatio: number; startDay: Date; callers?: number; lostRatio?: number }): Plan {
  const lostCount = Math.round(o.calls * (o.lostRatio ?? 0));
  const lostFrom = Math.floor((o.calls - lostCount) / 2);
  const lostCalls: Array<Record<string, unknown>> = [];
  const rnd = prng(o.seed);
  const run = randomBytes(3).toString('hex');
  const nextSlot = new Map<string, number>();
  const callerPool = Array.from({ length: o.callers ?? Math.max(10, Math.floor(o.calls / 4)) }, (_, i) => `+49170${String(1_000_000 + i)}`);
  const calls: PlannedCall[] = [];
  const deliveries: Delivery[] = [];
  let duplicates = 0;
  for (let i = 0; i < o.calls; i++) {
    const company = o.companies[i % o.companies.length]!;
    const call: PlannedCall = { callId: `call_chaos_${run}_${i}`, company };
    if (rnd() < o.askRatio) {
      const k = nextSlot.get(company.slug) ?? 0;
      nextSlot.set(company.slug, k + 1);
      call.asks = new Date(o.startDay.getTime() + k * 30 * 60_000).toISOString();
    }
    calls.push(call);
    const caller = callerPool[Math.floor(rnd() * callerPool.length)]!;
    const detailsInEnded = rnd() < 0.5;
    if (i >= lostFrom && i < lostFrom + lostCount) {
      call.lost = true;
      lostCalls.push((JSON.parse(callBody('call_analyzed', call, caller, true)) as { call: Record<string, unknown> }).call);
      continue;
    }
    for (const event of EVENTS) {
      const body = callBody(event, call, caller, detailsInEnded);
      deliveries.push({ kind: 'valid', callId: call.callId, event, body });
      if (rnd() < o.dupRatio) {
        deliveries.push({ kind: 'duplicate', callId: call.callId, event, body });
        duplicates++;
      }
    }
  }
  const badCount = Math.round(o.calls * EVENTS.length * o.badRatio);
  const badCallIds: string[] = [];
  for (let i = 0; i < badCount; i++) {
    const company = o.companies[i % o.companies.length]!;
    const call: PlannedCall = { callId: `call_badsig_${run}_${i}`, company, asks: new Date(o.startDay.getTime() - 86400_000 + i * 60_000).toISOString() };
    badCallIds.push(call.callId);
    const event = EVENTS[Math.floor(rnd() * EVENTS.length)]!;
    deliveries.push({ kind: 'bad', callId: call.callId, event, body: callBody(event, call, callerPool[0]!, true), bad: BAD_MODES[i % BAD_MODES.length]! });
  }
  shuffle(deliveries, rnd);
  return { calls, lostCalls, badCallIds, deliveries, duplicates, bad: badCount };
}

function headersFor(d: Delivery): { body: string; headers: Record<string, string> } {
  const json = { 'content-type': 'application/json' };
  switch (d.bad) {
    case undefined:
      return { body: d.body, headers: { ...json, 'x-retell-signature': signRetellBody(d.body, RETELL_KEY) } };
    case 'wrong_key':
      return { body: d.body, headers: { ...json, 'x-retell-signature': signRetellBody(d.body, 'key_somebody_else') } };
    case 'tampered':
      return { body: d.body.replace('"inbound"', '"outbound"'), headers: { ...json, 'x-retell-signature': signRetellBody(d.body, RETELL_KEY) } };
    case 'stale':
      return { body: d.body, headers: { ...json, 'x-retell-signature': signRetellBody(d.body, RETELL_KEY, Date.now() - 6 * 60_000) } };
    case 'malformed':
      return { body: d.body, headers: { ...json, 'x-retell-signature': 'v=1,d=zz' } };
    case 'missing':
      return { body: d.body, headers: json };
  }
}

export interface DriveResult {
  sent: number;
  attempts: number;
  /** Final status per delivery kind. */
  finals: Record<string, Record<string, number>>;
  /** Every non-final answer that made the driver retry (503, connection errors …). */
  retried: Record<string, number>;
  /** Deliveries whose last answer was not what they should get (valid → 2xx, bad → 401 or 429). */
  wrong: Array<{ callId: string; event: string; kind: string; status: string }>;
  ms: number;
}

/**
 * Post every delivery with at most `concurrency` in flight, retrying like Retell: a 5xx, a 429, a
 * timeout (10 s) or a connection error is tried again up to 3 times, after 1 s, 2 s and 4 s (±20 %).
 * Each attempt is signed afresh (Retell signs every delivery with its own timestamp).
 */
export async function drive(
  origin: string,
  deliveries: Delivery[],
  o: {
    concurrency: number;
    onProgress?: (done: number) => void;
    minDurationMs?: number;
    rnd?: () => number;
    /** Whether Redis was away at `t` (epoch ms): a bad signature's last answer may then be 503, as any answer may. */
    redisAway?: (t: number) => boolean;
  },
): Promise<DriveResult> {
  const pool = new Pool(origin, { connections: o.concurrency, headersTimeout: 10_000, bodyTimeout: 10_000, connectTimeout: 5_000 });
  const rnd = o.rnd ?? Math.random;
  const result: DriveResult = { sent: 0, attempts: 0, finals: {}, retried: {}, wrong: [], ms: 0 };
  const t0 = Date.now();
  // Pace: spread the deliveries over minDurationMs (so the chaos has time to happen mid-storm).
  const gapMs = o.minDurationMs ? o.minDurationMs / deliveries.length : 0;
  let next = 0;
  let done = 0;
  const one = async (d: Delivery): Promise<void> => {
    let status = '';
    let lastAt = 0;
    for (let attempt = 0; attempt <= 3; attempt++) {
      if (attempt > 0) await sleep(1000 * 2 ** (attempt - 1) * (0.8 + 0.4 * rnd()));
      result.attempts++;
      const { body, headers } = headersFor(d);
      lastAt = Date.now();
      try {
        const res = await pool.request({ path: '/webhooks/retell', method: 'POST', headers, body });
        await res.body.dump();
        status = String(res.statusCode);
      } catch (err) {
        status = (err as { code?: string }).code ?? 'error';
      }
      const retry = !/^[24]\d\d$/.test(status) || status === '429';
      if (!retry) break;
      result.retried[status] = (result.retried[status] ?? 0) + 1;
    }
    const finals = (result.finals[d.kind] ??= {});
    finals[status] = (finals[status] ?? 0) + 1;
    // A bad signature gets 401, or 429 once this one address has failed authentication
    // RATE_LIMIT_AUTH_FAILURES_PER_MINUTE times this minute (every delivery here comes from one address),
    // or — its retries spent on 429s, the last one while Redis was away — 503: a wrong signature's
    // body may name a company whose own key is looked up in Redis, and the 429s are retried too.
    const badOk = status === '401' || status === '429' || (status === '503' && (o.redisAway?.(lastAt) ?? false));
    const ok = d.kind === 'bad' ? badOk : status === '202' || status === '200';
    if (!ok) result.wrong.push({ callId: d.callId, event: d.event, kind: d.kind, status });
  };
  await Promise.all(
    Array.from({ length: o.concurrency }, async () => {
      for (;;) {
        const i = next++;
        if (i >= deliveries.length) return;
        if (gapMs) {
          const due = t0 + i * gapMs;
          if (due > Date.now()) await sleep(due - Date.now());
        }
        await one(deliveries[i]!);
        result.sent++;
        o.onProgress?.(++done);
      }
    }),
  );
  await pool.close();
  result.ms = Date.now() - t0;
  return result;
}

// ───────────────────────── the whole storm ─────────────────────────

export interface ChaosOptions {
  calls: number;
  seed?: number;
  companies?: number;
  dupRatio?: number;
  badRatio?: number;
  askRatio?: number;
  concurrency?: number;
  /** kill -9 a random worker every [min, max] ms while the driver sends; maxKills caps the count. */
  killEveryMs?: [number, number];
  maxKills?: number;
  /** When (fraction of deliveries sent) Redis is restarted; null: never. */
  redisRestartAt?: number | null;
  faults?: SimFaults;
  /** burst429 every this many ms (the simulator answers the next `burst429` requests with 429). */
  burstEveryMs?: number;
  burst429?: number;
  /** Spread the deliveries over at least this long. */
  minDurationMs?: number;
  /** Run on a 3-master Redis Cluster instead of one redis-server. */
  cluster?: boolean;
  /** Extra env for every process. */
  env?: Record<string, string>;
  quiesceTimeoutMs?: number;
  /** How long the chaos stays on after the driver is done, while the workers catch up (default 180 s). */
  backlogTimeoutMs?: number;
  /** The share of calls (one consecutive window) that never get a webhook and must be found by reconcile (default 0.05). */
  lostRatio?: number;
  log?: (line: string) => void;
}

export interface ChaosReport {
  figures: Record<string, string | number>;
  violations: string[];
}

const QUEUES: QueueName[] = ['webhooks', 'bookings', 'notifications'];

async function pendingCounts(queues: Queue[]): Promise<number> {
  let n = 0;
  for (const q of queues) {
    const c = await q.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children');
    n += Object.values(c).reduce((a, b) => a + b, 0);
  }
  return n;
}

async function countsByQueue(queues: Queue[]): Promise<Record<string, Record<string, number>>> {
  const out: Record<string, Record<string, number>> = {};
  for (const q of queues) {
    const c = await q.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'failed').catch(() => ({}) as Record<string, number>);
    out[q.name] = Object.fromEntries(Object.entries(c).filter(([, n]) => n > 0));
  }
  return out;
}

/**
 * `callbook calls reconcile --since 1h --json` as its own OS process, as an operator (or the
 * scheduled job) runs it; on failure or timeout (mid-storm, Redis may be away), what it said.
 */
type ReconcileCounts = { found: number; processed: number; pending: number; failed: number };
async function reconcileViaCli(vars: Record<string, string>, timeoutMs: number): Promise<ReconcileCounts | { error: string }> {
  try {
    const { stdout } = await run(process.execPath, ['bin/callbook.mjs', '--json', 'calls', 'reconcile', '--since', '1h'], {
      cwd: ROOT,
      env: { ...process.env, ...vars, LOG_LEVEL: 'error' },
      timeout: timeoutMs,
      maxBuffer: 64 * 1024 * 1024,
    });
    const r = JSON.parse(stdout) as { accounts: Array<{ counts: Record<string, number> }> };
    const sum = (k: string) => r.accounts.reduce((s, a) => s + (a.counts[k] ?? 0), 0);
    return { found: sum('found_missing'), processed: sum('already_processed'), pending: sum('analysis_pending'), failed: sum('failed') };
  } catch (err) {
    const e = err as { message?: string; stdout?: string; stderr?: string };
    return { error: `${e.message ?? err}`.split('\n')[0]!.slice(0, 200) + ` | stdout: ${(e.stdout ?? '').slice(-400)} | stderr: ${(e.stderr ?? '').slice(-400)}` };
  }
}

export async function runChaos(opts: ChaosOptions): Promise<ChaosReport> {
  const log = opts.log ?? ((l: string) => console.log(`[chaos] ${l}`));
  const seed = opts.seed ?? Number(process.env.CHAOS_SEED ?? Date.now() % 1_000_000);
  const rnd = prng(seed ^ 0x5eed);
  const t0 = Date.now();
  const logDir = mkdtempSync(join(tmpdir(), 'callbook-chaos-'));
  const violations: string[] = [];
  const figures: Record<string, string | number> = { seed, logs: logDir };
  log(`seed ${seed}; process logs in ${logDir}`);

  const cluster = opts.cluster ? await startRedisCluster(3, logDir) : undefined;
  const redis = cluster ? undefined : await startRedis({ logDir });
  const sim = await startSimProcess(logDir);
  // Retell's API, for reconcile: in this process (only the reconcile CLI talks to it).
  const retell = await startRetellSim(createRetellSim({ apiKeys: [RETELL_KEY] }));
  let env: TestEnv | undefined;
  let fleet: Fleet | undefined;
  try {
    const redisVars = cluster ? { REDIS_URL: `redis://${cluster.csv.split(',')[0]}`, REDIS_CLUSTER_NODES: cluster.csv } : { REDIS_URL: redis!.url, REDIS_CLUSTER_NODES: '' };
    const lockMs = opts.calls <= 500 ? '3000' : '5000';
    env = await createTestEnv({ ...redisVars, CALCOM_API_URL: sim.url, WORKER_LOCK_MS: lockMs, RETELL_API_URL: retell.url });
    const { file, companies } = chaosTenants(opts.companies ?? 4);
    await seedSim(sim, companies);
    await importTenants({ db: env.ctx.database.db, cipher: env.ctx.cipher, cache: env.ctx.cache }, file, 'chaos');

    const webPort = await freePort();
    const vars: Record<string, string> = {
      ...env.vars,
      ...redisVars,
      CALCOM_API_URL: sim.url,
      RETELL_API_URL: retell.url,
      CALCOM_TIMEOUT_MS: '2500',
      CALCOM_RATE_LIMIT_PER_MINUTE: '1000000',
      WORKER_LOCK_MS: lockMs,
      METRICS_PUBLISH_INTERVAL_MS: '1000',
      // A worker wedged by the Redis restart is replaced after this (workers/supervise); the
      // figure workers_replaced counts it.
      WORKER_WEDGE_MS: '10000',
      // CONCURRENCY_BOOKINGS is the default (20): the storm runs what ships.
      DB_POOL_SIZE: '12',
      LOG_LEVEL: 'warn',
      PORT: String(webPort),
      HOST: '127.0.0.1',
      ...opts.env,
    };
    fleet = new Fleet(vars, logDir);
    fleet.start('web', 0);
    for (const [type, n] of [['webhooks', 2], ['bookings', 2], ['notifications', 1]] as const) for (let i = 0; i < n; i++) fleet.start(type, i);
    const origin = `http://127.0.0.1:${webPort}`;
    await waitFor('web /healthz', async () => (await fetch(`${origin}/healthz`)).ok, 60_000, 200);
    await fleet.waitWorkersReady(env.ctx.redis, env.ctx.ns);
    figures.startup_s = ((Date.now() - t0) / 1000).toFixed(1);
    log(`processes up after ${figures.startup_s} s`);

    // Slots from 20 days out, at a UTC midnight: far enough to be bookable, unique per call.
    const startDay = new Date(Math.floor(Date.now() / 86400_000) * 86400_000 + 20 * 86400_000);
    const plan = planStorm({
      calls: opts.calls,
      companies,
      seed,
      dupRatio: opts.dupRatio ?? 0.2,
      badRatio: opts.badRatio ?? 0.05,
      askRatio: opts.askRatio ?? 0.7,
      startDay,
      lostRatio: opts.lostRatio ?? 0.05,
    });
    // The lost window: Retell recorded these calls (ended two minutes ago, analysed); no webhook will come.
    for (const call of plan.lostCalls) {
      const end = Date.now() - 120_000;
      retell.sim.addCall({ ...call, end_timestamp: end, start_timestamp: end - 120_000 });
    }
    const asking = plan.calls.filter((c) => c.asks);
    Object.assign(figures, {
      calls: plan.calls.length,
      calls_asking_for_booking: asking.length,
      deliveries: plan.deliveries.length,
      duplicate_deliveries: plan.duplicates,
      bad_signatures: plan.bad,
      calls_without_webhooks: plan.lostCalls.length,
    });
    log(`${plan.calls.length} calls (${asking.length} ask to book), ${plan.deliveries.length} deliveries: ${plan.duplicates} duplicates, ${plan.bad} bad signatures`);

    // ── the storm ──
    const faults: SimFaults = opts.faults ?? { errorRatio: 0.1, hangRatio: 0.02, dropAfterOkRatio: 0.02 };
    await sim.setFaults(faults);
    let storming = true;
    let kills = 0;
    let redisRestarts = 0;
    let bursts = 0;
    const chaosLoops: Promise<void>[] = [];
    const [kMin, kMax] = opts.killEveryMs ?? [3_000, 6_000];
    chaosLoops.push(
      (async () => {
        while (storming && kills < (opts.maxKills ?? Infinity)) {
          await sleep(kMin + rnd() * (kMax - kMin));
          if (!storming) break;
          const victims = fleet!.workers();
          const m = victims[Math.floor(rnd() * victims.length)]!;
          log(`kill -9 ${m.type}-${m.instance} (pid ${m.proc.pid})`);
          await fleet!.kill9(m);
          kills++;
        }
      })(),
    );
    if (opts.burstEveryMs) {
      chaosLoops.push(
        (async () => {
          while (storming) {
            await sleep(opts.burstEveryMs!);
            if (!storming) break;
            // setFaults replaces the configuration: the ratios stay, a burst is added.
            await sim.setFaults({ ...faults, burst429: opts.burst429 ?? 20, burst429ResetSeconds: 1 }).catch(() => undefined);
            bursts++;
          }
        })(),
      );
    }
    const restartAt = opts.redisRestartAt === undefined ? 0.4 : opts.redisRestartAt;
    let restarting: Promise<void> | undefined;
    // When Redis went away and came back (epoch ms), for the driver's verdict on bad signatures.
    const away: { from?: number; to?: number } = {};
    const restartRedis = async () => {
      const t = Date.now();
      away.from = t;
      if (cluster) {
        const victim = cluster.nodes[Math.floor(rnd() * cluster.nodes.length)]!;
        log(`kill -9 Redis Cluster master :${victim.port}, restart`);
        await victim.restart(500);
        await waitClusterOk(cluster);
      } else {
        log('kill -9 redis-server, restart (AOF)');
        await redis!.restart(500);
      }
      redisRestarts++;
      away.to = Date.now();
      log(`Redis back after ${away.to - t} ms`);
    };
    const total = plan.deliveries.length;
    // Reconcile once mid-storm (a worker may die under it, Redis may be away: it may fail)…
    let midReconcile: Promise<Awaited<ReturnType<typeof reconcileViaCli>>> | undefined;
    const driven = await drive(origin, plan.deliveries, {
      concurrency: opts.concurrency ?? 32,
      minDurationMs: opts.minDurationMs,
      rnd,
      // Up to 2 s after it is back: the ingress's connections reconnect on their own schedule.
      redisAway: (t) => away.from !== undefined && t >= away.from && (away.to === undefined || t <= away.to + 2_000),
      onProgress: (n) => {
        if (restartAt !== null && !restarting && n >= total * restartAt) restarting = restartRedis();
        if (!midReconcile && n >= total * 0.5) midReconcile = reconcileViaCli(vars, 60_000);
        if (n % Math.max(1, Math.floor(total / 10)) === 0) log(`${n}/${total} deliveries sent`);
      },
    });
    await restarting;
    const mid = await midReconcile;
    figures.reconcile_mid_storm = mid && !('error' in mid) ? JSON.stringify(mid) : 'failed (Redis or a worker away): left to the next run';
    // The workers lag behind the ingress: keep the chaos on while they work through the backlog
    // (jobs waiting or running; retries waiting out a backoff, the breaker or a 429 don't count).
    const queuesUnderStorm = QUEUES.map((q) => env!.ctx.queues[q]);
    const backlogUntil = Date.now() + (opts.backlogTimeoutMs ?? 180_000);
    while (Date.now() < backlogUntil) {
      let busy = 0;
      for (const q of queuesUnderStorm) {
        const c = await q.getJobCounts('waiting', 'active', 'prioritized').catch(() => ({ waiting: 1 }));
        busy += Object.values(c).reduce((a, b) => a + b, 0);
      }
      if (busy === 0) break;
      if (Math.floor(Date.now() / 10_000) !== Math.floor((Date.now() - 500) / 10_000)) log(`backlog: ${JSON.stringify(await countsByQueue(queuesUnderStorm))}`);
      await sleep(500);
    }
    storming = false;
    await Promise.all(chaosLoops);
    const stormS = (Date.now() - t0) / 1000;
    Object.assign(figures, {
      storm_s: stormS.toFixed(1),
      http_attempts: driven.attempts,
      http_retried: JSON.stringify(driven.retried),
      http_final: JSON.stringify(driven.finals),
      kills,
      redis_restarts: redisRestarts,
      bursts_429: bursts,
    });
    log(`driver done in ${(driven.ms / 1000).toFixed(1)} s: finals ${JSON.stringify(driven.finals)}, retried ${JSON.stringify(driven.retried)}`);
    for (const w of driven.wrong.slice(0, 20)) violations.push(`delivery ${w.kind} ${w.callId}/${w.event} ended with ${w.status}`);
    // A 503 is the ingress's contract while Redis is away (Retell retries); any other 5xx is a bug.
    for (const [status, n] of Object.entries(driven.retried)) if (/^5\d\d$/.test(status) && status !== '503') violations.push(`the ingress answered ${status} ${n} time(s); see web-0.log in ${logDir}`);
    if (driven.wrong.length > 20) violations.push(`… and ${driven.wrong.length - 20} more deliveries with a wrong final status`);

    // ── recovery: clear the faults, reset the breaker, retry what failed, wait for quiet ──
    await sim.clearFaults();
    const breaker = serviceBreaker('calcom', { redis: env.ctx.redis, ns: env.ctx.ns, logger: env.ctx.logger });
    figures.breaker_at_end_of_storm = (await breaker.status()).state;
    await breaker.reset();
    // …and once after it, as the next scheduled run would: whatever the first missed is fed now.
    const after = await reconcileViaCli(vars, 120_000);
    if ('error' in after) violations.push(`calls reconcile failed after the storm: ${after.error}`);
    figures.reconcile_after_storm = JSON.stringify(after);
    for (const m of fleet.dead()) {
      violations.push(`${m.type}-${m.instance} (pid ${m.proc.pid}) died by itself with code ${m.proc.exitCode}`);
    }
    const queues = QUEUES.map((q) => env!.ctx.queues[q]);
    let retried = 0;
    const failedBefore: Record<string, string[]> = {};
    const quiesceUntil = Date.now() + (opts.quiesceTimeoutMs ?? 240_000);
    let quiet = 0;
    for (let round = 0; ; round++) {
      // Delayed jobs (breaker, 429, lock) would wait out their time: bring them forward.
      for (const q of queues) await q.promoteJobs().catch(() => undefined);
      for (const q of queues) {
        for (const job of await q.getFailed(0, -1)) {
          (failedBefore[q.name] ??= []).push(`${job.id}: ${job.failedReason}`);
          if (!job.failedReason) violations.push(`failed job ${q.name}/${job.id} has no reason`);
          await job.retry('failed');
          retried++;
        }
      }
      const pending = await pendingCounts(queues);
      const failed = (await Promise.all(queues.map((q) => q.getFailedCount()))).reduce((a, b) => a + b, 0);
      if (pending === 0 && failed === 0) {
        if (++quiet >= 3) break;
        await sleep(500);
        continue;
      }
      quiet = 0;
      if (round % 10 === 9) log(`recovering: ${JSON.stringify(await countsByQueue(queues))}`);
      if (Date.now() > quiesceUntil) {
        violations.push(`no quiescence within the timeout: ${pending} jobs pending, ${failed} failed`);
        break;
      }
      await sleep(1_000);
    }
    figures.failed_jobs_retried = retried;
    figures.failed_job_reasons = JSON.stringify(summarizeReasons(failedBefore));
    figures.recovery_s = ((Date.now() - t0) / 1000 - stormS).toFixed(1);
    figures.workers_replaced = workersReplaced(logDir);

    // ── the verdict ──
    await verify({ env, sim, plan, violations, figures });
    figures.fault_answers = JSON.stringify(await sim.faultCounts());
    figures.total_s = ((Date.now() - t0) / 1000).toFixed(1);
    return { figures, violations };
  } finally {
    await fleet?.stopAll().catch(() => undefined);
    await env?.cleanup().catch(() => undefined);
    await sim.stop().catch(() => undefined);
    await retell.close().catch(() => undefined);
    await redis?.stop().catch(() => undefined);
    await cluster?.stop().catch(() => undefined);
    if (violations.length === 0 && !process.env.CHAOS_KEEP_LOGS) {
      rmSync(logDir, { recursive: true, force: true });
      figures.logs = 'removed (no violations; CHAOS_KEEP_LOGS=1 keeps them)';
    }
  }
}

function summarizeReasons(byQueue: Record<string, string[]>): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const [q, lines] of Object.entries(byQueue)) {
    for (const l of lines) {
      const reason = l.slice(l.indexOf(': ') + 2).replace(/[0-9a-f]{16,}/g, '…').replace(/\d+/g, 'N').slice(0, 80);
      (out[q] ??= {})[reason] = (out[q]![reason] ?? 0) + 1;
    }
  }
  return out;
}

async function verify(o: { env: TestEnv; sim: SimProc; plan: Plan; violations: string[]; figures: Record<string, string | number> }): Promise<void> {
  const { env, sim, plan, violations, figures } = o;
  const v = (msg: string) => violations.push(msg);
  const conn = await mysql.createConnection({ uri: env.config.DATABASE_URL });
  try {
    const q = async <T>(sql: string, params: unknown[] = []) => (await conn.query(sql, params))[0] as T[];
    const calls = await q<{ id: number; retell_call_id: string; booking_decision: string | null; booking_reason: string | null; appointment_id: number | null }>(
      'SELECT id, retell_call_id, booking_decision, booking_reason, appointment_id FROM calls',
    );
    const appts = await q<{ id: number; call_id: number | null; status: string; failure_reason: string | null; idempotency_key: string; calcom_booking_uid: string | null }>(
      'SELECT id, call_id, status, failure_reason, idempotency_key, calcom_booking_uid FROM appointments',
    );
    const events = await q<{ dedupe_key: string; external_id: string | null; status: string; error: string | null }>(
      "SELECT dedupe_key, external_id, status, error FROM webhook_events WHERE provider = 'retell'",
    );
    const simBookings = (await sim.bookings()).filter((b) => b.status !== 'cancelled');

    const callsById = new Map<string, (typeof calls)[number][]>();
    for (const c of calls) callsById.set(c.retell_call_id, [...(callsById.get(c.retell_call_id) ?? []), c]);
    const apptsByCall = new Map<number, (typeof appts)[number][]>();
    for (const a of appts) if (a.call_id !== null) apptsByCall.set(a.call_id, [...(apptsByCall.get(a.call_id) ?? []), a]);
    const eventsByKey = new Map(events.map((e) => [e.dedupe_key, e]));
    const simByKey = new Map<string, SimBooking[]>();
    for (const b of simBookings) {
      const key = String(b.metadata.callbook_key ?? '');
      simByKey.set(key, [...(simByKey.get(key) ?? []), b]);
    }

    // Every valid call recorded once, decided, and booked exactly once when it asked.
    let booked = 0;
    let lostBooked = 0;
    for (const call of plan.calls) {
      const rows = callsById.get(call.callId) ?? [];
      if (rows.length !== 1) {
        v(`call ${call.callId}: ${rows.length} calls rows (want 1)`);
        continue;
      }
      const row = rows[0]!;
      const mine = apptsByCall.get(row.id) ?? [];
      if (call.asks) {
        if (row.booking_decision !== 'book') v(`call ${call.callId} asked for ${call.asks} but was decided "${row.booking_decision}" (${row.booking_reason})`);
        if (mine.length !== 1) {
          v(`call ${call.callId}: ${mine.length} appointments (want 1)`);
          continue;
        }
        const a = mine[0]!;
        if (a.status !== 'booked') v(`call ${call.callId}: appointment ${a.id} is ${a.status}${a.failure_reason ? ` (${a.failure_reason})` : ''}`);
        const inCal = simByKey.get(a.idempotency_key) ?? [];
        if (inCal.length !== 1) v(`call ${call.callId}: ${inCal.length} Cal.com bookings carry its key (want 1)`);
        else if (inCal[0]!.uid !== a.calcom_booking_uid) v(`call ${call.callId}: appointment uid ${a.calcom_booking_uid} ≠ Cal.com uid ${inCal[0]!.uid}`);
        else if (new Date(inCal[0]!.start).toISOString() !== call.asks) v(`call ${call.callId}: booked ${inCal[0]!.start}, asked ${call.asks}`);
        else {
          booked++;
          if (call.lost) lostBooked++;
        }
        if (row.appointment_id !== a.id) v(`call ${call.callId}: calls.appointment_id ${row.appointment_id} ≠ appointment ${a.id}`);
      } else {
        if (row.booking_decision !== 'no_booking') v(`call ${call.callId} did not ask but was decided "${row.booking_decision}"`);
        if (!row.booking_reason) v(`call ${call.callId}: no_booking without a reason`);
        if (mine.length) v(`call ${call.callId} did not ask but has ${mine.length} appointments`);
      }
      // A lost call went through once, as the call_analyzed reconcile fed; the others through all three webhooks.
      for (const ev of EVENTS) {
        const e = eventsByKey.get(`${call.callId}:${ev}`);
        const expected = !call.lost || ev === 'call_analyzed';
        if (!expected) {
          if (e) v(`call ${call.callId} never had webhooks but has a ${ev} webhook_events row`);
        } else if (!e) v(`call ${call.callId}: no webhook_events row for ${ev}${call.lost ? ' (reconcile did not find it)' : ''}`);
        else if (e.status !== 'processed') v(`call ${call.callId}/${ev}: webhook event is ${e.status}${e.error ? ` (${e.error})` : ''}`);
      }
    }
    const wantEvents = (plan.calls.length - plan.lostCalls.length) * EVENTS.length + plan.lostCalls.length;
    if (events.length !== wantEvents) v(`${events.length} webhook_events rows, want ${wantEvents}`);
    if (calls.length !== plan.calls.length) v(`${calls.length} calls rows, want ${plan.calls.length}`);

    // Zero duplicates in Cal.com; nothing there that no call asked for.
    const dupKeys = [...simByKey.entries()].filter(([, bs]) => bs.length > 1);
    for (const [key, bs] of dupKeys.slice(0, 20)) v(`Cal.com has ${bs.length} bookings with callbook_key ${key}`);
    const asking = plan.calls.filter((c) => c.asks).length;
    if (simBookings.length !== asking) v(`Cal.com holds ${simBookings.length} bookings, ${asking} calls asked for one`);
    if (appts.length !== asking) v(`${appts.length} appointments, ${asking} calls asked for one`);

    // Nothing stored from a bad signature.
    const bad = new Set(plan.badCallIds);
    for (const c of calls) if (bad.has(c.retell_call_id)) v(`bad-signature call ${c.retell_call_id} has a calls row`);
    for (const e of events) if (bad.has(e.external_id ?? '')) v(`bad-signature call ${e.external_id} has a webhook_events row`);
    for (const name of QUEUES) {
      const jobs = await env.ctx.queues[name].getJobs(['completed', 'failed', 'waiting', 'delayed', 'active']);
      for (const j of jobs) if (bad.has(String((j.data as { callId?: unknown }).callId ?? ''))) v(`bad-signature call has a ${name} job ${j.id}`);
    }

    // Every failure on record with a reason.
    for (const a of appts) if (a.status === 'failed' && !a.failure_reason) v(`appointment ${a.id} failed without a reason`);
    for (const e of events) if (['failed', 'rejected'].includes(e.status) && !e.error) v(`webhook event ${e.dedupe_key} ${e.status} without a reason`);
    for (const name of QUEUES) for (const j of await env.ctx.queues[name].getFailed(0, -1)) if (!j.failedReason) v(`failed job ${name}/${j.id} has no reason`);

    const notes = await q<{ kind: string; status: string; n: number }>('SELECT kind, status, COUNT(*) AS n FROM notifications GROUP BY kind, status');
    // Every booking confirmed: sent, or 'sending' where a worker died mid-send (at most once: never resent).
    const confirmed = new Set(
      (await q<{ ref: string }>("SELECT ref FROM notifications WHERE kind = 'booking_confirmed' AND status IN ('sent', 'sending')")).map((r) => Number(r.ref)),
    );
    const unconfirmed = appts.filter((a) => a.status === 'booked' && !confirmed.has(a.id));
    if (unconfirmed.length) v(`${unconfirmed.length} booked appointments have no confirmation (e.g. ${unconfirmed.slice(0, 5).map((a) => a.id).join(', ')})`);
    Object.assign(figures, {
      bookings_in_calcom: simBookings.length,
      appointments_booked: appts.filter((a) => a.status === 'booked').length,
      calls_booked_correctly: booked,
      lost_calls_asking: plan.calls.filter((c) => c.lost && c.asks).length,
      lost_calls_booked_correctly: lostBooked,
      duplicate_bookings_found: dupKeys.length,
      calls_rows: calls.length,
      webhook_events_rows: events.length,
      notifications: JSON.stringify(Object.fromEntries(notes.map((n) => [`${n.kind}:${n.status}`, Number(n.n)]))),
    });
  } finally {
    await conn.end();
  }
}

/**
 * Workers replaced for taking no job while jobs waited (workers/supervise), from the process
 * logs: its replacement line, first or again, is the one that carries `nextWindowMs`.
 */
function workersReplaced(logDir: string): number {
  let n = 0;
  for (const f of readdirSync(logDir).filter((f) => f.endsWith('.log'))) {
    n += readFileSync(join(logDir, f), 'utf8').split('\n').filter((l) => l.includes('"nextWindowMs":')).length;
  }
  return n;
}

/** runChaos with what the short runs in `npm test` share: one kill -9, the usual Cal.com faults, 429 bursts of 10, short timeouts, quiet unless CHAOS_VERBOSE. */
export function runShortChaos(opts: ChaosOptions): Promise<ChaosReport> {
  const faults = { errorRatio: 0.1, hangRatio: 0.02, dropAfterOkRatio: 0.02 };
  const log = process.env.CHAOS_VERBOSE ? undefined : () => {};
  return runChaos({ killEveryMs: [1_500, 2_000], maxKills: 1, faults, burst429: 10, quiesceTimeoutMs: 40_000, backlogTimeoutMs: 30_000, log, ...opts });
}

export function printFigures(title: string, r: ChaosReport): void {
  const width = Math.max(...Object.keys(r.figures).map((k) => k.length));
  console.log(`\n${title}\n${Object.entries(r.figures).map(([k, val]) => `  ${k.padEnd(width)}  ${val}`).join('\n')}\n  violations${' '.repeat(Math.max(0, width - 10))}  ${r.violations.length}`);
  for (const line of r.violations.slice(0, 40)) console.log(`   ✗ ${line}`);
}

