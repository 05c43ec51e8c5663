/**
 * `GET /functions/retell` (admin token): the Retell custom-tool definitions of callbook's
 * live-call functions as JSON — for people who configure Retell by hand rather than with
 * `callbook agents provision`. The same definitions provisioning writes (lib/live/tools), so the
 * JSON Schemas are the ones the function route validates with. `?lang=de|en` picks the language
 * of the descriptions (default en).
 */
import type { Hono } from 'hono';
import { authenticate, type AuthDeps } from '../../../lib/auth/tokens';
import type { AppContext } from '../../../lib/context';
import { liveToolDefinitions } from '../../../lib/live/tools';

export const FUNCTION_TOOLS_PATH = '/functions/retell';

export function functionToolRoutes(ctx: AppContext): (app: Hono) => void {
  const auth: AuthDeps = { db: ctx.database.db, cache: ctx.cache, adminToken: ctx.config.ADMIN_TOKEN.trim() ? ctx.config.ADMIN_TOKEN : '' };
  return (app) => {
    app.get(FUNCTION_TOOLS_PATH, async (c) => {
      const bearer = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header('authorization') ?? '')?.[1];
      const principal = await authenticate(auth, bearer);
      if (principal?.kind !== 'admin') {
        c.header('WWW-Authenticate', 'Bearer realm="callbook"');
        return c.json({ error: { code: 'unauthorized', message: 'send Authorization: Bearer <ADMIN_TOKEN>' } }, 401);
      }
      const publicUrl = ctx.config.PUBLIC_URL;
      if (!publicUrl) return c.json({ error: { code: 'not_configured', message: 'PUBLIC_URL is not set: the tool URLs would be unknown' } }, 503);
      const lang = c.req.query('lang') === 'de' ? 'de' : 'en';
      return c.json({ publicUrl, language: lang, tools: liveToolDefinitions(publicUrl, lang) });
    });
  };
}
