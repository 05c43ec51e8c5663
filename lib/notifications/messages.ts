/**
 * The words of every notification, in German and English. Pure functions of plain data: the
 * caller (./send) loads the rows and picks the language (branch, then company, then English),
 * so wording can be read, reviewed and tested without a database. Customers get short texts
 * that fit an SMS; operators get what they need to act (who, what, when, why, how to retry).
 * Phone numbers and addresses shown to operators or written to logs are masked here.
 */
import { DateTime } from 'luxon';
import { speakTime, type Lang } from '../datetime/format';

export type { Lang };

export interface Rendered {
  subject: string;
  text: string;
}

/** The first candidate that names German or English ('de', 'de-AT', 'en_GB' …); 'en' when none does. */
export function pickLang(...candidates: Array<string | null | undefined>): Lang {
  for (const c of candidates) {
    const l = c?.trim().toLowerCase().slice(0, 2);
    if (l === 'de' || l === 'en') return l;
  }
  return 'en';
}

/** +4917012345678 → +49********678: enough to recognise, not enough to call. */
export function maskPhone(phone: string): string {
  const p = phone.trim();
  if (p.length <= 6) return `${'*'.repeat(Math.max(0, p.length - 2))}${p.slice(-2)}`;
  return `${p.slice(0, 3)}${'*'.repeat(p.length - 6)}${p.slice(-3)}`;
}

/** anna@example.com → a***@example.com */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at <= 0) return maskPhone(email);
  return `${email.slice(0, 1)}***${email.slice(at)}`;
}

/** An address of either kind, masked. */
export function maskRecipient(to: string): string {
  return to.includes('@') ? maskEmail(to) : maskPhone(to);
}

const SERVICE_NAMES: Record<string, string> = { calcom: 'Cal.com', retell: 'Retell', db: 'database' };

/** "Di 01.12. 10:30" / "Tue, Dec 1, 10:30 AM" — compact, for lists of free slots. */
function shortTime(iso: string | Date, timeZone: string, lang: Lang): string {
  const dt = (typeof iso === 'string' ? DateTime.fromISO(iso) : DateTime.fromJSDate(iso)).setZone(timeZone);
  return lang === 'de' ? dt.setLocale('de-DE').toFormat('ccc dd.MM. HH:mm') : dt.setLocale('en-US').toFormat('ccc, MMM d, h:mm a');
}

/** "1.12.2026, 14:03 Uhr (Europe/Berlin)" / "Dec 1, 2026, 2:03 PM (Europe/Berlin)" */
function sinceTime(at: Date, timeZone: string, lang: Lang): string {
  const dt = DateTime.fromJSDate(at).setZone(timeZone);
  return lang === 'de'
    ? `${dt.setLocale('de-DE').toFormat("d.M.yyyy, HH:mm 'Uhr'")} (${timeZone})`
    : `${dt.setLocale('en-US').toFormat('MMM d, yyyy, h:mm a')} (${timeZone})`;
}

function spoken(start: Date, timeZone: string, lang: Lang): string {
  return lang === 'de' ? `${speakTime(start, timeZone, 'de')} Uhr` : speakTime(start, timeZone, 'en');
}

// ---------------------------------------------------------------------------
// booking_confirmed → the customer

export interface BookingConfirmedData {
  customerName: string | null;
  serviceName: string;
  branchName: string;
  start: Date;
  timeZone: string;
}

/**
 * de: "Hallo Anna, Ihr Termin ist bestätigt: Haircut bei Salon Anna Mitte am Dienstag, 1. Dezember um 11:00 Uhr."
 * en: "Hello Anna, your appointment is confirmed: Check-up at Clinic Nord Hamburg on Tuesday, December 1 at 11:00 AM."
 */
export function renderBookingConfirmed(lang: Lang, d: BookingConfirmedData): Rendered {
  const when = spoken(d.start, d.timeZone, lang);
  const name = d.customerName?.trim();
  if (lang === 'de') {
    return {
      subject: `Terminbestätigung: ${d.serviceName}, ${when}`,
      text:
        `${name ? `Hallo ${name}` : 'Guten Tag'}, Ihr Termin ist bestätigt: ${d.serviceName} bei ${d.branchName} am ${when}.\n` +
        `Falls Sie nicht kommen können, rufen Sie uns bitte an.`,
    };
  }
  return {
    subject: `Appointment confirmed: ${d.serviceName}, ${when}`,
    text:
      `${name ? `Hello ${name}` : 'Hello'}, your appointment is confirmed: ${d.serviceName} at ${d.branchName} on ${when}.\n` +
      `If you cannot make it, please give us a call.`,
  };
}

// ---------------------------------------------------------------------------
// booking_failed → the company's operators

export interface BookingFailedData {
  appointmentId: number;
  customerName: string | null;
  /** Already masked. */
  customerPhone: string;
  serviceName: string;
  branchName: string;
  start: Date;
  timeZone: string;
  /** appointments.failure_reason, e.g. "slot taken (01.12.2026 11:00); free: 10:30, 11:30, 12:00". */
  reason: string | null;
  /** appointments.alternatives: free slots as UTC ISO. */
  freeSlots: string[];
  /** `booking-<idempotency key>`. */
  jobId: string;
  /** Where Bull Board lives, e.g. https://callbook.example.com/admin/queues. */
  boardUrl: string;
}

export function renderBookingFailed(lang: Lang, d: BookingFailedData): Rendered {
  const when = spoken(d.start, d.timeZone, lang);
  const who = `${d.customerName?.trim() || (lang === 'de' ? '(ohne Namen)' : '(no name)')}, ${d.customerPhone}`;
  const slots = d.freeSlots.map((s) => shortTime(s, d.timeZone, lang)).join('; ');
  const slotTaken = /^slot taken/i.test(d.reason ?? '');
  const retry = `npx callbook failed retry --id ${d.jobId}`;
  if (lang === 'de') {
    return {
      subject: `Buchung fehlgeschlagen: ${d.serviceName} für ${d.customerName?.trim() || d.customerPhone}, ${when}`,
      text: [
        `Eine Buchung ist endgültig fehlgeschlagen (Termin #${d.appointmentId}).`,
        '',
        `Kunde:        ${who}`,
        `Leistung:     ${d.serviceName} (${d.branchName})`,
        `Wunschtermin: ${when}`,
        `Grund:        ${d.reason ?? 'unbekannt'}`,
        ...(slots ? [`Freie Termine: ${slots}`] : []),
        '',
        slotTaken
          ? 'Der Termin ist belegt: ein neuer Versuch hilft nicht. Bitte rufen Sie den Kunden zurück und bieten Sie einen freien Termin an.'
          : 'Erneut versuchen (hilft bei vorübergehenden Fehlern):',
        `  - Bull Board: ${d.boardUrl} (Warteschlange "bookings", Job ${d.jobId})`,
        `  - Kommandozeile: ${retry}`,
      ].join('\n'),
    };
  }
  return {
    subject: `Booking failed: ${d.serviceName} for ${d.customerName?.trim() || d.customerPhone}, ${when}`,
    text: [
      `A booking has finally failed (appointment #${d.appointmentId}).`,
      '',
      `Customer:    ${who}`,
      `Service:     ${d.serviceName} (${d.branchName})`,
      `Wished time: ${when}`,
      `Reason:      ${d.reason ?? 'unknown'}`,
      ...(slots ? [`Free slots:  ${slots}`] : []),
      '',
      slotTaken
        ? 'The slot is taken: retrying will not help. Please call the customer back and offer one of the free slots.'
        : 'To retry (helps with temporary errors):',
      `  - Bull Board: ${d.boardUrl} (queue "bookings", job ${d.jobId})`,
      `  - command line: ${retry}`,
    ].join('\n'),
  };
}

// ---------------------------------------------------------------------------
// breaker_opened → operators

export interface BreakerOpenedData {
  /** 'calcom', 'retell' … */
  service: string;
  since: Date;
  timeZone: string;
}

function breakerText(lang: Lang, d: BreakerOpenedData): Rendered {
  const name = SERVICE_NAMES[d.service] ?? d.service;
  const since = sinceTime(d.since, d.timeZone, lang);
  if (lang === 'de') {
    return {
      subject: `Störung: ${name} antwortet nicht, Buchungen werden verzögert`,
      text: [
        `${name} hat mehrmals hintereinander nicht geantwortet; der Schutzschalter (circuit breaker "${d.service}") ist seit ${since} offen.`,
        `Buchungen gehen nicht verloren: sie werden zurückgestellt, bis ein Testaufruf (etwa eine Minute nach dem Öffnen) gelingt, und dann automatisch ausgeführt.`,
        `Schlägt der Testaufruf fehl, bleibt der Schalter eine weitere Minute offen. Zustand: Metrik mcp_circuit_breaker_state{service="${d.service}"} (2 = offen).`,
      ].join('\n'),
    };
  }
  return {
    subject: `Outage: ${name} is not answering, bookings are delayed`,
    text: [
      `${name} failed several times in a row; its circuit breaker ("${d.service}") has been open since ${since}.`,
      `Bookings are not lost: they are held back until a probe request (about a minute after opening) succeeds, and then run by themselves.`,
      `If the probe fails, the breaker stays open for another minute. State: metric mcp_circuit_breaker_state{service="${d.service}"} (2 = open).`,
    ].join('\n'),
  };
}

/** 'both' (recipients whose language is unknown): German first, then English. */
export function renderBreakerOpened(lang: Lang | 'both', d: BreakerOpenedData): Rendered {
  if (lang !== 'both') return breakerText(lang, d);
  const de = breakerText('de', d);
  const en = breakerText('en', d);
  return { subject: `${de.subject} / ${en.subject}`, text: `${de.text}\n\n---\n\n${en.text}` };
}
