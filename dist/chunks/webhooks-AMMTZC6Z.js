import {
  claimEvent,
  extractIntent,
  findService,
  finishEvent
} from "./chunk-RXOHMDR6.js";
import {
  resolvePhone
} from "./chunk-5BOZF2J7.js";
import {
  bookingIdempotencyKey,
  upsertCall,
  upsertCustomer
} from "./chunk-YXWKEBKV.js";
import {
  parseDateAndTime,
  parseRequestedStart
} from "./chunk-GN4KETLM.js";
import {
  webhookSchema
} from "./chunk-RDU6U4K7.js";
import {
  publishEvent
} from "./chunk-SC2WLIXO.js";
import "./chunk-XN5S2XO3.js";
import "./chunk-RUAA5PEO.js";
import {
  jobIds,
  webhookJobSchema
} from "./chunk-Z42SQZT6.js";
import "./chunk-7WOGBSIY.js";
import {
  dbUnavailable
} from "./chunk-42NABTHE.js";
import {
  calls,
  callsProcessedTotal,
  satisfactionScore
} from "./chunk-AQ2OROU7.js";
import "./chunk-E5ZFRTTD.js";
import "./chunk-54KOYG5C.js";

// lib/calls/process-retell-webhook.ts
import { eq as eq2 } from "drizzle-orm";

// lib/calls/decide-booking.ts
import { and, eq, isNull } from "drizzle-orm";
async function evaluateIntent(db, where, retellCallId, intent, final, now = /* @__PURE__ */ new Date()) {
  const notYet = (reason) => final ? { kind: "no_booking", reason } : { kind: "wait", reason };
  if (!intent.confirmed) return notYet("caller did not confirm a booking");
  const opts = { timeZone: where.timezone, now, lang: where.language === "en" ? "en" : where.language === "de" ? "de" : void 0 };
  const when = intent.datetime ? parseRequestedStart(intent.datetime, opts) ?? parseDateAndTime(intent.date, intent.time ?? intent.datetime, opts) : parseDateAndTime(intent.date, intent.time, opts);
  const said = [intent.datetime, intent.date, intent.time].filter(Boolean).join(" ");
  if (!when) return notYet(said ? `could not read the requested time "${said}"` : "no date/time was collected");
  if (!when.hasTime) return notYet(`"${said}" names a day but no time`);
  if (when.start.getTime() <= now.getTime()) return { kind: "no_booking", reason: `requested time ${when.start.toISOString()} is in the past` };
  const service = await findService(db, where.companyId, where.branchId, intent);
  if (!service) {
    return notYet(intent.service || intent.eventTypeId ? `no service matches "${intent.service ?? intent.eventTypeId}"` : "no service named and the branch has no default");
  }
  const start = when.start.toISOString();
  const idempotencyKey = bookingIdempotencyKey({ companyId: where.companyId, callRef: retellCallId, eventTypeId: service.calcomEventTypeId, startIso: start });
  return { kind: "book", serviceId: service.id, start, idempotencyKey };
}
async function decideBooking(input) {
  const { db, where, callRowId } = input;
  const [row] = await db.select({ decision: calls.bookingDecision, request: calls.bookingRequest, reason: calls.bookingReason, appointmentId: calls.appointmentId }).from(calls).where(and(eq(calls.id, callRowId), eq(calls.companyId, where.companyId)));
  let decision;
  if (row?.decision === "book" && row.request) {
    decision = { kind: "book", ...row.request };
  } else if (row?.decision === "no_booking") {
    return { kind: "no_booking", reason: row.reason ?? "" };
  } else {
    const proposed = row?.appointmentId ? { kind: "no_booking", reason: `booked live during the call (appointment ${row.appointmentId})` } : await evaluateIntent(db, where, input.retellCallId, input.intent, input.final);
    if (proposed.kind === "wait") return proposed;
    if (proposed.kind === "book" && !input.customerId) {
      decision = { kind: "no_booking", reason: "caller number unknown (withheld), cannot create a customer" };
    } else {
      decision = proposed;
    }
    const [res] = await db.update(calls).set({
      bookingDecision: decision.kind,
      bookingReason: decision.kind === "no_booking" ? decision.reason.slice(0, 500) : null,
      bookingRequest: decision.kind === "book" ? { serviceId: decision.serviceId, start: decision.start, idempotencyKey: decision.idempotencyKey } : null
    }).where(and(eq(calls.id, callRowId), eq(calls.companyId, where.companyId), isNull(calls.bookingDecision)));
    if (res.affectedRows === 0) {
      return decideBooking(input);
    }
    if (decision.kind === "no_booking") callsProcessedTotal.inc({ outcome: "no_booking" });
    input.logger.info({ decision: decision.kind, reason: decision.kind === "no_booking" ? decision.reason : void 0 }, "booking decision");
  }
  if (decision.kind === "book") {
    const job = {
      companyId: where.companyId,
      branchId: where.branchId,
      customerId: input.customerId,
      serviceId: decision.serviceId,
      callId: callRowId,
      start: decision.start,
      idempotencyKey: decision.idempotencyKey,
      source: "call"
    };
    await input.bookingsQueue.add("book", job, { jobId: jobIds.booking(decision.idempotencyKey) });
  }
  return decision;
}

// lib/calls/process-retell-webhook.ts
var SENTIMENT_SCORE = { Positive: 1, Neutral: 0.5, Negative: 0 };
async function processRetellWebhook(deps, job) {
  const { db, logger } = deps;
  const { event, call } = webhookSchema.parse(JSON.parse(deps.cipher.decrypt(job.sealedBody)));
  const key = { provider: "retell", dedupeKey: `${call.call_id}:${event}` };
  const log = logger.child({ callId: call.call_id, event });
  if (!await claimEvent(db, key, { eventType: event, externalId: call.call_id, receivedAt: new Date(job.receivedAt) })) {
    log.info("duplicate delivery, already processed");
    return { status: "duplicate" };
  }
  const outbound = call.direction === "outbound";
  const businessNumber = outbound ? call.from_number : call.to_number;
  const customerNumber = outbound ? call.to_number : call.from_number;
  if (!businessNumber) {
    const reason = `call has no ${outbound ? "from_number" : "to_number"} (web call?): cannot tell which company it belongs to`;
    await finishEvent(db, key, "rejected", { error: reason });
    log.warn({ reason }, "webhook rejected");
    return { status: "rejected", reason };
  }
  const where = await resolvePhone(db, deps.cache, businessNumber);
  if (!where) {
    const reason = `unknown number ${businessNumber}: no phone_numbers row maps it to a company (import it with callbook tenants import)`;
    await finishEvent(db, key, "rejected", { error: reason });
    log.warn({ reason }, "webhook rejected");
    return { status: "rejected", reason };
  }
  const [earlier] = await db.select({ purgedAt: calls.purgedAt }).from(calls).where(eq2(calls.retellCallId, call.call_id));
  if (earlier?.purgedAt) {
    const reason = "call was purged (retention or GDPR erasure); late webhook ignored";
    await finishEvent(db, key, "ignored", { companyId: where.companyId, error: reason });
    log.info(reason);
    return { status: "rejected", reason };
  }
  const intent = extractIntent(call);
  const customerId = customerNumber ? await upsertCustomer(db, where.companyId, customerNumber, intent.customerName, intent.email) : null;
  const callRowId = await upsertCall(db, { companyId: where.companyId, branchId: where.branchId, customerId, event, call });
  const sentiment = call.call_analysis?.user_sentiment;
  if (sentiment && sentiment in SENTIMENT_SCORE) satisfactionScore.set({ company: where.companySlug, branch: where.branchSlug }, SENTIMENT_SCORE[sentiment]);
  let decision = { kind: "wait", reason: "call started" };
  if (event === "call_ended" || event === "call_analyzed") {
    decision = await decideBooking({
      db,
      bookingsQueue: deps.bookingsQueue,
      logger: log,
      where,
      callRowId,
      retellCallId: call.call_id,
      customerId,
      intent,
      final: event === "call_analyzed"
    });
  }
  await finishEvent(db, key, "processed", { companyId: where.companyId });
  await deps.publish?.({
    type: "call.updated",
    companyId: where.companyId,
    branchId: where.branchId,
    callId: call.call_id,
    status: event === "call_started" ? "ongoing" : event === "call_ended" ? "ended" : "analyzed",
    decision: decision.kind === "wait" ? null : decision.kind
  });
  log.info({ companyId: where.companyId, decision: decision.kind }, "webhook processed");
  return { status: "processed", callRowId, companyId: where.companyId, decision };
}

// workers/webhooks.ts
function webhooksHandler(ctx) {
  return async (job) => {
    const data = webhookJobSchema.parse(job.data);
    try {
      return await processRetellWebhook(
        {
          db: ctx.database.db,
          cache: ctx.cache,
          cipher: ctx.cipher,
          bookingsQueue: ctx.queues.bookings,
          logger: ctx.logger,
          publish: (e) => publishEvent(ctx.redis, ctx.ns, e, (err) => ctx.logger.warn({ err }, "live event not published"))
        },
        data
      );
    } catch (err) {
      if (dbUnavailable(err)) throw err;
      const attempts = job.opts.attempts ?? 1;
      if (job.attemptsMade + 1 >= attempts) {
        await finishEvent(ctx.database.db, { provider: "retell", dedupeKey: `${data.callId}:${data.event}` }, "failed", {
          error: err.message
        }).catch((e) => ctx.logger.error({ err: e }, "could not record webhook failure"));
      }
      throw err;
    }
  };
}
export {
  webhooksHandler
};
//# sourceMappingURL=webhooks-AMMTZC6Z.js.map
