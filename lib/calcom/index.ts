/**
 * Cal.com API v2: the typed client, its errors, the response schemas and the Redis-backed per-key
 * rate limiter shared by every worker process.
 */
export {
  CalcomClient,
  DEFAULT_TIMEOUT_MS as CALCOM_DEFAULT_TIMEOUT_MS,
  ROUTES as CALCOM_ROUTES,
  type CalBooking,
  type CalSlots,
  type CalcomClientOptions,
  type CalcomAttendeeInput,
  type CalcomLimiter,
  type CalcomRoute,
  type CreateBookingInput,
  type GetSlotsQuery,
  type ListBookingsFilter,
} from './client';
export {
  CalcomError,
  isServiceFailure,
  classify400,
  parseErrorBody,
  retryAtFromReset,
  type CalcomErrorKind,
} from './errors';
export { CalcomBudgetSpent, CalcomRateLimiter, type CalcomRateLimiterOptions } from './rate-limiter';
export type { CalEventType, CalTeamEventType, CalSlot } from './schemas';
