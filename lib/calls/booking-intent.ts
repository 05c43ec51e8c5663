/**
 * What the caller asked for, read flexibly from the call's variables: Retell's dynamic
 * variables, the agent's collected variables and the post-call analysis fields, in rising
 * precedence. Agents are configured by many people, so key names vary; these are the ones
 * callbook understands (documented in the README).
 */
import { z } from 'zod';
import type { RetellCall } from '../retell/webhook';

/**
 * What is kept of a value read from the variables: names fit customers.name sealed, texts that
 * only feed the time and service parsers need no more than this. Longer values are cut (or, for
 * an e-mail that is no address, dropped) and the intent says so in `notes`.
 */
export const INTENT_LIMITS = { name: 200, text: 200, email: 254 } as const;
const emailSchema = z.email().max(INTENT_LIMITS.email);

const CONFIRM_KEYS = ['booking_confirmed', 'appointment_confirmed', 'confirmed', 'book_appointment', 'wants_booking', 'termin_bestaetigt', 'termin_bestätigt', 'buchung_bestaetigt'];
const DATETIME_KEYS = ['appointment_datetime', 'appointment_start', 'datetime', 'start', 'start_time', 'wunschtermin', 'termin'];
const DATE_KEYS = ['appointment_date', 'date', 'datum'];
const TIME_KEYS = ['appointment_time', 'time', 'uhrzeit'];
const SERVICE_KEYS = ['service', 'service_name', 'appointment_type', 'event_type', 'dienstleistung', 'leistung'];
const EVENT_TYPE_ID_KEYS = ['event_type_id', 'calcom_event_type_id'];
const NAME_KEYS = ['customer_name', 'caller_name', 'patient_name', 'full_name', 'name'];
const EMAIL_KEYS = ['customer_email', 'email'];

/**
 * The keys understood for each meaning, for `agents provision` (it adds a post-call analysis
 * field for a meaning only when the agent has none of its keys).
 */
export const INTENT_KEYS = {
  confirmed: CONFIRM_KEYS,
  datetime: DATETIME_KEYS,
  date: DATE_KEYS,
  time: TIME_KEYS,
  service: SERVICE_KEYS,
  name: NAME_KEYS,
  email: EMAIL_KEYS,
} as const;

const YES = new Set(['true', '1', 'yes', 'ja']);

/** `true`, "true", "1", 1, "yes", "ja" in any case mean yes; everything else no. */
export function readConfirmation(value: unknown): boolean {
  if (value === true || value === 1) return true;
  if (typeof value === 'string') return YES.has(value.trim().toLowerCase());
  return false;
}

/** Names that mean "we don't know": never stored over a real name. */
export function isUnknownName(name: string | undefined): boolean {
  if (!name) return true;
  return /^(unknown|unbekannt|n\/?a|none|null|undefined|anonymous|anonym|caller|anrufer|-|\?)$/i.test(name.trim());
}

export interface BookingIntent {
  confirmed: boolean;
  datetime?: string;
  date?: string;
  time?: string;
  service?: string;
  eventTypeId?: number;
  customerName?: string;
  email?: string;
  /** What was cut or dropped on the way (for the log): never the values themselves. */
  notes: string[];
}

export function normaliseKey(k: string): string {
  return k.trim().toLowerCase().replace(/[\s-]+/g, '_');
}

function asText(v: unknown): string | undefined {
  if (typeof v === 'string') return v.trim() || undefined;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

/** Merge the three variable sources (later wins) into one map with normalised keys. */
export function mergedVariables(call: RetellCall): Map<string, unknown> {
  const merged = new Map<string, unknown>();
  const sources = [call.retell_llm_dynamic_variables, call.collected_dynamic_variables, call.call_analysis?.custom_analysis_data];
  for (const src of sources) {
    if (!src) continue;
    for (const [k, v] of Object.entries(src)) if (v !== null && v !== undefined && v !== '') merged.set(normaliseKey(k), v);
  }
  return merged;
}

function first(vars: Map<string, unknown>, keys: string[]): unknown {
  for (const k of keys) if (vars.has(k)) return vars.get(k);
  return undefined;
}

export function extractIntent(call: RetellCall): BookingIntent {
  const vars = mergedVariables(call);
  const notes: string[] = [];
  const bounded = (what: string, v: string | undefined, max: number) => {
    if (v === undefined || v.length <= max) return v;
    notes.push(`${what} cut from ${v.length} to ${max} characters`);
    return v.slice(0, max);
  };
  const text = (what: string, keys: string[]) => bounded(what, asText(first(vars, keys)), INTENT_LIMITS.text);
  const eventTypeId = Number(asText(first(vars, EVENT_TYPE_ID_KEYS)));
  const name = bounded('customer name', asText(first(vars, NAME_KEYS)), INTENT_LIMITS.name);
  let email = asText(first(vars, EMAIL_KEYS));
  if (email !== undefined && !emailSchema.safeParse(email).success) {
    notes.push('e-mail dropped: not an address');
    email = undefined;
  }
  return {
    confirmed: readConfirmation(first(vars, CONFIRM_KEYS)),
    datetime: text('date-time', DATETIME_KEYS),
    date: text('date', DATE_KEYS),
    time: text('time', TIME_KEYS),
    service: text('service', SERVICE_KEYS),
    eventTypeId: Number.isInteger(eventTypeId) && eventTypeId > 0 ? eventTypeId : undefined,
    customerName: isUnknownName(name) ? undefined : name,
    email,
    notes,
  };
}
