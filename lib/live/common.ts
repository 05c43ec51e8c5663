/**
 * Pieces the live-call functions share: argument types that tolerate what LLMs send (ids as
 * "12"), reading a spoken time in the branch's time zone, and the answers for outcomes several
 * functions have (caller number withheld, Cal.com not reachable right now).
 */
import { z } from 'zod';
import { BookingDeferred } from '../booking/errors';
import { CalcomError } from '../calcom';
import { parseRequestedRange, parseRequestedStart, type RequestedRange, type RequestedStart } from '../datetime';
import type { LiveCall } from './context';
import { say } from './say';
import type { LiveAnswer, LiveDeps } from './types';

/** A positive id as a number or a string of digits. */
export const idArg = z.union([z.number().int().positive(), z.string().trim().regex(/^\d{1,12}$/, 'must be a number').transform(Number)]);

/** What the caller said about time: "morgen um 14 Uhr", "next Tuesday afternoon", "2026-12-01". */
export const whenArg = z.string().trim().min(1, 'say when, e.g. "morgen um 14 Uhr" or "next Tuesday afternoon"').max(200);

export const nowOf = (deps: LiveDeps): Date => deps.now?.() ?? new Date();

/**
 * No `lang`: the parser reads German and English and keeps whichever understood more. The
 * agent's LLM often passes the caller's words translated ("tomorrow at 2pm" in a German call),
 * and pinned to the branch's language "next Tuesday afternoon" reads as today afternoon.
 */
function opts(call: LiveCall, now: Date) {
  return { timeZone: call.where.timezone, now };
}

/** A start read in the branch's time zone (null when nothing usable was said). */
export function readStart(call: LiveCall, when: string, now: Date): RequestedStart | null {
  return parseRequestedStart(when, opts(call, now));
}

export function readRange(call: LiveCall, when: string, now: Date): RequestedRange | null {
  return parseRequestedRange(when, opts(call, now));
}

/** Answers for a time that cannot be booked as said; null when `start` is usable. */
export function unusableStart(call: LiveCall, when: string, start: RequestedStart | null, now: Date): LiveAnswer | null {
  const l = call.lang;
  if (!start) {
    return { say: say(l, `Ich habe „${when}“ nicht als Termin verstanden. Welcher Tag und welche Uhrzeit?`, `I couldn't read "${when}" as a time. Which day and time?`), data: { status: 'unreadable_time', when } };
  }
  if (!start.hasTime) {
    return { say: say(l, 'Um wie viel Uhr?', 'At what time?'), data: { status: 'need_time', when } };
  }
  if (start.start.getTime() <= now.getTime()) {
    return { say: say(l, 'Dieser Zeitpunkt liegt in der Vergangenheit. Welcher Termin passt stattdessen?', 'That time is in the past. Which time would suit you instead?'), data: { status: 'in_past', when, requested: start.start.toISOString() } };
  }
  return null;
}

export function callerUnknown(call: LiveCall): LiveAnswer {
  return {
    say: say(call.lang, 'Ihre Rufnummer ist unterdrückt; ohne sie kann ich keine Termine für Sie finden oder ändern.', "Your number is withheld; without it I can't find or change appointments for you."),
    data: { status: 'caller_unknown' },
  };
}

/** Cal.com is not reachable right now: breaker open, rate limited, or a failure worth retrying. */
export function isTransient(err: unknown): err is BookingDeferred | CalcomError {
  return err instanceof BookingDeferred || (err instanceof CalcomError && err.retryable && !err.aborted);
}

export function unavailable(call: LiveCall, err: BookingDeferred | CalcomError, action: { de: string; en: string }, now: Date): LiveAnswer {
  const retryAt = err instanceof BookingDeferred ? err.retryAt : err.retryAt ?? now.getTime() + 30_000;
  const retryAfter = Math.max(1, Math.ceil((retryAt - now.getTime()) / 1000));
  return {
    say: say(call.lang, `Ich kann gerade nicht ${action.de}; bitte versuchen Sie es gleich noch einmal.`, `I can't ${action.en} right now; please try again in a moment.`),
    data: { status: 'unavailable', retry_after: retryAfter, reason: err instanceof BookingDeferred ? err.reason : err.kind },
  };
}
