/**
 * The shape every live-call function shares: zod-validated args in, one or two short sentences
 * in the call's language plus structured data out. Outcomes a caller should hear about (slot
 * taken, not found, try later) are answers, not errors: Retell hands any 2xx body to the LLM,
 * which can then say something useful. Only requests that are wrong in themselves are errors
 * (LiveError → 4xx).
 */
import type { z } from 'zod';
import type { BookingDeps } from '../booking/book';
import type { LiveCall } from './context';

export interface LiveDeps {
  /** Database, cache, breaker, Cal.com clients, notifications: the booking worker's own deps. */
  booking: BookingDeps;
  /** Test seam for "now" (relative times, past checks). */
  now?: () => Date;
}

export interface LiveAnswer {
  /** One or two short sentences in the call's language. */
  say: string;
  /** Structured detail; `status` names the outcome (ok, booked, slot_taken, not_found, …). */
  data: { status: string } & Record<string, unknown>;
}

export interface LiveFunction<A = unknown> {
  name: string;
  /** Validates the function's own args (identity fields of args-only bodies are ignored). */
  args: z.ZodType<A>;
  /**
   * Reads or changes the caller's appointments, or books: needs Retell's call object (the only
   * source of the caller's identity); args-only bodies are refused with 422 `call_required`.
   */
  needsCall: boolean;
  run(deps: LiveDeps, call: LiveCall, args: A): Promise<LiveAnswer>;
}

export const defineFunction = <A>(f: LiveFunction<A>): LiveFunction<A> => f;
