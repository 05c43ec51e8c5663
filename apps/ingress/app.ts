/**
 * The HTTP ingress: verify, validate, enqueue, answer. Pure (`createApp(deps)`), so tests drive
 * it with `app.request` and server.ts only listens. No business logic here: the job is durably
 * in Redis before we answer 2xx, and the workers do the rest.
 */
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Queue } from 'bullmq';
import { Hono, type Context } from 'hono';
import { except } from 'hono/combine';
import { HTTPException } from 'hono/http-exception';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Cipher } from '../../lib/crypto';
import { dbUnavailable } from '../../lib/db/breaker';
import { webhookTotal } from '../../lib/metrics';
import type { Scraped } from '../../lib/metrics/scrape';
import { jobIds, type WebhookJob } from '../../lib/queues';
import { isRedisUnavailable } from '../../lib/redis';
import { describeIssues, isHandledEvent, webhookSchema } from '../../lib/retell/webhook';
import type { AdminDeps } from './admin';
import { lazyRoutes } from './lazy-routes';
import { ApiError } from './errors';
import { maxBody } from './middleware/body-limit';
import { metricsToken } from './middleware/metrics-token';
import { requestId } from './middleware/request-id';
import { ipAllowlist } from './middleware/ip-allowlist';
import { jsonCompression } from './middleware/json-compression';
import { rateLimit } from './middleware/rate-limit';
import { retellSignature, type RetellSignatureEnv } from './middleware/retell-signature';

export interface IngressDeps {
  retellApiKey: string;
  /** Per-company signing keys for a raw body (the company owning its to_number), if any. */
  retellKeysFor?: (rawBody: Buffer) => Promise<string[]>;
  webhooksQueue: Queue;
  redis: Redis;
  keyPrefix: string;
  cipher: Cipher;
  logger: Logger;
  maxBodyBytes: number;
  rateLimitPerMinute: number;
  ipAllowlist?: string[];
  trustProxy: boolean;
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
  admin?: Pick<AdminDeps, 'queues' | 'adminToken'>;
  /**
   * Further route groups (live-call functions, MCP, Cal.com webhooks, live events …), each a
   * module under apps/ingress/routes/ that mounts itself. Order is mount order.
   */
  routes?: Array<(app: Hono) => void>;
}

export function clientIp(c: Context, trustProxy: boolean): string {
  if (trustProxy) {
    const fwd = c.req.header('x-forwarded-for');
    if (fwd) return fwd.split(',')[0]!.trim();
  }
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'unknown'; // app.request in tests has no socket
  }
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

export function createApp(deps: IngressDeps): Hono {
  const app = new Hono();
  const baseLog = deps.logger.child({ component: 'ingress' });
  const log = baseLog;
  const ip = (c: Context) => clientIp(c, deps.trustProxy);
  // Webhook answers are small acknowledgements: skipping compression there spares each one
  // Hono's compress reading c.res.headers, which builds a full web Response (bench/ingress
  // profiled it at ~3 % of the ingress's CPU).
  app.use('*', except('/webhooks/*', jsonCompression()));
  app.use('*', requestId(baseLog));

  app.onError((err, c) => {
    const log = (c.var as { log?: Logger }).log ?? baseLog;
    if (err instanceof ApiError) {
      webhookTotal.inc({ status: String(err.status) });
      return c.json({ error: { code: err.code, message: err.message, ...(err.issues ? { issues: err.issues } : {}) } }, err.status);
    }
    if (err instanceof HTTPException) {
      return c.json({ error: { code: 'http_error', message: err.message } }, err.status);
    }
    // Redis or the database out of reach anywhere on the way (the company-key lookup of a
    // signature, a cache read …): 503, which Retell retries — never a 500. The chaos test's
    // Redis restart found a bad-signature webhook answered 500 by the cache read in keysFor.
    if (isRedisUnavailable(err) || dbUnavailable(err)) {
      webhookTotal.inc({ status: '503' });
      log.warn({ err: (err as Error).message, path: c.req.path }, 'dependency unavailable; answering 503');
      c.header('Retry-After', '1');
      return c.json({ error: { code: 'unavailable', message: 'a backing service is unavailable; retry later' } }, 503);
    }
    log.error({ err, path: c.req.path }, 'unhandled error');
    return c.json({ error: { code: 'internal', message: 'internal error' } }, 500);
  });
  app.notFound((c) => c.json({ error: { code: 'not_found', message: `no route for ${c.req.method} ${c.req.path}` } }, 404));

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

  const webhookChain = [
    ipAllowlist(deps.ipAllowlist, ip),
    maxBody(deps.maxBodyBytes),
    rateLimit({ redis: deps.redis, keyPrefix: deps.keyPrefix, limitPerMinute: deps.rateLimitPerMinute, clientKey: ip }),
    retellSignature({ apiKey: deps.retellApiKey, keysFor: deps.retellKeysFor }),
  ] as const;

  const receiveRetellWebhook = async (c: Context<RetellSignatureEnv>) => {
    const raw = c.var.rawBody;
    const text = raw.toString('utf8');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new ApiError(400, 'malformed_json', `body is not valid JSON: ${(err as Error).message}`);
    }
    const parsed = webhookSchema.safeParse(json);
    if (!parsed.success) {
      throw new ApiError(422, 'schema_mismatch', 'webhook does not match the Retell schema', describeIssues(parsed.error));
    }
    const { event, call } = parsed.data;
    if (!isHandledEvent(event)) {
      // Retell retries non-2xx; an event we do not use is acknowledged and dropped.
      webhookTotal.inc({ status: 'ignored' });
      return c.json({ status: 'ignored', event }, 200);
    }
    const jobId = jobIds.retellWebhook(call.call_id, event);
    const data: WebhookJob = { provider: 'retell', event, callId: call.call_id, receivedAt: Date.now(), sealedBody: deps.cipher.encrypt(text) };
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
      return (sub) => mountAdmin(sub, { ...admin, clientKey: ip });
    })(app);
  }
  for (const mount of deps.routes ?? []) mount(app);

  return app;
}
