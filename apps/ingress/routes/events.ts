/**
 * `GET /events` — live call and booking state changes of one company as Server-Sent Events, fed
 * from Redis pub/sub (lib/events), so an event published by any worker process reaches every
 * listener of any ingress process.
 *
 * Auth: `Authorization: Bearer <token>` or `?token=<token>` (EventSource cannot set headers).
 * The admin token must name the company (`?company=<slug>`); a company token streams its company
 * (`?company=` may repeat it); a branch token streams only its branch's events.
 *
 * Stream: first `event: ready` (the subscription is live), then one message per event with
 * `event: <type>`, `id: <n>` (per connection) and `data: {"type", …}`; a `: ping` comment every
 * 15 s keeps proxies from closing an idle stream. There is no replay (`Last-Event-ID` is
 * ignored): after a reconnect, read the current state from the database-backed APIs.
 */
import type { Context, Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { companyIdBySlug } from '../../../lib/tenants/queries';
import { authenticate, type AuthDeps, type Principal } from '../../../lib/auth/tokens';
import type { AppContext } from '../../../lib/context';
import { sharedEventHub, type EventHub, type LiveEventMessage } from '../../../lib/events/hub';
import type { Logger } from '../../../lib/logger';
import { ApiError } from '../errors';

export interface EventsRouteDeps extends AuthDeps {
  /** The process's hub, looked up per request (a closed hub is replaced). */
  hub: () => EventHub;
  logger: Logger;
  heartbeatMs?: number;
}

export function eventsRouteDeps(ctx: AppContext, extra: Partial<EventsRouteDeps> = {}): EventsRouteDeps {
  const logger = ctx.logger.child({ component: 'events' });
  return {
    db: ctx.database.db,
    cache: ctx.cache,
    adminToken: ctx.config.ADMIN_TOKEN,
    hub: () => sharedEventHub({ redisUrl: ctx.config.REDIS_URL, ns: ctx.ns, logger }),
    logger,
    ...extra,
  };
}

/** For `routes` in apps/ingress/deps.ts. */
export const eventRoutes = (ctx: AppContext) => (app: Hono) => mountEvents(app, eventsRouteDeps(ctx));

function bearer(c: Context): string | undefined {
  const h = c.req.header('authorization');
  const m = h ? /^Bearer\s+(\S+)\s*$/i.exec(h) : null;
  return m?.[1] ?? c.req.query('token') ?? undefined;
}

async function scopeFor(deps: EventsRouteDeps, who: Principal, slug: string | undefined): Promise<{ companyId: number; branchId: number | null }> {
  let companyId: number | undefined;
  if (slug !== undefined) {
    companyId = await companyIdBySlug(deps.db, slug);
    // A scoped token asking for another company hears the same as for an unknown one.
    if (companyId === undefined || (who.kind === 'scoped' && who.companyId !== companyId)) {
      throw new ApiError(who.kind === 'admin' ? 404 : 403, who.kind === 'admin' ? 'unknown_company' : 'forbidden', who.kind === 'admin' ? `no company "${slug}"` : 'this token does not see that company');
    }
  }
  if (who.kind === 'admin') {
    if (companyId === undefined) throw new ApiError(400, 'company_required', 'the admin token must name a company: /events?company=<slug>');
    return { companyId, branchId: null };
  }
  return { companyId: who.companyId, branchId: who.branchId };
}

const MAX_PENDING = 1000;

export function mountEvents(app: Hono, deps: EventsRouteDeps): void {
  const heartbeatMs = deps.heartbeatMs ?? 15_000;

  app.get('/events', async (c) => {
    const who = await authenticate(deps, bearer(c));
    if (!who) {
      c.header('WWW-Authenticate', 'Bearer');
      return c.json({ error: { code: 'unauthorized', message: 'a valid token is required (Authorization: Bearer <token> or ?token=)' } }, 401);
    }
    let scope: { companyId: number; branchId: number | null };
    try {
      scope = await scopeFor(deps, who, c.req.query('company') || undefined);
    } catch (err) {
      // Answered here rather than by app.onError, which counts ApiErrors as webhook outcomes.
      if (err instanceof ApiError) return c.json({ error: { code: err.code, message: err.message } }, err.status);
      throw err;
    }
    const hub = deps.hub();

    c.header('X-Accel-Buffering', 'no'); // nginx: do not buffer the stream
    return streamSSE(c, async (stream) => {
      let seq = 0;
      let finish!: () => void;
      const finished = new Promise<void>((resolve) => (finish = resolve));
      // Writes are queued on the stream's writer in call order; a failed write means the client left.
      // A client that stops reading would make the queue grow without bound: past MAX_PENDING
      // unsent events it is disconnected (EventSource reconnects).
      let pending = 0;
      // Events that arrive before `ready` went out wait for it.
      let early: LiveEventMessage[] | null = [];
      const send = (event: LiveEventMessage) => {
        if (scope.branchId !== null && event.branchId !== scope.branchId) return;
        if (early) return void early.push(event);
        if (++pending > MAX_PENDING) {
          deps.logger.warn({ companyId: scope.companyId }, 'live events client is not reading; disconnecting it');
          return finish();
        }
        stream
          .writeSSE({ event: event.type, id: String(++seq), data: JSON.stringify(event) })
          .then(() => void pending--, finish);
      };
      stream.onAbort(finish);
      let stop: () => void;
      try {
        stop = await hub.subscribe(scope.companyId, { onEvent: send, onClose: finish });
      } catch (err) {
        deps.logger.warn({ err }, 'could not subscribe to live events');
        await stream.writeSSE({ event: 'error', data: JSON.stringify({ code: 'unavailable', message: 'live events are unavailable; retry later' }) });
        return;
      }
      const heartbeat = setInterval(() => {
        stream.write(': ping\n\n').catch(finish);
      }, heartbeatMs);
      try {
        await stream.writeSSE({ event: 'ready', retry: 3000, data: JSON.stringify({ type: 'ready', companyId: scope.companyId, branchId: scope.branchId }) });
        const waiting = early;
        early = null;
        for (const e of waiting) send(e);
        if (!stream.aborted) await finished;
      } finally {
        clearInterval(heartbeat);
        stop();
      }
    });
  });
}
