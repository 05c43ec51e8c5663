/**
 * The Retell inbox written once, at the end (issue 15), attacked with what BullMQ, Retell,
 * reconcile and replay do to it, against the real MariaDB and Redis: duplicates running
 * side by side, events of one call out of order and at once, a failed event re-delivered,
 * replay's reopening. Every call books once, every event ends with one final row.
 */
import type { Job } from 'bullmq';
import { eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { calls, webhookEvents } from '../drizzle/schema';
import { retellDedupeKey } from '../lib/calls/webhook-inbox';
import type { AppContext } from '../lib/context';
import { webhooksHandler } from '../workers/webhooks';
import { createTestEnv, importTestTenants, type TestEnv } from './helpers/env';
import { callId, retellEvent } from './helpers/fixtures';
import { webhookDeliverer } from './helpers/webhooks';

let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv({});
  await importTestTenants(env);
});
afterAll(async () => {
  await env.cleanup();
});

const db = () => env.ctx.database.db;
const deliver = webhookDeliverer(() => env.ctx);
const future = () => `${new Date(Date.now() + 9 * 24 * 3600_000).toISOString().slice(0, 10)}T11:00:00`;

describe('duplicates and out-of-order events side by side', () => {
  it('twenty booked calls from one caller, each event delivered two or three times at once: no error, one booking job per call, one final row per event', async () => {
    const analysis = { booking_confirmed: true, appointment_datetime: future(), service: 'Haarschnitt' };
    const ids = Array.from({ length: 20 }, () => callId());
    const deliveries = ids.flatMap((id) => [
      retellEvent('call_started', { callId: id, from: '+4917099990001' }),
      retellEvent('call_ended', { callId: id, from: '+4917099990001', vars: analysis }),
      retellEvent('call_ended', { callId: id, from: '+4917099990001', vars: analysis }),
      retellEvent('call_analyzed', { callId: id, from: '+4917099990001', vars: analysis, analysis }),
      retellEvent('call_analyzed', { callId: id, from: '+4917099990001', vars: analysis, analysis }),
      retellEvent('call_analyzed', { callId: id, from: '+4917099990001', vars: analysis, analysis }),
    ]);
    const results = await Promise.allSettled(deliveries.map((d) => deliver(d)));
    const errors = results.flatMap((r) => (r.status === 'rejected' ? [String((r.reason as Error).message).slice(0, 200)] : []));
    expect(errors).toEqual([]);
    const rows = await db().select().from(webhookEvents).where(inArray(webhookEvents.externalId, ids));
    expect(rows).toHaveLength(ids.length * 3);
    expect(rows.filter((r) => r.status !== 'processed')).toEqual([]);
    const callRows = await db().select().from(calls).where(inArray(calls.retellCallId, ids));
    expect(callRows.map((c) => c.bookingDecision)).toEqual(ids.map(() => 'book'));
    expect(new Set(callRows.map((c) => c.customerId)).size).toBe(1);
    const jobs = await env.ctx.queues.bookings.getJobs(['waiting', 'delayed', 'active', 'completed', 'failed']);
    const keys = callRows.map((c) => (c.bookingRequest as { idempotencyKey: string }).idempotencyKey);
    expect(jobs.filter((j) => keys.includes(j.id!.replace(/^booking-/, ''))).length).toBe(ids.length);
  }, 60_000);
});

describe('a failure, recorded beside the event with its reason', () => {
  const row = async (dedupeKey: string) => (await db().select().from(webhookEvents).where(eq(webhookEvents.dedupeKey, dedupeKey)))[0];
  const jobOf = (payload: Record<string, unknown>, attemptsMade: number, sealedBody = env.ctx.cipher.encrypt(JSON.stringify(payload))) =>
    ({
      id: 'test',
      name: String(payload.event),
      data: { provider: 'retell', event: String(payload.event), callId: (payload.call as { call_id: string }).call_id, receivedAt: Date.now(), sealedBody },
      opts: { attempts: 5 },
      attemptsMade,
      timestamp: Date.now(),
    }) as unknown as Job;
  const signal = new AbortController().signal;

  it('the last attempt failing writes a failed row with the reason; the next delivery processes over it and books once', async () => {
    const analysis = { booking_confirmed: true, appointment_datetime: future(), service: 'Haarschnitt' };
    const id = callId();
    const analyzed = retellEvent('call_analyzed', { callId: id, vars: analysis, analysis });
    const broken = { ...env.ctx, queues: { ...env.ctx.queues, bookings: { add: () => Promise.reject(new Error('bookings queue refused the job')) } } } as unknown as AppContext;
    await expect(webhooksHandler(broken)(jobOf(analyzed, 3), signal)).rejects.toThrow('bookings queue refused the job');
    expect(await row(`${id}:call_analyzed`)).toBeUndefined(); // not the last attempt: nothing recorded yet
    await expect(webhooksHandler(broken)(jobOf(analyzed, 4), signal)).rejects.toThrow('bookings queue refused the job');
    expect(await row(`${id}:call_analyzed`)).toMatchObject({ status: 'failed', error: expect.stringContaining('bookings queue refused the job'), externalId: id });
    expect(await webhooksHandler(env.ctx)(jobOf(analyzed, 0), signal)).toMatchObject({ status: 'processed', decision: { kind: 'book' } });
    expect(await row(`${id}:call_analyzed`)).toMatchObject({ status: 'processed', error: null });
  });

  it('a sealed body that cannot be opened fails the job at once (unrecoverable): its failure is recorded too, naming the field', async () => {
    const id = callId();
    const ended = retellEvent('call_ended', { callId: id });
    const err = await webhooksHandler(env.ctx)(jobOf(ended, 0, 'v1:deadbeef:AAAA:AAAA:AAAA'), signal).catch((e: unknown) => e);
    expect((err as Error).name).toBe('InvalidPayloadError');
    expect(await row(retellDedupeKey(id, 'call_ended'))).toMatchObject({ status: 'failed', error: expect.stringContaining('sealedBody'), eventType: 'call_ended', externalId: id });
    // The genuine body, re-delivered, is processed over it.
    expect(await deliver(ended)).toMatchObject({ status: 'processed' });
  });
});

describe('a late webhook for a purged call', () => {
  it('is ignored, and its completed job keeps no sealed body (number, words) in Redis', async () => {
    const id = callId();
    await deliver(retellEvent('call_ended', { callId: id, from: '+4917099990077' }));
    await db().update(calls).set({ purgedAt: new Date(), transcript: null }).where(eq(calls.retellCallId, id));
    const late = retellEvent('call_analyzed', { callId: id, from: '+4917099990077', transcript: 'User: meine Worte, schon gelöscht' });
    const sealedBody = env.ctx.cipher.encrypt(JSON.stringify(late));
    const job = await env.ctx.queues.webhooks.add('call_analyzed', { provider: 'retell', event: 'call_analyzed', callId: id, receivedAt: Date.now(), sealedBody }, { jobId: `purged-late-${id}` });
    const outcome = await webhooksHandler(env.ctx)(job, new AbortController().signal);
    expect(outcome).toMatchObject({ status: 'rejected', purged: true, reason: expect.stringContaining('purged') });
    const stored = await env.ctx.queues.webhooks.getJob(job.id!);
    expect(stored!.data).toEqual({ provider: 'retell', event: 'call_analyzed', callId: id, receivedAt: job.data.receivedAt });
    const raw = await env.ctx.redis.hget(`${env.ctx.queues.webhooks.keys['']}${job.id}`, 'data');
    expect(raw).toBeTruthy();
    expect(raw).not.toContain('sealedBody');
    const [ev] = await db().select().from(webhookEvents).where(eq(webhookEvents.dedupeKey, retellDedupeKey(id, 'call_analyzed')));
    expect(ev).toMatchObject({ status: 'ignored' });
  });
});

describe('a duplicate of a purged call\'s event', () => {
  const bodyOf = async (jobId: string) => env.ctx.redis.hget(`${env.ctx.queues.webhooks.keys['']}${jobId}`, 'data');
  const run = async (payload: Record<string, unknown>, jobId: string) => {
    const sealedBody = env.ctx.cipher.encrypt(JSON.stringify(payload));
    const callIdOf = (payload.call as { call_id: string }).call_id;
    const job = await env.ctx.queues.webhooks.add(String(payload.event), { provider: 'retell', event: String(payload.event), callId: callIdOf, receivedAt: Date.now(), sealedBody }, { jobId });
    return { job, outcome: await webhooksHandler(env.ctx)(job, new AbortController().signal) };
  };

  it('re-delivered after the erase removed the first job (its event already processed): a duplicate that drops its body', async () => {
    const id = callId();
    const ended = retellEvent('call_ended', { callId: id, from: '+4917099990078', transcript: 'User: mein Name ist Erika' });
    expect(await deliver(ended)).toMatchObject({ status: 'processed' });
    await db().update(calls).set({ purgedAt: new Date(), transcript: null }).where(eq(calls.retellCallId, id));
    const { job, outcome } = await run(ended, `purged-dup-${id}`);
    expect(outcome).toEqual({ status: 'duplicate', purged: true });
    expect(await bodyOf(job.id!)).not.toContain('sealedBody');
    const [ev] = await db().select().from(webhookEvents).where(eq(webhookEvents.dedupeKey, retellDedupeKey(id, 'call_ended')));
    expect(ev).toMatchObject({ status: 'processed' });
  });

  it('the job that recorded `ignored` and died before dropping its body, run again: it drops it now', async () => {
    const id = callId();
    await deliver(retellEvent('call_ended', { callId: id, from: '+4917099990079' }));
    await db().update(calls).set({ purgedAt: new Date(), transcript: null }).where(eq(calls.retellCallId, id));
    const late = retellEvent('call_analyzed', { callId: id, from: '+4917099990079', transcript: 'User: meine Worte' });
    // The first run: processing recorded `ignored`, the process died before the body was dropped.
    expect(await deliver(late)).toMatchObject({ status: 'rejected', purged: true });
    const { job, outcome } = await run(late, `purged-rerun-${id}`);
    expect(outcome).toEqual({ status: 'duplicate', purged: true });
    expect(await bodyOf(job.id!)).not.toContain('sealedBody');
  });

  it('a withheld number: the same, through the inbox read that comes first', async () => {
    const id = callId();
    const ended = retellEvent('call_ended', { callId: id, transcript: 'User: anonym, aber meine Worte' });
    (ended.call as Record<string, unknown>).from_number = undefined;
    expect(await deliver(ended)).toMatchObject({ status: 'processed' });
    await db().update(calls).set({ purgedAt: new Date(), transcript: null }).where(eq(calls.retellCallId, id));
    const { job, outcome } = await run(ended, `purged-withheld-${id}`);
    expect(outcome).toEqual({ status: 'duplicate', purged: true });
    expect(await bodyOf(job.id!)).not.toContain('sealedBody');
  });

  it('a duplicate of a call not purged keeps its body and says nothing of purging', async () => {
    const id = callId();
    const ended = retellEvent('call_ended', { callId: id, from: '+4917099990080' });
    expect(await deliver(ended)).toMatchObject({ status: 'processed' });
    const { job, outcome } = await run(ended, `dup-kept-${id}`);
    expect(outcome).toEqual({ status: 'duplicate' });
    expect(await bodyOf(job.id!)).toContain('sealedBody');
  });
});
