/**
 * Differential test of the simulator's booking indexes (SimState.byHost / byUid, commit 2eab397): host
 * picking, slot lists and uid lookups must answer exactly as the full scan of `state.bookings` they
 * replaced, for personal, collective and round-robin event types with shared hosts, bookings naming
 * non-hosts, unknown keys and duplicate keys, shared uids, cancellations, team changes and resets.
 */
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { listSlots, pickHosts } from './availability';
import { createCalcomSim } from './app';
import { SimState, newUid } from './state';
import type { SimBooking, SimBookingStatus, SimEventType } from './types';
import { prng as rng } from '../../test/helpers/prng';

/** The state as the code before 2eab397 saw it: every booking is a candidate, the first uid wins. */
function fullScan(state: SimState): SimState {
  const old = Object.create(state) as SimState;
  old.bookingsOfHosts = () => state.bookings;
  old.bookingByUid = (uid: string) => state.bookings.find((b) => b.uid === uid);
  return old;
}

const KEYS = ['k_a', 'k_b', 'k_c', 'k_d', 'k_e'];
const ZONES = ['Europe/Berlin', 'America/New_York', 'UTC', 'Asia/Kolkata', 'Etc/GMT+5'];
const DAY0 = Date.parse('2026-10-19T00:00:00Z'); // a Monday
const STATUSES: SimBookingStatus[] = ['accepted', 'accepted', 'accepted', 'pending', 'cancelled', 'rejected'];

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)]!;
}

function seedState(r: () => number): { state: SimState; ets: SimEventType[] } {
  const state = new SimState();
  KEYS.forEach((k, i) =>
    state.addAccount({ apiKey: k, username: `u${i}`, timeZone: pick(r, ZONES), teamIds: [1, 2].filter(() => r() < 0.5) }),
  );
  const ets: SimEventType[] = [];
  let id = 1;
  for (const owner of KEYS) ets.push({ id: id++, slug: `p${id}`, title: 'P', lengthInMinutes: 30, ownerApiKey: owner });
  for (const teamId of [1, 2]) {
    for (const schedulingType of ['collective', 'roundRobin'] as const) {
      ets.push({
        id: id++,
        slug: `t${id}`,
        title: 'T',
        lengthInMinutes: pick(r, [30, 60]),
        slotIntervalMinutes: 30,
        ownerApiKey: pick(r, KEYS),
        teamId,
        schedulingType,
        schedule: { days: [1, 2, 3, 4, 5, 6, 7], startHour: 0, endHour: 24 },
      });
    }
  }
  // A team event type without schedulingType: every host must be free, as for collective.
  ets.push({ id: id++, slug: 'plain-team', title: 'T', lengthInMinutes: 30, ownerApiKey: pick(r, KEYS), teamId: 1 });
  for (const et of ets) state.addEventType(et);
  return { state, ets: [...state.eventTypes.values()] };
}

function randomBooking(r: () => number, state: SimState, uids: string[]): SimBooking {
  const startMs = DAY0 + Math.floor(r() * 5 * 48) * 30 * 60_000;
  const duration = pick(r, [30, 60, 90]);
  // Hosts: any keys, a key that is no account, duplicates, sometimes none.
  const hostApiKeys = Array.from({ length: Math.floor(r() * 4) }, () => pick(r, [...KEYS, 'k_ghost']));
  const uid = uids.length && r() < 0.15 ? pick(r, uids) : newUid();
  uids.push(uid);
  return {
    id: state.takeBookingId(),
    uid,
    title: 'x',
    status: pick(r, STATUSES),
    start: new Date(startMs).toISOString(),
    end: new Date(startMs + duration * 60_000).toISOString(),
    duration,
    eventTypeId: 1,
    eventTypeSlug: 'x',
    ownerApiKey: pick(r, KEYS),
    hostApiKeys,
    attendees: [],
    guests: [],
    metadata: {},
    bookingFieldsResponses: {},
    location: '',
    createdAt: '',
    updatedAt: '',
  };
}

function compare(state: SimState, ets: SimEventType[], r: () => number, uids: string[]): void {
  const old = fullScan(state);
  for (const uid of [...new Set(uids)].slice(0, 50)) expect(state.bookingByUid(uid)).toBe(old.bookingByUid(uid));
  expect(state.bookingByUid('nope')).toBeUndefined();
  for (const et of ets) {
    for (let i = 0; i < 12; i++) {
      const s = DAY0 + Math.floor(r() * 5 * 48) * 30 * 60_000;
      const e = s + pick(r, [30, 60]) * 60_000;
      const exclude = uids.length && r() < 0.3 ? pick(r, uids) : undefined;
      const got = pickHosts(state, et, s, e, exclude)?.map((h) => h.apiKey) ?? null;
      const want = pickHosts(old, et, s, e, exclude)?.map((h) => h.apiKey) ?? null;
      expect([et.id, s, exclude, got]).toEqual([et.id, s, exclude, want]);
    }
    const from = DateTime.fromMillis(DAY0 + Math.floor(r() * 3) * 86_400_000, { zone: 'utc' });
    const q = {
      from,
      to: from.plus({ days: 2 }),
      timeZone: pick(r, ZONES),
      lengthMinutes: et.lengthInMinutes,
      range: r() < 0.5,
      ...(uids.length && r() < 0.3 ? { excludeUid: pick(r, uids) } : {}),
    };
    const now = new Date(DAY0);
    expect(listSlots(state, et, q, now)).toEqual(listSlots(old, et, q, now));
  }
}

describe('SimState host and uid indexes', () => {
  it('answer as the full scan did, over random bookings, cancellations, team changes and resets', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const r = rng(seed);
      const { state, ets } = seedState(r);
      const uids: string[] = [];
      for (let round = 0; round < 4; round++) {
        for (let i = 0; i < 60; i++) state.addBooking(randomBooking(r, state, uids));
        // Allowed mutations: status (cancel, reschedule's old booking) and a host's team membership.
        for (const b of state.bookings) if (r() < 0.05) b.status = 'cancelled';
        const k = pick(r, KEYS);
        const a = state.accounts.get(k)!;
        state.addAccount({ apiKey: k, username: a.username, timeZone: a.timeZone, teamIds: [1, 2].filter(() => r() < 0.5) });
        compare(state, ets, r, uids);
        if (round === 2) {
          state.reset(false);
          uids.length = 0;
          expect(state.bookings).toEqual([]);
          compare(state, ets, r, uids);
        }
      }
    }
  });

  it('lists each booking of the hosts once: only theirs, or every booking when they hold half or more', () => {
    const r = rng(99);
    const { state } = seedState(r);
    const uids: string[] = [];
    for (let i = 0; i < 300; i++) state.addBooking(randomBooking(r, state, uids));
    for (const hosts of [[], ['k_a'], ['k_a', 'k_a'], ['k_a', 'k_b'], ['k_ghost'], ['k_zzz'], KEYS]) {
      const got = state.bookingsOfHosts(hosts);
      expect(new Set(got).size).toBe(got.length);
      const want = state.bookings.filter((b) => b.hostApiKeys.some((k) => hosts.includes(k)));
      const held = [...new Set(hosts)].reduce((n, k) => n + state.bookings.filter((b) => b.hostApiKeys.includes(k)).length, 0);
      if (hosts.length > 1 && held * 2 >= state.bookings.length) expect(got).toBe(state.bookings);
      else expect(new Set(got)).toEqual(new Set(want));
    }
  });
});

describe('through the API: shared hosts, reschedule, cancel, reset', () => {
  const A = 'cal_test_a';
  const B = 'cal_test_b';
  const C = 'cal_test_c';
  const headers = (key: string) => ({
    authorization: `Bearer ${key}`,
    'cal-api-version': '2024-08-13',
    'content-type': 'application/json',
  });

  function setup() {
    const sim = createCalcomSim({ now: () => new Date('2026-10-20T06:00:00Z') });
    sim.addAccount({ apiKey: A, username: 'a', timeZone: 'UTC', teamIds: [7] });
    sim.addAccount({ apiKey: B, username: 'b', timeZone: 'UTC', teamIds: [7] });
    sim.addAccount({ apiKey: C, username: 'c', timeZone: 'UTC' });
    sim.addEventType({ id: 1, slug: 'pa', title: 'A', lengthInMinutes: 30, ownerApiKey: A });
    sim.addEventType({ id: 2, slug: 'pb', title: 'B', lengthInMinutes: 30, ownerApiKey: B });
    sim.addEventType({ id: 3, slug: 'col', title: 'Col', lengthInMinutes: 30, ownerApiKey: A, teamId: 7, teamSlug: 't', schedulingType: 'collective' });
    sim.addEventType({ id: 4, slug: 'rr', title: 'RR', lengthInMinutes: 30, ownerApiKey: A, teamId: 7, teamSlug: 't', schedulingType: 'roundRobin' });
    // C owns a team event type of team 7 without being listed in it: a host of 5, not of 3 and 4.
    sim.addEventType({ id: 5, slug: 'rr-c', title: 'RR C', lengthInMinutes: 30, ownerApiKey: C, teamId: 7, teamSlug: 't2', schedulingType: 'roundRobin' });
    const post = (key: string, path: string, body: unknown) =>
      sim.app.request(`/v2/bookings${path}`, { method: 'POST', headers: headers(key), body: JSON.stringify(body) });
    const book = (key: string, eventTypeId: number, start: string) =>
      post(key, '', { start, eventTypeId, attendee: { name: 'X', email: 'x@example.com', timeZone: 'Europe/Berlin' } });
    return { sim, post, book };
  }

  it('a host busy through one event type is busy for every other, until cancelled or moved', async () => {
    const { sim, post, book } = setup();
    const at = '2026-10-20T10:00:00.000Z';
    const b = (await (await book(B, 2, at)).json()).data; // B busy at 10:00 through its personal type
    expect((await book(A, 3, at)).status).toBe(400); // collective needs A and B
    const rr = await (await book(A, 4, at)).json(); // round robin: A is free
    expect(rr.data.hosts.map((h: { username: string }) => h.username)).toEqual(['a']);
    expect((await book(A, 4, at)).status).toBe(400); // now both are busy
    expect((await book(C, 5, at)).status).toBe(201); // C (owner of 5) is free; A, B busy
    // Move B's booking away: B is free at 10:00 again, busy at 11:00.
    const moved = await (await post(B, `/${b.uid}/reschedule`, { start: '2026-10-20T11:00:00.000Z' })).json();
    expect(moved.status).toBe('success');
    expect((await book(A, 4, at)).status).toBe(201); // B takes the round robin at 10:00
    expect((await book(A, 3, '2026-10-20T11:00:00.000Z')).status).toBe(400);
    // Reschedule the moved one again by its new uid (found through the uid map), then cancel it.
    const again = await (await post(B, `/${moved.data.uid}/reschedule`, { start: '2026-10-20T12:00:00.000Z' })).json();
    expect(again.status).toBe('success');
    expect((await book(A, 3, '2026-10-20T11:00:00.000Z')).status).toBe(201);
    expect((await post(B, `/${again.data.uid}/cancel`, {})).status).toBe(200);
    expect((await book(A, 3, '2026-10-20T12:00:00.000Z')).status).toBe(201);
    // The old uids still resolve (to the cancelled bookings) and say where they went.
    const gone = await post(B, `/${b.uid}/reschedule`, { start: '2026-10-20T13:00:00.000Z' });
    expect((await gone.json()).error.message).toContain(moved.data.uid);
    // reset empties the indexes with the bookings.
    sim.reset();
    expect(sim.bookings()).toEqual([]);
    expect((await post(B, `/${b.uid}/cancel`, {})).status).toBe(404);
    expect((await book(A, 3, at)).status).toBe(201);
  });
});
