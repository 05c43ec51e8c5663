/** Helpers shared by the benchmarks: child processes, a private database and key prefix, tables. */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import mysql from 'mysql2/promise';
import { Redis } from 'ioredis';
import { deletePrefixed } from '../lib/redis';
import { runCli } from '../test/helpers/cli';
import { freePort } from '../test/helpers/ports';
import { realtimeTranscript } from '../test/helpers/transcript';

export const MYSQL_ROOT = process.env.BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';
export const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

export function benchVars(extra: Record<string, string> = {}): Record<string, string> {
  const id = randomBytes(4).toString('hex');
  return {
    DATABASE_URL: `${MYSQL_ROOT}/cbbench_${id}`,
    REDIS_URL,
    REDIS_PREFIX: `cbbench${id}`,
    RETELL_API_KEY: 'key_bench_retell',
    ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    // BENCH_BLIND_INDEX=1: customers found by the HMAC blind index, as in a deployment where a
    // company encrypts personal data (lib/pii); see retirePlainIndex for the plain-index look.
    ...(process.env.BENCH_BLIND_INDEX === '1' ? { BLIND_INDEX_KEY: randomBytes(32).toString('base64') } : {}),
    ADMIN_TOKEN: 'bench-admin-token-0123456789',
    LOG_LEVEL: 'warn',
    ...extra,
  };
}

/**
 * With BLIND_INDEX_KEY set, what an operator runs once every process has the key: `callbook keys
 * rotate` (the `callbook` bin), which retires the pre-key plain phone index (lib/pii/plain-index) — on
 * a bench's new database at once — so customer upserts stop looking for plain rows.
 * `BENCH_PLAIN_INDEX=open` skips it, to measure that look (one statement per upsert).
 */
export async function retirePlainIndex(vars: Record<string, string>): Promise<void> {
  if (!vars.BLIND_INDEX_KEY || process.env.BENCH_PLAIN_INDEX === 'open') return;
  const rotate = await runCli(vars, 'keys', 'rotate', '--json');
  if (rotate.code !== 0) throw new Error(`keys rotate exited ${rotate.code}: ${rotate.err || rotate.out}`);
  const state = (JSON.parse(rotate.out) as { plainIndex?: string }).plainIndex;
  if (state !== 'retired') throw new Error(`keys rotate left the plain index ${state}: ${rotate.out}`);
}

/** Children still running when the driver exits (a failed run, Ctrl-C) are killed with it. */
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of running) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/** Built JavaScript (`dist/…js`) runs on plain node; TypeScript (the simulator, the no-op ceiling) through tsx. */
export function startProcess(args: string[], env: Record<string, string>, name: string): ChildProcess {
  const script = args.find((a) => !a.startsWith('-'));
  const loader = script?.endsWith('.js') ? [] : ['--import', 'tsx'];
  const child = spawn(process.execPath, [...loader, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stderr!.on('data', (d: Buffer) => process.stderr.write(`[${name}] ${d}`));
  running.add(child);
  child.once('exit', () => running.delete(child));
  return child;
}

/** Resolve with the first stdout line matching `re`. */
export function waitForLine(child: ChildProcess, re: RegExp, timeoutMs = 20_000): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const t = setTimeout(() => reject(new Error(`timed out waiting for ${re}; got: ${buf.slice(-500)}`)), timeoutMs);
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = re.exec(buf);
      if (m) {
        clearTimeout(t);
        resolve(m);
      }
    });
  });
}

export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

export async function dropBenchState(vars: Record<string, string>): Promise<void> {
  const conn = await mysql.createConnection({ uri: MYSQL_ROOT });
  await conn.query(`DROP DATABASE IF EXISTS \`${new URL(vars.DATABASE_URL!).pathname.slice(1)}\``);
  await conn.end();
  const redis = new Redis(vars.REDIS_URL!);
  await deletePrefixed(redis, vars.REDIS_PREFIX!);
  redis.disconnect();
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export function table(headers: string[], rows: Array<Array<string | number>>): string {
  const line = (cells: Array<string | number>) => `| ${cells.join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n');
}

export function machine(): string {
  return `${cpus().length} CPUs (${cpus()[0]?.model.trim()}), Node ${process.version}`;
}

export { freePort };

/** POST to the Cal.com simulator's admin API (`<origin>/__sim/<path>`); throws with its answer when refused. */
export async function simAdmin(origin: string, path: string, body: unknown): Promise<void> {
  const r = await fetch(`${origin}/__sim/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!r.ok) throw new Error(`sim ${path}: ${r.status} ${await r.text()}`);
}

/** Poll `url` until it answers 2xx. */
export async function waitForHttp(url: string, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      const r = await fetch(url);
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > until) throw new Error(`${url} did not answer within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface PrivateRedis {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/**
 * A redis-server of our own on a free port (no persistence, noeviction), so memory figures and
 * timings are ours alone and the machine's Redis is never touched. BENCH_REDIS_URL overrides.
 */
export async function startRedis(): Promise<PrivateRedis> {
  if (process.env.BENCH_REDIS_URL) return { url: process.env.BENCH_REDIS_URL, pid: 0, stop: async () => {} };
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  await waitForLine(child, /Ready to accept connections/);
  return {
    url: `redis://127.0.0.1:${port}`,
    pid: child.pid!,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * Reads redis-server has made from its clients' sockets since start (INFO stats
 * `total_reads_processed`): about one per round trip — a request, or a pipeline, sent at once
 * (a command over 16 KiB takes more than one, a closing connection one more) — where commandstats
 * also counts the commands a script runs inside.
 */
export async function readEvents(redis: Redis): Promise<number> {
  const m = /^total_reads_processed:(\d+)/m.exec(await redis.info('stats'));
  if (!m) throw new Error('INFO stats has no total_reads_processed (Redis 6 or newer is needed)');
  return Number(m[1]);
}

/** Calls per Redis command since start (INFO commandstats; meaningful on a Redis of the run's own). */
export async function commandCounts(redis: Redis): Promise<Record<string, number>> {
  return (await commandStats(redis)).calls;
}

/**
 * Calls and microseconds per Redis command since start (INFO commandstats). The microseconds are
 * the server's time inside each command (a script's `evalsha` includes the commands it runs);
 * reading requests and writing replies is not in them.
 */
export async function commandStats(redis: Redis): Promise<{ calls: Record<string, number>; usec: Record<string, number> }> {
  const calls: Record<string, number> = {};
  const usec: Record<string, number> = {};
  for (const m of (await redis.info('commandstats')).matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
    calls[m[1]!] = Number(m[2]);
    usec[m[1]!] = Number(m[3]);
  }
  return { calls, usec };
}

/** What each counter grew by from `before` to `after` (counters that did not grow left out). */
export function diffCounts(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]).filter(([, v]) => (v as number) > 0));
}

/** "total per unit (the biggest counters per unit, …)" for a table cell; n units (calls, requests); counters below `least` per unit left out of the list. */
export function perUnit(counts: Record<string, number>, n: number, least = 0.95): string {
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  const top = Object.entries(counts)
    .sort((a, b) => b[1] - a[1])
    .filter(([, v]) => v / n >= least)
    .slice(0, 12)
    .map(([k, v]) => `${k} ${(v / n).toFixed(1)}`)
    .join(', ');
  return `${(total / n).toFixed(1)} (${top}${Object.keys(counts).length > 12 ? ', …' : ''})`;
}

export interface ProcStats {
  /** Resident set now, and its high-water mark (VmHWM), in MiB. */
  rssMiB: number;
  peakRssMiB: number;
  /** User + system CPU seconds so far. */
  cpuSec: number;
}

/**
 * The pid of the database server `url` names when it runs on this machine (mariadbd or mysqld),
 * to count its CPU during a run; undefined for a remote server or without /proc.
 */
export function databaseServerPid(url: string): number | undefined {
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(new URL(url).hostname)) return undefined;
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        if (['mariadbd', 'mysqld'].includes(readFileSync(`/proc/${entry}/comm`, 'utf8').trim())) return Number(entry);
      } catch {
        // the process ended while we looked
      }
    }
  } catch {
    // no /proc
  }
  return undefined;
}

/** RSS, peak RSS and CPU time of a live process, from /proc (Linux). */
export function procStats(pid: number): ProcStats | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    // Fields 14 and 15 of /proc/<pid>/stat (after the parenthesised name) are utime and stime, in clock ticks.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(rest[11]) + Number(rest[12]);
    return { rssMiB: kb('VmRSS') / 1024, peakRssMiB: kb('VmHWM') / 1024, cpuSec: ticks / 100 };
  } catch {
    return undefined;
  }
}

/** `used_memory` and friends from INFO memory, in bytes. */
export async function redisMemory(redis: Redis): Promise<{ used: number; peak: number; rss: number }> {
  const info = await redis.info('memory');
  const field = (k: string) => Number(new RegExp(`^${k}:(\\d+)`, 'm').exec(info)?.[1] ?? NaN);
  return { used: field('used_memory'), peak: field('used_memory_peak'), rss: field('used_memory_rss') };
}

export function mib(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1);
}

/** The 1/5/15-minute load averages, for the record. */
export function load(): string {
  return loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ');
}

export interface BenchCall {
  callId: string;
  /** The business number dialled (a branch's), and the caller's. */
  to: string;
  from: string;
  name: string;
  /** ISO start with offset; omitted: a call with no booking details. */
  start?: string;
  service?: string;
}

const TRANSCRIPT = [
  'Agent: Guten Tag, Sie sind mit dem Salon verbunden, mein Name ist Lea. Wie kann ich Ihnen helfen?',
  'User: Hallo, ich würde gern einen Termin zum Haareschneiden machen.',
  'Agent: Sehr gern. Für welchen Tag hätten Sie gern einen Termin, und haben Sie eine bevorzugte Uhrzeit?',
  'User: Am liebsten Dienstag am Vormittag, so gegen elf, wenn das geht.',
  'Agent: Dienstag um elf Uhr ist noch frei. Darf ich Ihren Namen und eine Rückrufnummer notieren?',
  'User: Ja, gerne. Die Nummer, von der ich anrufe, passt.',
  'Agent: Wunderbar. Soll es nur ein Schnitt sein, oder auch Waschen und Föhnen?',
  'User: Nur schneiden, bitte, die Spitzen und etwas kürzer an den Seiten.',
  'Agent: Alles klar. Ich trage Sie für Dienstag um elf Uhr zum Haarschnitt ein. Ist das so richtig?',
  'User: Ja, genau so. Vielen Dank!',
  'Agent: Sie bekommen gleich eine Bestätigung. Einen schönen Tag noch und bis Dienstag!',
].join('\n');

/**
 * BENCH_CALL_MINUTES=n: the webhooks carry an n-minute call's transcript as Retell's call object
 * does (test/helpers/transcript: `transcript`, and each word with its timing in `transcript_object`
 * and `transcript_with_tool_calls`); 0 (default): a two-minute call's `transcript` only.
 */
export const CALL_MINUTES = Number(process.env.BENCH_CALL_MINUTES ?? 0);
const CALL_TRANSCRIPT: Record<string, unknown> = CALL_MINUTES > 0 ? realtimeTranscript(CALL_MINUTES) : { transcript: TRANSCRIPT };

/**
 * A Retell webhook body as Retell sends it for an inbound phone call, about 2 KB: transcript,
 * collected variables, and on call_analyzed the post-call analysis carrying the booking details
 * (confirmed, ISO time with offset, service) — so call_ended waits and call_analyzed decides.
 */
export function retellBody(event: 'call_ended' | 'call_analyzed', c: BenchCall, now = Date.now()): string {
  const call: Record<string, unknown> = {
    call_id: c.callId,
    agent_id: 'agent_5f3c1e0b9a7d4c2e8b6a1f0d',
    call_type: 'phone_call',
    call_status: 'ended',
    direction: 'inbound',
    from_number: c.from,
    to_number: c.to,
    start_timestamp: now - 154_000,
    end_timestamp: now - 1_000,
    duration_ms: 153_000,
    disconnection_reason: 'user_hangup',
    ...CALL_TRANSCRIPT,
    recording_url: `https://dxc03zgurdly9.cloudfront.net/${c.callId}/recording.wav`,
    retell_llm_dynamic_variables: { branch_name: 'Mitte', opening_hours: 'Mo-Fr 9-18, Sa 9-14' },
    collected_dynamic_variables: { customer_name: c.name },
    metadata: { source: 'bench' },
  };
  if (event === 'call_analyzed') {
    call.call_analysis = {
      call_summary: 'The caller booked a haircut for Tuesday at 11 and confirmed the appointment.',
      user_sentiment: 'Positive',
      call_successful: true,
      in_voicemail: false,
      custom_analysis_data: c.start ? { booking_confirmed: true, appointment_datetime: c.start, service: c.service ?? 'Haarschnitt', customer_name: c.name } : {},
    };
  }
  return JSON.stringify({ event, call });
}

/** Forward a child's stdout to our stderr (and keep its pipe drained). */
export function forwardStdout(child: ChildProcess, name: string): void {
  child.stdout!.on('data', (d: Buffer) => process.stderr.write(`[${name}] ${d}`));
}
