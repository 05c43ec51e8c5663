/**
 * The ingress's shared protections, built once from the config and used by every route module:
 * the client address (TRUST_PROXY hops), the per-address count of failed authentications, the
 * per-company budget of authenticated requests, and Retell authentication (the platform key's
 * signature → one parse → a company's own key) over them.
 *
 * @example
 *   const g = ingressGuards(ctx);
 *   app.post('/functions/retell/:name', g.retellSignatureHeader, maxBody(ctx.config.WEBHOOK_MAX_BODY_BYTES, 'retell_function'), g.retellAuth(parseLiveBody), handler);
 */
import type { Context, MiddlewareHandler } from 'hono';
import type { AppContext } from '../../lib/context';
import { resolvePhone } from '../../lib/calls/resolve-phone';
import type { BodyVerdict } from '../../lib/retell/body';
import { companyRetellKeyFor, ownRetellKeysExist } from '../../lib/retell/company-key';
import { addressKey, clientIp } from './client-ip';
import { AuthFailureLimit, CompanyBudget } from './middleware/rate-limit';
import { retellAuth, retellSignatureHeader, type RetellAuthEnv } from './middleware/retell-auth';

export interface IngressGuards {
  /** The client's address (allowlists, logs). */
  clientIp: (c: Context) => string;
  /** What rate limits and lockouts count it under (IPv6 by /64: ./client-ip `addressKey`). */
  rateKey: (c: Context) => string;
  failures: AuthFailureLimit;
  budget: CompanyBudget;
  /** Refuses a signature header that can verify no body, before the body limit reads a chunked body. */
  retellSignatureHeader: MiddlewareHandler;
  retellAuth<T>(parse: (json: unknown) => BodyVerdict<T>, opts?: { softBudget?: boolean }): MiddlewareHandler<RetellAuthEnv<T>>;
}

export function ingressGuards(ctx: AppContext): IngressGuards {
  const c = ctx.config;
  const ip = (ctxH: Context) => clientIp(ctxH, c.TRUST_PROXY);
  const failures = new AuthFailureLimit(ctx.redis, ctx.ns, c.RATE_LIMIT_AUTH_FAILURES_PER_MINUTE);
  const budget = new CompanyBudget(ctx.redis, ctx.ns, c.RATE_LIMIT_COMPANY_PER_MINUTE);
  const keyDeps = { db: ctx.database.db, cache: ctx.cache, cipher: ctx.cipher };
  const logger = ctx.logger.child({ component: 'ingress' });
  const rateKey = (ctxH: Context) => addressKey(ip(ctxH));
  return {
    clientIp: ip,
    rateKey,
    failures,
    budget,
    retellSignatureHeader: retellSignatureHeader({ failures, clientKey: rateKey, logger }),
    retellAuth: (parse, opts = {}) =>
      retellAuth({
        apiKey: c.RETELL_API_KEY,
        parse,
        companyKey: (n) => companyRetellKeyFor(keyDeps, n),
        ownKeysExist: () => ownRetellKeysExist(keyDeps),
        // Only after the body is authenticated: resolvePhone caches what it finds (unknown numbers too).
        companyOf: async (n) => (await resolvePhone(ctx.database.db, ctx.cache, n))?.companyId ?? null,
        failures,
        budget,
        clientKey: rateKey,
        logger,
        softBudget: opts.softBudget,
      }),
  };
}
