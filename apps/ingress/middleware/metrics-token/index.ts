/**
 * /api/metrics is for Prometheus only: `Authorization: Bearer <METRICS_TOKEN>` (Prometheus'
 * `authorization: { credentials: ... }` scrape setting). Compared in constant time; a missing or
 * wrong token — or no METRICS_TOKEN configured — is a 401, logged with the reason only.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Equal-length digests, so neither the token's length nor its content leaks through timing. */
export function sameToken(expected: string, presented: string): boolean {
  return timingSafeEqual(digest(expected), digest(presented));
}

export function metricsToken(token: string | undefined, log: Logger): MiddlewareHandler {
  return async (c, next) => {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header('authorization') ?? '');
    const reason = !token ? 'METRICS_TOKEN is not configured' : !m ? 'no bearer token' : sameToken(token, m[1]!) ? undefined : 'wrong token';
    if (reason) {
      log.warn({ path: c.req.path, reason }, 'metrics scrape refused');
      c.header('WWW-Authenticate', 'Bearer realm="metrics"');
      return c.json({ error: { code: 'unauthorized', message: 'a valid metrics bearer token is required' } }, 401);
    }
    await next();
  };
}
