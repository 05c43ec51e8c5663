/**
 * `POST /functions/retell/:name` — Retell's custom functions, answered while the caller is on
 * the line (lib/live). Signed like webhooks (`x-retell-signature` on the raw body: the global
 * key, then the company key of the dialled number), body limit 64 KB, no rate limit of ours
 * (Retell paces its own calls, and a caller waiting on a 429 would hear silence).
 *
 * Answers: 200 `{ "result": "<one or two sentences in the call's language>", "status": "…", …data }`
 * for every outcome a caller should hear (booked, slot taken with three free slots, not found,
 * try later); 400 malformed JSON, 401 signature, 404 unknown function or number, 413 too large,
 * 422 bad args or an unresolvable call (with the failing paths). Errors are the ingress's JSON
 * shape, `{ "error": { "code", "message", "issues"? } }`, handled here so they are not counted
 * as webhooks.
 */
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { bookingDeps } from '../../../lib/booking/deps';
import type { AppContext } from '../../../lib/context';
import { LIVE_FUNCTION_NAMES, LiveError, liveFunction, runLiveFunction, type LiveDeps } from '../../../lib/live';
import { companyKeysOfBody } from '../../../lib/retell/company-key';
import { ApiError } from '../errors';
import { maxBody } from '../middleware/body-limit';
import { retellSignature, type RetellSignatureEnv } from '../middleware/retell-signature';

export const FUNCTIONS_MAX_BODY_BYTES = 64 * 1024;

/**
 * @example
 *   createApp({ ...deps, routes: [mountFunctions(ctx)] })
 */
export function mountFunctions(ctx: AppContext): (app: Hono) => void {
  const deps: LiveDeps = { booking: bookingDeps(ctx) };
  const log = ctx.logger.child({ component: 'functions' });
  return (app) => {
    const r = new Hono<RetellSignatureEnv>();
    r.onError((err, c) => {
      if (err instanceof ApiError) {
        return c.json({ error: { code: err.code, message: err.message, ...(err.issues ? { issues: err.issues } : {}) } }, err.status);
      }
      if (err instanceof HTTPException) return c.json({ error: { code: 'http_error', message: err.message } }, err.status);
      log.error({ err, fn: c.req.param('name') }, 'live function failed');
      return c.json({ error: { code: 'internal', message: 'internal error' } }, 500);
    });
    r.post(
      '/functions/retell/:name',
      maxBody(FUNCTIONS_MAX_BODY_BYTES),
      retellSignature({ apiKey: ctx.config.RETELL_API_KEY, keysFor: companyKeysOfBody({ db: ctx.database.db, cache: ctx.cache, cipher: ctx.cipher }) }),
      async (c) => {
        const name = c.req.param('name');
        const fn = liveFunction(name);
        if (!fn) throw new ApiError(404, 'unknown_function', `no live-call function "${name}"; known: ${LIVE_FUNCTION_NAMES.join(', ')}`);
        let json: unknown;
        try {
          json = JSON.parse(c.var.rawBody.toString('utf8'));
        } catch (err) {
          throw new ApiError(400, 'malformed_json', `body is not valid JSON: ${(err as Error).message}`);
        }
        try {
          const { say, data } = await runLiveFunction(deps, fn, json);
          log.debug({ fn: name, status: data.status }, 'live function answered');
          return c.json({ result: say, ...data }, 200);
        } catch (err) {
          if (err instanceof LiveError) throw new ApiError(err.status, err.code, err.message, err.issues);
          throw err;
        }
      },
    );
    app.route('/', r);
  };
}
