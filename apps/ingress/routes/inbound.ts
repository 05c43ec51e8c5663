/**
 * `POST /webhooks/retell/inbound` — Retell's per-number `inbound_webhook_url`, signed like every
 * Retell webhook (`x-retell-signature`, the global key or the key of the company owning the
 * dialled number). Answers `{"call_inbound":{"dynamic_variables":{…},"metadata":{…}}}` for a
 * returning caller (lib/inbound) and `{"call_inbound":{}}` otherwise — also when the body is odd,
 * the lookup fails, or it takes longer than the deadline (80 ms): the call must ring on, so
 * nothing but a bad signature (401), a foreign source (403) or an oversized body (413) is an error.
 * No rate limit: nothing costly runs before the signature is checked, and Retell's inbound calls
 * must not share the webhook budget with call events.
 */
import { inboundAnswersTotal } from '../../../lib/metrics';
import type { Context, Hono } from 'hono';
import type { AppContext } from '../../../lib/context';
import type { Cipher } from '../../../lib/crypto';
import type { Logger } from '../../../lib/logger';
import { companyRetellKeyFor } from '../../../lib/retell/company-key';
import { answerInbound, EMPTY_ANSWER, inboundToNumber, type InboundAnswer, type InboundDeps } from '../../../lib/inbound';
import { clientIp } from '../app';
import { maxBody } from '../middleware/body-limit';
import { ipAllowlist } from '../middleware/ip-allowlist';
import { retellSignature, type RetellSignatureEnv } from '../middleware/retell-signature';

export interface InboundRouteDeps extends InboundDeps {
  cipher: Cipher;
  logger: Logger;
  retellApiKey: string;
  ipAllowlist?: string[];
  trustProxy: boolean;
  maxBodyBytes: number;
  /** Answer empty rather than later than this (Retell holds the ringing call meanwhile). */
  deadlineMs?: number;
}

export function inboundRouteDeps(ctx: AppContext, extra: Partial<InboundRouteDeps> = {}): InboundRouteDeps {
  return {
    db: ctx.database.db,
    cache: ctx.cache,
    cipher: ctx.cipher,
    logger: ctx.logger.child({ component: 'inbound' }),
    retellApiKey: ctx.config.RETELL_API_KEY,
    ipAllowlist: ctx.config.WEBHOOK_IP_ALLOWLIST,
    trustProxy: ctx.config.TRUST_PROXY,
    maxBodyBytes: Math.min(ctx.config.WEBHOOK_MAX_BODY_BYTES, 64 * 1024),
    deadlineMs: ctx.config.INBOUND_DEADLINE_MS,
    ...extra,
  };
}

/** For `routes` in apps/ingress/deps.ts. */
export const inboundRoutes = (ctx: AppContext) => (app: Hono) => mountInbound(app, inboundRouteDeps(ctx));

/** The company's own Retell key for the dialled number (lib/retell/company-key, as for the call webhooks). */
function companyKeysForInbound(deps: InboundRouteDeps) {
  return async (raw: Buffer): Promise<string[]> => {
    let to: string | null;
    try {
      to = inboundToNumber(JSON.parse(raw.toString('utf8')));
    } catch {
      return [];
    }
    if (!to) return [];
    return companyRetellKeyFor(deps, to);
  };
}

export function mountInbound(app: Hono, deps: InboundRouteDeps): void {
  const deadlineMs = deps.deadlineMs ?? 80;
  const log = deps.logger;

  const answer = async (c: Context<RetellSignatureEnv>) => {
    let body: unknown;
    try {
      body = JSON.parse(c.var.rawBody.toString('utf8'));
    } catch {
      log.warn('inbound webhook body is not JSON; answering empty');
      inboundAnswersTotal.inc({ outcome: 'malformed' });
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
    const lookup = answerInbound(deps, body).catch((err: unknown) => {
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
    ipAllowlist(deps.ipAllowlist, (c) => clientIp(c, deps.trustProxy)),
    maxBody(deps.maxBodyBytes),
    retellSignature({ apiKey: deps.retellApiKey, keysFor: companyKeysForInbound(deps) }),
    answer,
  );
}
