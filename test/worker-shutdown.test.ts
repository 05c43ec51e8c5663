/**
 * SIGTERM while a job is mid-flight: the worker process must finish the job (not lose it, not
 * leave it to run twice) and then exit. The job is held mid-flight by a real row lock in
 * MariaDB, so no test hook lives in the production path.
 */
import { spawn } from 'node:child_process';
import { eq } from 'drizzle-orm';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { calls, webhookEvents } from '../drizzle/schema';
import { importTenants } from '../lib/tenants/import';
import { createTestEnv, type TestEnv } from './helpers/env';
import { CALLER, callId, retellEvent, twoCompanies } from './helpers/fixtures';
import { jobIds } from '../lib/queues';
import { lookupPhone } from '../lib/calls/resolve-phone';
import { phoneIndex } from '../lib/pii';

let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv();
  await importTenants({ db: env.ctx.database.db, cipher: env.ctx.cipher }, twoCompanies(), 'test');
});
afterAll(() => env.cleanup());

it('a worker sent SIGTERM mid-job finishes that job exactly once, then exits 0', async () => {
  const id = callId();
  const where = (await lookupPhone(env.ctx.database.db, '+4930111111'))!;
  // Hold the customer's unique key so the worker's upsert blocks inside its transaction.
  const blocker = await mysql.createConnection({ uri: env.config.DATABASE_URL });
  await blocker.beginTransaction();
  await blocker.query('INSERT INTO customers (company_id, phone, phone_index) VALUES (?, ?, ?)', [where.companyId, CALLER, phoneIndex(where.companyId, CALLER)]);

  const body = JSON.stringify(retellEvent('call_ended', { callId: id }));
  await env.ctx.queues.webhooks.add('call_ended', { provider: 'retell', event: 'call_ended', callId: id, receivedAt: Date.now(), sealedBody: env.ctx.cipher.encrypt(body) }, { jobId: jobIds.retellWebhook(id, 'call_ended') });

  const child = spawn(process.execPath, ['dist/worker.js', 'webhooks'], {
    env: { ...process.env, ...env.vars, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));

  const job = (await env.ctx.queues.webhooks.getJob(jobIds.retellWebhook(id, 'call_ended')))!;
  // Up to 30 s: starting a worker process under tsx takes over 10 s on a loaded two-core machine.
  for (let i = 0; i < 600 && (await job.getState()) !== 'active'; i++) await new Promise((r) => setTimeout(r, 50));
  expect(await job.getState()).toBe('active');
  await new Promise((r) => setTimeout(r, 300));

  child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 700));
  expect(child.exitCode).toBeNull(); // still draining: the job is not abandoned
  await blocker.commit();
  await blocker.end();

  expect(await exited).toBe(0);
  expect(out).toContain('draining');
  expect(await job.getState()).toBe('completed');
  expect(await env.ctx.database.db.select().from(calls).where(eq(calls.retellCallId, id))).toHaveLength(1);
  const [ev] = await env.ctx.database.db.select().from(webhookEvents).where(eq(webhookEvents.dedupeKey, `${id}:call_ended`));
  expect(ev).toMatchObject({ status: 'processed', attempts: 1 });
}, 60_000);
