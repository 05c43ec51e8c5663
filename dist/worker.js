import {
  claimEvent,
  extractIntent,
  findService,
  finishEvent,
  resolvePhone,
  startMetricsPublisher,
  thisProcess
} from "./chunks/chunk-RZFLHS6N.js";
import {
  GdprNotFoundError,
  eraseCustomer,
  exportCustomer,
  writeExport
} from "./chunks/chunk-N7C5PIRC.js";
import {
  BookingDeferred,
  BookingRejected,
  JOB_TIMEOUT_MS,
  QUEUE_NAMES,
  assertNoEviction,
  assertPiiKeys,
  audit,
  bookingDeps,
  bookingIdempotencyKey,
  bookingJobSchema,
  breakerAlertRef,
  bullPrefix,
  concurrencyOf,
  createContext,
  createRedis,
  defaultJobSchema,
  executeBooking,
  isQueueName,
  jobIds,
  loadConfig,
  notificationJobSchema,
  open,
  parseDateAndTime,
  parseRequestedStart,
  publishEvent,
  recordFinalFailure,
  redisTarget,
  runSync,
  speakTime,
  syncJobSchema,
  upsertCall,
  upsertCustomer,
  webhookJobSchema,
  webhookSchema
} from "./chunks/chunk-PSMONT7N.js";
import {
  appointments,
  branches,
  calls,
  callsProcessedTotal,
  companies,
  customers,
  dbUnavailable,
  isDuplicateKey,
  jobDuration,
  notifications,
  satisfactionScore,
  services,
  workerServing
} from "./chunks/chunk-NUTL6YPA.js";

// workers/index.ts
import { pathToFileURL } from "node:url";
import { Worker } from "bullmq";

// workers/bookings.ts
import { DelayedError, UnrecoverableError } from "bullmq";
function bookingsHandlerWith(deps) {
  return async (job, signal, token) => {
    const data = bookingJobSchema.parse(job.data);
    try {
      return await executeBooking(deps, data, signal);
    } catch (err) {
      if (dbUnavailable(err)) throw err;
      if (err instanceof BookingRejected) throw new UnrecoverableError(err.reason);
      if (err instanceof BookingDeferred) {
        deps.logger.info({ jobId: job.id, reason: err.reason, retryAt: new Date(err.retryAt).toISOString() }, "booking deferred");
        await job.moveToDelayed(err.retryAt, token);
        throw new DelayedError(err.message);
      }
      const attempts = job.opts.attempts ?? 1;
      if (job.attemptsMade + 1 >= attempts) {
        const reason = `gave up after ${attempts} attempts: ${err.message}`;
        await recordFinalFailure(deps, data, reason);
        throw new UnrecoverableError(reason);
      }
      throw err;
    }
  };
}
function bookingsHandler(ctx) {
  return bookingsHandlerWith(bookingDeps(ctx));
}

// workers/default.ts
import { UnrecoverableError as UnrecoverableError2 } from "bullmq";

// lib/retention/purge.ts
import { and, asc, eq, inArray, isNotNull, isNull, lt, or } from "drizzle-orm";
var PURGE_BATCH_SIZE = 500;
var DAY_MS = 24 * 3600 * 1e3;
async function purgeExpired(ctx, opts = {}) {
  const db = ctx.database.db;
  const now = opts.now ?? /* @__PURE__ */ new Date();
  const batchSize = opts.batchSize ?? PURGE_BATCH_SIZE;
  const targets = await db.select({ id: companies.id, slug: companies.slug, retentionDays: companies.retentionDays }).from(companies).where(opts.companyId === void 0 ? void 0 : eq(companies.id, opts.companyId)).orderBy(asc(companies.id));
  if (opts.companyId !== void 0 && targets.length === 0) throw new Error(`retention purge: company ${opts.companyId} does not exist`);
  const results = [];
  for (const company of targets) {
    if (!(company.retentionDays > 0)) continue;
    const cutoff = new Date(now.getTime() - company.retentionDays * DAY_MS);
    const due = and(
      eq(calls.companyId, company.id),
      isNull(calls.purgedAt),
      or(and(isNotNull(calls.endedAt), lt(calls.endedAt, cutoff)), and(isNull(calls.endedAt), lt(calls.createdAt, cutoff)))
    );
    let purged = 0;
    const record2 = (interrupted) => audit(db, {
      companyId: company.id,
      actor: opts.actor ?? "worker:default",
      action: "retention.purge",
      target: `company:${company.id}`,
      details: { calls: purged, olderThan: cutoff.toISOString(), retentionDays: company.retentionDays, ...interrupted && { interrupted: true } }
    });
    try {
      for (; ; ) {
        opts.signal?.throwIfAborted();
        const batch = await db.select({ id: calls.id }).from(calls).where(due).orderBy(asc(calls.id)).limit(batchSize);
        if (batch.length === 0) break;
        const [res] = await db.update(calls).set({ transcript: null, summary: null, recordingUrl: null, dynamicVariables: null, analysisData: null, purgedAt: now }).where(and(eq(calls.companyId, company.id), isNull(calls.purgedAt), inArray(calls.id, batch.map((r) => r.id))));
        purged += res.affectedRows;
        if (batch.length < batchSize) break;
      }
    } catch (err) {
      if (purged > 0) await record2(true).catch(() => void 0);
      throw err;
    }
    await record2(false);
    results.push({ companyId: company.id, slug: company.slug, retentionDays: company.retentionDays, olderThan: cutoff.toISOString(), calls: purged });
  }
  return results;
}

// workers/default.ts
var RETENTION_SCHEDULER_ID = "retention-purge";
function defaultHandler(ctx) {
  return async (job, signal) => {
    const parsed = defaultJobSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError2(`bad default job: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
    const data = parsed.data;
    try {
      switch (data.kind) {
        case "retention_purge": {
          const companies2 = await purgeExpired(ctx, { companyId: data.companyId, actor: "worker:default", signal });
          return { companies: companies2.map((c) => ({ companyId: c.companyId, calls: c.calls, olderThan: c.olderThan })) };
        }
        case "gdpr_export": {
          const exported = await exportCustomer(ctx, { companyId: data.companyId, customerId: data.customerId, actor: data.requestedBy });
          return { path: await writeExport(ctx.config.GDPR_EXPORT_DIR, exported) };
        }
        case "gdpr_erase": {
          const result = await eraseCustomer(ctx, {
            companyId: data.companyId,
            customerId: data.customerId,
            cancelBookings: data.cancelBookings,
            actor: data.requestedBy,
            signal
          });
          if (!result.complete) throw new Error(result.message);
          return {
            customerId: result.customerId,
            calls: result.calls,
            appointments: result.appointments,
            cancelled: result.bookings.cancelled.length,
            kept: result.bookings.kept.length,
            webhookJobsRemoved: result.webhookJobsRemoved,
            warnings: result.warnings
          };
        }
      }
    } catch (err) {
      if (err instanceof GdprNotFoundError) throw new UnrecoverableError2(err.message);
      throw err;
    }
  };
}
async function scheduleHousekeeping(ctx) {
  await ctx.queues.default.upsertJobScheduler(
    RETENTION_SCHEDULER_ID,
    { pattern: ctx.config.RETENTION_CRON },
    { name: "retention_purge", data: { kind: "retention_purge" } }
  );
}

// workers/notifications.ts
import { UnrecoverableError as UnrecoverableError3 } from "bullmq";

// lib/notifications/send.ts
import { and as and2, asc as asc2, eq as eq2 } from "drizzle-orm";

// lib/notifications/messages.ts
import { DateTime } from "luxon";
function pickLang(...candidates) {
  for (const c of candidates) {
    const l = c?.trim().toLowerCase().slice(0, 2);
    if (l === "de" || l === "en") return l;
  }
  return "en";
}
function maskPhone(phone) {
  const p = phone.trim();
  if (p.length <= 6) return `${"*".repeat(Math.max(0, p.length - 2))}${p.slice(-2)}`;
  return `${p.slice(0, 3)}${"*".repeat(p.length - 6)}${p.slice(-3)}`;
}
function maskEmail(email) {
  const at = email.lastIndexOf("@");
  if (at <= 0) return maskPhone(email);
  return `${email.slice(0, 1)}***${email.slice(at)}`;
}
function maskRecipient(to) {
  return to.includes("@") ? maskEmail(to) : maskPhone(to);
}
var SERVICE_NAMES = { calcom: "Cal.com", retell: "Retell", db: "database" };
function shortTime(iso, timeZone, lang) {
  const dt = (typeof iso === "string" ? DateTime.fromISO(iso) : DateTime.fromJSDate(iso)).setZone(timeZone);
  return lang === "de" ? dt.setLocale("de-DE").toFormat("ccc dd.MM. HH:mm") : dt.setLocale("en-US").toFormat("ccc, MMM d, h:mm a");
}
function sinceTime(at, timeZone, lang) {
  const dt = DateTime.fromJSDate(at).setZone(timeZone);
  return lang === "de" ? `${dt.setLocale("de-DE").toFormat("d.M.yyyy, HH:mm 'Uhr'")} (${timeZone})` : `${dt.setLocale("en-US").toFormat("MMM d, yyyy, h:mm a")} (${timeZone})`;
}
function spoken(start, timeZone, lang) {
  return lang === "de" ? `${speakTime(start, timeZone, "de")} Uhr` : speakTime(start, timeZone, "en");
}
function renderBookingConfirmed(lang, d) {
  const when = spoken(d.start, d.timeZone, lang);
  const name = d.customerName?.trim();
  if (lang === "de") {
    return {
      subject: `Terminbest\xE4tigung: ${d.serviceName}, ${when}`,
      text: `${name ? `Hallo ${name}` : "Guten Tag"}, Ihr Termin ist best\xE4tigt: ${d.serviceName} bei ${d.branchName} am ${when}.
Falls Sie nicht kommen k\xF6nnen, rufen Sie uns bitte an.`
    };
  }
  return {
    subject: `Appointment confirmed: ${d.serviceName}, ${when}`,
    text: `${name ? `Hello ${name}` : "Hello"}, your appointment is confirmed: ${d.serviceName} at ${d.branchName} on ${when}.
If you cannot make it, please give us a call.`
  };
}
function renderBookingFailed(lang, d) {
  const when = spoken(d.start, d.timeZone, lang);
  const who = `${d.customerName?.trim() || (lang === "de" ? "(ohne Namen)" : "(no name)")}, ${d.customerPhone}`;
  const slots = d.freeSlots.map((s) => shortTime(s, d.timeZone, lang)).join("; ");
  const slotTaken = /^slot taken/i.test(d.reason ?? "");
  const retry = `npx callbook failed retry --id ${d.jobId}`;
  if (lang === "de") {
    return {
      subject: `Buchung fehlgeschlagen: ${d.serviceName} f\xFCr ${d.customerName?.trim() || d.customerPhone}, ${when}`,
      text: [
        `Eine Buchung ist endg\xFCltig fehlgeschlagen (Termin #${d.appointmentId}).`,
        "",
        `Kunde:        ${who}`,
        `Leistung:     ${d.serviceName} (${d.branchName})`,
        `Wunschtermin: ${when}`,
        `Grund:        ${d.reason ?? "unbekannt"}`,
        ...slots ? [`Freie Termine: ${slots}`] : [],
        "",
        slotTaken ? "Der Termin ist belegt: ein neuer Versuch hilft nicht. Bitte rufen Sie den Kunden zur\xFCck und bieten Sie einen freien Termin an." : "Erneut versuchen (hilft bei vor\xFCbergehenden Fehlern):",
        `  - Bull Board: ${d.boardUrl} (Warteschlange "bookings", Job ${d.jobId})`,
        `  - Kommandozeile: ${retry}`
      ].join("\n")
    };
  }
  return {
    subject: `Booking failed: ${d.serviceName} for ${d.customerName?.trim() || d.customerPhone}, ${when}`,
    text: [
      `A booking has finally failed (appointment #${d.appointmentId}).`,
      "",
      `Customer:    ${who}`,
      `Service:     ${d.serviceName} (${d.branchName})`,
      `Wished time: ${when}`,
      `Reason:      ${d.reason ?? "unknown"}`,
      ...slots ? [`Free slots:  ${slots}`] : [],
      "",
      slotTaken ? "The slot is taken: retrying will not help. Please call the customer back and offer one of the free slots." : "To retry (helps with temporary errors):",
      `  - Bull Board: ${d.boardUrl} (queue "bookings", job ${d.jobId})`,
      `  - command line: ${retry}`
    ].join("\n")
  };
}
function breakerText(lang, d) {
  const name = SERVICE_NAMES[d.service] ?? d.service;
  const since = sinceTime(d.since, d.timeZone, lang);
  if (lang === "de") {
    return {
      subject: `St\xF6rung: ${name} antwortet nicht, Buchungen werden verz\xF6gert`,
      text: [
        `${name} hat mehrmals hintereinander nicht geantwortet; der Schutzschalter (circuit breaker "${d.service}") ist seit ${since} offen.`,
        `Buchungen gehen nicht verloren: sie werden zur\xFCckgestellt, bis ein Testaufruf (etwa eine Minute nach dem \xD6ffnen) gelingt, und dann automatisch ausgef\xFChrt.`,
        `Schl\xE4gt der Testaufruf fehl, bleibt der Schalter eine weitere Minute offen. Zustand: Metrik mcp_circuit_breaker_state{service="${d.service}"} (2 = offen).`
      ].join("\n")
    };
  }
  return {
    subject: `Outage: ${name} is not answering, bookings are delayed`,
    text: [
      `${name} failed several times in a row; its circuit breaker ("${d.service}") has been open since ${since}.`,
      `Bookings are not lost: they are held back until a probe request (about a minute after opening) succeeds, and then run by themselves.`,
      `If the probe fails, the breaker stays open for another minute. State: metric mcp_circuit_breaker_state{service="${d.service}"} (2 = open).`
    ].join("\n")
  };
}
function renderBreakerOpened(lang, d) {
  if (lang !== "both") return breakerText(lang, d);
  const de = breakerText("de", d);
  const en = breakerText("en", d);
  return { subject: `${de.subject} / ${en.subject}`, text: `${de.text}

---

${en.text}` };
}

// lib/notifications/transports.ts
import nodemailer from "nodemailer";
var TransportError = class extends Error {
  constructor(message, maybeDelivered, status, options) {
    super(message, options);
    this.maybeDelivered = maybeDelivered;
    this.status = status;
  }
  maybeDelivered;
  status;
  name = "TransportError";
};
var UnsupportedChannelError = class extends Error {
  name = "UnsupportedChannelError";
};
function recipients(to) {
  return to.split(",").map((s) => s.trim()).filter(Boolean);
}
var maskList = (to) => recipients(to).map(maskRecipient).join(", ");
var LogTransport = class {
  constructor(logger) {
    this.logger = logger;
  }
  logger;
  name = "log";
  async send(msg) {
    this.logger.info(
      { transport: "log", channel: msg.channel, to: maskList(msg.to), kind: msg.kind, ref: msg.ref, subject: msg.subject, text: msg.text },
      `notification ${msg.kind} ${msg.ref} (${msg.channel})`
    );
  }
};
var SMTP_NOT_DELIVERED = /* @__PURE__ */ new Set(["EENVELOPE", "EAUTH", "ENOAUTH", "EOAUTH2", "ETLS", "EDNS", "EMESSAGE", "EPROTOCOL", "ECONFIG", "EREQUIRETLS"]);
var SMTP_CONNECT_MESSAGES = /^(Connection timeout|Greeting never received)/;
function smtpMaybeDelivered(err) {
  const e = err;
  if (typeof e?.responseCode === "number" && e.responseCode >= 400) return false;
  if (e?.code && SMTP_NOT_DELIVERED.has(e.code)) return false;
  if (e?.syscall === "connect" || e?.syscall === "getaddrinfo") return false;
  if (SMTP_CONNECT_MESSAGES.test(e?.message ?? "")) return false;
  return true;
}
var SmtpTransport = class {
  constructor(url, from, logger) {
    this.from = from;
    this.logger = logger;
    this.mailer = nodemailer.createTransport({ url, connectionTimeout: 1e4, greetingTimeout: 1e4, socketTimeout: 3e4 });
  }
  from;
  logger;
  name = "smtp";
  mailer;
  async send(msg) {
    if (msg.channel !== "email") {
      throw new UnsupportedChannelError(`the smtp transport sends e-mail only; ${msg.channel} to ${maskList(msg.to)} skipped (set NOTIFY_TRANSPORT=http for SMS)`);
    }
    try {
      const info = await this.mailer.sendMail({ from: this.from, to: recipients(msg.to), subject: msg.subject, text: msg.text });
      const rejected = (info.rejected ?? []).map((r) => maskRecipient(typeof r === "string" ? r : r.address));
      if (rejected.length) this.logger?.warn({ kind: msg.kind, ref: msg.ref, rejected }, "smtp: some recipients were rejected");
    } catch (err) {
      throw new TransportError(`smtp: ${err.message}`, smtpMaybeDelivered(err), err.responseCode, { cause: err });
    }
  }
  async close() {
    this.mailer.close();
  }
};
var HTTP_CONNECT_CODES = /* @__PURE__ */ new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "UND_ERR_CONNECT_TIMEOUT", "CERT_HAS_EXPIRED", "DEPTH_ZERO_SELF_SIGNED_CERT", "ERR_TLS_CERT_ALTNAME_INVALID"]);
var HttpTransport = class {
  constructor(url, token, timeoutMs = 1e4) {
    this.url = url;
    this.token = token;
    this.timeoutMs = timeoutMs;
  }
  url;
  token;
  timeoutMs;
  name = "http";
  async send(msg, signal) {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const headers = { "content-type": "application/json", "idempotency-key": `${msg.kind}:${msg.ref}` };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let res;
    try {
      res = await fetch(this.url, {
        method: "POST",
        headers,
        body: JSON.stringify({ ...msg, recipients: recipients(msg.to) }),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout
      });
    } catch (err) {
      const e = err;
      if (e?.name === "TimeoutError" || timeout.aborted) {
        throw new TransportError(`http: no answer from ${this.url} within ${this.timeoutMs} ms`, true, void 0, { cause: err });
      }
      const code = e?.cause?.code;
      const before = code !== void 0 && HTTP_CONNECT_CODES.has(code);
      throw new TransportError(`http: ${code ?? err.message} posting to ${this.url}`, !before, void 0, { cause: err });
    }
    const body = await res.text().catch(() => "");
    if (!res.ok) {
      throw new TransportError(`http: ${this.url} answered ${res.status}${body ? `: ${body.slice(0, 200)}` : ""}`, false, res.status);
    }
  }
};
function createTransport(config, logger) {
  switch (config.NOTIFY_TRANSPORT) {
    case "smtp":
      if (!config.SMTP_URL) throw new Error("NOTIFY_TRANSPORT=smtp needs SMTP_URL (e.g. smtp://user:pass@mail.example.com:587)");
      return new SmtpTransport(config.SMTP_URL, config.SMTP_FROM, logger);
    case "http":
      if (!config.NOTIFY_HTTP_URL) throw new Error("NOTIFY_TRANSPORT=http needs NOTIFY_HTTP_URL (the provider endpoint that takes the POST)");
      return new HttpTransport(config.NOTIFY_HTTP_URL, config.NOTIFY_HTTP_TOKEN);
    case "log":
    default:
      return new LogTransport(logger);
  }
}

// lib/notifications/send.ts
function notificationDeps(ctx, extra = {}) {
  const logger = extra.logger ?? ctx.logger.child({ component: "notifications" });
  return {
    db: ctx.database.db,
    logger,
    config: ctx.config,
    ...extra,
    transport: extra.transport ?? createTransport(ctx.config, logger)
  };
}
var NotificationRejected = class extends Error {
  name = "NotificationRejected";
};
async function processNotification(deps, job, signal) {
  const log = deps.logger.child({ kind: job.kind, companyId: job.companyId, appointmentId: job.appointmentId });
  const plans = await plan(deps, job, log);
  const results = [];
  let firstError;
  for (const p of plans) {
    const r = await deliver(deps, job.kind, p, log, signal);
    results.push(r.result);
    if (r.error !== void 0 && firstError === void 0) firstError = r.error;
  }
  if (firstError !== void 0) throw firstError;
  const order = ["sent", "uncertain", "skipped", "duplicate"];
  const status = order.find((s) => results.some((r) => r.status === s)) ?? "duplicate";
  return { status, deliveries: results };
}
async function plan(deps, job, log) {
  if (job.kind === "breaker_opened") return planBreaker(deps, job, log);
  if (!job.companyId || !job.appointmentId) throw new NotificationRejected(`${job.kind} needs companyId and appointmentId`);
  const row = await loadAppointment(deps.db, job.companyId, job.appointmentId);
  if (!row) throw new NotificationRejected(`appointment ${job.appointmentId} not found in company ${job.companyId}`);
  const lang = pickLang(row.branch.language, row.company.language);
  const ref = String(row.appointment.id);
  const companyId = job.companyId;
  if (job.kind === "booking_confirmed") {
    const a2 = row.appointment;
    const c = row.customer;
    if (a2.status !== "booked") return [{ companyId, ref, channel: "none", to: [], skip: `appointment is ${a2.status}, not booked` }];
    if (c.erasedAt) return [{ companyId, ref, channel: "none", to: [], skip: "customer data was erased" }];
    const channel = c.email ? "email" : c.phone ? "sms" : null;
    const to = c.email || c.phone;
    if (!channel || !to) return [{ companyId, ref, channel: "none", to: [], skip: "customer has neither e-mail nor phone" }];
    const message2 = renderBookingConfirmed(lang, {
      customerName: c.name,
      serviceName: row.service.name,
      branchName: row.branch.name,
      start: a2.startAt,
      timeZone: row.branch.timezone
    });
    return [{ companyId, ref, channel, to: [to], message: message2 }];
  }
  const a = row.appointment;
  if (a.status === "booked") return [{ companyId, ref, channel: "none", to: [], skip: "appointment was booked after all" }];
  const operators = uniqueEmails(row.company.operatorEmails);
  if (!operators.length) {
    log.warn({ company: row.company.name }, "booking failed, but the company has no operatorEmails: nobody is told");
    return [{ companyId, ref, channel: "email", to: [], skip: "company has no operatorEmails" }];
  }
  const message = renderBookingFailed(lang, {
    appointmentId: a.id,
    customerName: row.customer.erasedAt ? null : row.customer.name,
    customerPhone: row.customer.erasedAt ? "(erased)" : maskPhone(row.customer.phone),
    serviceName: row.service.name,
    branchName: row.branch.name,
    start: a.startAt,
    timeZone: row.branch.timezone,
    reason: a.failureReason,
    freeSlots: a.alternatives ?? [],
    jobId: jobIds.booking(a.idempotencyKey),
    boardUrl: `${deps.config.PUBLIC_URL?.replace(/\/+$/, "") ?? ""}/admin/queues`
  });
  return [{ companyId, ref, channel: "email", to: operators, message }];
}
async function loadAppointment(db, companyId, appointmentId) {
  const [row] = await db.select({
    appointment: appointments,
    customer: { name: customers.name, phone: customers.phone, email: customers.email, erasedAt: customers.erasedAt },
    service: { name: services.name },
    branch: { name: branches.name, timezone: branches.timezone, language: branches.language },
    company: { name: companies.name, language: companies.language, operatorEmails: companies.operatorEmails }
  }).from(appointments).innerJoin(customers, and2(eq2(customers.id, appointments.customerId), eq2(customers.companyId, companyId))).innerJoin(services, and2(eq2(services.id, appointments.serviceId), eq2(services.companyId, companyId))).innerJoin(branches, and2(eq2(branches.id, appointments.branchId), eq2(branches.companyId, companyId))).innerJoin(companies, eq2(companies.id, appointments.companyId)).where(and2(eq2(appointments.id, appointmentId), eq2(appointments.companyId, companyId)));
  if (row) row.customer = { ...row.customer, name: open(row.customer.name), phone: open(row.customer.phone), email: open(row.customer.email) };
  return row;
}
async function planBreaker(deps, job, log) {
  if (!job.service || job.at === void 0) throw new NotificationRejected("breaker_opened needs service and at");
  const base = breakerAlertRef(job.service, job.at);
  const since = new Date(job.at);
  const global = uniqueEmails(deps.config.OPERATOR_ALERT_EMAILS ?? []);
  if (global.length) {
    const message = renderBreakerOpened("both", { service: job.service, since, timeZone: "UTC" });
    return [{ companyId: null, ref: base, channel: "email", to: global, message }];
  }
  const all = await deps.db.select({ id: companies.id, language: companies.language, operatorEmails: companies.operatorEmails }).from(companies).orderBy(asc2(companies.id));
  const zones = /* @__PURE__ */ new Map();
  for (const b of await deps.db.select({ companyId: branches.companyId, timezone: branches.timezone }).from(branches).orderBy(asc2(branches.id))) {
    if (!zones.has(b.companyId)) zones.set(b.companyId, b.timezone);
  }
  const plans = [];
  for (const c of all) {
    const to = uniqueEmails(c.operatorEmails);
    if (!to.length) continue;
    const message = renderBreakerOpened(pickLang(c.language), { service: job.service, since, timeZone: zones.get(c.id) ?? "UTC" });
    plans.push({ companyId: c.id, ref: `${base}-c${c.id}`, channel: "email", to, message });
  }
  if (!plans.length) {
    log.warn({ service: job.service }, "circuit breaker opened, but neither OPERATOR_ALERT_EMAILS nor any company operatorEmails are set: nobody is told");
    return [{ companyId: null, ref: base, channel: "email", to: [], skip: "no OPERATOR_ALERT_EMAILS and no company operatorEmails" }];
  }
  return plans;
}
function uniqueEmails(list) {
  const seen = /* @__PURE__ */ new Set();
  const out = [];
  for (const raw of list) {
    const e = raw.trim();
    if (e && !seen.has(e.toLowerCase())) {
      seen.add(e.toLowerCase());
      out.push(e);
    }
  }
  return out;
}
var clip = (s, n) => s.length > n ? `${s.slice(0, n - 1)}\u2026` : s;
async function claim(db, kind, p, recipient) {
  try {
    await db.insert(notifications).values({ companyId: p.companyId, kind, ref: p.ref, channel: p.channel, recipient, status: "sending" });
    return true;
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
  }
  const [row] = await db.select({ status: notifications.status }).from(notifications).where(and2(eq2(notifications.kind, kind), eq2(notifications.ref, p.ref)));
  if (row?.status !== "failed") return false;
  const [res] = await db.update(notifications).set({ status: "sending", error: null, channel: p.channel, recipient }).where(and2(eq2(notifications.kind, kind), eq2(notifications.ref, p.ref), eq2(notifications.status, "failed")));
  return res.affectedRows === 1;
}
async function record(db, kind, ref, set) {
  await db.update(notifications).set({ status: set.status, error: set.error === void 0 ? null : set.error && clip(set.error, 1e3), ...set.sentAt ? { sentAt: set.sentAt } : {} }).where(and2(eq2(notifications.kind, kind), eq2(notifications.ref, ref), eq2(notifications.status, "sending")));
}
async function deliver(deps, kind, p, log, signal) {
  const recipient = p.to.length ? clip(p.to.map(maskRecipient).join(", "), 200) : null;
  const base = { ref: p.ref, channel: p.channel, recipient };
  const l = log.child({ ref: p.ref, channel: p.channel, to: recipient });
  if (!await claim(deps.db, kind, p, recipient)) {
    l.info("notification already handled: not sending again");
    return { result: { ...base, status: "duplicate" } };
  }
  if (p.skip || !p.message || p.channel === "none") {
    const reason = p.skip ?? "nothing to send";
    await record(deps.db, kind, p.ref, { status: "skipped", error: reason });
    l.warn({ reason }, "notification skipped");
    return { result: { ...base, status: "skipped", reason } };
  }
  try {
    await deps.transport.send({ channel: p.channel, to: p.to.join(", "), subject: p.message.subject, text: p.message.text, kind, ref: p.ref }, signal);
  } catch (err) {
    const message = err.message ?? String(err);
    if (err instanceof UnsupportedChannelError) {
      await record(deps.db, kind, p.ref, { status: "skipped", error: message });
      l.warn({ reason: message }, "notification skipped: transport cannot carry this channel");
      return { result: { ...base, status: "skipped", reason: message } };
    }
    if (err instanceof TransportError && err.maybeDelivered) {
      await record(deps.db, kind, p.ref, { status: "sending", error: `outcome unknown, not retried: ${message}` });
      l.error({ err, transport: deps.transport.name }, "notification outcome unknown (may have been delivered): not retrying");
      return { result: { ...base, status: "uncertain", reason: message } };
    }
    await record(deps.db, kind, p.ref, { status: "failed", error: message });
    l.warn({ err, transport: deps.transport.name }, "notification not delivered: will be retried");
    return { result: { ...base, status: "failed", reason: message }, error: err };
  }
  await record(deps.db, kind, p.ref, { status: "sent", sentAt: /* @__PURE__ */ new Date() });
  l.info({ transport: deps.transport.name }, "notification sent");
  return { result: { ...base, status: "sent" } };
}

// workers/notifications.ts
function notificationsHandlerWith(deps) {
  return async (job, signal) => {
    const parsed = notificationJobSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError3(`invalid notification job: ${parsed.error.message}`);
    const data = parsed.data.kind === "breaker_opened" && parsed.data.at === void 0 ? { ...parsed.data, at: job.timestamp } : parsed.data;
    try {
      return await processNotification(deps, data, signal);
    } catch (err) {
      if (err instanceof NotificationRejected) throw new UnrecoverableError3(err.message);
      throw err;
    }
  };
}
function notificationsHandler(ctx) {
  return notificationsHandlerWith(notificationDeps(ctx));
}

// workers/sync.ts
var SYNC_SCHEDULER_ID = "sync-every";
var SyncFailedError = class extends Error {
  name = "SyncFailedError";
};
function syncHandler(ctx) {
  return async (job, signal) => {
    const data = syncJobSchema.parse(job.data);
    const report = await runSync(ctx, data, { signal });
    const summary = {
      runId: report.runId,
      status: report.status,
      numbers: report.numbers.imported,
      unmapped: report.numbers.unmapped.length,
      agentMismatches: report.agents.mismatches.length,
      eventTypeProblems: report.eventTypes.problems.length,
      errors: report.errors.length
    };
    if (report.status === "failed") {
      throw new SyncFailedError(`sync run ${report.runId} failed: ${report.errors.map((e) => `${e.part}${e.account ? ` (${e.account})` : ""}: ${e.message}`).join("; ")}`);
    }
    return summary;
  };
}
async function scheduleSync(ctx) {
  const data = { kind: "full" };
  await ctx.queues.sync.upsertJobScheduler(SYNC_SCHEDULER_ID, { every: ctx.config.SYNC_INTERVAL_MS }, { name: "sync", data });
  ctx.logger.info({ every: ctx.config.SYNC_INTERVAL_MS }, "sync scheduled");
}

// lib/calls/process-retell-webhook.ts
import { eq as eq4 } from "drizzle-orm";

// lib/calls/decide-booking.ts
import { and as and3, eq as eq3, isNull as isNull2 } from "drizzle-orm";
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
  const [row] = await db.select({ decision: calls.bookingDecision, request: calls.bookingRequest, reason: calls.bookingReason, appointmentId: calls.appointmentId }).from(calls).where(and3(eq3(calls.id, callRowId), eq3(calls.companyId, where.companyId)));
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
    }).where(and3(eq3(calls.id, callRowId), eq3(calls.companyId, where.companyId), isNull2(calls.bookingDecision)));
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
  const [earlier] = await db.select({ purgedAt: calls.purgedAt }).from(calls).where(eq4(calls.retellCallId, call.call_id));
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

// workers/handlers.ts
var HANDLERS = {
  webhooks: webhooksHandler,
  bookings: bookingsHandler,
  sync: syncHandler,
  notifications: notificationsHandler,
  default: defaultHandler
};

// workers/run-job.ts
import { DelayedError as DelayedError2 } from "bullmq";
var JobTimeoutError = class extends Error {
  constructor(queue, jobId, ms) {
    super(`job ${jobId} on ${queue} exceeded its ${ms / 1e3} s timeout`);
    this.name = "JobTimeoutError";
  }
};
function withTimeout(queue, handler, timeoutMs = JOB_TIMEOUT_MS[queue]) {
  return async (job, token) => {
    const controller = new AbortController();
    const end = jobDuration.startTimer({ queue });
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => {
        const err = new JobTimeoutError(queue, job.id, timeoutMs);
        controller.abort(err);
        reject(err);
      }, timeoutMs);
    });
    try {
      const result = await Promise.race([handler(job, controller.signal, token), timeout]);
      end({ outcome: "completed" });
      return result;
    } catch (err) {
      const down = dbUnavailable(err);
      if (down && token) {
        end({ outcome: "delayed" });
        await job.moveToDelayed(Math.max(down.retryAt, Date.now() + 1e3), token);
        throw new DelayedError2(down.message);
      }
      end({ outcome: "failed" });
      throw err;
    } finally {
      clearTimeout(timer);
    }
  };
}

// workers/index.ts
async function scheduleRepeatables(ctx, names) {
  if (names.includes("sync")) await scheduleSync(ctx);
  if (names.includes("default")) await scheduleHousekeeping(ctx);
}
function startWorkers(ctx, names) {
  const missing = names.filter((n) => !HANDLERS[n]);
  if (missing.length) throw new Error(`no worker for queue(s) ${missing.join(", ")} in this version; available: ${availableQueues().join(", ")}`);
  const connection = createRedis(redisTarget(ctx.config), "worker");
  const workers = names.map((name) => {
    const handler = withTimeout(name, HANDLERS[name](ctx));
    const worker = new Worker(name, handler, {
      connection,
      prefix: bullPrefix(ctx.config.REDIS_PREFIX),
      concurrency: concurrencyOf(ctx.config, name),
      // A killed worker's jobs return to the queue after the lock lapses and the next stalled check.
      lockDuration: ctx.config.WORKER_LOCK_MS,
      stalledInterval: ctx.config.WORKER_LOCK_MS
    });
    const log = ctx.logger.child({ queue: name });
    worker.on(
      "failed",
      (job, err) => log.warn({ jobId: job?.id, attempt: job?.attemptsMade, err: err.message }, "job failed")
    );
    worker.on("error", (err) => log.error({ err }, "worker error"));
    return worker;
  });
  for (const name of names) workerServing.set({ queue: name }, 1);
  ctx.logger.info({ queues: names }, "workers started");
  return {
    workers,
    async close() {
      await Promise.all(workers.map((w) => w.close()));
      connection.disconnect();
    }
  };
}
function availableQueues() {
  return QUEUE_NAMES.filter((n) => HANDLERS[n]);
}
function parseQueueArgs(args) {
  if (args.length === 0) return availableQueues();
  const bad = args.filter((a) => !isQueueName(a));
  if (bad.length) throw new Error(`unknown queue(s) ${bad.join(", ")}; expected some of: ${QUEUE_NAMES.join(", ")}`);
  return args;
}
function onShutdownSignal(stop, logger) {
  let stopping = false;
  const handle = (signal) => {
    if (stopping) {
      logger.warn({ signal }, "second signal: exiting now; active jobs will be recovered as stalled");
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, "draining: finishing active jobs");
    stop().then(
      () => process.exit(0),
      (err) => {
        logger.error({ err }, "error while shutting down");
        process.exit(1);
      }
    );
  };
  process.on("SIGTERM", () => handle("SIGTERM"));
  process.on("SIGINT", () => handle("SIGINT"));
}
async function main() {
  const names = parseQueueArgs(process.argv.slice(2));
  const config = loadConfig();
  const ctx = createContext(config);
  if (!config.REDIS_SKIP_POLICY_CHECK) await assertNoEviction(ctx.redis);
  await assertPiiKeys(ctx.database.db);
  const running = startWorkers(ctx, names);
  await scheduleRepeatables(ctx, names);
  const stopPublishing = startMetricsPublisher(
    ctx.redis,
    ctx.ns,
    thisProcess(names.length === 1 ? names[0] : "worker"),
    (err) => ctx.logger.warn({ err }, "could not publish metrics"),
    config.METRICS_PUBLISH_INTERVAL_MS
  );
  onShutdownSignal(async () => {
    await running.close();
    await stopPublishing();
    await ctx.close();
  }, ctx.logger);
}
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
export {
  availableQueues,
  onShutdownSignal,
  parseQueueArgs,
  scheduleRepeatables,
  startWorkers
};
//# sourceMappingURL=worker.js.map
