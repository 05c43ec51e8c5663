/** Optional allowlist of webhook source addresses (WEBHOOK_IP_ALLOWLIST); 403 for others. */
import { createMiddleware } from 'hono/factory';
import { ApiError } from '../../errors';

export const ipAllowlist = (allowed: string[] | undefined, clientIp: (c: Parameters<Parameters<typeof createMiddleware>[0]>[0]) => string) =>
  createMiddleware(async (c, next) => {
    if (allowed && allowed.length > 0) {
      const ip = clientIp(c).replace(/^::ffff:/, '');
      if (!allowed.includes(ip)) throw new ApiError(403, 'forbidden_source', `source address ${ip} is not in WEBHOOK_IP_ALLOWLIST`);
    }
    await next();
  });
