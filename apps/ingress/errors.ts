/**
 * Errors of the HTTP surface, and the one mapper that turns any error into a response. Every
 * route answers failures as `{ "error": { "code", "message", "issues"? } }`:
 *
 * - `ApiError` (typed, thrown by routes and middleware): its status, code and issues;
 * - Redis or the database out of reach anywhere on the way (a company-key lookup behind a
 *   signature check, a cache read, a rate-limit counter): 503 with Retry-After, which Retell and
 *   Cal.com retry — never a 500 (the chaos test's Redis restart found one);
 * - anything else: 500 `internal`, logged with the error (the answer says nothing more).
 */
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Logger } from 'pino';
import { dbUnavailable } from '../../lib/db/breaker';
import { isRedisUnavailable } from '../../lib/redis';

export type Issue = { path: string; message: string };

export class ApiError extends HTTPException {
  constructor(
    status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly issues?: Issue[],
  ) {
    super(status, { message });
  }
}

/** The JSON body of every error answer. */
export function errorBody(code: string, message: string, issues?: Issue[]) {
  return { error: { code, message, ...(issues ? { issues } : {}) } };
}

/** Any thrown error → the ingress's answer (status, JSON body); `app.onError` calls this. */
export function errorResponse(c: Context, err: unknown, log: Logger): Response {
  if (err instanceof ApiError) return c.json(errorBody(err.code, err.message, err.issues), err.status);
  if (err instanceof HTTPException) return c.json(errorBody('http_error', err.message), err.status);
  if (isRedisUnavailable(err) || dbUnavailable(err)) {
    log.warn({ err: (err as Error).message, path: c.req.path }, 'dependency unavailable; answering 503');
    c.header('Retry-After', '1');
    return c.json(errorBody('unavailable', 'a backing service is unavailable; retry later'), 503);
  }
  log.error({ err, path: c.req.path }, 'unhandled error');
  return c.json(errorBody('internal', 'internal error'), 500);
}
