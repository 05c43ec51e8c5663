/**
 * Request-body validation of the 2024-08-13 bookings endpoints, as Cal.com's pipes do it (whitelist with
 * forbidNonWhitelisted, class-validator messages): an unknown key such as `teamId` is a 400
 * "property teamId should not exist", never silently ignored.
 */
import { DateTime } from 'luxon';
import { isValidTimeZone } from './time-zone';
import {
  MSG,
  SimHttpError,
  notAllowed,
  validationError,
  type FieldError,
} from './errors';

export const CREATE_KEYS = new Set([
  'start',
  'eventTypeId',
  'eventTypeSlug',
  'username',
  'teamSlug',
  'organizationSlug',
  'attendee',
  'guests',
  'bookingFieldsResponses',
  'metadata',
  'lengthInMinutes',
  'location',
  'meetingUrl',
  'allowConflicts',
  'allowBookingOutOfBounds',
  'emailVerificationCode',
  'routing',
]);
const ATTENDEE_KEYS = new Set(['name', 'email', 'timeZone', 'phoneNumber', 'language']);
const RESCHEDULE_KEYS = new Set([
  'start',
  'reschedulingReason',
  'rescheduledBy',
  'emailVerificationCode',
  'rescheduleWithSameHost',
  'allowConflicts',
  'allowBookingOutOfBounds',
  'seatUid',
]);
const CANCEL_KEYS = new Set(['cancellationReason', 'cancelSubsequentBookings', 'seatUid']);

export const LANGUAGES = new Set([
  'ar', 'ca', 'de', 'es', 'eu', 'he', 'id', 'ja', 'lv', 'pl', 'ro', 'sr', 'th', 'vi', 'az', 'cs', 'el',
  'es-419', 'fi', 'hr', 'it', 'km', 'nl', 'pt', 'ru', 'sv', 'tr', 'zh-CN', 'bg', 'da', 'en', 'et', 'fr',
  'hu', 'iw', 'ko', 'no', 'pt-BR', 'sk', 'ta', 'uk', 'zh-TW', 'bn',
]);

const E164 = /^\+[1-9]\d{6,14}$/;
/** A full date-time in UTC: `Z` or a zero offset. Cal.com documents `start` as "ISO 8601 in UTC". */
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]00:?00)$/;

type Json = Record<string, unknown>;

export function isPlainObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function requireObjectBody(body: unknown, optional = false): Json {
  if (body === undefined && optional) return {};
  if (!isPlainObject(body)) throw new SimHttpError(400, 'Request body must be a JSON object');
  return body;
}

/** A UTC instant as `start` must be; `undefined` when it is not one. */
export function parseUtcStart(v: unknown): DateTime | undefined {
  if (typeof v !== 'string' || !ISO_UTC.test(v)) return undefined;
  const t = DateTime.fromISO(v, { zone: 'utc' });
  return t.isValid ? t : undefined;
}

function startError(): FieldError {
  return {
    prop: 'start',
    constraints: ['start must be a valid ISO 8601 date string in UTC, e.g. 2024-08-13T09:00:00Z'],
  };
}

export function metadataOk(v: unknown): v is Record<string, string | number | boolean> {
  if (!isPlainObject(v)) return false;
  const entries = Object.entries(v);
  if (entries.length > 50) return false;
  return entries.every(
    ([k, x]) =>
      k.length <= 40 &&
      (typeof x === 'boolean' || (typeof x === 'number' && Number.isFinite(x)) || (typeof x === 'string' && x.length <= 500)),
  );
}

export interface AttendeeInput {
  name: string;
  email?: string;
  timeZone: string;
  phoneNumber?: string;
  language: string;
}

function attendeeErrors(v: unknown): { errors: FieldError[]; attendee?: AttendeeInput } {
  if (v === undefined || v === null) {
    return { errors: [{ prop: 'attendee', constraints: ['attendee should not be null or undefined'] }] };
  }
  if (!isPlainObject(v)) {
    return { errors: [{ prop: 'attendee', constraints: ['nested property attendee must be either object or array'] }] };
  }
  const children: FieldError[] = Object.keys(v).filter((k) => !ATTENDEE_KEYS.has(k)).map(notAllowed);
  const { name, email, timeZone, phoneNumber } = v;
  const language = v.language ?? 'en';
  if (email !== undefined && email !== null && (typeof email !== 'string' || !/^[^\s@]+@[^\s@]+$/.test(email))) {
    children.push({ prop: 'email', constraints: ['email must be an email'] });
  }
  if (!email && !phoneNumber) children.push({ prop: 'attendee email or phone', constraints: [MSG.contact] });
  if (typeof name !== 'string' || !name.trim()) children.push({ prop: 'name', constraints: ['name must be a string'] });
  if (typeof timeZone !== 'string' || !isValidTimeZone(timeZone)) {
    children.push({ prop: 'timeZone', constraints: ['timeZone must be a valid IANA time-zone'] });
  }
  if (phoneNumber !== undefined && phoneNumber !== null && (typeof phoneNumber !== 'string' || !E164.test(phoneNumber))) {
    children.push({ prop: 'phoneNumber', constraints: ['phoneNumber must be a valid phone number in E.164 format'] });
  }
  if (typeof language !== 'string' || !LANGUAGES.has(language)) {
    children.push({
      prop: 'language',
      constraints: [`language must be one of the following values: ${[...LANGUAGES].join(', ')}`],
    });
  }
  if (children.length) return { errors: [{ prop: 'attendee', constraints: [], children }] };
  return {
    errors: [],
    attendee: {
      name: name as string,
      email: typeof email === 'string' && email ? email : undefined,
      timeZone: timeZone as string,
      phoneNumber: typeof phoneNumber === 'string' && phoneNumber ? phoneNumber : undefined,
      language: language as string,
    },
  };
}

export interface CreateBookingInput {
  start: DateTime;
  eventTypeId?: number;
  eventTypeSlug?: string;
  username?: string;
  teamSlug?: string;
  attendee: AttendeeInput;
  guests?: string[];
  bookingFieldsResponses: Record<string, unknown>;
  metadata: Record<string, string | number | boolean>;
  lengthInMinutes?: number;
  location?: unknown;
  allowConflicts: boolean;
  allowBookingOutOfBounds: boolean;
}

function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v);
}

function optionalString(body: Json, key: string, errors: FieldError[]): void {
  const v = body[key];
  if (v !== undefined && v !== null && typeof v !== 'string') errors.push({ prop: key, constraints: [`${key} must be a string`] });
}

function optionalBoolean(body: Json, key: string, errors: FieldError[]): void {
  const v = body[key];
  if (v !== undefined && v !== null && typeof v !== 'boolean') {
    errors.push({ prop: key, constraints: [`${key} must be a boolean value`] });
  }
}

/** Validates a `POST /v2/bookings` body; throws the 400 Cal.com would answer. */
export function parseCreateBooking(raw: unknown): CreateBookingInput {
  const body = requireObjectBody(raw);
  const errors: FieldError[] = Object.keys(body).filter((k) => !CREATE_KEYS.has(k)).map(notAllowed);
  const start = parseUtcStart(body.start);
  if (!start) errors.push(startError());
  const att = attendeeErrors(body.attendee);
  errors.push(...att.errors);
  const responses = body.bookingFieldsResponses;
  if (responses !== undefined && responses !== null && !isPlainObject(responses)) {
    errors.push({ prop: 'bookingFieldsResponses', constraints: ['bookingFieldsResponses must be an object'] });
  }
  if (body.eventTypeId !== undefined && body.eventTypeId !== null && !isInt(body.eventTypeId)) {
    errors.push({ prop: 'eventTypeId', constraints: ['eventTypeId must be an integer number'] });
  }
  for (const key of ['eventTypeSlug', 'username', 'teamSlug', 'organizationSlug', 'emailVerificationCode']) {
    optionalString(body, key, errors);
  }
  const guests = body.guests;
  if (guests !== undefined && guests !== null) {
    if (!Array.isArray(guests)) errors.push({ prop: 'guests', constraints: ['guests must be an array'] });
    else if (!guests.every((g) => typeof g === 'string')) {
      errors.push({ prop: 'guests', constraints: ['each value in guests must be a string'] });
    }
  }
  if (body.meetingUrl !== undefined && body.meetingUrl !== null && typeof body.meetingUrl !== 'string') {
    errors.push({ prop: 'meetingUrl', constraints: ['meetingUrl must be a URL address'] });
  }
  const location = body.location;
  if (location !== undefined && location !== null && !isPlainObject(location) && typeof location !== 'string') {
    errors.push({ prop: 'location', constraints: ['location must be an object'] });
  }
  const metadata = body.metadata;
  if (metadata !== undefined && metadata !== null && !metadataOk(metadata)) {
    errors.push({ prop: 'metadata', constraints: isPlainObject(metadata) ? [MSG.metadata] : [MSG.metadata, 'metadata must be an object'] });
  }
  const length = body.lengthInMinutes;
  if (length !== undefined && length !== null && (!isInt(length) || length < 1)) {
    errors.push({ prop: 'lengthInMinutes', constraints: ['lengthInMinutes must be an integer number not less than 1'] });
  }
  optionalBoolean(body, 'allowConflicts', errors);
  optionalBoolean(body, 'allowBookingOutOfBounds', errors);
  const slug = body.eventTypeSlug;
  if (!body.eventTypeId && !(slug && (body.username || body.teamSlug))) {
    errors.push({ prop: 'eventTypeId or eventTypeSlug + username', constraints: [MSG.eventLookup] });
  }
  if (errors.length || !start || !att.attendee) throw validationError(errors);
  return {
    start,
    eventTypeId: isInt(body.eventTypeId) ? body.eventTypeId : undefined,
    eventTypeSlug: typeof slug === 'string' ? slug : undefined,
    username: typeof body.username === 'string' ? body.username : undefined,
    teamSlug: typeof body.teamSlug === 'string' ? body.teamSlug : undefined,
    attendee: att.attendee,
    guests: Array.isArray(guests) ? (guests as string[]) : undefined,
    bookingFieldsResponses: isPlainObject(responses) ? responses : {},
    metadata: metadataOk(metadata) ? metadata : {},
    lengthInMinutes: isInt(length) ? length : undefined,
    location: location ?? body.meetingUrl ?? undefined,
    allowConflicts: body.allowConflicts === true,
    allowBookingOutOfBounds: body.allowBookingOutOfBounds === true,
  };
}

export interface RescheduleInput {
  start: DateTime;
  reschedulingReason?: string;
  rescheduledBy?: string;
  allowConflicts: boolean;
  allowBookingOutOfBounds: boolean;
}

export function parseReschedule(raw: unknown): RescheduleInput {
  const body = requireObjectBody(raw);
  const errors: FieldError[] = Object.keys(body).filter((k) => !RESCHEDULE_KEYS.has(k)).map(notAllowed);
  const start = parseUtcStart(body.start);
  if (!start) errors.push(startError());
  for (const key of ['reschedulingReason', 'rescheduledBy', 'emailVerificationCode', 'seatUid']) optionalString(body, key, errors);
  for (const key of ['rescheduleWithSameHost', 'allowConflicts', 'allowBookingOutOfBounds']) optionalBoolean(body, key, errors);
  if (errors.length || !start) throw validationError(errors);
  return {
    start,
    reschedulingReason: typeof body.reschedulingReason === 'string' ? body.reschedulingReason : undefined,
    rescheduledBy: typeof body.rescheduledBy === 'string' ? body.rescheduledBy : undefined,
    allowConflicts: body.allowConflicts === true,
    allowBookingOutOfBounds: body.allowBookingOutOfBounds === true,
  };
}

export function parseCancel(raw: unknown): { cancellationReason?: string } {
  const body = requireObjectBody(raw, true);
  const errors: FieldError[] = Object.keys(body).filter((k) => !CANCEL_KEYS.has(k)).map(notAllowed);
  optionalString(body, 'cancellationReason', errors);
  optionalString(body, 'seatUid', errors);
  optionalBoolean(body, 'cancelSubsequentBookings', errors);
  if (errors.length) throw validationError(errors);
  return { cancellationReason: typeof body.cancellationReason === 'string' ? body.cancellationReason : undefined };
}
