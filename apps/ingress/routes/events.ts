/**
 * `GET /events` — live call and booking state changes of one company as Server-Sent Events, fed
 * from Redis pub/sub (lib/events), so an event published by any worker process reaches every
 * listener of any ingress process.
 *
 * Auth: `Authorization: Bearer <token>` or `?token=<token>` (EventSource cannot set headers),
 * read and checked by lib/auth/bearer — the gate /admin and /mcp use, so wrong tokens count
 * against the same per-address throttle (429 with Retry-After). The admin token must name the
 * company (`?company=<slug>`); a company token streams its company (`?company=` may repeat it);
 * a branch token streams only its branch's events.
 *
 * Limits: at most EVENTS_MAX_STREAMS_PER_TOKEN open streams per token across all ingress
 * processes (lib/events/stream-slots; beyond: 429 `too_many_streams`). A revoked token's open
 * streams end within a few seconds (lib/auth/revocation-watch) with `event: error`
 * `{"code":"token_revoked"}`.
 *
 * Stream: first `event: ready` (the subscription is live), then one message per event with
 * `event: <type>`, `id: <n>` (per connection) and `data: {"type", …}`; a `: ping` comment every
 * 15 s keeps proxies from closing an idle stream. There is no replay (`Last-Event-ID` is
 * ignored): after a reconnect, read the current state from the database-backed APIs.
 */
import type { Context, Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { authGate, credentialOf, seesCompany, seesRow, type AuthGate } from '../../../lib/auth/bearer';
import { RevocationWatch } from '../../../lib/auth/revocation-watch';
import type { Principal } from '../../../lib/auth/tokens';
import { companyIdBySlug } from '../../../lib/tenants/queries';
import type { AppContext } from '../../../lib/context';
import type { Db } from '../../../lib/db';
import { sharedEventHub, type EventHub, type LiveEventMessage } from '../../../lib/events/hub';
import { StreamSlots } from '../../../lib/events/stream-slots';
import type { Logger } from '../../../lib/logger';
import { addressKey, clientIp } from '../client-ip';
import { ApiError, errorBody } from '../errors';

export interface EventsRouteDeps {
  db: Db;
  /** Token check and the wrong-token throttle shared with /admin and /mcp (lib/auth/bearer). */
  gate: AuthGate;
  /** The client address the throttle counts by. */
  clientKey: (c: Context) => string;
  /** The process's hub, looked up per request (a closed hub is replaced). */
  hub: () => EventHub;
  logger: Logger;
  heartbeatMs?: number;
  /** Open streams per token across all ingress processes (EVENTS_MAX_STREAMS_PER_TOKEN). */
  maxStreamsPerToken: number;
  slots: StreamSlots;
  /** Closes a revoked token's streams. */
  revocations: RevocationWatch;
}

const DEFAULT_HEARTBEAT_MS = 15_000;
const watches = new WeakMap<AppContext, RevocationWatch>();

export function eventsRouteDeps(ctx: AppContext, extra: Partial<EventsRouteDeps> = {}): EventsRouteDeps {
  const logger = ctx.logger.child({ component: 'events' });
  let revocations = watches.get(ctx);
  if (!revocations) watches.set(ctx, (revocations = new RevocationWatch(ctx.database.db, logger)));
  const heartbeatMs = extra.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  return {
    db: ctx.database.db,
    gate: authGate(ctx),
    clientKey: (c) => addressKey(clientIp(c, ctx.config.TRUST_PROXY)),
    hub: () => sharedEventHub({ redisUrl: ctx.config.REDIS_URL, ns: ctx.ns, logger }),
    logger,
    maxStreamsPerToken: ctx.config.EVENTS_MAX_STREAMS_PER_TOKEN,
    // A slot outlives three missed heartbeats, so a dead process's streams stop counting soon.
    slots: new StreamSlots(ctx.redis, ctx.ns, heartbeatMs * 3 + 5_000),
    revocations,
    ...extra,
  };
}

/** For `routes` in apps/ingress/deps.ts. */
export const eventRoutes = (ctx: AppContext) => (app: Hono) => mountEvents(app, eventsRouteDeps(ctx));

async function scopeFor(deps: EventsRouteDeps, who: Principal, slug: string | undefined): Promise<{ companyId: number; branchId: number | null }> {
  let companyId: number | undefined;
  if (slug !== undefined) {
    companyId = await companyIdBySlug(deps.db, slug);
    // A scoped token asking for another company hears the same as for an unknown one.
    if (companyId === undefined || !seesCompany(who, companyId)) {
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
  const heartbeatMs = deps.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;

  app.get('/events', async (c) => {
    const gate = await deps.gate.check(deps.clientKey(c), credentialOf(c.req, { query: true }));
    if (!gate.ok) {
      if (gate.status === 429) c.header('Retry-After', String(gate.retryAfter));
      else c.header('WWW-Authenticate', 'Bearer');
      const message = gate.status === 429 ? gate.message : `a valid token is required (Authorization: Bearer <token> or ?token=): ${gate.message}`;
      return c.json(errorBody(gate.code, message), gate.status);
    }
    const who = gate.principal;
    let scope: { companyId: number; branchId: number | null };
    try {
      scope = await scopeFor(deps, who, c.req.query('company') || undefined);
    } catch (err) {
      // Answered here rather than by app.onError, which counts ApiErrors as webhook outcomes.
      if (err instanceof ApiError) return c.json(errorBody(err.code, err.message), err.status);
      throw err;
    }
    const holder = who.kind === 'admin' ? 'admin' : `token:${who.tokenId}`;
    const slot = await deps.slots.acquire(holder, deps.maxStreamsPerToken);
    if (!slot) {
      c.header('Retry-After', '15');
      return c.json(errorBody('too_many_streams', `this token has ${deps.maxStreamsPerToken} open event streams already (EVENTS_MAX_STREAMS_PER_TOKEN); close one first`), 429);
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
        if (!seesRow(who, event.companyId, event.branchId)) return;
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
      const releaseSlot = () => slot.release().catch((err: unknown) => deps.logger.warn({ err: (err as Error).message }, 'could not release an event stream slot'));
      // A revoked token's stream ends within one check (lib/auth/revocation-watch); EventSource's
      // reconnect then meets a 401, on which it gives up.
      let revoked = false;
      const unwatch =
        who.kind === 'scoped'
          ? deps.revocations.watch(who.tokenId, () => {
              revoked = true;
              finish();
            })
          : () => undefined;
      let stop: () => void = () => undefined;
      let heartbeat: NodeJS.Timeout | undefined;
      try {
        try {
          stop = await hub.subscribe(scope.companyId, { onEvent: send, onClose: finish });
        } catch (err) {
          deps.logger.warn({ err }, 'could not subscribe to live events');
          await stream.writeSSE({ event: 'error', data: JSON.stringify({ code: 'unavailable', message: 'live events are unavailable; retry later' }) });
          return;
        }
        heartbeat = setInterval(() => {
          stream.write(': ping\n\n').catch(finish);
          slot.renew().catch((err: unknown) => deps.logger.warn({ err: (err as Error).message }, 'could not renew an event stream slot'));
        }, heartbeatMs);
        await stream.writeSSE({ event: 'ready', retry: 3000, data: JSON.stringify({ type: 'ready', companyId: scope.companyId, branchId: scope.branchId }) });
        const waiting = early;
        early = null;
        for (const e of waiting) send(e);
        if (!stream.aborted) await finished;
        if (revoked && !stream.aborted) {
          await stream.writeSSE({ event: 'error', data: JSON.stringify({ code: 'token_revoked', message: 'this token was revoked' }) }).catch(() => undefined);
        }
      } finally {
        clearInterval(heartbeat);
        unwatch();
        stop();
        await releaseSlot();
      }
    });
  });
}
