/**
 * /api/metrics scraped over real HTTP while the built worker (dist/worker.js) and a second built
 * web process run as separate OS processes: their series reach the scrape through Redis, each
 * under its own `process` label; a worker restart starts new series and lowers none; the
 * endpoint wants METRICS_TOKEN.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { listen, type RunningServer } from '../apps/ingress/server';
import { calls } from '../drizzle/schema';
import { metricsKeys, thisProcess } from '../lib/metrics/publish';
import { importTenants } from '../lib/tenants/import';
import { startSeededSim } from './helpers/calcom';
import { createTestEnv, SCRAPE_HEADERS, type TestEnv } from './helpers/env';
import { callId, retellEvent, signed, twoCompanies } from './helpers/fixtures';
import { parseScrape, total, type Scrape } from './helpers/prometheus';

let env: TestEnv;
let sim: Awaited<ReturnType<typeof startSeededSim>>;
let server: RunningServer;
const children = new Set<ChildProcess>();

function startBuilt(script: string, args: string[], extra: Record<string, string> = {}): ChildProcess {
  const child = spawn(process.execPath, [script, ...args], {
    env: { ...process.env, ...env.vars, CALCOM_API_URL: sim.url, METRICS_PUBLISH_INTERVAL_MS: '200', LOG_LEVEL: 'warn', ...extra },
    stdio: 'ignore',
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

beforeAll(async () => {
  sim = await startSeededSim();
  env = await createTestEnv({ CALCOM_API_URL: sim.url, METRICS_PUBLISH_INTERVAL_MS: '200' });
  await importTenants({ db: env.ctx.database.db, cipher: env.ctx.cipher, cache: env.ctx.cache }, twoCompanies(), 'test');
  server = await listen(env.ctx, 0, '127.0.0.1');
});
afterAll(async () => {
  await Promise.all([...children].map(stop));
  await server.close();
  await env.cleanup();
  await sim.close();
});

async function scrapeText(): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${server.port}/api/metrics`, { headers: SCRAPE_HEADERS });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain');
  return res.text();
}
const scrape = async () => parseScrape(await scrapeText());

/** Process types that have published, as /api/metrics serves them. */
async function processTypes(): Promise<string[]> {
  return [...new Set([...(await scrape()).keys()].flatMap((s) => /process_type="([^"]+)"/.exec(s)?.[1] ?? []))].sort();
}

async function until(what: string, cond: () => Promise<boolean>, ms = 20_000): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) if (await cond()) return;
  throw new Error(`timed out waiting for ${what}`);
}

async function bookOneCall(): Promise<void> {
  const id = callId();
  const day = new Date(Date.now() + 7 * 86400_000);
  while ([0, 6].includes(day.getUTCDay())) day.setUTCDate(day.getUTCDate() + 1);
  // A distinct slot per call: the second call must not collide with the first.
  const hour = 10 + (await env.ctx.database.db.select().from(calls)).length;
  const analysis = { booking_confirmed: 'ja', appointment_datetime: `${day.toISOString().slice(0, 10)}T${hour}:00`, service: 'Haarschnitt' };
  for (const payload of [retellEvent('call_ended', { callId: id, vars: analysis }), retellEvent('call_analyzed', { callId: id, vars: analysis, analysis })]) {
    const body = JSON.stringify(payload);
    const res = await fetch(`http://127.0.0.1:${server.port}/webhooks/retell`, { method: 'POST', body, headers: await signed(body) });
    expect(res.status).toBe(202);
  }
  await until('the booking', async () => {
    const [row] = await env.ctx.database.db.select().from(calls).where(eq(calls.retellCallId, id));
    return Boolean(row?.appointmentId);
  });
  await new Promise((r) => setTimeout(r, 600)); // two publish intervals of the worker process
}

it('refuses a scrape without the bearer token or with a wrong one (401), whatever the token length', async () => {
  const url = `http://127.0.0.1:${server.port}/api/metrics`;
  for (const headers of [{} as Record<string, string>, { authorization: 'Bearer wrong' }, { authorization: `Bearer ${SCRAPE_HEADERS.authorization.slice(7)}x` }, { authorization: `Basic ${SCRAPE_HEADERS.authorization.slice(7)}` }]) {
    const res = await fetch(url, { headers });
    expect(res.status, JSON.stringify(headers)).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('Bearer');
  }
  expect((await fetch(url, { headers: SCRAPE_HEADERS })).status).toBe(200);
});

it('serves every process under its own label, and the values move after a call handled by another process', async () => {
  const worker = startBuilt('dist/worker.js', ['webhooks', 'bookings']);
  const web2 = startBuilt('dist/web.js', [], { PORT: '0', HOST: '127.0.0.1' });
  await until('the worker and the second web process to publish', async () => (await processTypes()).join() === 'web,worker' && total(await scrape(), 'process_start_time_seconds', { process_type: 'web' }) > 0 && [...(await scrape()).keys()].filter((s) => s.startsWith('process_start_time_seconds{') && s.includes('process_type="web"')).length === 2);
  const text = await scrapeText();
  for (const name of [
    'mcp_webhook_total',
    'mcp_booking_total',
    'mcp_circuit_breaker_state',
    'mcp_cache_hits_total',
    'mcp_api_duration_seconds',
    'callbook_appointments_created_total',
    'callbook_calls_processed_total',
    'callbook_customer_satisfaction_ratio',
    'callbook_queue_jobs',
    'callbook_job_duration_seconds',
    'callbook_worker_serving',
    'process_cpu_user_seconds_total',
    'nodejs_heap_size_used_bytes',
  ]) {
    expect(text, name).toContain(`# TYPE ${name} `);
  }
  const before = parseScrape(text);
  for (const s of ['created', 'failed', 'cached']) expect(text).toMatch(new RegExp(`mcp_booking_total\\{status="${s}",process="[^"]+",process_type="worker"\\}`));
  expect(total(before, 'callbook_worker_serving', { queue: 'bookings' })).toBe(1);
  expect(total(before, 'callbook_worker_serving', { queue: 'sync' })).toBe(0);

  await bookOneCall();
  const after = await scrape();
  const diff = (name: string, labels: Record<string, string>) => total(after, name, labels) - total(before, name, labels);
  expect(diff('mcp_webhook_total', { status: 'accepted' })).toBe(2);
  // Counted in the worker process and reach us only through Redis.
  expect(total(after, 'callbook_calls_processed_total', { outcome: 'booked', process_type: 'worker' })).toBe(1);
  expect(diff('mcp_booking_total', { status: 'created' })).toBe(1);
  expect(total(after, 'callbook_appointments_created_total', { source: 'call' })).toBe(1);
  // Company and branch slug: branches of different companies cannot collide.
  expect(total(after, 'callbook_customer_satisfaction_ratio', { company: 'salon-anna', branch: 'mitte' })).toBe(1);
  expect(total(after, 'mcp_api_duration_seconds_count', { service: 'calcom', method: 'POST /bookings' })).toBe(1);
  expect(total(after, 'callbook_job_duration_seconds_count', { queue: 'bookings', outcome: 'completed' })).toBe(1);
  // Queue depth is read from Redis by every web process: one series each, charted with max.
  expect(total(after, 'callbook_queue_jobs', { queue: 'bookings', state: 'completed', process_type: 'web' })).toBe(2);
  expect(total(after, 'callbook_queue_jobs', { queue: 'bookings', state: 'completed', process: thisProcess('web').id })).toBe(1);
});

it('drops the processes that stopped', async () => {
  await Promise.all([...children].map(stop));
  expect(await processTypes()).toEqual(['web']);
});

it('a worker restart never makes a series go backwards: the new process starts series of its own', async () => {
  const first = startBuilt('dist/worker.js', ['webhooks', 'bookings']);
  await until('the first worker', async () => total(await scrape(), 'callbook_worker_serving', { queue: 'bookings' }) === 1);
  await bookOneCall();
  const before = await scrape();
  const booked = (s: Scrape) => total(s, 'callbook_calls_processed_total', { outcome: 'booked', process_type: 'worker' });
  expect(booked(before)).toBe(1);
  await stop(first);
  // A stopped process removes its entry at once; its series end rather than drop to a lower sum.
  // (What is left is this test's own web process, which publishes when it serves a scrape.)
  expect(await env.ctx.redis.zrange(metricsKeys.registrySet(env.ctx.ns), '0', '-1')).toEqual([thisProcess('web').id]);

  startBuilt('dist/worker.js', ['webhooks', 'bookings']);
  await until('the second worker', async () => total(await scrape(), 'callbook_worker_serving', { queue: 'bookings' }) === 1);
  const after = await scrape();
  for (const [series, v] of before) {
    // Counters and histograms (prom-client's nodejs_active_*_total are gauges despite their names).
    if (after.has(series) && /_total\{|_count\{|_sum\{|_bucket\{/.test(series) && !series.startsWith('nodejs_active_')) expect(after.get(series)!, series).toBeGreaterThanOrEqual(v);
  }
  // The new process's counter is a new series (another `process` label), not the old one reset.
  const oldSeries = [...before.keys()].filter((s) => s.startsWith('callbook_calls_processed_total{outcome="booked"') && s.includes('process_type="worker"'));
  expect(oldSeries).toHaveLength(1);
  expect(after.has(oldSeries[0]!)).toBe(false);
});
