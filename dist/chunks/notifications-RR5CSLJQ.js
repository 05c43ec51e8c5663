import {
  isDuplicateKey
} from "./chunk-AFPE6KLN.js";
import {
  breakerAlertRef
} from "./chunk-A7KMJAOI.js";
import {
  speakTime
} from "./chunk-GN4KETLM.js";
import {
  open
} from "./chunk-RUAA5PEO.js";
import {
  jobIds,
  notificationJobSchema
} from "./chunk-Z42SQZT6.js";
import "./chunk-7WOGBSIY.js";
import "./chunk-42NABTHE.js";
import {
  appointments,
  branches,
  companies,
  customers,
  notifications,
  services
} from "./chunk-AQ2OROU7.js";
import "./chunk-E5ZFRTTD.js";
import "./chunk-54KOYG5C.js";

// workers/notifications.ts
import { UnrecoverableError } from "bullmq";

// lib/notifications/send.ts
import { and, asc, eq } from "drizzle-orm";

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
  }).from(appointments).innerJoin(customers, and(eq(customers.id, appointments.customerId), eq(customers.companyId, companyId))).innerJoin(services, and(eq(services.id, appointments.serviceId), eq(services.companyId, companyId))).innerJoin(branches, and(eq(branches.id, appointments.branchId), eq(branches.companyId, companyId))).innerJoin(companies, eq(companies.id, appointments.companyId)).where(and(eq(appointments.id, appointmentId), eq(appointments.companyId, companyId)));
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
  const all = await deps.db.select({ id: companies.id, language: companies.language, operatorEmails: companies.operatorEmails }).from(companies).orderBy(asc(companies.id));
  const zones = /* @__PURE__ */ new Map();
  for (const b of await deps.db.select({ companyId: branches.companyId, timezone: branches.timezone }).from(branches).orderBy(asc(branches.id))) {
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
  const [row] = await db.select({ status: notifications.status }).from(notifications).where(and(eq(notifications.kind, kind), eq(notifications.ref, p.ref)));
  if (row?.status !== "failed") return false;
  const [res] = await db.update(notifications).set({ status: "sending", error: null, channel: p.channel, recipient }).where(and(eq(notifications.kind, kind), eq(notifications.ref, p.ref), eq(notifications.status, "failed")));
  return res.affectedRows === 1;
}
async function record(db, kind, ref, set) {
  await db.update(notifications).set({ status: set.status, error: set.error === void 0 ? null : set.error && clip(set.error, 1e3), ...set.sentAt ? { sentAt: set.sentAt } : {} }).where(and(eq(notifications.kind, kind), eq(notifications.ref, ref), eq(notifications.status, "sending")));
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
    if (!parsed.success) throw new UnrecoverableError(`invalid notification job: ${parsed.error.message}`);
    const data = parsed.data.kind === "breaker_opened" && parsed.data.at === void 0 ? { ...parsed.data, at: job.timestamp } : parsed.data;
    try {
      return await processNotification(deps, data, signal);
    } catch (err) {
      if (err instanceof NotificationRejected) throw new UnrecoverableError(err.message);
      throw err;
    }
  };
}
function notificationsHandler(ctx) {
  return notificationsHandlerWith(notificationDeps(ctx));
}
export {
  notificationsHandler,
  notificationsHandlerWith
};
//# sourceMappingURL=notifications-RR5CSLJQ.js.map
