/** Builds the ingress's dependencies from an AppContext (server.ts, sandbox, tests). */
import { sql } from 'drizzle-orm';
import type { AppContext } from '../../lib/context';
import { registerQueueGauges } from '../../lib/metrics/queues';
import { exportBreakerState, serviceBreaker } from '../../lib/resilience/service-breakers';
import type { IngressDeps } from './app';
import { ingressGuards } from './guards';
import { calcomWebhookRoutes } from './routes/calcom-webhooks';
import { eventRoutes } from './routes/events';
import { mountFunctions } from './routes/functions';
import { inboundRoutes } from './routes/inbound';
import { mountMcp } from './routes/mcp';

export function ingressDeps(ctx: AppContext): IngressDeps {
  const c = ctx.config;
  registerQueueGauges(Object.values(ctx.queues));
  const breakers = (['calcom', 'retell'] as const).map((s) => serviceBreaker(s, { redis: ctx.redis, ns: ctx.ns, logger: ctx.logger }));
  return {
    beforeScrape: async () => {
      await Promise.all(breakers.map(exportBreakerState));
    },
    guards: ingressGuards(ctx),
    webhooksQueue: ctx.queues.webhooks,
    redis: ctx.redis,
    keyPrefix: ctx.ns,
    cipher: ctx.cipher,
    logger: ctx.logger,
    maxBodyBytes: c.WEBHOOK_MAX_BODY_BYTES,
    floodPerMinute: c.RATE_LIMIT_FLOOD_PER_MINUTE,
    ipAllowlist: c.WEBHOOK_IP_ALLOWLIST,
    admin: { queues: Object.values(ctx.queues), adminToken: c.ADMIN_TOKEN },
    routes: [
      // Route groups: one entry per module under apps/ingress/routes/.
      mountFunctions(ctx),
      calcomWebhookRoutes(ctx),
      inboundRoutes(ctx),
      eventRoutes(ctx),
      mountMcp(ctx),
    ],
    checkReady: async () => {
      const [redis, db] = await Promise.all([
        ctx.redis.ping().then(() => true, () => false),
        ctx.database.db.execute(sql`SELECT 1`).then(() => true, () => false),
      ]);
      // An open database breaker is not ready, even if a probe query would pass right now.
      return { redis, db: db && ctx.database.breaker.state !== 'OPEN' };
    },
  };
}
