/**
 * Live-call functions (`POST /functions/retell/:name`) through the real ingress app, with
 * retell-sdk-signed bodies, against the Cal.com simulator over HTTP and real MariaDB/Redis:
 * every function in German (Salon Anna) and English (Clinic Nord), both Retell body shapes,
 * signature and argument errors, the taken-slot offer, isolation between companies and
 * callers, and one booking per call when the live booking meets the call's webhook.
 */
import { eq } from 'drizzle-orm';
import { DateTime } from 'luxon';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp } from '../apps/ingress/app';
import { ingressDeps } from '../apps/ingress/deps';
import { appointments, calls } from '../drizzle/schema';
import { bodiesTooLargeTotal } from '../lib/metrics';
import { serviceBreaker } from '../lib/resilience/service-breakers';
import { startWorkers, type RunningWorkers } from '../workers';
import { berlinWeekday } from './helpers/bookings';
import { SALON_KEY, useSimTestEnv, type SeededSim } from './helpers/calcom';
import { importTestTenants, type TestEnv } from './helpers/env';
import { CALLER, CLINIC_NUMBER, SALON_NUMBER, callId, retellEvent, signed, twoCompanies } from './helpers/fixtures';
import { realtimeTranscript } from './helpers/transcript';

const BERLIN = 'Europe/Berlin';
const OTHER_CALLER = '+4917099999999';

let env: TestEnv;
let sim: SeededSim;
let app: ReturnType<typeof createApp>;
let workers: RunningWorkers | undefined;

useSimTestEnv({ CALCOM_TIMEOUT_MS: '1500',}, (started) => {
  ({ sim, env } = started);
  app = createApp(ingressDeps(env.ctx));
});
afterEach(async () => {
  await workers?.close();
  workers = undefined;
});

const db = () => env.ctx.database.db;

interface Caller {
  to?: string;
  from?: string | null;
  callId?: string;
  /** envelope: `{name, call, args}`; root: args only (args_at_root), identity inside. */
  shape?: 'envelope' | 'root';
}

type Answer = { result: string; status: string } & Record<string, any>;

async function post(name: string, payload: unknown, headers?: Record<string, string>) {
  const body = JSON.stringify(payload);
  const res = await app.request(`/functions/retell/${name}`, { method: 'POST', body, headers: headers ?? (await signed(body)) });
  return { status: res.status, json: (await res.json()) as Answer & { error?: { code: string; message: string; issues?: Array<{ path: string }> } } };
}

function payloadFor(name: string, args: Record<string, unknown>, c: Caller = {}) {
  const id = c.callId ?? callId();
  const to = c.to ?? SALON_NUMBER;
  const from = c.from === undefined ? CALLER : c.from;
  if (c.shape === 'root') return { ...args, call_id: id, to_number: to, ...(from ? { from_number: from } : {}) };
  const call = { call_id: id, agent_id: 'agent_test', call_type: 'phone_call', call_status: 'ongoing', direction: 'inbound', to_number: to, ...(from ? { from_number: from } : {}), transcript: 'User: …' };
  return { name, call, args };
}

/** Call a function; expects HTTP 200 and returns the answer. */
async function fn(name: string, args: Record<string, unknown> = {}, c: Caller = {}): Promise<Answer> {
  const { status, json } = await post(name, payloadFor(name, args, c));
  expect(status, JSON.stringify(json)).toBe(200);
  expect(typeof json.result).toBe('string');
  return json;
}

/** A weekday `n` days ahead (at least), local Berlin, at `hour`. Each test uses its own days. */
function weekday(n: number, hour = 11, minute = 0): DateTime {
  return berlinWeekday(n, hour, minute);
}
const utc = (d: DateTime) => d.toUTC().toISO()!;
const de = (d: DateTime) => `${d.toFormat('dd.MM.yyyy')} um ${d.toFormat('HH:mm')} Uhr`;
const en = (d: DateTime) => `${d.setLocale('en-US').toFormat('LLLL d, yyyy')} at ${d.setLocale('en-US').toFormat('h:mm a')}`;
const simBookings = (eventTypeId: number, start: string) => sim.sim.bookings().filter((b) => b.eventTypeId === eventTypeId && b.start === start && b.status !== 'cancelled');

describe('contract', () => {
  it('rejects a missing or wrong signature with 401, before anything else', async () => {
    const payload = payloadFor('list_services', {});
    expect((await post('list_services', payload, { 'content-type': 'application/json' })).status).toBe(401);
    const body = JSON.stringify(payload);
    const wrong = await post('list_services', payload, await signed(body, 'key_someone_else'));
    expect(wrong.status).toBe(401);
    expect(wrong.json.error!.code).toBe('invalid_signature');
    const tampered = await signed(body);
    const res = await app.request('/functions/retell/list_services', { method: 'POST', body: body.replace(CALLER, OTHER_CALLER), headers: tampered });
    expect(res.status).toBe(401);
  });

  it('accepts the company key of the dialled number, in both body shapes, and only for that company', async () => {
    const file = twoCompanies();
    file.companies[1]!.retellApiKey = 'key_company_clinic_own';
    await importTestTenants(env, file);
    for (const shape of ['envelope', 'root'] as const) {
      const own = payloadFor('list_services', {}, { to: CLINIC_NUMBER, shape });
      expect((await post('list_services', own, await signed(JSON.stringify(own), 'key_company_clinic_own'))).status, shape).toBe(200);
      const foreign = payloadFor('list_services', {}, { to: SALON_NUMBER, shape });
      expect((await post('list_services', foreign, await signed(JSON.stringify(foreign), 'key_company_clinic_own'))).status, shape).toBe(401);
    }
  });

  it('answers an unknown function with 404 JSON', async () => {
    const { status, json } = await post('delete_everything', payloadFor('delete_everything', {}));
    expect(status).toBe(404);
    expect(json.error).toMatchObject({ code: 'unknown_function' });
    expect(json.error!.message).toContain('book_appointment');
  });

  it('bad args: 422 with the failing path, in both body shapes', async () => {
    const env1 = await post('check_availability', payloadFor('check_availability', { when: 5 }));
    expect(env1.status).toBe(422);
    expect(env1.json.error!.code).toBe('bad_args');
    expect(env1.json.error!.issues!.map((i) => i.path)).toEqual(['args.when']);
    const root = await post('book_appointment', payloadFor('book_appointment', { when: 'morgen um 14 Uhr', email: 'not-an-email' }, { shape: 'root' }));
    expect(root.status).toBe(422);
    expect(root.json.error!.issues!.map((i) => i.path)).toEqual(['email']);
    const id = await post('cancel_appointment', payloadFor('cancel_appointment', { appointment_id: 'twelve' }));
    expect(id.json.error!.issues!.map((i) => i.path)).toEqual(['args.appointment_id']);
  });

  it('refuses clearly when the company cannot be determined', async () => {
    const noNumber = await post('list_services', { when: 'x' }); // args only, no to_number
    expect(noNumber.status).toBe(422);
    expect(noNumber.json.error).toMatchObject({ code: 'company_unknown', issues: [{ path: 'to_number' }] });
    const unknown = await post('list_services', payloadFor('list_services', {}, { to: '+4989000000' }));
    expect(unknown.status).toBe(404);
    expect(unknown.json.error!.code).toBe('unknown_number');
    const malformed = await app.request('/functions/retell/list_services', { method: 'POST', body: '{"args":', headers: await signed('{"args":') });
    expect(malformed.status).toBe(400);
  });

  it("args-only bodies may list services and check availability, nothing that reads or changes a caller's appointments", async () => {
    // The caller's number would come from args the agent's LLM fills in: a caller could name anyone's.
    const before = await db().select().from(calls);
    for (const [name, args] of [
      ['book_appointment', { when: de(weekday(40)) }],
      ['find_appointments', {}],
      ['reschedule_appointment', { when: de(weekday(41)) }],
      ['cancel_appointment', { appointment_id: 1 }],
    ] as const) {
      for (const payload of [
        { ...args, call_id: callId(), to_number: SALON_NUMBER, from_number: CALLER }, // args at root
        { name, args: { ...args, call_id: callId(), to_number: SALON_NUMBER, from_number: CALLER } }, // {name, args}
      ]) {
        const { status, json } = await post(name, payload);
        expect(status, name).toBe(422);
        expect(json.error, name).toMatchObject({ code: 'call_required', issues: [{ path: 'call' }] });
      }
    }
    expect(await db().select().from(calls)).toHaveLength(before.length);
    await fn('check_availability', { when: de(weekday(40)) }, { shape: 'root' }); // 200: company only, no caller
  });

  it('refuses bodies over WEBHOOK_MAX_BODY_BYTES (1 MiB) with 413, before verifying the signature, and counts them', async () => {
    const limit = env.ctx.config.WEBHOOK_MAX_BODY_BYTES;
    expect(limit).toBe(1024 * 1024);
    const refused = async () => (await bodiesTooLargeTotal.get()).values.find((v) => v.labels.route === 'retell_function')?.value ?? 0;
    const before = await refused();
    const payload = payloadFor('list_services', { padding: 'x'.repeat(limit) });
    // A well-formed, fresh signature (a malformed or stale one is refused before the limit, unread).
    const { status, json } = await post('list_services', payload, { 'content-type': 'application/json', 'x-retell-signature': `v=${Date.now()},d=${'0'.repeat(64)}` });
    expect(status).toBe(413);
    expect(json.error).toMatchObject({ code: 'payload_too_large', message: `body exceeds ${limit} bytes` });
    expect(await refused()).toBe(before + 1);
  });
});

describe('list_services', () => {
  it('de (salon, envelope) and en (clinic, args only)', async () => {
    const salon = await fn('list_services');
    expect(salon.result).toBe('Wir bieten Haircut (30 Minuten) und Coloring (90 Minuten) an.');
    expect(salon).toMatchObject({ status: 'ok', default_service: 'haircut', services: [{ slug: 'haircut', duration_minutes: 30 }, { slug: 'coloring', duration_minutes: 90 }] });
    const clinic = await fn('list_services', {}, { to: CLINIC_NUMBER, shape: 'root' });
    expect(clinic.result).toBe('We offer Check-up (20 minutes).');
  });
});

describe('check_availability', () => {
  it('reads "morgen um 14 Uhr" in Europe/Berlin', async () => {
    const a = await fn('check_availability', { when: 'morgen um 14 Uhr' });
    const expected = DateTime.now().setZone(BERLIN).plus({ days: 1 }).set({ hour: 14, minute: 0, second: 0, millisecond: 0 });
    expect(a.requested.start).toBe(utc(expected));
    expect(a.requested.local).toBe(expected.toISO());
    expect(['available', 'taken']).toContain(a.status);
  });

  it('reads "next Tuesday afternoon" in Europe/Berlin and lists its free slots (en)', async () => {
    const a = await fn('check_availability', { when: 'next Tuesday afternoon' }, { to: CLINIC_NUMBER });
    const today = DateTime.now().setZone(BERLIN).startOf('day');
    const tuesday = today.plus({ days: (2 - today.weekday + 7) % 7 || 7 });
    expect(a.range).toEqual({ from: tuesday.set({ hour: 12 }).toISO(), to: tuesday.set({ hour: 18 }).toISO() });
    // Check-up: 20 minutes; the simulator's day runs 9–17 local.
    expect(a.status).toBe('available');
    expect(a.slots[0].start).toBe(utc(tuesday.set({ hour: 12 })));
    expect(a.slots[1].local).toBe(tuesday.set({ hour: 12, minute: 20 }).toISO());
    expect(a.total).toBe(15); // 12:00 … 16:40
    expect(a.result).toBe(`Available: ${tuesday.setLocale('en-US').toFormat('cccc, LLLL d')} at 12:00 PM, 12:20 PM or 12:40 PM (and 12 more).`);
  });

  it('a spoken German range ("… vormittags") on the salon', async () => {
    const day = weekday(30);
    const a = await fn('check_availability', { when: `am ${day.setLocale('de').toFormat('d. LLLL yyyy')} vormittags`, service: 'Haarschnitt' });
    expect(a).toMatchObject({ status: 'available', service: { slug: 'haircut' }, total: 6 }); // 9:00 … 11:30
    expect(a.result).toBe(`Frei ist am ${day.setLocale('de-DE').toFormat('cccc, d. LLLL')} um 09:00, 09:30 oder 10:00 (und 3 weitere).`);
  });

  it('a taken time: the three nearest free slots (de), and an unknown service is named back', async () => {
    const slot = weekday(33, 11);
    await fn('book_appointment', { when: de(slot), customer_name: 'Erste' });
    const a = await fn('check_availability', { when: de(slot) });
    expect(a.status).toBe('taken');
    expect(a.alternatives.map((s: { start: string }) => s.start)).toEqual([slot.set({ hour: 10, minute: 30 }), slot.set({ minute: 30 }), slot.set({ hour: 12 })].map(utc));
    expect(a.result).toMatch(/ist leider nicht frei\. Frei wäre .* um 10:30, 11:30 oder 12:00\.$/);
    const free = await fn('check_availability', { when: de(slot.set({ hour: 14 })) });
    expect(free).toMatchObject({ status: 'available', available: true });
    const unknown = await fn('check_availability', { when: 'morgen', service: 'Massage' });
    expect(unknown).toMatchObject({ status: 'unknown_service', services: ['haircut', 'coloring'] });
  });
});

describe('book_appointment', () => {
  it('books in German (envelope) once, also when Retell retries', async () => {
    const slot = weekday(36, 10);
    const id = callId();
    const a = await fn('book_appointment', { when: de(slot), service: 'Haarschnitt', customer_name: 'Anna' }, { callId: id });
    expect(a).toMatchObject({ status: 'booked', service: { slug: 'haircut' }, start: { start: utc(slot) } });
    expect(a.result).toBe(`Gebucht: Haircut am ${slot.setLocale('de-DE').toFormat("cccc, d. LLLL 'um' HH:mm")}.`);
    const again = await fn('book_appointment', { when: de(slot), service: 'Haarschnitt', customer_name: 'Anna' }, { callId: id });
    expect(again).toMatchObject({ status: 'already_booked', appointment_id: a.appointment_id });
    expect(simBookings(1001, utc(slot))).toHaveLength(1);
    const [booking] = simBookings(1001, utc(slot));
    expect(booking!.attendees[0]).toMatchObject({ name: 'Anna', phoneNumber: CALLER });
    const [row] = await db().select().from(appointments).where(eq(appointments.id, a.appointment_id));
    expect(row).toMatchObject({ source: 'live', status: 'booked' });
    const [call] = await db().select().from(calls).where(eq(calls.retellCallId, id));
    expect(call).toMatchObject({ appointmentId: a.appointment_id, status: 'ongoing', fromNumber: CALLER });
  });

  it('books 45 minutes into a call: the call object carries those minutes of transcript (890 KiB; the old limit was 64 KB)', async () => {
    const slot = weekday(63, 10);
    const id = callId();
    const payload = payloadFor('book_appointment', { when: de(slot), customer_name: 'Anna' }, { callId: id });
    const long = { ...payload, call: { ...payload.call, ...realtimeTranscript(45) } };
    expect(Buffer.byteLength(JSON.stringify(long))).toBeGreaterThan(850 * 1024);
    const { status, json } = await post('book_appointment', long);
    expect(status, JSON.stringify(json)).toBe(200);
    expect(json).toMatchObject({ status: 'booked', start: { start: utc(slot) } });
    expect(simBookings(1001, utc(slot))).toHaveLength(1);
    // The transcript so far is not written: the call's call_ended webhook brings the whole one.
    const [call] = await db().select().from(calls).where(eq(calls.retellCallId, id));
    expect(call).toMatchObject({ appointmentId: json.appointment_id, status: 'ongoing', fromNumber: CALLER, transcript: null });
  });

  it('books in English', async () => {
    const slot = weekday(36, 15, 20);
    const a = await fn('book_appointment', { when: en(slot), customer_name: 'Ben' }, { to: CLINIC_NUMBER });
    expect(a).toMatchObject({ status: 'booked', service: { slug: 'checkup' }, start: { start: utc(slot) } });
    expect(a.result).toBe(`Booked: Check-up on ${slot.setLocale('en-US').toFormat("cccc, LLLL d 'at' h:mm a")}.`);
    expect(simBookings(2001, utc(slot))).toHaveLength(1);
  });

  it('a taken slot is answered with the three nearest free slots (en and de)', async () => {
    const slot = weekday(39, 11);
    await fn('book_appointment', { when: en(slot) }, { to: CLINIC_NUMBER, from: OTHER_CALLER });
    const a = await fn('book_appointment', { when: en(slot) }, { to: CLINIC_NUMBER });
    expect(a.status).toBe('slot_taken');
    expect(a.alternatives.map((s: { start: string }) => s.start)).toEqual([slot.set({ hour: 10, minute: 40 }), slot.set({ minute: 20 }), slot.set({ minute: 40 })].map(utc));
    expect(a.result).toBe(`${slot.setLocale('en-US').toFormat("cccc, LLLL d 'at' h:mm a")} is already taken. Free: ${slot.setLocale('en-US').toFormat('cccc, LLLL d')} at 10:40 AM, 11:20 AM or 11:40 AM.`);
    expect(simBookings(2001, utc(slot))).toHaveLength(1);

    const salonSlot = weekday(39, 14);
    await fn('book_appointment', { when: de(salonSlot) }, { from: OTHER_CALLER });
    const b = await fn('book_appointment', { when: de(salonSlot) });
    expect(b.status).toBe('slot_taken');
    expect(b.result).toMatch(/ist leider vergeben\. Frei wäre .* um 13:30, 14:30 oder 15:00\.$/);
  });

  it('asks back for a time, refuses the past, and says "not right now" while the breaker is open', async () => {
    expect((await fn('book_appointment', { when: 'morgen' })).status).toBe('need_time');
    expect((await fn('book_appointment', { when: 'blabla' })).status).toBe('unreadable_time');
    expect((await fn('book_appointment', { when: '01.01.2020 um 10:00 Uhr' })).status).toBe('in_past');
    const breaker = serviceBreaker('calcom', { redis: env.ctx.redis, ns: env.ctx.ns, logger: env.ctx.logger });
    for (let i = 0; i < 5; i++) await breaker.failure(false);
    const a = await fn('book_appointment', { when: de(weekday(42, 9)) });
    expect(a.status).toBe('unavailable');
    expect(a.retry_after).toBeGreaterThan(30);
    expect(a.result).toBe('Ich kann gerade nicht buchen; bitte versuchen Sie es gleich noch einmal.');
    const en1 = await fn('check_availability', { when: 'next Tuesday afternoon' }, { to: CLINIC_NUMBER });
    // The availability cache may answer without Cal.com; otherwise the breaker speaks.
    expect(['available', 'unavailable']).toContain(en1.status);
  });

  it('a withheld caller number cannot book or look up', async () => {
    const a = await fn('book_appointment', { when: de(weekday(42, 10)) }, { from: null });
    expect(a.status).toBe('caller_unknown');
    const b = await fn('find_appointments', {}, { from: null, to: CLINIC_NUMBER });
    expect(b).toMatchObject({ status: 'caller_unknown', result: "Your number is withheld; without it I can't find or change appointments for you." });
  });
});

describe('find, reschedule, cancel', () => {
  it('German: find, move, cancel my own appointment', async () => {
    const me = '+4917011111111';
    const slot = weekday(45, 10);
    const booked = await fn('book_appointment', { when: de(slot), customer_name: 'Dora' }, { from: me });
    const found = await fn('find_appointments', {}, { from: me });
    expect(found.status).toBe('ok');
    expect(found.appointments).toEqual([expect.objectContaining({ id: booked.appointment_id, service: { slug: 'haircut', name: 'Haircut' } })]);
    expect(found.result).toBe(`Sie haben einen Termin: Haircut am ${slot.setLocale('de-DE').toFormat("cccc, d. LLLL 'um' HH:mm")}.`);

    // No id needed: the caller has exactly one upcoming appointment.
    const later = slot.set({ hour: 15 });
    const moved = await fn('reschedule_appointment', { when: de(later) }, { from: me });
    expect(moved).toMatchObject({ status: 'rescheduled', appointment: { id: booked.appointment_id, start: { start: utc(later) } } });
    expect(moved.result).toBe(`Verschoben: Haircut am ${later.setLocale('de-DE').toFormat("cccc, d. LLLL 'um' HH:mm")}.`);
    expect(simBookings(1001, utc(later))).toHaveLength(1);
    expect(simBookings(1001, utc(slot))).toHaveLength(0);

    const cancelled = await fn('cancel_appointment', { appointment_id: String(booked.appointment_id), reason: 'krank' }, { from: me });
    expect(cancelled).toMatchObject({ status: 'cancelled', appointment: { id: booked.appointment_id } });
    expect(cancelled.result).toMatch(/^Storniert: Haircut am /);
    expect(simBookings(1001, utc(later))).toHaveLength(0);
    expect((await fn('find_appointments', {}, { from: me })).status).toBe('none');
    // Cancelling again: nothing of yours is left under that id.
    expect((await fn('cancel_appointment', { appointment_id: booked.appointment_id }, { from: me })).status).toBe('not_found');
  });

  it('English: find, a taken new time offers three slots, move, cancel', async () => {
    const me = '+4917022222222';
    const slot = weekday(48, 9);
    const blocker = weekday(48, 13);
    await fn('book_appointment', { when: en(blocker) }, { to: CLINIC_NUMBER, from: OTHER_CALLER });
    const booked = await fn('book_appointment', { when: en(slot) }, { to: CLINIC_NUMBER, from: me });
    const found = await fn('find_appointments', {}, { to: CLINIC_NUMBER, from: me });
    expect(found.result).toBe(`You have one appointment: Check-up on ${slot.setLocale('en-US').toFormat("cccc, LLLL d 'at' h:mm a")}.`);

    const taken = await fn('reschedule_appointment', { appointment_id: booked.appointment_id, when: en(blocker) }, { to: CLINIC_NUMBER, from: me });
    expect(taken.status).toBe('slot_taken');
    expect(taken.alternatives).toHaveLength(3);
    expect(taken.result).toMatch(/is already taken\. Free: .* at 12:40 PM, 1:20 PM or 1:40 PM\.$/);

    const to = weekday(48, 14);
    const moved = await fn('reschedule_appointment', { appointment_id: booked.appointment_id, when: en(to) }, { to: CLINIC_NUMBER, from: me });
    expect(moved.result).toBe(`Moved: Check-up on ${to.setLocale('en-US').toFormat("cccc, LLLL d 'at' h:mm a")}.`);
    const cancelled = await fn('cancel_appointment', {}, { to: CLINIC_NUMBER, from: me });
    expect(cancelled).toMatchObject({ status: 'cancelled', result: `Cancelled: Check-up on ${to.setLocale('en-US').toFormat("cccc, LLLL d 'at' h:mm a")}.` });
    expect(simBookings(2001, utc(to))).toHaveLength(0);
  });

  it('several appointments and no id: asks which one', async () => {
    const me = '+4917033333333';
    await fn('book_appointment', { when: de(weekday(51, 9)) }, { from: me });
    await fn('book_appointment', { when: de(weekday(51, 10)) }, { from: me });
    const a = await fn('cancel_appointment', {}, { from: me });
    expect(a.status).toBe('ambiguous');
    expect(a.appointments).toHaveLength(2);
    expect(a.result).toMatch(/^Sie haben 2 Termine: .*Welchen meinen Sie\?$/);
  });

  it("another company's or another caller's appointment is not found, even with its id — the same answer as a nonexistent id", async () => {
    const slot = weekday(54, 11);
    const mine = await fn('book_appointment', { when: de(slot) }); // CALLER at the salon
    const id = mine.appointment_id as number;
    const nonexistent = await fn('cancel_appointment', { appointment_id: 99_999_999 }, { from: OTHER_CALLER });

    // The same number calling the clinic: a different company.
    const clinicFind = await fn('find_appointments', {}, { to: CLINIC_NUMBER });
    expect(clinicFind.appointments.map((a: { id: number }) => a.id)).not.toContain(id);
    const clinicMove = await fn('reschedule_appointment', { appointment_id: id, when: en(slot.set({ hour: 15 })) }, { to: CLINIC_NUMBER });
    const clinicCancel = await fn('cancel_appointment', { appointment_id: id }, { to: CLINIC_NUMBER });
    expect(clinicMove).toEqual({ result: "I can't find that appointment under your number.", status: 'not_found', appointment_id: id });
    expect(clinicCancel).toEqual(clinicMove);

    // Another number calling the salon: same company, other caller.
    const otherFind = await fn('find_appointments', {}, { from: OTHER_CALLER });
    expect(otherFind.appointments.map((a: { id: number }) => a.id)).not.toContain(id);
    const otherMove = await fn('reschedule_appointment', { appointment_id: id, when: de(slot.set({ hour: 15 })) }, { from: OTHER_CALLER });
    const otherCancel = await fn('cancel_appointment', { appointment_id: id }, { from: OTHER_CALLER });
    expect(otherCancel).toEqual({ ...nonexistent, appointment_id: id });
    expect(otherMove).toEqual(otherCancel);

    // Untouched.
    expect(simBookings(1001, utc(slot))).toHaveLength(1);
    const [row] = await db().select().from(appointments).where(eq(appointments.id, id));
    expect(row).toMatchObject({ status: 'booked', startAt: slot.toJSDate() });
  });
});

describe('Cal.com failing under find, reschedule, cancel (lib/appointments/manage.ts)', () => {
  it('a 500 on cancel is not taken for "already cancelled": the appointment stays booked', async () => {
    const me = '+4917044444444';
    const slot = weekday(60, 10);
    const booked = await fn('book_appointment', { when: de(slot) }, { from: me });
    sim.sim.setFaults({ errorRatio: 1 }, SALON_KEY);
    const a = await fn('cancel_appointment', { appointment_id: booked.appointment_id }, { from: me });
    expect(a.status).toBe('unavailable');
    sim.sim.clearFaults();
    const [row] = await db().select().from(appointments).where(eq(appointments.id, booked.appointment_id));
    expect(row!.status).toBe('booked');
    expect(simBookings(1001, utc(slot))).toHaveLength(1);
  });

  it('a cancel whose answer was lost converges on the retry', async () => {
    const me = '+4917055555555';
    const slot = weekday(60, 11);
    const booked = await fn('book_appointment', { when: de(slot) }, { from: me });
    sim.sim.setFaults({ dropAfterOkRatio: 1 }, SALON_KEY);
    expect((await fn('cancel_appointment', {}, { from: me })).status).toBe('unavailable');
    sim.sim.clearFaults();
    expect(simBookings(1001, utc(slot))).toHaveLength(0); // Cal.com did cancel
    const retry = await fn('cancel_appointment', { appointment_id: booked.appointment_id }, { from: me });
    expect(retry.status).toBe('cancelled');
  });

  it('a reschedule whose answer was lost converges on the retry, on the booking Cal.com made', async () => {
    const me = '+4917066666666';
    const slot = weekday(60, 13);
    const to = weekday(60, 15);
    const booked = await fn('book_appointment', { when: de(slot) }, { from: me });
    sim.sim.setFaults({ dropAfterOkRatio: 1 }, SALON_KEY);
    expect((await fn('reschedule_appointment', { when: de(to) }, { from: me })).status).toBe('unavailable');
    sim.sim.clearFaults();
    const retry = await fn('reschedule_appointment', { appointment_id: booked.appointment_id, when: de(to) }, { from: me });
    expect(retry).toMatchObject({ status: 'rescheduled', appointment: { id: booked.appointment_id, start: { start: utc(to) } } });
    const [moved] = simBookings(1001, utc(to));
    const [row] = await db().select().from(appointments).where(eq(appointments.id, booked.appointment_id));
    expect(row).toMatchObject({ calcomBookingUid: moved!.uid, startAt: to.toJSDate() });
  });

  it('an empty caller number matches nobody (it used to mean "every caller")', async () => {
    const { findAppointments } = await import('../lib/appointments/manage');
    const { bookingDeps } = await import('../lib/booking/deps');
    const [salonAppt] = await db().select().from(appointments).limit(1);
    expect(salonAppt).toBeDefined();
    expect(await findAppointments(bookingDeps(env.ctx), { companyId: salonAppt!.companyId, customerPhone: '' })).toEqual([]);
  });
});

describe('a live booking and the call webhook', () => {
  async function analyzed(id: string, when: string) {
    const analysis = { booking_confirmed: 'true', appointment_datetime: when, service: 'Haarschnitt', customer_name: 'Anna' };
    const body = JSON.stringify(retellEvent('call_analyzed', { callId: id, vars: analysis, analysis }));
    const res = await app.request('/webhooks/retell', { method: 'POST', body, headers: await signed(body) });
    expect(res.status).toBe(202);
  }
  async function callRow(id: string, ok: (c: typeof calls.$inferSelect) => boolean) {
    for (let i = 0; i < 200; i++) {
      const [c] = await db().select().from(calls).where(eq(calls.retellCallId, id));
      if (c && ok(c)) return c;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`call ${id} did not reach the expected state`);
  }
  const bookingsOfCall = (rowId: number) => sim.sim.bookings().filter((b) => b.metadata.callbook_call === String(rowId) && b.status !== 'cancelled');

  it('a DIFFERENT time in the analysis: the webhook decides no_booking, one Cal.com booking', async () => {
    workers = startWorkers(env.ctx, ['webhooks', 'bookings']);
    const id = callId();
    const live = weekday(57, 10);
    const said = weekday(57, 16);
    const a = await fn('book_appointment', { when: de(live) }, { callId: id });
    expect(a.status).toBe('booked');
    await analyzed(id, said.toFormat("yyyy-MM-dd'T'HH:mm"));
    const call = await callRow(id, (c) => c.bookingDecision !== null);
    expect(call).toMatchObject({ bookingDecision: 'no_booking', bookingReason: `booked live during the call (appointment ${a.appointment_id})`, appointmentId: a.appointment_id, status: 'analyzed' });
    await new Promise((r) => setTimeout(r, 300));
    expect(bookingsOfCall(call.id)).toHaveLength(1);
    expect(simBookings(1001, utc(said))).toHaveLength(0);
    expect(await env.ctx.queues.bookings.getJobCounts('waiting', 'active', 'delayed')).toEqual({ waiting: 0, active: 0, delayed: 0 });
  });

  it('the SAME time, webhook decided first: its bookings job finds the live booking (same idempotency key)', async () => {
    workers = startWorkers(env.ctx, ['webhooks']); // decide, but hold the bookings job
    const id = callId();
    const slot = weekday(57, 13);
    await analyzed(id, slot.toFormat("yyyy-MM-dd'T'HH:mm"));
    const decided = await callRow(id, (c) => c.bookingDecision !== null);
    expect(decided.bookingDecision).toBe('book');
    const key = decided.bookingRequest!.idempotencyKey;

    const a = await fn('book_appointment', { when: de(slot), service: 'Haarschnitt' }, { callId: id });
    expect(a.status).toBe('booked');
    const [appt] = await db().select().from(appointments).where(eq(appointments.id, a.appointment_id));
    expect(appt!.idempotencyKey).toBe(key);

    await workers.close();
    workers = startWorkers(env.ctx, ['bookings']);
    const job = await env.ctx.queues.bookings.getJob(`booking-${key}`);
    expect(job).toBeDefined();
    for (let i = 0; i < 200 && !(await job!.isCompleted()); i++) await new Promise((r) => setTimeout(r, 50));
    const done = await env.ctx.queues.bookings.getJob(`booking-${key}`);
    expect(done!.returnvalue).toMatchObject({ status: 'already_booked', appointmentId: a.appointment_id });
    expect(simBookings(1001, utc(slot))).toHaveLength(1);
    expect(await db().select().from(appointments).where(eq(appointments.callId, decided.id))).toHaveLength(1);
  });

  it('the SAME time, live first: the webhook follows the live booking, one Cal.com booking', async () => {
    workers = startWorkers(env.ctx, ['webhooks', 'bookings']);
    const id = callId();
    const slot = weekday(57, 15);
    const a = await fn('book_appointment', { when: de(slot) }, { callId: id });
    await analyzed(id, slot.toFormat("yyyy-MM-dd'T'HH:mm"));
    const call = await callRow(id, (c) => c.bookingDecision !== null);
    expect(call.bookingDecision).toBe('no_booking');
    expect(call.bookingReason).toBe(`booked live during the call (appointment ${a.appointment_id})`);
    expect(simBookings(1001, utc(slot))).toHaveLength(1);
  });
});
