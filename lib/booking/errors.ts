/**
 * How a booking attempt ends when it does not end booked. The worker turns these into BullMQ
 * semantics (UnrecoverableError, moveToDelayed); the live-call functions into answers.
 */

/** Cannot succeed by retrying: slot taken, unknown event type, bad key, bad input. */
export class BookingRejected extends Error {
  override readonly name = 'BookingRejected';
  constructor(
    readonly reason: string,
    readonly kind: string,
    readonly alternatives: string[] = [],
  ) {
    super(reason);
  }
}

/** Try again at `retryAt` without spending an attempt: breaker open, rate limited, locked. */
export class BookingDeferred extends Error {
  override readonly name = 'BookingDeferred';
  constructor(
    readonly reason: string,
    readonly retryAt: number,
  ) {
    super(`${reason}; retry at ${new Date(retryAt).toISOString()}`);
  }
}
