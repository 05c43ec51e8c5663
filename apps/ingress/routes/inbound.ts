/**
 * `POST /webhooks/retell/inbound` — Retell's per-number `inbound_webhook_url`, signed like every
 * Retell webhook (`x-retell-signature`, the global key or the key of the company owning the
 * dialled number). Answers `{"call_inbound":{"dynamic_variables":{…},"metadata":{…}}}` for a
 * returning caller (lib/inbound) and `{"call_inbound":{}}` otherwise — also when the body is odd,
 * the lookup fails, or it takes longer than the deadline (80 ms): the call must ring on, so
 * nothing but a bad signature (401, 429 once the source has failed too often), a foreign source
 * (403) or an oversized body (413) is an error. The body is parsed once (lib/retell/body
 * `parseInboundBody`) and the lookup runs on that parse; a company over its request budget gets
 * the empty answer.
 */
import { inboundAnswersTotal } from '../../../lib/metrics';
import type { Context, Hono } from 'hono';
import type { AppContext } from '../../../lib/context';
import type { Logger } from '../../../lib/logger';
import { answerInbound, EMPTY_ANSWER, type InboundAnswer, type InboundDeps } from '../../../lib/inbound';
import { parseInboundBody, type InboundBody } from '../../../lib/retell/body';
import { ingressGuards, type IngressGuards } from '../guards';
import { maxBody } from '../middleware/body-limit';
import { ipAllowlist } from '../middleware/ip-allowlist';
import type { RetellAuthEnv } from '../middleware/retell-auth';

export interface InboundRouteDeps extends InboundDeps {
  logger: Logger;
  guards: IngressGuards;
  ipAllowlist?: string[];
  maxBodyBytes: number;
  /** Answer empty rather than later than this (Retell holds the ringing call meanwhile). */
  deadlineMs?: number;
}

export function inboundRouteDeps(ctx: AppContext, extra: Partial<InboundRouteDeps> = {}): InboundRouteDeps {
  return {
    db: ctx.database.db,
    cache: ctx.cache,
    logger: ctx.logger.child({ component: 'inbound' }),
    guards: ingressGuards(ctx),
    ipAllowlist: ctx.config.WEBHOOK_IP_ALLOWLIST,
    maxBodyBytes: Math.min(ctx.config.WEBHOOK_MAX_BODY_BYTES, 64 * 1024),
    deadlineMs: ctx.config.INBOUND_DEADLINE_MS,
    ...extra,
  };
}

/** For `routes` in apps/ingress/deps.ts. */
export const inboundRoutes = (ctx: AppContext) => (app: Hono) => mountInbound(app, inboundRouteDeps(ctx));

export function mountInbound(app: Hono, deps: InboundRouteDeps): void {
  const deadlineMs = deps.deadlineMs ?? 80;
  const log = deps.logger;

  const answer = async (c: Context<RetellAuthEnv<InboundBody>>) => {
    const { verdict, overBudget } = c.var.retell;
    if (!verdict.ok) {
      log.warn({ code: verdict.code }, 'inbound webhook body is not usable; answering empty');
      inboundAnswersTotal.inc({ outcome: 'malformed' });
      return c.json(EMPTY_ANSWER, 200);
    }
    if (overBudget) {
      log.warn({ companyId: c.var.retell.companyId }, 'company over its request budget; answering empty');
      inboundAnswersTotal.inc({ outcome: 'over_budget' });
      return c.json(EMPTY_ANSWER, 200);
    }
    let timer: NodeJS.Timeout | undefined;
    let outcome: 'answered' | 'deadline_missed' | 'failed' = 'answered';
    const late = new Promise<InboundAnswer>((resolve) => {
      timer = setTimeout(() => {
        log.warn({ deadlineMs }, 'inbound lookup exceeded its deadline; answering empty');
        outcome = 'deadline_missed';
        resolve(EMPTY_ANSWER);
      }, deadlineMs);
    });
    const lookup = answerInbound(deps, verdict.value).catch((err: unknown) => {
      log.error({ err }, 'inbound lookup failed; answering empty');
      outcome = 'failed';
      return EMPTY_ANSWER;
    });
    try {
      const answered = await Promise.race([lookup, late]);
      inboundAnswersTotal.inc({ outcome });
      return c.json(answered, 200);
    } finally {
      clearTimeout(timer);
    }
  };

  app.post(
    '/webhooks/retell/inbound',
    ipAllowlist(deps.ipAllowlist, deps.guards.clientIp),
    deps.guards.retellSignatureHeader,
    maxBody(deps.maxBodyBytes, 'retell_inbound'),
    // The call must ring on: over the company's budget the answer is empty, not a 429.
    deps.guards.retellAuth(parseInboundBody, { softBudget: true }),
    answer,
  );
}
