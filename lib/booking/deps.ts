/**
 * Builds the booking dependencies from an AppContext: one client per API key, shared limiter and
 * breaker; the breaker opening alerts operators through the notifications queue.
 *
 * `calcomBudget` says whose Cal.com requests these are (lib/calcom/rate-limiter):
 * - 'call': a live call's; may take the requests reserved for calls, waits for a slot;
 * - 'wait' (default): background work's; leaves the reserve alone, waits for a slot;
 * - 'defer': the bookings worker's; leaves the reserve alone and does not wait: the job is
 *   deferred (BookingDeferred) until a slot frees, so it holds no worker slot meanwhile.
 */
import { CalcomClient, CalcomRateLimiter } from '../calcom';
import type { AppContext } from '../context';
import { reservedForCalls } from '../config';
import { publishEvent } from '../events';
import { keepAliveRequest } from '../http/keep-alive';
import { breakerOpenedAlert } from '../notifications/breaker-alert';
import { serviceBreaker } from '../resilience/service-breakers';
import type { BookingDeps } from './book';

export type CalcomBudget = 'call' | 'wait' | 'defer';

export function bookingDeps(ctx: AppContext, extra: Partial<BookingDeps> = {}, calcomBudget: CalcomBudget = 'wait'): BookingDeps {
  const budget = new CalcomRateLimiter({
    redis: ctx.redis,
    keyPrefix: ctx.ns,
    limitPerMinute: ctx.config.CALCOM_RATE_LIMIT_PER_MINUTE,
    reservedForCalls: reservedForCalls(ctx.config),
    forCalls: calcomBudget === 'call',
  });
  const limiter = calcomBudget === 'defer' ? budget.deferring() : budget;
  const clients = new Map<string, CalcomClient>();
  return {
    db: ctx.database.db,
    redis: ctx.redis,
    ns: ctx.ns,
    cipher: ctx.cipher,
    cache: ctx.cache,
    logger: ctx.logger.child({ component: 'booking' }),
    breaker: serviceBreaker('calcom', {
      redis: ctx.redis,
      ns: ctx.ns,
      logger: ctx.logger,
      // CLOSED → OPEN queues one breaker_opened alert; never throws inside the transition.
      onStateChange: breakerOpenedAlert(ctx.queues.notifications, ctx.logger),
    }),
    notificationsQueue: ctx.queues.notifications,
    calcomTimeoutMs: ctx.config.CALCOM_TIMEOUT_MS,
    publish: (e) => publishEvent(ctx.redis, ctx.ns, e, (err) => ctx.logger.warn({ err }, 'live event not published')),
    clientFor: (apiKey) => {
      let client = clients.get(apiKey);
      if (!client) {
        client = new CalcomClient({ baseUrl: ctx.config.CALCOM_API_URL, apiKey, limiter, timeoutMs: ctx.config.CALCOM_TIMEOUT_MS, transport: keepAliveRequest });
        clients.set(apiKey, client);
      }
      return client;
    },
    ...extra,
  };
}
