/** Builds the booking dependencies from an AppContext: one client per API key, shared limiter and breaker. */
import { CalcomClient, CalcomRateLimiter } from '../calcom';
import type { AppContext } from '../context';
import { serviceBreaker } from '../resilience/service-breakers';
import type { BookingDeps } from './book';

export function bookingDeps(ctx: AppContext, extra: Partial<BookingDeps> = {}): BookingDeps {
  const limiter = new CalcomRateLimiter({ redis: ctx.redis, keyPrefix: ctx.ns, limitPerMinute: ctx.config.CALCOM_RATE_LIMIT_PER_MINUTE });
  const clients = new Map<string, CalcomClient>();
  return {
    db: ctx.database.db,
    redis: ctx.redis,
    ns: ctx.ns,
    cipher: ctx.cipher,
    cache: ctx.cache,
    logger: ctx.logger.child({ component: 'booking' }),
    breaker: serviceBreaker('calcom', { redis: ctx.redis, ns: ctx.ns, logger: ctx.logger }),
    notificationsQueue: ctx.queues.notifications,
    clientFor: (apiKey) => {
      let client = clients.get(apiKey);
      if (!client) {
        client = new CalcomClient({ baseUrl: ctx.config.CALCOM_API_URL, apiKey, limiter, timeoutMs: ctx.config.CALCOM_TIMEOUT_MS });
        clients.set(apiKey, client);
      }
      return client;
    },
    ...extra,
  };
}
