/**
 * `POST /functions/retell/:name` — Retell's custom functions, answered while the caller is on
 * the line (lib/live). Behind WEBHOOK_IP_ALLOWLIST like the webhooks; authenticated like webhooks (apps/ingress/middleware/retell-auth): the
 * body is parsed once (lib/retell/body `parseLiveBody`), the key chosen by the business number
 * of that parse, and the handler runs on that same parsed object. Body limit WEBHOOK_MAX_BODY_BYTES
 * (1 MiB), as for the webhooks: Retell's call object carries the call's transcript up to the
 * request, and shaped as its Get Call API's that is the words with their timings twice
 * (`transcript_object`, `transcript_with_tool_calls`) — about 155 KiB eight minutes into a call
 * (test/helpers/transcript), where the old 64 KB limit answered 413 and nothing was booked. The
 * company's request budget applies (a caller waiting on a 429 hears silence, so the default is
 * far above any conversation's pace).
 *
 * Answers: 200 `{ "result": "<one or two sentences in the call's language>", "status": "…", …data }`
 * for every outcome a caller should hear (booked, slot taken with three free slots, not found,
 * try later); 400 malformed JSON, 401 signature, 404 unknown function or number, 413 too large,
 * 422 bad args, shapes that disagree, an unresolvable call, or — for functions that read or
 * change a caller's appointments or book — a body without Retell's call object (`call_required`).
 * Errors go through the ingress's one mapper (apps/ingress/errors.ts).
 */
import type { Hono } from 'hono';
import { bookingDeps } from '../../../lib/booking/deps';
import type { AppContext } from '../../../lib/context';
import { LIVE_FUNCTION_NAMES, LiveError, liveFunction, runLiveFunction, type LiveDeps } from '../../../lib/live';
import { parseLiveBody } from '../../../lib/retell/body';
import { ApiError } from '../errors';
import { ingressGuards } from '../guards';
import { maxBody } from '../middleware/body-limit';
import { ipAllowlist } from '../middleware/ip-allowlist';

/**
 * @example
 *   createApp({ ...deps, routes: [mountFunctions(ctx)] })
 */
export function mountFunctions(ctx: AppContext): (app: Hono) => void {
  // A caller is on the line: these requests may use the Cal.com budget reserved for calls.
  const deps: LiveDeps = { booking: bookingDeps(ctx, {}, 'call') };
  const log = ctx.logger.child({ component: 'functions' });
  const guards = ingressGuards(ctx);
  return (app) => {
    const allowlist = ipAllowlist(ctx.config.WEBHOOK_IP_ALLOWLIST, guards.clientIp);
    app.post('/functions/retell/:name', allowlist, guards.retellSignatureHeader, maxBody(ctx.config.WEBHOOK_MAX_BODY_BYTES, 'retell_function'), guards.retellAuth(parseLiveBody), async (c) => {
      const name = c.req.param('name');
      const fn = liveFunction(name);
      if (!fn) throw new ApiError(404, 'unknown_function', `no live-call function "${name}"; known: ${LIVE_FUNCTION_NAMES.join(', ')}`);
      const { verdict, signer } = c.var.retell;
      if (!verdict.ok) throw new ApiError(verdict.status, verdict.code, verdict.message, verdict.issues);
      try {
        const { say, data } = await runLiveFunction(deps, fn, verdict.value, signer.kind === 'company' ? signer.companyId : undefined);
        log.debug({ fn: name, status: data.status }, 'live function answered');
        return c.json({ result: say, ...data }, 200);
      } catch (err) {
        if (err instanceof LiveError) throw new ApiError(err.status, err.code, err.message, err.issues);
        throw err;
      }
    });
  };
}
