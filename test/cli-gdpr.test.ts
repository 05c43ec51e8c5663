/** `callbook gdpr export|erase` as an operator runs them, and a late webhook after an erasure. */
import { readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { calls, customers } from '../drizzle/schema';
import { importTenants } from '../lib/tenants/import';
import { runCli } from './helpers/cli';
import { createTestEnv, type TestEnv } from './helpers/env';
import { CALLER, callId, retellEvent, twoCompanies } from './helpers/fixtures';
import { webhookDeliverer } from './helpers/webhooks';

let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv();
  await importTenants({ db: env.ctx.database.db, cipher: env.ctx.cipher, cache: env.ctx.cache }, twoCompanies(), 'test');
});
afterAll(() => env.cleanup());

const cli = (...args: string[]) => runCli({ ...env.vars }, ...args);

const deliver = webhookDeliverer(() => env.ctx);

it('exports a caller to a private file, erases them, and a late webhook does not bring their words back', async () => {
  const id = callId();
  await deliver(retellEvent('call_ended', { callId: id, vars: { customer_name: 'Klara' }, transcript: 'User: Ich bin Klara, bitte Dienstag.' }));

  const dir = join(tmpdir(), `gdpr-${Date.now()}`);
  const exp = await cli('--json', 'gdpr', 'export', '--company', 'salon-anna', '--phone', CALLER, '--out', dir);
  expect(exp.code, exp.err).toBe(0);
  const { path } = JSON.parse(exp.out) as { path: string };
  expect((await stat(path)).mode & 0o777).toBe(0o600);
  const data = await readFile(path, 'utf8');
  expect(data).toContain('Ich bin Klara');
  expect(data).toContain('Klara');

  const erase = await cli('gdpr', 'erase', '--company', 'salon-anna', '--phone', CALLER, '--keep-bookings');
  expect(erase.code, erase.err).toBe(0);
  const [row] = await env.ctx.database.db.select().from(calls).where(eq(calls.retellCallId, id));
  expect(row).toMatchObject({ transcript: null, fromNumber: null });

  // Retell re-sends call_analyzed late: the call's words must not return.
  await deliver(retellEvent('call_analyzed', { callId: id, vars: { customer_name: 'Klara' }, transcript: 'User: Ich bin Klara, bitte Dienstag.' }));
  const [after] = await env.ctx.database.db.select().from(calls).where(eq(calls.retellCallId, id));
  expect(after!.transcript).toBeNull();
  expect(after!.summary).toBeNull();
  const [erased] = await env.ctx.database.db.select().from(customers).where(eq(customers.id, row!.customerId!));
  expect(erased).toMatchObject({ name: null, phone: `erased-${row!.customerId}` });

  // ... nor does it re-create the caller as a customer.
  const again = await cli('gdpr', 'export', '--company', 'salon-anna', '--phone', CALLER);
  expect(again.code).toBe(2);
  expect(again.err).toContain('no customer with that number');
  expect((await cli('gdpr', 'erase', '--company', 'nope', '--phone', CALLER)).code).toBe(2);
}, 60_000);
