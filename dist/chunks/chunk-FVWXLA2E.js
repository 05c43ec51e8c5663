import {
  checkService,
  loadCatalogue
} from "./chunk-WCWRLYGH.js";
import {
  BreakerOpenError,
  CalcomError,
  isServiceFailure
} from "./chunk-6VOENOB6.js";
import {
  TTL_MS,
  cacheKeys
} from "./chunk-XN5S2XO3.js";
import {
  openPii
} from "./chunk-RUAA5PEO.js";
import {
  jobIds
} from "./chunk-Z42SQZT6.js";
import {
  appointments,
  appointmentsCreatedTotal,
  bookingTotal,
  branches,
  calls,
  callsProcessedTotal,
  companies,
  customers,
  services
} from "./chunk-AQ2OROU7.js";

// lib/booking/errors.ts
var BookingRejected = class extends Error {
  constructor(reason, kind, alternatives = []) {
    super(reason);
    this.reason = reason;
    this.kind = kind;
    this.alternatives = alternatives;
  }
  reason;
  kind;
  alternatives;
  name = "BookingRejected";
};
var BookingDeferred = class extends Error {
  constructor(reason, retryAt) {
    super(`${reason}; retry at ${new Date(retryAt).toISOString()}`);
    this.reason = reason;
    this.retryAt = retryAt;
  }
  reason;
  retryAt;
  name = "BookingDeferred";
};

// lib/booking/book.ts
import { randomBytes } from "node:crypto";
import { DateTime as DateTime2 } from "luxon";

// lib/booking/alternatives.ts
import { DateTime } from "luxon";
async function nearestFreeSlots(client, q, signal) {
  const day = DateTime.fromJSDate(q.requested).setZone(q.timeZone).startOf("day");
  const slots = await client.getSlots(
    { eventTypeId: q.eventTypeId, start: day.toUTC().toISO(), end: day.plus({ days: 3 }).toUTC().toISO(), timeZone: q.timeZone },
    signal
  );
  const now = (q.now ?? /* @__PURE__ */ new Date()).getTime();
  const wanted = q.requested.getTime();
  return Object.values(slots).flat().map((s) => new Date(s.start)).filter((d) => d.getTime() > now && d.getTime() !== wanted).sort((a, b) => Math.abs(a.getTime() - wanted) - Math.abs(b.getTime() - wanted) || b.getTime() - a.getTime()).slice(0, q.count ?? 3).sort((a, b) => a.getTime() - b.getTime()).map((d) => d.toISOString());
}
function describeSlots(slots, requested, timeZone) {
  const day = DateTime.fromJSDate(requested).setZone(timeZone).toISODate();
  return slots.map((s) => {
    const t = DateTime.fromISO(s).setZone(timeZone);
    return t.toISODate() === day ? t.toFormat("HH:mm") : t.toFormat("ccc dd.MM. HH:mm", { locale: "en" });
  }).join(", ");
}

// lib/booking/appointment-store.ts
import { and, eq, sql } from "drizzle-orm";
async function findByKey(db, companyId, key) {
  const [row] = await db.select().from(appointments).where(and(eq(appointments.companyId, companyId), eq(appointments.idempotencyKey, key)));
  return row;
}
async function ensurePending(db, job, endAt) {
  await db.insert(appointments).values({
    companyId: job.companyId,
    branchId: job.branchId,
    customerId: job.customerId,
    callId: job.callId ?? null,
    serviceId: job.serviceId,
    idempotencyKey: job.idempotencyKey,
    startAt: new Date(job.start),
    endAt,
    status: "pending",
    source: job.source
  }).onDuplicateKeyUpdate({ set: { idempotencyKey: sql`${appointments.idempotencyKey}` } });
  const row = await findByKey(db, job.companyId, job.idempotencyKey);
  if (!row) throw new Error(`appointment ${job.idempotencyKey} belongs to another company`);
  return row;
}
async function markRequestSent(db, id) {
  await db.update(appointments).set({ calcomRequestSentAt: /* @__PURE__ */ new Date(), attempts: sql`${appointments.attempts} + 1`, status: "pending", failureReason: null }).where(eq(appointments.id, id));
}
async function markBooked(db, row, booking) {
  const now = /* @__PURE__ */ new Date();
  const status = booking.status === "cancelled" ? "cancelled" : "booked";
  await db.execute(sql`
    UPDATE ${appointments} a
    LEFT JOIN ${calls} c ON c.id = ${row.callId ?? null} AND c.company_id = a.company_id
    SET a.status = ${status}, a.calcom_booking_uid = ${booking.uid}, a.calcom_booking_id = ${booking.id},
        a.start_at = ${new Date(booking.start)}, a.end_at = ${new Date(booking.end)},
        a.failure_reason = NULL, a.alternatives = NULL, a.updated_at = ${now},
        c.appointment_id = a.id, c.updated_at = ${now}
    WHERE a.id = ${row.id}`);
}
async function markFailed(db, id, reason, alternatives) {
  await db.update(appointments).set({ status: "failed", failureReason: reason.slice(0, 1e3), alternatives: alternatives ?? null }).where(eq(appointments.id, id));
}

// lib/booking/load.ts
import { and as and2, eq as eq2 } from "drizzle-orm";
var BookingInputError = class extends Error {
  name = "BookingInputError";
};
async function loadBookingContext(db, cipher, job) {
  const c = job.companyId;
  const [[company], [branch], [service], [customer]] = await Promise.all([
    db.select().from(companies).where(eq2(companies.id, c)),
    db.select().from(branches).where(and2(eq2(branches.id, job.branchId), eq2(branches.companyId, c))),
    db.select().from(services).where(and2(eq2(services.id, job.serviceId), eq2(services.companyId, c))),
    db.select().from(customers).where(and2(eq2(customers.id, job.customerId), eq2(customers.companyId, c)))
  ]);
  if (!company) throw new BookingInputError(`company ${c} does not exist`);
  if (!branch) throw new BookingInputError(`branch ${job.branchId} is not a branch of company ${company.slug}`);
  if (!service) throw new BookingInputError(`service ${job.serviceId} is not a service of company ${company.slug}`);
  if (!customer) throw new BookingInputError(`customer ${job.customerId} is not a customer of company ${company.slug}`);
  if (customer.erasedAt) throw new BookingInputError(`customer ${job.customerId} was erased (GDPR) before this booking ran`);
  if (service.branchId !== null && service.branchId !== branch.id) {
    throw new BookingInputError(`service ${service.slug} is not offered at branch ${branch.name}`);
  }
  if (!company.calcomApiKeyEnc) throw new BookingInputError(`company ${company.slug} has no Cal.com API key (add calcomApiKey to its tenants entry)`);
  return {
    company: { id: company.id, slug: company.slug, calcomApiKey: cipher.decrypt(company.calcomApiKeyEnc), calcomUsername: company.calcomUsername },
    branch: { id: branch.id, name: branch.name, timezone: branch.timezone, language: branch.language },
    service,
    // PII may be stored encrypted (lib/pii): the attendee needs the plaintext.
    customer: { id: customer.id, phone: openPii(cipher, customer.phone), name: openPii(cipher, customer.name), email: openPii(cipher, customer.email) }
  };
}

// lib/booking/book.ts
var LOCK_LEASE_MS = 15e3;
var LOCK_RENEW_MS = 5e3;
var LOCK_RETRY_MS = 2e3;
var RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";
var RENEW = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0";
var PERMANENT = /* @__PURE__ */ new Set(["slot_unavailable", "out_of_bounds", "in_past", "validation", "auth", "forbidden", "not_found", "conflict"]);
function done(row) {
  if (row.calcomBookingUid && row.status !== "pending" && row.status !== "failed") {
    return { status: "already_booked", appointmentId: row.id, uid: row.calcomBookingUid, start: row.startAt.toISOString() };
  }
  return null;
}
async function executeBooking(deps, job, signal) {
  const log = deps.logger.child({ booking: job.idempotencyKey.slice(0, 12), companyId: job.companyId });
  const existing = await findByKey(deps.db, job.companyId, job.idempotencyKey);
  const early = existing && done(existing);
  if (early) {
    bookingTotal.inc({ status: "cached" });
    await confirmOnce(deps, existing);
    return early;
  }
  const lockKey = `${deps.ns}mcp:calcom:booking-lock:${job.idempotencyKey}`;
  const token = randomBytes(8).toString("hex");
  if (await deps.redis.set(lockKey, token, "PX", LOCK_LEASE_MS, "NX") !== "OK") {
    throw new BookingDeferred("another attempt for this booking is in progress", Date.now() + LOCK_RETRY_MS);
  }
  const renew = setInterval(() => {
    deps.redis.eval(RENEW, 1, lockKey, token, LOCK_LEASE_MS).then(
      (held) => Number(held) === 1 || log.warn("booking lock lapsed while the attempt ran"),
      (err) => log.warn({ err }, "could not renew booking lock")
    );
  }, LOCK_RENEW_MS);
  renew.unref();
  try {
    return await bookLocked(deps, job, log, signal);
  } finally {
    clearInterval(renew);
    await deps.redis.eval(RELEASE, 1, lockKey, token).catch((err) => log.warn({ err }, "could not release booking lock"));
  }
}
async function bookLocked(deps, job, log, signal) {
  let ctx;
  try {
    ctx = await loadBookingContext(deps.db, deps.cipher, job);
  } catch (err) {
    if (err instanceof BookingInputError) throw new BookingRejected(err.message, "input");
    throw err;
  }
  const start = new Date(job.start);
  const end = new Date(start.getTime() + ctx.service.durationMinutes * 6e4);
  const row = await ensurePending(deps.db, job, end);
  const already = done(row);
  if (already) {
    bookingTotal.inc({ status: "cached" });
    await confirmOnce(deps, row);
    return already;
  }
  const client = guard(deps, deps.clientFor(ctx.company.calcomApiKey));
  const uidKey = deps.ns + cacheKeys.booking(job.idempotencyKey);
  const knownUid = await deps.redis.get(uidKey);
  if (knownUid) {
    const booking2 = await client.getBooking(knownUid, signal);
    log.info({ uid: knownUid }, "recovered a booking Cal.com had accepted before a crash");
    return commit(deps, job, ctx, row, booking2, log);
  }
  if (row.calcomRequestSentAt) {
    const found = await reconcile(client, job, ctx, start, end, signal);
    if (found) {
      log.info({ uid: found.uid }, "reconciled: Cal.com already has this booking");
      await deps.redis.set(uidKey, found.uid, "PX", TTL_MS.booking);
      return commit(deps, job, ctx, row, found, log);
    }
  }
  const catalogue = await loadCatalogue(
    deps.cache,
    client,
    { id: ctx.company.id, calcomUsername: ctx.company.calcomUsername },
    ctx.service.calcomTeamId ? [ctx.service.calcomTeamId] : [],
    signal
  );
  const invalid = checkService(catalogue, ctx.service);
  if (invalid) return reject(deps, row, new BookingRejected(invalid, "event_type"));
  await markRequestSent(deps.db, row.id);
  let booking;
  try {
    booking = await client.createBooking(
      {
        start: start.toISOString(),
        eventTypeId: ctx.service.calcomEventTypeId,
        attendee: {
          name: ctx.customer.name ?? ctx.customer.phone,
          timeZone: ctx.branch.timezone,
          phoneNumber: ctx.customer.phone,
          ...ctx.customer.email ? { email: ctx.customer.email } : {},
          language: ctx.branch.language
        },
        // Our key travels with the booking: the only way to find it again after an uncertain outcome.
        metadata: { callbook_key: job.idempotencyKey, callbook_company: ctx.company.slug, ...job.callId ? { callbook_call: String(job.callId) } : {} }
      },
      signal
    );
  } catch (err) {
    if (err instanceof CalcomError && err.kind === "slot_unavailable") {
      const alternatives = await nearestFreeSlots(client, { eventTypeId: ctx.service.calcomEventTypeId, requested: start, timeZone: ctx.branch.timezone }, signal).catch(
        (e) => (log.warn({ err: e }, "could not look up free slots"), [])
      );
      const when = DateTime2.fromJSDate(start).setZone(ctx.branch.timezone).toFormat("dd.MM.yyyy HH:mm");
      const reason = `slot taken (${when}); ${alternatives.length ? `free: ${describeSlots(alternatives, start, ctx.branch.timezone)}` : "no free slot nearby"}`;
      return reject(deps, row, new BookingRejected(reason, err.kind, alternatives));
    }
    if (err instanceof CalcomError && PERMANENT.has(err.kind)) {
      return reject(deps, row, new BookingRejected(`Cal.com refused the booking (${err.kind}): ${err.message}`, err.kind));
    }
    throw err;
  }
  await deps.redis.set(uidKey, booking.uid, "PX", TTL_MS.booking);
  await deps.afterCalcomAccepted?.(booking.uid);
  return commit(deps, job, ctx, row, booking, log);
}
function guard(deps, c) {
  return {
    getBooking: (...a) => callCalcom(deps, () => c.getBooking(...a)),
    listAllBookings: (...a) => callCalcom(deps, () => c.listAllBookings(...a)),
    listEventTypes: (...a) => callCalcom(deps, () => c.listEventTypes(...a)),
    listTeamEventTypes: (...a) => callCalcom(deps, () => c.listTeamEventTypes(...a)),
    createBooking: (...a) => callCalcom(deps, () => c.createBooking(...a)),
    getSlots: (...a) => callCalcom(deps, () => c.getSlots(...a))
  };
}
async function callCalcom(deps, fn) {
  try {
    return await deps.breaker.run(fn, isServiceFailure);
  } catch (err) {
    if (err instanceof BreakerOpenError) throw new BookingDeferred(`Cal.com circuit breaker is ${err.state}`, err.retryAt);
    if (err instanceof CalcomError && err.kind === "rate_limited") {
      throw new BookingDeferred("Cal.com rate limit reached", err.retryAt ?? Date.now() + 6e4);
    }
    throw err;
  }
}
async function reconcile(client, job, ctx, start, end, signal) {
  const bookings = await client.listAllBookings(
    {
      eventTypeId: ctx.service.calcomEventTypeId,
      afterStart: new Date(start.getTime() - 6e4).toISOString(),
      beforeEnd: new Date(end.getTime() + 6e4).toISOString()
    },
    signal
  );
  return bookings.find((b) => b.metadata?.callbook_key === job.idempotencyKey) ?? null;
}
async function reject(deps, row, rejection) {
  await markFailed(deps.db, row.id, rejection.reason, rejection.alternatives);
  bookingTotal.inc({ status: "failed" });
  if (row.callId) callsProcessedTotal.inc({ outcome: "failed" });
  await deps.publish?.({ type: "booking.failed", companyId: row.companyId, branchId: row.branchId, appointmentId: row.id, reason: rejection.reason });
  throw rejection;
}
async function commit(deps, job, ctx, row, booking, log) {
  await markBooked(deps.db, row, booking);
  const day = DateTime2.fromISO(booking.start).setZone(ctx.branch.timezone).toISODate();
  await deps.cache.invalidate(cacheKeys.availability(ctx.service.calcomEventTypeId, day));
  bookingTotal.inc({ status: "created" });
  appointmentsCreatedTotal.inc({ source: job.source });
  if (row.callId) callsProcessedTotal.inc({ outcome: "booked" });
  await confirmOnce(deps, { ...row, status: "booked" });
  await deps.publish?.({ type: "booking.booked", companyId: row.companyId, branchId: row.branchId, appointmentId: row.id, start: booking.start });
  log.info({ appointmentId: row.id, uid: booking.uid, start: booking.start }, "booked");
  return { status: "booked", appointmentId: row.id, uid: booking.uid, start: booking.start };
}
async function confirmOnce(deps, row) {
  if (!deps.notificationsQueue || row.status !== "booked") return;
  const note = { kind: "booking_confirmed", companyId: row.companyId, appointmentId: row.id };
  await deps.notificationsQueue.add("booking_confirmed", note, { jobId: jobIds.notification("booking_confirmed", row.id) });
}
async function recordFinalFailure(deps, job, reason) {
  const row = await findByKey(deps.db, job.companyId, job.idempotencyKey);
  if (!row || row.status === "booked") return;
  await markFailed(deps.db, row.id, reason);
  bookingTotal.inc({ status: "failed" });
  if (row.callId) callsProcessedTotal.inc({ outcome: "failed" });
  await deps.publish?.({ type: "booking.failed", companyId: row.companyId, branchId: row.branchId, appointmentId: row.id, reason });
  if (deps.notificationsQueue) {
    const note = { kind: "booking_failed", companyId: job.companyId, appointmentId: row.id };
    await deps.notificationsQueue.add("booking_failed", note, { jobId: jobIds.notification("booking_failed", row.id) });
  }
}

export {
  nearestFreeSlots,
  describeSlots,
  BookingRejected,
  BookingDeferred,
  executeBooking,
  callCalcom,
  recordFinalFailure
};
//# sourceMappingURL=chunk-FVWXLA2E.js.map
