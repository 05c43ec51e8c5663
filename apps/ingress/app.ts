/**
 * The HTTP ingress: verify, validate, enqueue, answer. Pure (`createApp(deps)`), so tests drive
 * it with `app.request` and server.ts only listens. No business logic here: the job is durably
 * in Redis before we answer 2xx, and the workers do the rest.
 */
import type { Queue } from 'bullmq';
import { Hono, type Context } from 'hono';
import { except } from 'hono/combine';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Cipher } from '../../lib/crypto';
import { webhookTotal } from '../../lib/metrics';
import type { Scraped } from '../../lib/metrics/scrape';
import { retellWebhookJob } from '../../lib/calls/enqueue-webhook';
import { parseWebhookBody } from '../../lib/retell/body';
import type { RetellWebhook } from '../../lib/retell/webhook';
import { isHandledEvent } from '../../lib/retell/webhook';
import type { AdminDeps } from './admin';
import { lazyRoutes } from './lazy-routes';
import { ApiError, errorBody, errorResponse } from './errors';
import type { IngressGuards } from './guards';
import { maxBody } from './middleware/body-limit';
import { metricsToken } from './middleware/metrics-token';
import { requestId } from './middleware/request-id';
import { ipAllowlist } from './middleware/ip-allowlist';
import { jsonCompression } from './middleware/json-compression';
import { floodGuard } from './middleware/rate-limit';
import type { RetellAuthEnv } from './middleware/retell-auth';

export { clientIp } from './client-ip';

export interface IngressDeps {
  /** Client address, failed-authentication limit, company budgets, Retell authentication (./guards). */
  guards: IngressGuards;
  webhooksQueue: Queue;
  redis: Redis;
  keyPrefix: string;
  cipher: Cipher;
  logger: Logger;
  maxBodyBytes: number;
  /** Requests per source address and minute in this process, on every route (RATE_LIMIT_FLOOD_PER_MINUTE). */
  floodPerMinute: number;
  ipAllowlist?: string[];
  /** Readiness of Redis and the database, for /readyz. */
  checkReady: () => Promise<Record<string, boolean>>;
  /** What /api/metrics serves (lib/metrics/scrape), behind `metricsToken` (METRICS_TOKEN). */
  scrapeMetrics: () => Promise<Scraped>;
  metricsToken?: string;
  /** True once SIGTERM arrived: /readyz answers 503 so load balancers stop sending (server.ts). */
  isDraining?: () => boolean;
  /** Time to wait for Redis to take a job before answering 503. */
  enqueueTimeoutMs?: number;
  /** Bull Board at /admin/queues behind ADMIN_TOKEN (apps/ingress/admin); absent: no admin routes. */
  admin?: Pick<AdminDeps, 'queues' | 'adminToken' | 'gate' | 'publicUrl'>;
  /**
   * Further route groups (live-call functions, MCP, Cal.com webhooks, live events …), each a
   * module under apps/ingress/routes/ that mounts itself. Order is mount order.
   */
  routes?: Array<(app: Hono) => void>;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    p.then(
      (v) => (clearTimeout(t), resolve(v)),
      (e: unknown) => (clearTimeout(t), reject(e)),
    );
  });
}

const isRetellWebhookPath = (path: string) => path === '/webhooks/retell' || path === '/api/mcp/retell/webhook';

export function createApp(deps: IngressDeps): Hono {
  const app = new Hono();
  const baseLog = deps.logger.child({ component: 'ingress' });
  const log = baseLog;
  const ip = deps.guards.clientIp;
  // Before anything else, on every route: a generous cap per source address (in memory).
  app.use('*', floodGuard({ limitPerMinute: deps.floodPerMinute, clientKey: deps.guards.rateKey }));
  // Webhook answers are small acknowledgements: skipping compression there spares each one
  // Hono's compress reading c.res.headers, which builds a full web Response (bench/ingress
  // profiled it at ~3 % of the ingress's CPU).
  app.use('*', except('/webhooks/*', jsonCompression()));
  app.use('*', requestId(baseLog));

  app.onError((err, c) => {
    const res = errorResponse(c, err, (c.var as { log?: Logger }).log ?? baseLog);
    if (isRetellWebhookPath(c.req.path)) webhookTotal.inc({ status: String(res.status) });
    return res;
  });
  app.notFound((c) => c.json(errorBody('not_found', `no route for ${c.req.method} ${c.req.path}`), 404));

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    if (deps.isDraining?.()) return c.json({ status: 'draining' }, 503);
    const checks = await deps.checkReady();
    const ready = Object.values(checks).every(Boolean);
    return c.json({ status: ready ? 'ready' : 'not_ready', checks }, ready ? 200 : 503);
  });
  app.get('/api/metrics', metricsToken(deps.metricsToken, log), async (c) => {
    const { contentType, body } = await deps.scrapeMetrics();
    c.header('Content-Type', contentType);
    return c.body(body);
  });

  const webhookChain = [ipAllowlist(deps.ipAllowlist, ip), deps.guards.retellSignatureHeader, maxBody(deps.maxBodyBytes, 'retell_webhook'), deps.guards.retellAuth(parseWebhookBody)] as const;

  const receiveRetellWebhook = async (c: Context<RetellAuthEnv<RetellWebhook>>) => {
    const { verdict, signer } = c.var.retell;
    if (!verdict.ok) throw new ApiError(verdict.status, verdict.code, verdict.message, verdict.issues);
    const { event, call } = verdict.value;
    if (!isHandledEvent(event)) {
      // Retell retries non-2xx; an event we do not use is acknowledged and dropped.
      webhookTotal.inc({ status: 'ignored' });
      return c.json({ status: 'ignored', event }, 200);
    }
    // The worker gets the object that was authenticated, not the bytes again.
    const { jobId, data } = retellWebhookJob(deps.cipher, event, call, Date.now(), signer.kind === 'company' ? signer.companyId : undefined);
    try {
      await withTimeout(deps.webhooksQueue.add(event, data, { jobId }), deps.enqueueTimeoutMs ?? 3_000, 'enqueue');
    } catch (err) {
      log.warn({ err: (err as Error).message, jobId }, 'enqueue failed; answering 503 so Retell retries');
      throw new ApiError(503, 'queue_unavailable', 'the job queue is unavailable; retry later');
    }
    webhookTotal.inc({ status: 'accepted' });
    return c.json({ status: 'accepted', jobId }, 202);
  };

  app.post('/webhooks/retell', ...webhookChain, receiveRetellWebhook);
  app.post('/api/mcp/retell/webhook', ...webhookChain, receiveRetellWebhook);
  // Bull Board loads on the first /admin request (./lazy-routes).
  const admin = deps.admin;
  if (admin) {
    lazyRoutes(['/admin', '/admin/*'], async () => {
      const { mountAdmin } = await import('./admin');
      return (sub) => mountAdmin(sub, { ...admin, clientKey: deps.guards.rateKey });
    })(app);
  }
  for (const mount of deps.routes ?? []) mount(app);

  return app;
}
