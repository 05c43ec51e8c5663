/**
 * Hono's bodyLimit, without its cost on the common path. Hono's middleware starts by reading
 * `c.req.raw.body`; on @hono/node-server that getter builds a full web Request with a
 * ReadableStream over the socket, and the body is then read through that stream instead of
 * node-server's direct buffer read — about a tenth of the ingress's CPU per webhook
 * (bench/ingress.ts, profiled). A declared Content-Length (without Transfer-Encoding) is
 * checked here and the body left untouched; anything else (chunked) goes through Hono's
 * bodyLimit, which counts the bytes as they arrive and stops at the limit.
 */
import type { MiddlewareHandler } from 'hono';
import { bodyLimit as honoBodyLimit } from 'hono/body-limit';
import type { Logger } from 'pino';
import { bodiesTooLargeTotal, type BodyLimitedRoute } from '../../../../lib/metrics';
import { ApiError } from '../../errors';

export function bodyLimit(opts: { maxSize: number; onError: Parameters<typeof honoBodyLimit>[0]['onError'] }): MiddlewareHandler {
  const streaming = honoBodyLimit(opts);
  return async (c, next) => {
    const declared = c.req.header('content-length');
    if (declared !== undefined && c.req.header('transfer-encoding') === undefined) {
      if (parseInt(declared, 10) > opts.maxSize) return opts.onError!(c);
      return next();
    }
    return streaming(c, next);
  };
}

/** What sets each route's limit, for the log line. */
const LIMIT_SET_BY: Record<BodyLimitedRoute, string> = {
  retell_webhook: ': WEBHOOK_MAX_BODY_BYTES sets it',
  retell_function: ': WEBHOOK_MAX_BODY_BYTES sets it',
  retell_inbound: ': WEBHOOK_MAX_BODY_BYTES, at most 64 KiB here',
  calcom_webhook: ': WEBHOOK_MAX_BODY_BYTES sets it',
};

/**
 * bodyLimit answering 413 `payload_too_large` (with the limit) as every webhook and function route
 * does. Each refusal is counted (`callbook_bodies_too_large_total{route}`) and logged with the
 * route, the limit and the declared length — never the body: a Retell body refused here is a
 * call that cannot book, and the operator's fix is WEBHOOK_MAX_BODY_BYTES.
 */
export function maxBody(maxBytes: number, route: BodyLimitedRoute): MiddlewareHandler {
  return bodyLimit({
    maxSize: maxBytes,
    onError: (c) => {
      bodiesTooLargeTotal.inc({ route });
      const log = (c.var as { log?: Logger }).log;
      // The path as sent can be anything a stranger writes: cut short.
      log?.warn({ route, path: c.req.path.slice(0, 120), limit: maxBytes, declared: c.req.header('content-length') ?? null }, `body over the route's ${maxBytes}-byte limit refused (413)${LIMIT_SET_BY[route]}`);
      throw new ApiError(413, 'payload_too_large', `body exceeds ${maxBytes} bytes`);
    },
  });
}
