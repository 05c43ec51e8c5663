/**
 * /api/metrics scraped over real HTTP while a worker runs as a separate OS process: the worker's
 * metrics reach the scrape through Redis, and the values move after a call.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { listen, type RunningServer } from '../apps/ingress/server';
import { calls } from '../drizzle/schema';
import { importTenants } from '../lib/tenants/import';
import { startSeededSim } from './helpers/calcom';
import { createTestEnv, type TestEnv } from './helpers/env';
import { callId, retellEvent, signed, twoCompanies } from './helpers/fixtures';

let env: TestEnv;
let sim: Awaited<ReturnType<typeof startSeededSim>>;
let server: RunningServer;
let worker: ChildProcess;

beforeAll(async () => {
  sim = await startSeededSim();
  env = await createTestEnv({ CALCOM_API_URL: sim.url, METRICS_PUBLISH_INTERVAL_MS: '200' });
  await importTenants({ db: env.ctx.database.db, cipher: env.ctx.cipher, cache: env.ctx.cache }, twoCompanies(), 'test');
  server = await listen(env.ctx, 0, '127.0.0.1');
  worker = spawn(process.execPath, ['--import', 'tsx', 'workers/index.ts', 'webhooks', 'bookings'], {
    env: { ...process.env, ...env.vars, CALCOM_API_URL: sim.url, METRICS_PUBLISH_INTERVAL_MS: '200', LOG_LEVEL: 'warn' },
    stdio: 'ignore',
  });
});
afterAll(async () => {
  worker.kill('SIGTERM');
  await new Promise((r) => worker.once('exit', r));
  await server.close();
  await env.cleanup();
  await sim.close();
});

async function scrape(): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${server.port}/api/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain');
  return res.text();
}

/** The value of one series, e.g. value(text, 'mcp_booking_total{status="created"}'); 0 when absent. */
function value(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

it('exports every metric of the design, and they move after a call handled by another process', async () => {
  const before = await scrape();
  for (const name of [
    'mcp_webhook_total',
    'mcp_booking_total',
    'mcp_circuit_breaker_state',
    'mcp_cache_hits_total',
    'mcp_api_duration_seconds',
    'appointments_created_total',
    'calls_processed_total',
    'customer_satisfaction_score',
    'callbook_queue_jobs',
    'callbook_job_duration_seconds',
    'process_cpu_user_seconds_total',
    'nodejs_heap_size_used_bytes',
  ]) {
    expect(before, name).toContain(`# TYPE ${name} `);
  }
  for (const s of ['created', 'failed', 'cached']) expect(before).toContain(`mcp_booking_total{status="${s}"}`);
  for (const s of ['booked', 'no_booking', 'failed']) expect(before).toContain(`calls_processed_total{outcome="${s}"}`);
  expect(before).toContain('mcp_circuit_breaker_state{service="calcom"} 0');

  const id = callId();
  const day = new Date(Date.now() + 7 * 86400_000);
  while ([0, 6].includes(day.getUTCDay())) day.setUTCDate(day.getUTCDate() + 1);
  const analysis = { booking_confirmed: 'ja', appointment_datetime: `${day.toISOString().slice(0, 10)}T10:00`, service: 'Haarschnitt' };
  for (const payload of [retellEvent('call_ended', { callId: id, vars: analysis }), retellEvent('call_analyzed', { callId: id, vars: analysis, analysis })]) {
    const body = JSON.stringify(payload);
    const res = await fetch(`http://127.0.0.1:${server.port}/webhooks/retell`, { method: 'POST', body, headers: await signed(body) });
    expect(res.status).toBe(202);
  }
  for (let i = 0; i < 200; i++) {
    const [row] = await env.ctx.database.db.select().from(calls).where(eq(calls.retellCallId, id));
    if (row?.appointmentId) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  await new Promise((r) => setTimeout(r, 600)); // two publish intervals of the worker process

  const after = await scrape();
  expect(value(after, 'mcp_webhook_total{status="accepted"}') - value(before, 'mcp_webhook_total{status="accepted"}')).toBe(2);
  // These are counted in the worker process and reach us only through Redis.
  expect(value(after, 'calls_processed_total{outcome="booked"}') - value(before, 'calls_processed_total{outcome="booked"}')).toBe(1);
  expect(value(after, 'mcp_booking_total{status="created"}') - value(before, 'mcp_booking_total{status="created"}')).toBe(1);
  expect(value(after, 'appointments_created_total{source="call"}')).toBe(1);
  expect(value(after, 'customer_satisfaction_score{branch="Salon Anna Mitte"}')).toBe(1);
  expect(value(after, 'mcp_api_duration_seconds_count{service="calcom",method="POST /bookings"}')).toBe(1);
  expect(value(after, 'callbook_job_duration_seconds_count{queue="bookings",outcome="completed"}')).toBe(1);
  expect(value(after, 'callbook_queue_jobs{queue="bookings",state="completed"}')).toBe(1);
  expect(value(after, 'callbook_queue_jobs{queue="webhooks",state="completed"}')).toBe(2);
});
