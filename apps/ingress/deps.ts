/** Builds the ingress's dependencies from an AppContext (server.ts, sandbox, tests). */
import { sql } from 'drizzle-orm';
import { authGate } from '../../lib/auth/bearer';
import type { AppContext } from '../../lib/context';
import { thisProcess, type ProcessIdentity } from '../../lib/metrics/publish';
import { registerQueueGauges } from '../../lib/metrics/queues';
import { metricsScraper } from '../../lib/metrics/scrape';
import { exportBreakerState, serviceBreaker } from '../../lib/resilience/service-breakers';
import type { IngressDeps } from './app';
import { ingressGuards } from './guards';
import { calcomWebhookRoutes } from './routes/calcom-webhooks';
import { consoleRoutes } from './routes/console';
import { eventRoutes } from './routes/events';
import { functionToolRoutes } from './routes/function-tools';
import { mountFunctions } from './routes/functions';
import { inboundRoutes } from './routes/inbound';
import { lazyRoutes } from './lazy-routes';

/** `self`: whose series this process's registry is served as (the sandbox runs web and workers in one). */
export function ingressDeps(ctx: AppContext, self: ProcessIdentity = thisProcess('web')): IngressDeps {
  const c = ctx.config;
  registerQueueGauges(Object.values(ctx.queues));
  const breakers = (['calcom', 'retell'] as const).map((s) => serviceBreaker(s, { redis: ctx.redis, ns: ctx.ns, logger: ctx.logger }));
  return {
    scrapeMetrics: metricsScraper({
      redis: ctx.redis,
      ns: ctx.ns,
      self,
      cacheMs: c.METRICS_CACHE_MS,
      publishIntervalMs: c.METRICS_PUBLISH_INTERVAL_MS,
      beforeScrape: async () => {
        await Promise.all(breakers.map(exportBreakerState));
      },
    }),
    metricsToken: c.METRICS_TOKEN,
    guards: ingressGuards(ctx),
    webhooksQueue: ctx.queues.webhooks,
    redis: ctx.redis,
    keyPrefix: ctx.ns,
    cipher: ctx.cipher,
    logger: ctx.logger,
    maxBodyBytes: c.WEBHOOK_MAX_BODY_BYTES,
    floodPerMinute: c.RATE_LIMIT_FLOOD_PER_MINUTE,
    ipAllowlist: c.WEBHOOK_IP_ALLOWLIST,
    // One token gate (and wrong-token throttle) for /admin, /mcp and /events: lib/auth/bearer.
    admin: { queues: Object.values(ctx.queues), adminToken: c.ADMIN_TOKEN, gate: authGate(ctx), publicUrl: c.PUBLIC_URL },
    routes: [
      // Route groups: one entry per module under apps/ingress/routes/.
      mountFunctions(ctx),
      functionToolRoutes(ctx),
      calcomWebhookRoutes(ctx),
      inboundRoutes(ctx),
      eventRoutes(ctx),
      // The MCP SDK loads on the first /mcp request (routes/mcp.ts MCP_PATH).
      lazyRoutes(['/mcp'], async () => (await import('./routes/mcp')).mountMcp(ctx)),
      consoleRoutes(),
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
