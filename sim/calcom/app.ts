/**
 * `createCalcomSim`: the Cal.com API v2 simulator as a Hono app plus the handle tests drive it with. Every
 * `/v2` request passes one gate, in this order: request log → per-key rate limit (with the
 * `X-RateLimit-*-Default` headers) → faults (`x-sim-fault` header or configured) → the route, whose auth
 * and `cal-api-version` checks come first. Errors become Cal.com's envelope in one `onError`.
 *
 * @example
 * const sim = createCalcomSim({ now: () => new Date('2026-10-20T08:00:00Z') });
 * sim.addAccount({ apiKey: 'cal_test_a', username: 'anna', timeZone: 'Europe/Berlin' });
 * sim.addEventType({ id: 1, slug: 'cut', title: 'Haircut', lengthInMinutes: 30, ownerApiKey: 'cal_test_a' });
 * const { url, close } = await startCalcomSim(sim); // url = http://127.0.0.1:<port>/v2
 */
import { Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { adminRoutes } from './admin';
import { bookingRoutes } from './bookings';
import { BARE_500, MSG, SimHttpError, SimNoAnswerError, errorEnvelope } from './errors';
import { eventTypeRoutes } from './event-types';
import { FaultInjector, type FaultPlan } from './faults';
import { bearerToken, type SimContext, type SimDeps } from './http';
import { RateLimiter, rateLimitHeaders, type RateLimitState } from './ratelimit';
import { slotRoutes } from './slots';
import { SimState, DEFAULT_RATE_LIMIT } from './state';
import type { CalcomSim, SimBooking, SimEnv, SimRequestLogEntry } from './types';
import { webhookRoutes } from './webhook-routes';
import { WebhookDispatcher } from './webhooks';

const ALREADY_SENT_HEADER = 'x-hono-already-sent';

function pathWithQuery(url: string): string {
  const u = new URL(url);
  return u.pathname + u.search;
}

function parseMaybeJson(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface CalcomSimOptions {
  /** The clock for every time decision (slots, past checks, rate limits, timestamps). */
  now?: () => Date;
  /** Drives the fault ratios; pass a seeded generator for reproducible chaos. */
  random?: () => number;
}

export function createCalcomSim(opts: CalcomSimOptions = {}): CalcomSim {
  let pinned: Date | undefined;
  const now = (): Date => (pinned ? new Date(pinned) : opts.now ? opts.now() : new Date());
  const state = new SimState();
  const limiter = new RateLimiter();
  const faults = new FaultInjector(opts.random ?? Math.random);
  const webhooks = new WebhookDispatcher(state, now);
  const hangs = new Set<() => void>();
  const deps: SimDeps = { state, now, webhooks };

  function errorResponse(c: SimContext, err: unknown): Response {
    if (err instanceof SimHttpError) {
      const status = err.status as ContentfulStatusCode;
      if (err.extra.bare !== undefined) return c.json(err.extra.bare, status);
      return c.json(errorEnvelope(err.status, err.message, pathWithQuery(c.req.url), now(), err.extra.details), status);
    }
    // Anything else is a simulator bug: answer like Nest does, keep the cause in the log for the test.
    const entry = c.get('log') as SimRequestLogEntry | undefined;
    if (entry) entry.body = { request: entry.body, simulatorError: err instanceof Error ? err.stack : String(err) };
    return c.json(BARE_500, 500);
  }

  function throttled(c: SimContext, s: Pick<RateLimitState, 'limit' | 'remaining' | 'resetSeconds'>): Response {
    return c.json(errorEnvelope(429, MSG.throttled, pathWithQuery(c.req.url), now()), 429, rateLimitHeaders(s));
  }

  /** Waits until the client gives up (or the sim releases hangs). */
  function hang(c: SimContext): Promise<void> {
    return new Promise<void>((resolve) => {
      const signal = c.req.raw.signal;
      const done = () => {
        hangs.delete(done);
        resolve();
      };
      hangs.add(done);
      if (signal.aborted) done();
      else signal.addEventListener('abort', done, { once: true });
    });
  }

  /** Destroys the connection without an answer; in-process (no socket) the request rejects instead. */
  function noAnswer(c: SimContext, kind: 'drop' | 'hang'): Response {
    const incoming = c.env?.incoming;
    if (!incoming) throw new SimNoAnswerError(kind);
    incoming.socket.destroy();
    return new Response(null, { headers: { [ALREADY_SENT_HEADER]: 'true' } });
  }

  async function gate(c: SimContext, next: () => Promise<void>): Promise<Response | void> {
    const url = new URL(c.req.url);
    const entry: SimRequestLogEntry = { method: c.req.method, path: url.pathname, status: 0, at: now().toISOString() };
    const query = Object.fromEntries(url.searchParams);
    if (Object.keys(query).length) entry.query = query;
    const version = c.req.header('cal-api-version');
    if (version !== undefined) entry.apiVersion = version;
    const token = bearerToken(c.req.header('authorization'));
    if (token !== undefined) entry.apiKey = token;
    state.log.push(entry);
    c.set('log', entry);

    if (c.req.method !== 'GET' && c.req.method !== 'HEAD') {
      const raw = await c.req.text().catch(() => '');
      c.set('rawBody', raw);
      if (raw !== '') entry.body = parseMaybeJson(raw);
    }

    const account = state.account(token);
    let rl: RateLimitState | undefined;
    if (account) {
      rl = limiter.hit(account.apiKey, account.rateLimitPerMinute, now().getTime());
      if (!rl.allowed) {
        entry.status = 429;
        return throttled(c, rl);
      }
    }

    let plan: FaultPlan;
    try {
      plan = faults.plan(token, c.req.header('x-sim-fault'));
    } catch (err) {
      const res = errorResponse(c, err);
      entry.status = res.status;
      return res;
    }
    if (plan.label) entry.fault = plan.label;
    if (plan.latencyMs > 0) await sleep(plan.latencyMs);
    if (plan.abort === '429') {
      entry.status = 429;
      const limit = account?.rateLimitPerMinute ?? DEFAULT_RATE_LIMIT;
      return throttled(c, { limit, remaining: 0, resetSeconds: plan.burstResetSeconds });
    }
    if (plan.abort === '500') {
      entry.status = 500;
      return c.json(BARE_500, 500, rl ? rateLimitHeaders(rl) : {});
    }
    if (plan.abort === 'hang') {
      await hang(c);
      return noAnswer(c, 'hang');
    }

    await next();
    if (rl) for (const [k, v] of Object.entries(rateLimitHeaders(rl))) c.res.headers.set(k, v);
    entry.status = c.res.status;
    if (plan.drop) c.res = noAnswer(c, 'drop');
  }

  const app = new Hono<SimEnv>();
  app.onError((err, c) => {
    if (err instanceof SimNoAnswerError) throw err;
    return errorResponse(c, err);
  });
  app.notFound((c) => {
    const path = pathWithQuery(c.req.url);
    return c.json(errorEnvelope(404, `Cannot ${c.req.method} ${path}`, path, now()), 404);
  });

  const sim: CalcomSim = {
    app,
    addAccount: (a) => void state.addAccount(a),
    addEventType: (e) => state.addEventType(e),
    removeEventType: (id) => state.removeEventType(id),
    setFaults: (f, apiKey) => faults.set(f, apiKey),
    clearFaults: () => faults.clear(),
    bookings: () => structuredClone(state.bookings) as SimBooking[], // a copy: callers may change it
    requests: () => structuredClone(state.log),
    addWebhook: (w) => {
      if (!state.accounts.has(w.ownerApiKey)) throw new Error('calcom-sim: webhook owner (ownerApiKey) is unknown');
      state.webhooks.push({
        id: state.takeWebhookId(),
        ownerApiKey: w.ownerApiKey,
        subscriberUrl: w.subscriberUrl,
        triggers: [...w.triggers],
        active: true,
        payloadTemplate: null,
        ...(w.secret !== undefined ? { secret: w.secret } : {}),
      });
    },
    webhookDeliveries: () => structuredClone(state.deliveries),
    webhooksIdle: () => webhooks.idle(),
    setNow: (d) => {
      pinned = d ? new Date(d) : undefined;
    },
    now,
    reset: (o = {}) => {
      state.reset(o.all === true);
      limiter.reset();
      faults.clear();
    },
    releaseHangs: () => {
      for (const release of [...hangs]) release();
    },
  };

  app.route('/__sim', adminRoutes(sim));
  app.use('/v2/*', gate);
  app.route('/v2/bookings', bookingRoutes(deps));
  app.route('/v2/slots', slotRoutes(deps));
  app.route('/v2/webhooks', webhookRoutes(deps));
  app.route('/v2', eventTypeRoutes(deps));
  return sim;
}
