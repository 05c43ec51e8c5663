import {
  audit
} from "./chunk-54VZ3ZP4.js";
import {
  bookingDeps,
  isServiceFailure
} from "./chunk-6VOENOB6.js";
import {
  HANDLED_EVENTS
} from "./chunk-RDU6U4K7.js";
import {
  cacheKeys
} from "./chunk-XN5S2XO3.js";
import {
  open,
  openJson
} from "./chunk-RUAA5PEO.js";
import {
  jobIds
} from "./chunk-Z42SQZT6.js";
import {
  appointments,
  branches,
  calls,
  companies,
  customers,
  notifications,
  services
} from "./chunk-AQ2OROU7.js";

// lib/gdpr/export.ts
import { mkdir, writeFile, chmod } from "node:fs/promises";
import { join, resolve } from "node:path";
import { and, asc, eq, inArray } from "drizzle-orm";
var EXPORT_FORMAT = "callbook.gdpr-export/1";
var iso = (d) => d ? d.toISOString() : null;
var GdprNotFoundError = class extends Error {
  name = "GdprNotFoundError";
};
var APPOINTMENT_NOTIFICATION_KINDS = ["booking_confirmed", "booking_failed"];
async function exportCustomer(ctx, req) {
  const db = ctx.database.db;
  const { companyId, customerId } = req;
  const [company] = await db.select({ id: companies.id, slug: companies.slug, name: companies.name }).from(companies).where(eq(companies.id, companyId));
  if (!company) throw new GdprNotFoundError(`company ${companyId} does not exist`);
  const [customer] = await db.select().from(customers).where(and(eq(customers.companyId, companyId), eq(customers.id, customerId)));
  if (!customer) throw new GdprNotFoundError(`customer ${customerId} is not a customer of company ${company.slug}`);
  const callRows = await db.select({ call: calls, branch: branches.slug }).from(calls).leftJoin(branches, and(eq(branches.id, calls.branchId), eq(branches.companyId, companyId))).where(and(eq(calls.companyId, companyId), eq(calls.customerId, customerId))).orderBy(asc(calls.id));
  const apptRows = await db.select({ appt: appointments, service: services.slug, branch: branches.slug }).from(appointments).leftJoin(services, and(eq(services.id, appointments.serviceId), eq(services.companyId, companyId))).leftJoin(branches, and(eq(branches.id, appointments.branchId), eq(branches.companyId, companyId))).where(and(eq(appointments.companyId, companyId), eq(appointments.customerId, customerId))).orderBy(asc(appointments.id));
  const apptIds = apptRows.map((r) => r.appt.id);
  const noteRows = apptIds.length ? await db.select().from(notifications).where(
    and(
      eq(notifications.companyId, companyId),
      inArray(notifications.kind, APPOINTMENT_NOTIFICATION_KINDS),
      inArray(notifications.ref, apptIds.map(String))
    )
  ).orderBy(asc(notifications.id)) : [];
  const data = {
    format: EXPORT_FORMAT,
    exportedAt: (req.now ?? /* @__PURE__ */ new Date()).toISOString(),
    company,
    customer: { id: customer.id, name: open(customer.name), email: open(customer.email), phone: open(customer.phone), createdAt: iso(customer.createdAt), erasedAt: iso(customer.erasedAt) },
    calls: callRows.map(({ call: c, branch }) => ({
      id: c.id,
      retellCallId: c.retellCallId,
      branch,
      direction: c.direction,
      fromNumber: open(c.fromNumber),
      toNumber: open(c.toNumber),
      status: c.status,
      startedAt: iso(c.startedAt),
      endedAt: iso(c.endedAt),
      durationMs: c.durationMs,
      transcript: open(c.transcript),
      summary: open(c.summary),
      sentiment: c.sentiment,
      recordingUrl: open(c.recordingUrl),
      dynamicVariables: openJson(c.dynamicVariables),
      analysisData: openJson(c.analysisData),
      bookingDecision: c.bookingDecision,
      bookingReason: c.bookingReason,
      appointmentId: c.appointmentId,
      purgedAt: iso(c.purgedAt)
    })),
    appointments: apptRows.map(({ appt: a, service, branch }) => ({
      id: a.id,
      service,
      branch,
      startAt: iso(a.startAt),
      endAt: iso(a.endAt),
      status: a.status,
      calcomBookingUid: a.calcomBookingUid,
      failureReason: a.failureReason,
      alternatives: a.alternatives,
      callId: a.callId,
      createdAt: iso(a.createdAt)
    })),
    notifications: noteRows.map((n) => ({
      appointmentId: Number(n.ref),
      kind: n.kind,
      channel: n.channel,
      status: n.status,
      recipient: n.recipient,
      sentAt: iso(n.sentAt),
      createdAt: iso(n.createdAt)
    }))
  };
  await audit(db, {
    companyId,
    actor: req.actor,
    action: "gdpr.export",
    target: `customer:${customerId}`,
    details: { calls: data.calls.length, appointments: data.appointments.length, notifications: data.notifications.length }
  });
  return data;
}
async function writeExport(dir, data) {
  const abs = resolve(dir);
  await mkdir(abs, { recursive: true, mode: 448 });
  const stamp = data.exportedAt.replace(/[-:]/g, "").replace(".", "");
  const body = JSON.stringify(data, null, 2) + "\n";
  for (let n = 1; ; n++) {
    const path = join(abs, `${data.company.slug}-${data.customer.id}-${stamp}${n > 1 ? `-${n}` : ""}.json`);
    try {
      await writeFile(path, body, { mode: 384, flag: "wx" });
    } catch (err) {
      if (err.code === "EEXIST" && n < 100) continue;
      throw err;
    }
    await chmod(path, 384);
    return path;
  }
}

// lib/gdpr/erase.ts
import { and as and2, eq as eq2, gt, inArray as inArray2, sql } from "drizzle-orm";
import { DateTime } from "luxon";
var CANCELLATION_REASON = "GDPR erasure request";
async function eraseCustomer(ctx, req, depsOverride) {
  return eraseCustomerWith(ctx, req, () => depsOverride ?? bookingDeps(ctx));
}
async function eraseCustomerWith(ctx, req, deps) {
  const db = ctx.database.db;
  const { companyId, customerId } = req;
  const now = req.now ?? /* @__PURE__ */ new Date();
  const log = ctx.logger.child({ component: "gdpr", companyId, customerId });
  const [company] = await db.select().from(companies).where(eq2(companies.id, companyId));
  if (!company) throw new GdprNotFoundError(`company ${companyId} does not exist`);
  const [customer] = await db.select().from(customers).where(and2(eq2(customers.companyId, companyId), eq2(customers.id, customerId)));
  if (!customer) throw new GdprNotFoundError(`customer ${customerId} is not a customer of company ${company.slug}`);
  const ofCustomer = and2(eq2(appointments.companyId, companyId), eq2(appointments.customerId, customerId));
  const upcoming = await db.select({
    id: appointments.id,
    uid: appointments.calcomBookingUid,
    startAt: appointments.startAt,
    status: appointments.status,
    eventTypeId: services.calcomEventTypeId,
    timezone: branches.timezone
  }).from(appointments).leftJoin(services, and2(eq2(services.id, appointments.serviceId), eq2(services.companyId, companyId))).leftJoin(branches, and2(eq2(branches.id, appointments.branchId), eq2(branches.companyId, companyId))).where(and2(ofCustomer, gt(appointments.startAt, now), inArray2(appointments.status, ["booked", "pending"])));
  const warnings = [];
  const bookings = { mode: req.cancelBookings ? "cancel" : "keep", cancelled: [], failed: [], kept: [] };
  const outcome = (a) => ({ appointmentId: a.id, uid: a.uid, start: a.startAt.toISOString() });
  for (const a of upcoming.filter((x) => x.status === "pending")) {
    warnings.push(`appointment ${a.id} (${a.startAt.toISOString()}) is still being booked (pending); check the bookings queue and Cal.com once it settles`);
  }
  const booked = upcoming.filter((x) => x.status === "booked");
  if (!req.cancelBookings) {
    bookings.kept = booked.map(outcome);
  } else if (booked.length) {
    const apiKey = company.calcomApiKeyEnc ? ctx.cipher.decrypt(company.calcomApiKeyEnc) : null;
    const d = apiKey ? deps() : null;
    for (const a of booked) {
      if (!apiKey || !d) {
        bookings.failed.push({ ...outcome(a), error: `company ${company.slug} has no Cal.com API key` });
        continue;
      }
      if (!a.uid) {
        bookings.failed.push({ ...outcome(a), error: "booked appointment has no Cal.com uid" });
        continue;
      }
      const uid = a.uid;
      try {
        await d.breaker.run(() => d.clientFor(apiKey).cancelBooking(uid, { cancellationReason: CANCELLATION_REASON }, req.signal), isServiceFailure);
      } catch (err) {
        const msg = err instanceof Error ? err.message : String(err);
        if (!/cancelled already/i.test(msg)) {
          bookings.failed.push({ ...outcome(a), error: msg.slice(0, 500) });
          continue;
        }
      }
      await db.update(appointments).set({ status: "cancelled" }).where(and2(eq2(appointments.id, a.id), eq2(appointments.companyId, companyId), eq2(appointments.status, "booked")));
      bookings.cancelled.push(outcome(a));
      if (a.eventTypeId && a.timezone) {
        const day = DateTime.fromJSDate(a.startAt).setZone(a.timezone).toISODate();
        if (day) await ctx.cache.invalidate(cacheKeys.availability(a.eventTypeId, day)).catch((err) => log.warn({ err }, "could not clear availability cache"));
      }
    }
  }
  const callRows = await db.select({ id: calls.id, retellCallId: calls.retellCallId }).from(calls).where(and2(eq2(calls.companyId, companyId), eq2(calls.customerId, customerId)));
  const counts = await db.transaction(async (tx) => {
    await tx.update(customers).set({ name: null, email: null, phone: `erased-${customerId}`, phoneIndex: `erased-${customerId}`, erasedAt: customer.erasedAt ?? now }).where(and2(eq2(customers.companyId, companyId), eq2(customers.id, customerId)));
    const phone = open(customer.phone);
    const numbers = await tx.select({ id: calls.id, direction: calls.direction, fromNumber: calls.fromNumber, toNumber: calls.toNumber }).from(calls).where(and2(eq2(calls.companyId, companyId), eq2(calls.customerId, customerId)));
    for (const r of numbers) {
      const outbound = r.direction === "outbound";
      const isCaller = (v) => v !== null && open(v) === phone;
      const fromNumber = outbound && !isCaller(r.fromNumber) ? r.fromNumber : null;
      const toNumber = outbound || isCaller(r.toNumber) ? null : r.toNumber;
      if (fromNumber !== r.fromNumber || toNumber !== r.toNumber) {
        await tx.update(calls).set({ fromNumber, toNumber }).where(and2(eq2(calls.id, r.id), eq2(calls.companyId, companyId)));
      }
    }
    const [c] = await tx.update(calls).set({
      callerIndex: null,
      transcript: null,
      summary: null,
      recordingUrl: null,
      dynamicVariables: null,
      analysisData: null,
      bookingReason: null,
      // Also a purge: a late webhook for this call must not write what was said back (lib/calls/record-call).
      purgedAt: sql`COALESCE(${calls.purgedAt}, ${now})`
    }).where(and2(eq2(calls.companyId, companyId), eq2(calls.customerId, customerId)));
    const [ap] = await tx.update(appointments).set({ failureReason: null, alternatives: null }).where(ofCustomer);
    const apptIds = (await tx.select({ id: appointments.id }).from(appointments).where(ofCustomer)).map((r) => String(r.id));
    let notes = 0;
    if (apptIds.length) {
      const [n] = await tx.update(notifications).set({ recipient: null }).where(and2(eq2(notifications.companyId, companyId), inArray2(notifications.kind, APPOINTMENT_NOTIFICATION_KINDS), inArray2(notifications.ref, apptIds)));
      notes = n.affectedRows;
    }
    const result2 = { calls: c.affectedRows, appointments: ap.affectedRows, notifications: notes };
    await audit(tx, {
      companyId,
      actor: req.actor,
      action: "gdpr.erase",
      target: `customer:${customerId}`,
      details: {
        ...result2,
        alreadyErased: customer.erasedAt !== null,
        cancelBookings: req.cancelBookings,
        cancelled: bookings.cancelled.map((b) => b.appointmentId),
        cancelFailed: bookings.failed.map((b) => b.appointmentId),
        kept: bookings.kept.map((b) => b.appointmentId)
      }
    });
    return result2;
  });
  let webhookJobsRemoved = 0;
  for (const call of callRows) {
    for (const event of HANDLED_EVENTS) {
      const jobId = jobIds.retellWebhook(call.retellCallId, event);
      try {
        if (!await ctx.queues.webhooks.getJob(jobId)) continue;
        if (await ctx.queues.webhooks.remove(jobId) === 1) webhookJobsRemoved++;
        else warnings.push(`webhook job ${jobId} is running and was left in Redis; erase again once it has finished`);
      } catch (err) {
        warnings.push(`webhook job ${jobId} could not be removed from Redis (${err.message}); erase again`);
      }
    }
  }
  const complete = bookings.failed.length === 0;
  const parts = [`customer ${customerId} of ${company.slug} erased locally (${counts.calls} calls, ${counts.appointments} appointments, ${counts.notifications} notifications)`];
  if (bookings.mode === "cancel") {
    parts.push(`${bookings.cancelled.length} upcoming Cal.com booking(s) cancelled`);
    if (bookings.failed.length) {
      parts.push(
        `${bookings.failed.length} could NOT be cancelled and are still live in Cal.com with the customer's details \u2014 cancel by hand: ` + bookings.failed.map((f) => `appointment ${f.appointmentId} uid ${f.uid ?? "?"} (${f.error})`).join("; ")
      );
    }
  } else if (bookings.kept.length) {
    parts.push(`${bookings.kept.length} upcoming Cal.com booking(s) kept as asked; Cal.com still holds the attendee's name and number for them`);
  }
  const result = {
    companyId,
    customerId,
    erasedLocally: true,
    alreadyErased: customer.erasedAt !== null,
    ...counts,
    bookings,
    webhookJobsRemoved,
    warnings,
    complete,
    message: parts.join("; ")
  };
  log.info({ calls: counts.calls, cancelled: bookings.cancelled.length, cancelFailed: bookings.failed.length, kept: bookings.kept.length, webhookJobsRemoved }, "customer erased");
  return result;
}

export {
  GdprNotFoundError,
  exportCustomer,
  writeExport,
  eraseCustomer
};
//# sourceMappingURL=chunk-OPXCA3TF.js.map
