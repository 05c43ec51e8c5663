/**
 * Retiring the pre-key plain phone index (lib/pii/plain-index): `keys rotate` with the key closes
 * it before reading the customers and retires it when none is left; processes with the key then
 * stop looking for plain rows (one statement fewer per customer upsert); processes without the key
 * are refused from `closing` on — in the statement that would write the row, which waits for a
 * `closing` being written, also under READ COMMITTED — at start-up, and in rotate, and a worker
 * that meets the refusal mid-run stops. The attack is the rolling deploy that sets the key: no
 * caller may end up with two customer rows. (The READ COMMITTED race with an upsert that read
 * the state first, the missing row, the state set back and the dating of each step were a
 * review's findings against the first version.)
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import mysql from 'mysql2/promise';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { calls, companies, customers, systemState } from '../drizzle/schema';
import { upsertCustomer } from '../lib/calls/record-call';
import { loadConfig } from '../lib/config';
import { createContext, type AppContext } from '../lib/context';
import { createLogger } from '../lib/logger';
import { jobIds } from '../lib/queues';
import { assertPiiKeys, configurePii, openPii, phoneIndex } from '../lib/pii';
import { advancePlainIndex, PlainIndexClosedError, plainIndexState, plainRowsMayExist } from '../lib/pii/plain-index';
import { rotateKeys } from '../lib/pii/rotate';
import { stopWhenPlainIndexClosed } from '../lib/startup';
import { waitFor } from './chaos/harness';
import { runCli } from './helpers/cli';
import { createTestEnv, importTestTenants, type TestEnv } from './helpers/env';
import { callId, CLINIC_NUMBER, retellEvent } from './helpers/fixtures';
import { countBuiltStatements, statements } from './helpers/statements';
import { webhookDeliverer } from './helpers/webhooks';

const KEY = randomBytes(32).toString('base64');

let env: TestEnv;
const extra: AppContext[] = [];
afterEach(async () => {
  for (const c of extra.splice(0)) await c.close();
  await env?.cleanup();
});

/** A keyless deployment's database with the two test companies; `clinicId` is clinic-nord's id. */
async function setUp(): Promise<{ db: AppContext['database']['db']; clinicId: number }> {
  env = await createTestEnv();
  await importTestTenants(env);
  const [clinic] = await env.ctx.database.db.select({ id: companies.id }).from(companies).where(eq(companies.slug, 'clinic-nord'));
  return { db: env.ctx.database.db, clinicId: clinic!.id };
}

/** The process's PII settings switched as a restart with (or without) BLIND_INDEX_KEY would. */
const withKey = () => configurePii({ BLIND_INDEX_KEY: KEY, PII_ENCRYPTION_DEFAULT: false }, env.ctx.cipher);
const withoutKey = () => configurePii({ BLIND_INDEX_KEY: undefined, PII_ENCRYPTION_DEFAULT: false }, env.ctx.cipher);

/** Another process on the same database (its own pool and handle, so its own cached state). */
function anotherProcess(vars: Record<string, string> = {}): AppContext {
  const ctx = createContext(loadConfig({ ...env.vars, ...vars }), createLogger('silent'));
  extra.push(ctx);
  return ctx;
}

let seq = 0;
const newCaller = () => `+49172${String(2_000_000 + seq++).padStart(7, '0')}`;

const rowsOf = async (db: AppContext['database']['db'], companyId: number, phone: string) =>
  (await db.select().from(customers).where(eq(customers.companyId, companyId))).filter((r) => openPii(env.ctx.cipher, r.phone) === phone);

/** A webhooks worker process (the built entry) on this test's database; `out.text` collects its logs. */
function spawnWorker(vars: Record<string, string> = {}) {
  const child = spawn(process.execPath, ['dist/worker.js', 'webhooks'], { env: { ...process.env, ...env.vars, LOG_LEVEL: 'info', ...vars }, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = { text: '' };
  child.stdout.on('data', (d: Buffer) => (out.text += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out.text += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, out, exited };
}

/** A call_ended webhook job from `phone` to the clinic, as the ingress would queue it. */
async function queueCallEnded(phone: string) {
  const id = callId();
  const body = JSON.stringify(retellEvent('call_ended', { callId: id, from: phone, to: CLINIC_NUMBER }));
  await env.ctx.queues.webhooks.add('call_ended', { provider: 'retell', event: 'call_ended', callId: id, receivedAt: Date.now(), sealedBody: env.ctx.cipher.encrypt(body) }, { jobId: jobIds.retellWebhook(id, 'call_ended') });
  return { id, job: (await env.ctx.queues.webhooks.getJob(jobIds.retellWebhook(id, 'call_ended')))! };
}

describe('keys rotate with BLIND_INDEX_KEY', () => {
  it('closes the plain index before reading the customers, retires it when none is left, and a process with the key then upserts in one statement', async () => {
    const { db, clinicId } = await setUp();
    withoutKey();
    const plain = [newCaller(), newCaller(), newCaller()];
    for (const phone of plain) await upsertCustomer(db, clinicId, phone, 'Vor Schluessel');
    // A duplicate pair (a plain row and its HMAC twin, from an older mixed deploy): left as it is, not blocking.
    const twin = newCaller();
    await upsertCustomer(db, clinicId, twin, 'Plain Twin');
    expect((await plainIndexState(db)).state).toBe('open');

    withKey();
    await db.insert(customers).values({ companyId: clinicId, phone: twin, phoneIndex: phoneIndex(clinicId, twin), name: 'Hmac Twin' });
    expect(await plainRowsMayExist(db)).toBe(true);
    await upsertCustomer(db, clinicId, newCaller(), 'Warm'); // the company's PII flag, read once
    const before = await statements();
    const found = await upsertCustomer(db, clinicId, plain[0]!, 'Mit Schluessel');
    expect((await statements()) - before).toBe(3); // the look, its re-index, the upsert
    expect((await rowsOf(db, clinicId, plain[0]!)).map((r) => r.id)).toEqual([found]);

    const counts = await rotateKeys(db, env.ctx.cipher, { batch: 2, actor: 'test' });
    expect(counts).toMatchObject({ plainIndex: 'retired', plainLeft: 0, duplicates: 1 });
    expect((await plainIndexState(db)).state).toBe('retired');
    for (const phone of plain) {
      const rows = await rowsOf(db, clinicId, phone);
      expect(rows.map((r) => r.phoneIndex)).toEqual([phoneIndex(clinicId, phone)]);
    }

    // A process started now: it reads the state once, then each upsert is one statement, prepared.
    const next = anotherProcess({ BLIND_INDEX_KEY: KEY });
    const nextDb = next.database.db;
    await upsertCustomer(nextDb, clinicId, newCaller(), 'Warm');
    const built = countBuiltStatements(nextDb);
    try {
      const n0 = await statements();
      const again = await upsertCustomer(nextDb, clinicId, plain[1]!, 'Wieder');
      const fresh = newCaller();
      await upsertCustomer(nextDb, clinicId, fresh, 'Neu');
      expect((await statements()) - n0).toBe(2);
      expect(built.count()).toBe(0);
      expect((await rowsOf(db, clinicId, plain[1]!)).map((r) => r.id)).toEqual([again]);
      expect(await rowsOf(db, clinicId, fresh)).toHaveLength(1);
    } finally {
      built.stop();
    }
  });

  it('stays closing while a plain row is left behind the pass (a writer that ignores the state), and retires on the next run', async () => {
    const { db, clinicId } = await setUp();
    withoutKey();
    // A free id below every other customer's, for the late row to land behind the pass's cursor.
    const holeId = await upsertCustomer(db, clinicId, newCaller(), 'Hole');
    await db.delete(customers).where(eq(customers.id, holeId));
    for (let i = 0; i < 4; i++) await upsertCustomer(db, clinicId, newCaller(), `Plain ${i}`);

    withKey();
    const late = newCaller();
    let inserted = false;
    const first = await rotateKeys(db, env.ctx.cipher, {
      batch: 2,
      actor: 'test',
      onBatch: async (table) => {
        if (table !== 'customers' || inserted) return;
        inserted = true;
        // As a callbook from before this state existed would write it: plain index, no guard.
        await db.insert(customers).values({ id: holeId, companyId: clinicId, phone: late, phoneIndex: late, name: 'Late Plain' });
      },
    });
    expect(inserted).toBe(true);
    expect(first).toMatchObject({ plainIndex: 'closing', plainLeft: 1 });
    expect(await plainRowsMayExist(anotherProcess({ BLIND_INDEX_KEY: KEY }).database.db)).toBe(true);

    const second = await rotateKeys(db, env.ctx.cipher, { batch: 2, actor: 'test' });
    expect(second).toMatchObject({ plainIndex: 'retired', plainLeft: 0 });
    expect((await rowsOf(db, clinicId, late)).map((r) => [r.id, r.phoneIndex])).toEqual([[holeId, phoneIndex(clinicId, late)]]);
  });

  it('a keys rotate without the key never turns an HMAC index back into the plain one, even running alongside a keyed rotate that retires it', async () => {
    const { db, clinicId } = await setUp();
    withoutKey();
    for (let i = 0; i < 3; i++) await upsertCustomer(db, clinicId, newCaller(), `Plain ${i}`);
    withKey();
    const x = newCaller();
    await upsertCustomer(db, clinicId, x, 'Hmac'); // indexed by the HMAC, after the plain rows
    // A keyless rotate (an ENCRYPTION_KEY change, run from a shell without BLIND_INDEX_KEY) passes
    // its start check while open; between its batches a keyed rotate closes and retires.
    withoutKey();
    let keyedRan = false;
    await rotateKeys(db, env.ctx.cipher, {
      batch: 1,
      actor: 'keyless-operator',
      onBatch: async (table) => {
        if (table !== 'customers' || keyedRan) return;
        keyedRan = true;
        withKey();
        expect(await rotateKeys(db, env.ctx.cipher, { actor: 'keyed-operator' })).toMatchObject({ plainIndex: 'retired', plainLeft: 0 });
        withoutKey();
      },
    });
    expect(keyedRan).toBe(true);
    withKey();
    const keyed = anotherProcess({ BLIND_INDEX_KEY: KEY }); // trusts `retired`, does not look
    await upsertCustomer(keyed.database.db, clinicId, x, 'Danach');
    expect((await rowsOf(db, clinicId, x)).map((r) => r.phoneIndex)).toEqual([phoneIndex(clinicId, x)]);
  });

  it('a process with the key reads the state once a minute, also after retired, so a state set back by hand is seen within a minute', async () => {
    const { db } = await setUp();
    withKey();
    const handle = anotherProcess({ BLIND_INDEX_KEY: KEY }).database.db;
    const t0 = Date.now();
    const reads = async (at: number) => {
      const n0 = await statements();
      const may = await plainRowsMayExist(handle, at);
      return { may, reads: (await statements()) - n0 };
    };
    expect(await reads(t0)).toEqual({ may: true, reads: 1 });
    expect(await advancePlainIndex(db, 'retired')).toBe('retired');
    expect(await reads(t0 + 59_000)).toEqual({ may: true, reads: 0 }); // still the minute-old answer
    expect(await reads(t0 + 60_500)).toEqual({ may: false, reads: 1 });
    expect(await reads(t0 + 61_000)).toEqual({ may: false, reads: 0 });
    // An operator sets it back (or restores a backup from before rotate): looked for again.
    await db.update(systemState).set({ value: 'open' }).where(eq(systemState.name, 'plain_phone_index'));
    expect(await reads(t0 + 121_000)).toEqual({ may: true, reads: 1 });
  });

  it('`callbook keys rotate` says what it did with the plain index; without the key, once closed, it exits naming the key', async () => {
    await setUp();
    const keyed = await runCli({ ...env.vars, BLIND_INDEX_KEY: KEY }, 'keys', 'rotate');
    expect(keyed).toMatchObject({ code: 0 });
    expect(keyed.out).toContain('plain phone index: retired');
    const keyless = await runCli(env.vars, 'keys', 'rotate');
    expect(keyless.code).not.toBe(0);
    expect(keyless.out + keyless.err).toMatch(/BLIND_INDEX_KEY is missing: callbook keys rotate closed the plain phone index \(retired since /);
  });

  it('never moves the state back, and dates each step', async () => {
    const { db } = await setUp();
    expect((await plainIndexState(db)).state).toBe('open'); // migration 0007's row
    expect(await advancePlainIndex(db, 'closing')).toBe('closing');
    const closing = (await plainIndexState(db)).since!;
    await new Promise((r) => setTimeout(r, 20));
    expect(await advancePlainIndex(db, 'retired')).toBe('retired');
    const retired = (await plainIndexState(db)).since!;
    expect(retired.getTime()).toBeGreaterThan(closing.getTime());
    expect(await advancePlainIndex(db, 'closing')).toBe('retired');
    expect((await plainIndexState(db)).since).toEqual(retired);
    await db.update(systemState).set({ value: 'half-open' }).where(eq(systemState.name, 'plain_phone_index'));
    await expect(plainIndexState(db)).rejects.toThrow(/holds "half-open", not one of open, closing, retired/);
    await db.update(systemState).set({ value: 'constructor' }).where(eq(systemState.name, 'plain_phone_index'));
    await expect(plainIndexState(db)).rejects.toThrow(/holds "constructor"/);
  });
});

describe('a process without BLIND_INDEX_KEY once the plain index is closed', () => {
  it('is refused at start-up, in every customer upsert (webhook and manual) and in keys rotate; a process with the key then makes the only row', async () => {
    const { db, clinicId } = await setUp();
    withoutKey();
    await expect(assertPiiKeys(db)).resolves.toBeUndefined();
    expect(await advancePlainIndex(db, 'closing')).toBe('closing');

    await expect(assertPiiKeys(db)).rejects.toThrow(/BLIND_INDEX_KEY is missing: callbook keys rotate closed the plain phone index \(closing since /);
    const phone = newCaller();
    await expect(upsertCustomer(db, clinicId, phone, 'Ohne Schluessel')).rejects.toBeInstanceOf(PlainIndexClosedError);
    const deliver = webhookDeliverer(() => env.ctx);
    const id = callId();
    await expect(deliver(retellEvent('call_started', { callId: id, from: phone, to: CLINIC_NUMBER }))).rejects.toThrow(/BLIND_INDEX_KEY is missing/);
    await expect(rotateKeys(db, env.ctx.cipher, { actor: 'test' })).rejects.toThrow(/BLIND_INDEX_KEY is missing/);
    expect(await rowsOf(db, clinicId, phone)).toEqual([]);
    expect(await db.select().from(calls).where(eq(calls.retellCallId, id))).toEqual([]);

    // The same events through a process with the key: one customer, indexed by the HMAC.
    withKey();
    await deliver(retellEvent('call_started', { callId: id, from: phone, to: CLINIC_NUMBER }));
    await deliver(retellEvent('call_ended', { callId: id, from: phone, to: CLINIC_NUMBER }));
    const rows = await rowsOf(db, clinicId, phone);
    expect(rows.map((r) => r.phoneIndex)).toEqual([phoneIndex(clinicId, phone)]);
  });

  for (const isolation of ['REPEATABLE READ', 'READ COMMITTED'] as const) {
    it(`rotate's close waits for a keyless upsert that read the state before it and has not committed (${isolation})`, async () => {
      const { db, clinicId } = await setUp();
      withoutKey();
      const keyless = anotherProcess({ DB_POOL_SIZE: '1' });
      await keyless.database.pool.query(`SET SESSION TRANSACTION ISOLATION LEVEL ${isolation}`);
      await upsertCustomer(keyless.database.db, clinicId, newCaller(), 'Warm');
      // Held open in a transaction: the stand-in for any stall between the upsert's read of the
      // state and its commit (a lock wait on the customers' unique key, say).
      const phone = newCaller();
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      let upserted!: () => void;
      const didUpsert = new Promise<void>((r) => (upserted = r));
      const tx = keyless.database.db.transaction(async (t) => {
        await upsertCustomer(t, clinicId, phone, 'Im Flug');
        upserted();
        await held;
      });
      await didUpsert;

      withKey();
      let settled = false;
      const rotating = rotateKeys(db, env.ctx.cipher, { actor: 'test' }).finally(() => (settled = true));
      rotating.catch(() => {});
      await new Promise((r) => setTimeout(r, 400));
      expect(settled).toBe(false); // closing waits for the shared lock
      release();
      await tx;
      expect(await rotating).toMatchObject({ plainIndex: 'retired', plainLeft: 0 });
      // The plain row committed before the close was re-indexed: a process started now finds it.
      const keyed = anotherProcess({ BLIND_INDEX_KEY: KEY });
      await upsertCustomer(keyed.database.db, clinicId, phone, 'Danach');
      expect((await rowsOf(db, clinicId, phone)).map((r) => r.phoneIndex)).toEqual([phoneIndex(clinicId, phone)]);
    });
  }

  it('fails closed when the state row is missing (deleted by hand, a dump from before 0007): refused, naming the migrations', async () => {
    const { db, clinicId } = await setUp();
    withoutKey();
    await db.delete(systemState).where(eq(systemState.name, 'plain_phone_index'));
    await expect(assertPiiKeys(db)).rejects.toThrow(/system_state has no plain_phone_index row \(migration 0007 inserts it\): run the migrations/);
    const phone = newCaller();
    await expect(upsertCustomer(db, clinicId, phone, 'Ohne Zeile')).rejects.toBeInstanceOf(PlainIndexClosedError);
    expect(await rowsOf(db, clinicId, phone)).toEqual([]);
    withKey();
    expect(await plainRowsMayExist(db)).toBe(true); // a process with the key keeps looking
  });

  it('a worker process without the key that meets the closed index mid-run drains and stops; a worker with the key then handles the event, once', async () => {
    const { db, clinicId } = await setUp();
    const keyless = spawnWorker({});
    let keyed: ReturnType<typeof spawnWorker> | undefined;
    try {
      await waitFor('the keyless worker to start', () => keyless.out.text.includes('workers started'), 30_000, 50);
      expect(await advancePlainIndex(db, 'closing')).toBe('closing');
      const phone = newCaller();
      const { id, job } = await queueCallEnded(phone);

      expect(await Promise.race([keyless.exited, new Promise((r) => setTimeout(() => r('running'), 20_000))])).toBe(0);
      expect(keyless.out.text).toContain('stopping: this process may not write customers any more (BLIND_INDEX_KEY)');
      expect(keyless.out.text).toContain('draining');
      expect(['delayed', 'waiting']).toContain(await job.getState()); // to be retried, not lost
      expect(await rowsOf(db, clinicId, phone)).toEqual([]);

      keyed = spawnWorker({ BLIND_INDEX_KEY: KEY });
      await waitFor('the keyed worker to complete the job', async () => (await job.getState()) === 'completed', 30_000, 50);
      withKey(); // this test's process computes the HMAC as the keyed worker did
      expect((await rowsOf(db, clinicId, phone)).map((r) => r.phoneIndex)).toEqual([phoneIndex(clinicId, phone)]);
      expect(await db.select({ id: calls.id }).from(calls).where(eq(calls.retellCallId, id))).toHaveLength(1);
    } finally {
      for (const w of [keyless, keyed]) {
        if (w && w.child.exitCode === null) {
          w.child.kill('SIGTERM');
          await w.exited;
        }
      }
    }
  }, 90_000);

  it('a worker without the key already draining (a deploy\'s SIGTERM) whose job meets the closed index finishes draining and exits 0: its own stop is not a second signal', async () => {
    const { clinicId } = await setUp();
    const { child, out, exited } = spawnWorker();
    const closer = await mysql.createConnection({ uri: env.config.DATABASE_URL });
    try {
      await waitFor('the worker to start', () => out.text.includes('workers started'), 30_000, 50);
      // rotate's close, not yet committed: the worker's upsert waits on the state row's lock.
      await closer.query('BEGIN');
      await closer.query("UPDATE system_state SET value = 'closing' WHERE name = 'plain_phone_index'");
      const phone = newCaller();
      const { job } = await queueCallEnded(phone);
      await waitFor('the job to be taken', async () => (await job.getState()) === 'active', 30_000, 50);
      expect(await job.getState()).toBe('active');
      await new Promise((r) => setTimeout(r, 300));
      child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 500));
      expect(child.exitCode).toBeNull(); // draining: the job is still waiting on the lock
      await closer.query('COMMIT');
      expect(await Promise.race([exited, new Promise((r) => setTimeout(() => r('running'), 20_000))])).toBe(0);
      expect(out.text).not.toContain('second signal');
      expect(out.text).toContain('stopping: this process may not write customers any more');
      expect(['delayed', 'waiting']).toContain(await job.getState());
      expect(await rowsOf(env.ctx.database.db, clinicId, phone)).toEqual([]);
    } finally {
      await closer.end().catch(() => {});
      if (child.exitCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    }
  }, 90_000);

  it('a process without the key that writes no customers stops at its once-a-minute look at the state; a process with the key never looks', async () => {
    const { db } = await setUp();
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const drained: string[] = [];
      withoutKey();
      stopWhenPlainIndexClosed(env.ctx, (cause) => drained.push(cause));
      await vi.advanceTimersByTimeAsync(60_000);
      await new Promise((r) => setTimeout(r, 100)); // the look's statement (real timers for I/O)
      expect(drained).toEqual([]); // open: keeps running
      expect(await advancePlainIndex(db, 'closing')).toBe('closing');
      await vi.advanceTimersByTimeAsync(60_000);
      for (let i = 0; i < 40 && drained.length === 0; i++) await new Promise((r) => setTimeout(r, 25));
      expect(drained).toEqual(['BLIND_INDEX_KEY missing']);
      await vi.advanceTimersByTimeAsync(120_000);
      await new Promise((r) => setTimeout(r, 100));
      expect(drained).toHaveLength(1); // once

      withKey();
      const keyedDrained: string[] = [];
      const n0 = await statements();
      stopWhenPlainIndexClosed(env.ctx, (cause) => keyedDrained.push(cause));
      await vi.advanceTimersByTimeAsync(180_000);
      expect(keyedDrained).toEqual([]);
      expect((await statements()) - n0).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('an upsert reading the state while `closing` is being written waits for it and is refused, also under READ COMMITTED', async () => {
    const { db, clinicId } = await setUp();
    withoutKey();
    // One connection, switched to READ COMMITTED, where an INSERT … SELECT reads without locks unless told.
    const keyless = anotherProcess({ DB_POOL_SIZE: '1' });
    await keyless.database.pool.query('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED');
    await upsertCustomer(keyless.database.db, clinicId, newCaller(), 'Warm'); // catalogue and flags cached, statement prepared

    const closer = await mysql.createConnection({ uri: env.config.DATABASE_URL });
    try {
      await closer.query('BEGIN');
      await closer.query("UPDATE system_state SET value = 'closing' WHERE name = 'plain_phone_index'");
      const phone = newCaller();
      let settled = false;
      const upsert = upsertCustomer(keyless.database.db, clinicId, phone, 'Mitten drin').finally(() => (settled = true));
      upsert.catch(() => {});
      await new Promise((r) => setTimeout(r, 400));
      expect(settled).toBe(false); // waiting for the row lock, not reading past it
      await closer.query('COMMIT');
      await expect(upsert).rejects.toBeInstanceOf(PlainIndexClosedError);
      expect(await rowsOf(db, clinicId, phone)).toEqual([]);
    } finally {
      await closer.end();
    }
    const [row] = await db.select().from(customers).where(and(eq(customers.companyId, clinicId), eq(customers.name, 'Mitten drin')));
    expect(row).toBeUndefined();
  });
});
