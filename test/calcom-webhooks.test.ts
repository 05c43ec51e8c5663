/**
 * Cal.com's outgoing webhooks against real MariaDB, Redis and the Cal.com simulator over real
 * HTTP: the simulator signs and posts BOOKING_* webhooks to the ingress when a booking is
 * cancelled or moved through its API ("in Cal.com"); the appointment follows, the availability
 * cache of the days involved is cleared, a re-delivery changes nothing, and signatures are checked
 * per company.
 */
import { and, eq, like } from 'drizzle-orm';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen, type RunningServer } from '../apps/ingress/server';
import { appointments, auditLog, webhookEvents } from '../drizzle/schema';
import { rescheduleAppointment } from '../lib/appointments/manage';
import { executeBooking } from '../lib/booking/book';
import { bookingDeps } from '../lib/booking/deps';
import { cacheKeys } from '../lib/cache';
import { bookingIdempotencyKey } from '../lib/calls/idempotency';
import { servicesForBranch } from '../lib/calls/match-service';
import { upsertCustomer } from '../lib/calls/record-call';
import { lookupPhone } from '../lib/calls/resolve-phone';
import { EventHub, type LiveEventMessage } from '../lib/events/hub';
import { importTenants } from '../lib/tenants/import';
import { signWebhookBody } from '../sim/calcom';
import { createTestEnv, type TestEnv } from './helpers/env';
import { CALLER, SALON_NUMBER, callId, twoCompanies } from './helpers/fixtures';
import { SALON_KEY, startSeededSim } from './helpers/calcom';

const SALON_SECRET = 'whsec_salon_anna_0123456789';
const CLINIC_SECRET = 'whsec_clinic_nord_0123456789';
const TRIGGERS = ['BOOKING_CREATED', 'BOOKING_RESCHEDULED', 'BOOKING_CANCELLED'];

let env: TestEnv;
let sim: Awaited<ReturnType<typeof startSeededSim>>;
let server: RunningServer;
let base: string;
let hub: EventHub;
let salonId: number;
const live: LiveEventMessage[] = [];

beforeAll(async () => {
  sim = await startSeededSim();
  env = await createTestEnv({ CALCOM_API_URL: sim.url,});
  const tenants = twoCompanies();
  tenants.companies[0]!.calcomWebhookSecret = SALON_SECRET;
  tenants.companies[1]!.calcomWebhookSecret = CLINIC_SECRET;
  await importTenants({ db: env.ctx.database.db, cipher: env.ctx.cipher, cache: env.ctx.cache }, tenants, 'test');
  server = await listen(env.ctx, 0, '127.0.0.1');
  base = `http://127.0.0.1:${server.port}`;
  // Configured in "Cal.com" the preferred way: one subscriber URL per company, with its secret.
  sim.sim.addWebhook({ subscriberUrl: `${base}/webhooks/calcom/salon-anna`, triggers: TRIGGERS, secret: SALON_SECRET, ownerApiKey: SALON_KEY });
  salonId = (await lookupPhone(env.ctx.database.db, SALON_NUMBER))!.companyId;
  hub = new EventHub({ redisUrl: env.config.REDIS_URL, ns: env.ctx.ns });
  await hub.subscribe(salonId, { onEvent: (e) => live.push(e) });
});
afterAll(async () => {
  await hub?.close();
  await server?.close();
  await env?.cleanup();
  await sim?.close();
});

const db = () => env.ctx.database.db;
const calHeaders = { authorization: `Bearer ${SALON_KEY}`, 'cal-api-version': '2024-08-13', 'content-type': 'application/json' };

let slotSeq = 0;
/** A distinct future weekday slot, Europe/Berlin 9:00–16:00. */
function nextSlot(): DateTime {
  const i = slotSeq++;
  let d = DateTime.now().setZone('Europe/Berlin').startOf('day').plus({ days: 4 + Math.floor(i / 8) });
  while (d.weekday > 5) d = d.plus({ days: 1 });
  return d.set({ hour: 9 + (i % 8) });
}
let farSeq = 0;
/** Targets of reschedules: distinct weekday slots months away from nextSlot()'s days. */
function farSlot(): DateTime {
  const i = farSeq++;
  let d = DateTime.now().setZone('Europe/Berlin').startOf('day').plus({ days: 200 + 3 * i });
  while (d.weekday > 5) d = d.plus({ days: 1 });
  return d.set({ hour: 9 });
}
const dayOf = (iso: string) => DateTime.fromISO(iso).setZone('Europe/Berlin').toISODate()!;
const availKey = (iso: string, eventTypeId = 1001) => cacheKeys.availability(eventTypeId, dayOf(iso));
const primeCache = (key: string) => env.ctx.cache.set(key, ['2030-01-01T09:00:00.000Z'], 300_000);
const cached = (key: string) => env.ctx.redis.get(env.ctx.ns + key);

/** Books through callbook's own booking path; the simulator echoes BOOKING_CREATED. */
async function bookViaCallbook(start = nextSlot()) {
  const where = (await lookupPhone(db(), SALON_NUMBER))!;
  const svc = (await servicesForBranch(db(), where.companyId, where.branchId)).find((s) => s.slug === 'haircut')!;
  const customerId = await upsertCustomer(db(), where.companyId, CALLER, 'Anna');
  const startIso = start.toUTC().toISO()!;
  const job = {
    companyId: where.companyId,
    branchId: where.branchId,
    customerId,
    serviceId: svc.id,
    start: startIso,
    idempotencyKey: bookingIdempotencyKey({ companyId: where.companyId, callRef: callId(), eventTypeId: svc.calcomEventTypeId, startIso }),
    source: 'call' as const,
  };
  const result = await executeBooking(bookingDeps(env.ctx), job);
  await sim.sim.webhooksIdle();
  return result;
}
const appointment = async (id: number) => (await db().select().from(appointments).where(eq(appointments.id, id)))[0]!;
const inbox = (prefix: string) => db().select().from(webhookEvents).where(and(eq(webhookEvents.provider, 'calcom'), like(webhookEvents.dedupeKey, `%:${prefix}%`)));
const deliveriesFor = (trigger: string, uid: string) => sim.sim.webhookDeliveries().filter((d) => d.triggerEvent === trigger && d.body.includes(`"uid":"${uid}"`));

async function post(path: string, body: string, signature?: string) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (signature !== undefined) headers['x-cal-signature-256'] = signature;
  const res = await fetch(`${base}${path}`, { method: 'POST', body, headers });
  return { status: res.status, json: (await res.json()) as Record<string, any> };
}

function bookingBody(trigger: string, payload: Record<string, unknown>, createdAt = new Date().toISOString()): string {
  return JSON.stringify({ triggerEvent: trigger, createdAt, payload: { eventTypeId: 1001, status: 'ACCEPTED', attendees: [], metadata: {}, ...payload } });
}

describe('Cal.com webhooks: changes made in Cal.com', () => {
  it('BOOKING_CREATED of a booking callbook made is recognised and changes nothing', async () => {
    const booked = await bookViaCallbook();
    const [delivery] = deliveriesFor('BOOKING_CREATED', booked.uid);
    expect(delivery).toMatchObject({ status: 200, subscriberUrl: `${base}/webhooks/calcom/salon-anna` });
    expect(await appointment(booked.appointmentId)).toMatchObject({ status: 'booked', calcomBookingUid: booked.uid });
    const rows = await inbox(`BOOKING_CREATED:${booked.uid}:`);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: 'processed', companyId: salonId, externalId: booked.uid });
  });

  it('cancelled in Cal.com: the appointment is cancelled, its day uncached, a live event published; re-delivery is a no-op', async () => {
    const booked = await bookViaCallbook();
    const key = availKey(booked.start);
    await primeCache(key);
    live.length = 0;

    const res = await fetch(`${sim.url}/bookings/${booked.uid}/cancel`, { method: 'POST', headers: calHeaders, body: JSON.stringify({ cancellationReason: 'called the salon' }) });
    expect(res.status).toBe(200);
    await sim.sim.webhooksIdle();

    const [delivery] = deliveriesFor('BOOKING_CANCELLED', booked.uid);
    expect(delivery!.status).toBe(200);
    const after = await appointment(booked.appointmentId);
    expect(after.status).toBe('cancelled');
    expect(await cached(key)).toBeNull();
    await new Promise((r) => setTimeout(r, 100));
    expect(live.filter((e) => e.type === 'booking.cancelled' && e.appointmentId === booked.appointmentId)).toHaveLength(1);

    // Cal.com delivers the very same body again.
    await primeCache(key);
    const again = await post('/webhooks/calcom/salon-anna', delivery!.body, delivery!.signature);
    expect(again).toMatchObject({ status: 200, json: { status: 'duplicate', outcome: 'duplicate' } });
    const rows = await inbox(`BOOKING_CANCELLED:${booked.uid}:`);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: 'processed', attempts: 1 });
    expect((await appointment(booked.appointmentId)).updatedAt).toEqual(after.updatedAt);
    expect(await cached(key)).not.toBeNull(); // nothing was done for the duplicate
    await new Promise((r) => setTimeout(r, 100));
    expect(live.filter((e) => e.type === 'booking.cancelled' && e.appointmentId === booked.appointmentId)).toHaveLength(1);
    const audits = await db().select().from(auditLog).where(and(eq(auditLog.target, `appointment:${booked.appointmentId}`), eq(auditLog.actor, 'calcom:webhook')));
    expect(audits.map((a) => a.action)).toEqual(['appointment.cancel']);
  });

  it('rescheduled in Cal.com: the appointment takes the new uid and time, both days are uncached', async () => {
    const booked = await bookViaCallbook();
    const to = farSlot();
    const oldKey = availKey(booked.start);
    const newKey = availKey(to.toUTC().toISO()!);
    expect(oldKey).not.toBe(newKey);
    await Promise.all([primeCache(oldKey), primeCache(newKey)]);
    live.length = 0;

    const res = await fetch(`${sim.url}/bookings/${booked.uid}/reschedule`, { method: 'POST', headers: calHeaders, body: JSON.stringify({ start: to.toUTC().toISO() }) });
    expect(res.status).toBe(201);
    const moved = ((await res.json()) as { data: { uid: string; start: string; end: string } }).data;
    expect(moved.uid).not.toBe(booked.uid);
    await sim.sim.webhooksIdle();

    expect(deliveriesFor('BOOKING_RESCHEDULED', moved.uid)[0]!.status).toBe(200);
    const after = await appointment(booked.appointmentId);
    expect(after).toMatchObject({ status: 'booked', calcomBookingUid: moved.uid });
    expect(after.startAt.toISOString()).toBe(new Date(moved.start).toISOString());
    expect(after.endAt!.toISOString()).toBe(new Date(moved.end).toISOString());
    expect(await cached(oldKey)).toBeNull();
    expect(await cached(newKey)).toBeNull();
    await new Promise((r) => setTimeout(r, 100));
    expect(live.filter((e) => e.type === 'booking.rescheduled')).toEqual([
      expect.objectContaining({ appointmentId: booked.appointmentId, start: new Date(moved.start).toISOString(), branchId: after.branchId }),
    ]);
    expect(await inbox(`BOOKING_RESCHEDULED:${moved.uid}:`)).toHaveLength(1);
  });

  it('a reschedule callbook made itself comes back as a webhook and is a no-op', async () => {
    const booked = await bookViaCallbook();
    const to = farSlot();
    // Cal.com's echo may race callbook's own commit; here it is held back and delivered after it.
    const hooks = (await (await fetch(`${sim.url}/webhooks`, { headers: calHeaders })).json()) as { data: Array<{ id: number }> };
    const hookId = hooks.data[0]!.id;
    const setActive = (active: boolean) => fetch(`${sim.url}/webhooks/${hookId}`, { method: 'PATCH', headers: calHeaders, body: JSON.stringify({ active }) });
    await setActive(false);
    let moved;
    try {
      moved = await rescheduleAppointment(bookingDeps(env.ctx), { companyId: salonId }, { appointmentId: booked.appointmentId, start: to.toJSDate(), actor: 'test' });
    } finally {
      await setActive(true);
    }
    const echo = bookingBody('BOOKING_RESCHEDULED', { uid: moved.calcomUid, rescheduleUid: booked.uid, startTime: moved.start, endTime: moved.end, rescheduleStartTime: booked.start });
    const res = await post('/webhooks/calcom/salon-anna', echo, signWebhookBody(echo, SALON_SECRET));
    expect(res.json).toMatchObject({ status: 'processed', outcome: 'already_rescheduled', appointmentId: booked.appointmentId });
    const audits = await db().select().from(auditLog).where(eq(auditLog.target, `appointment:${booked.appointmentId}`));
    expect(audits.map((a) => `${a.actor} ${a.action}`)).toEqual(['test appointment.reschedule']);
    expect(await appointment(booked.appointmentId)).toMatchObject({ calcomBookingUid: moved.calcomUid, status: 'booked' });
  });

  it('BOOKING_CREATED made in Cal.com directly: its day is uncached, no appointment is recorded', async () => {
    const start = farSlot().toUTC().toISO()!;
    const key = availKey(start, 1002);
    await primeCache(key);
    const before = (await db().select().from(appointments)).length;
    const res = await fetch(`${sim.url}/bookings`, {
      method: 'POST',
      headers: calHeaders,
      body: JSON.stringify({ start, eventTypeId: 1002, attendee: { name: 'Walk In', email: 'walkin@example.com', timeZone: 'Europe/Berlin' } }),
    });
    expect(res.status, await res.clone().text()).toBe(201);
    const { uid } = ((await res.json()) as { data: { uid: string } }).data;
    await sim.sim.webhooksIdle();
    expect(deliveriesFor('BOOKING_CREATED', uid)[0]!.status).toBe(200);
    expect(await cached(key)).toBeNull();
    expect((await db().select().from(appointments)).length).toBe(before);
    expect(await inbox(`BOOKING_CREATED:${uid}:`)).toEqual([expect.objectContaining({ status: 'processed', companyId: salonId })]);
  });
});

describe('Cal.com webhooks: the company and the signature', () => {
  it('without a slug, the company is found by the event type and the secret that signed the body', async () => {
    const booked = await bookViaCallbook();
    const body = bookingBody('BOOKING_CANCELLED', { uid: booked.uid, startTime: booked.start, endTime: booked.start, cancellationReason: '' });
    // The clinic's secret does not sign the salon's event type.
    expect(await post('/webhooks/calcom', body, signWebhookBody(body, CLINIC_SECRET))).toMatchObject({ status: 401, json: { error: { code: 'invalid_signature' } } });
    expect((await appointment(booked.appointmentId)).status).toBe('booked');
    const ok = await post('/webhooks/calcom', body, signWebhookBody(body, SALON_SECRET));
    expect(ok).toMatchObject({ status: 200, json: { status: 'processed', outcome: 'cancelled', company: 'salon-anna', appointmentId: booked.appointmentId } });
    expect((await appointment(booked.appointmentId)).status).toBe('cancelled');
  });

  it("refuses a company's webhook signed with another company's secret, and scopes a valid one to its signer", async () => {
    const booked = await bookViaCallbook();
    const body = bookingBody('BOOKING_CANCELLED', { uid: booked.uid, startTime: booked.start, endTime: booked.start });
    expect((await post('/webhooks/calcom/salon-anna', body, signWebhookBody(body, CLINIC_SECRET))).status).toBe(401);
    // Validly signed by the clinic, about the salon's booking: the clinic has no such appointment.
    const foreign = await post('/webhooks/calcom/clinic-nord', body, signWebhookBody(body, CLINIC_SECRET));
    expect(foreign).toMatchObject({ status: 200, json: { outcome: 'unknown_booking', company: 'clinic-nord' } });
    expect((await appointment(booked.appointmentId)).status).toBe('booked');
  });

  it('the dedupe key is per company: another company receiving the same uid and time first does not swallow this one', async () => {
    const booked = await bookViaCallbook();
    const body = bookingBody('BOOKING_CANCELLED', { uid: booked.uid, startTime: booked.start, endTime: booked.start });
    // The clinic gets the very same delivery (same uid, same createdAt) first, signed with its own secret.
    expect(await post('/webhooks/calcom/clinic-nord', body, signWebhookBody(body, CLINIC_SECRET))).toMatchObject({
      status: 200,
      json: { status: 'processed', outcome: 'unknown_booking', company: 'clinic-nord' },
    });
    // The salon's is still processed: its appointment is cancelled.
    expect(await post('/webhooks/calcom/salon-anna', body, signWebhookBody(body, SALON_SECRET))).toMatchObject({
      status: 200,
      json: { status: 'processed', outcome: 'cancelled', company: 'salon-anna', appointmentId: booked.appointmentId },
    });
    expect((await appointment(booked.appointmentId)).status).toBe('cancelled');
    // A re-delivery to the same company is still a duplicate; and to the other one too.
    expect((await post('/webhooks/calcom/salon-anna', body, signWebhookBody(body, SALON_SECRET))).json).toMatchObject({ status: 'duplicate' });
    expect((await post('/webhooks/calcom/clinic-nord', body, signWebhookBody(body, CLINIC_SECRET))).json).toMatchObject({ status: 'duplicate' });
    const rows = await inbox(`BOOKING_CANCELLED:${booked.uid}:`);
    expect(rows).toHaveLength(2);
    expect(new Set(rows.map((r) => r.companyId))).toEqual(new Set([salonId, rows.find((r) => r.companyId !== salonId)!.companyId]));
  });

  it('401 for a missing, malformed or wrong signature and an unknown company; nothing is recorded', async () => {
    const body = bookingBody('BOOKING_CANCELLED', { uid: 'sig-test-uid', startTime: '2030-01-07T09:00:00.000Z', endTime: '2030-01-07T09:30:00.000Z' });
    const cases: Array<[string, string | undefined]> = [
      ['/webhooks/calcom/salon-anna', undefined],
      ['/webhooks/calcom/salon-anna', 'sha256=' + signWebhookBody(body, SALON_SECRET)],
      ['/webhooks/calcom/salon-anna', '0'.repeat(64)],
      ['/webhooks/calcom/salon-anna', signWebhookBody(body + ' ', SALON_SECRET)],
      ['/webhooks/calcom/salon-anna', signWebhookBody(body, 'no-secret-provided')],
      ['/webhooks/calcom/nobody', signWebhookBody(body, SALON_SECRET)],
      ['/webhooks/calcom', '0'.repeat(64)],
    ];
    for (const [path, sig] of cases) {
      const res = await post(path, body, sig);
      expect(res.status, `${path} ${sig}`).toBe(401);
      expect(res.json.error.code).toBe('invalid_signature');
    }
    expect(await inbox('BOOKING_CANCELLED:sig-test-uid:')).toHaveLength(0);
  });

  it('413 for a body over WEBHOOK_MAX_BODY_BYTES; nothing is recorded', async () => {
    const huge = bookingBody('BOOKING_CANCELLED', { uid: 'huge-uid', startTime: '2030-01-07T09:00:00.000Z', endTime: '2030-01-07T09:30:00.000Z', description: 'x'.repeat(env.config.WEBHOOK_MAX_BODY_BYTES) });
    expect(await post('/webhooks/calcom/salon-anna', huge, signWebhookBody(huge, SALON_SECRET))).toMatchObject({ status: 413, json: { error: { code: 'payload_too_large' } } });
    expect(await inbox('BOOKING_CANCELLED:huge-uid:')).toHaveLength(0);
  });

  it('400 for malformed JSON, 422 with paths for a bad booking payload, 200 ignored for other triggers', async () => {
    const bad = '{"triggerEvent":"BOOKING_CANCELLED",';
    expect(await post('/webhooks/calcom/salon-anna', bad, signWebhookBody(bad, SALON_SECRET))).toMatchObject({ status: 400, json: { error: { code: 'malformed_json' } } });
    expect((await post('/webhooks/calcom', bad, signWebhookBody(bad, SALON_SECRET))).status).toBe(400);

    const noUid = JSON.stringify({ triggerEvent: 'BOOKING_RESCHEDULED', createdAt: new Date().toISOString(), payload: { eventTypeId: 1001, startTime: 'soon', endTime: '2030-01-07T09:30:00.000Z' } });
    const res = await post('/webhooks/calcom/salon-anna', noUid, signWebhookBody(noUid, SALON_SECRET));
    expect(res.status).toBe(422);
    expect(res.json.error.code).toBe('schema_mismatch');
    expect(res.json.error.issues.map((i: { path: string }) => i.path).sort()).toEqual(['payload.startTime', 'payload.uid']);

    const ping = JSON.stringify({ triggerEvent: 'MEETING_ENDED', createdAt: new Date().toISOString(), payload: { whatever: true } });
    expect(await post('/webhooks/calcom/salon-anna', ping, signWebhookBody(ping, SALON_SECRET))).toMatchObject({ status: 200, json: { status: 'ignored', triggerEvent: 'MEETING_ENDED' } });
    // No event type: the plain route tries every company's secret.
    expect(await post('/webhooks/calcom', ping, signWebhookBody(ping, CLINIC_SECRET))).toMatchObject({ status: 200, json: { status: 'ignored' } });
  });
});
