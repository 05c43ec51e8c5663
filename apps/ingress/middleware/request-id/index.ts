/**
 * X-Request-Id: taken from the request when it is a sane token (a proxy's or Retell's own),
 * otherwise made up; returned on the answer and bound to the request's logger (`c.var.log`).
 * The logger adds the trace id itself when tracing is on (lib/logger), so one grep finds a
 * request's lines and its trace.
 */
import { randomUUID } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';

const SANE = /^[A-Za-z0-9._:-]{1,128}$/;

export type RequestIdEnv = { Variables: { requestId: string; log: Logger } };

export function requestId(logger: Logger): MiddlewareHandler<RequestIdEnv> {
  return async (c, next) => {
    const given = c.req.header('x-request-id');
    const id = given && SANE.test(given) ? given : randomUUID();
    c.set('requestId', id);
    c.set('log', logger.child({ requestId: id }));
    c.header('X-Request-Id', id);
    await next();
  };
}
