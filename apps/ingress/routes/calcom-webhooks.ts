/**
 * Cal.com's outgoing webhooks: `POST /webhooks/calcom/:company` (the company's slug: configure
 * this URL per company in Cal.com) and `POST /webhooks/calcom` (the company is found by the
 * payload's event type, and the secret that signed the body decides). Per request: a missing or
 * malformed `X-Cal-Signature-256` (401, before the body is read) → body limit (413) → the
 * signature on the raw bytes with the company's secret (401; 429 once the source has failed too
 * often; with the slug before the body is parsed) → the company's request
 * budget (429) → JSON (400) → schema (422 with paths) → applied synchronously through the
 * webhook_events inbox (lib/calcom-webhooks) → 200. Unknown triggers are acknowledged and ignored.
 */
import type { Context, Hono, MiddlewareHandler } from 'hono';
import type { AppContext } from '../../../lib/context';
import {
  bookingWebhookSchema,
  calcomDedupeKey,
  companiesBookingEventType,
  companiesWithSecrets,
  companyBySlug,
  envelopeSchema,
  findSigner,
  handleCalcomWebhook,
  isHandledTrigger,
  isWellFormedCalcomSignature,
  peekEventTypeId,
  verifyCalcomSignature,
  type CalcomWebhookDeps,
  type SigningCompany,
} from '../../../lib/calcom-webhooks';
import type { Cipher } from '../../../lib/crypto';
import { publishEvent } from '../../../lib/events';
import { describeIssues } from '../../../lib/retell/webhook';
import { ApiError } from '../errors';
import { ingressGuards, type IngressGuards } from '../guards';
import { maxBody } from '../middleware/body-limit';

export interface CalcomWebhookRouteDeps extends CalcomWebhookDeps {
  cipher: Cipher;
  guards: IngressGuards;
  maxBodyBytes: number;
}

export function calcomWebhookRouteDeps(ctx: AppContext): CalcomWebhookRouteDeps {
  return {
    db: ctx.database.db,
    cache: ctx.cache,
    cipher: ctx.cipher,
    logger: ctx.logger.child({ component: 'calcom-webhooks' }),
    guards: ingressGuards(ctx),
    maxBodyBytes: ctx.config.WEBHOOK_MAX_BODY_BYTES,
    publish: (e) => publishEvent(ctx.redis, ctx.ns, e, (err) => ctx.logger.warn({ err }, 'live event not published')),
  };
}

/** For `routes` in apps/ingress/deps.ts. */
export const calcomWebhookRoutes = (ctx: AppContext) => (app: Hono) => mountCalcomWebhooks(app, calcomWebhookRouteDeps(ctx));

const HEADER = 'x-cal-signature-256';

/** The body as JSON, or why it is not; malformed JSON is answered only once the signature holds. */
function parseJson(raw: Buffer): { json: unknown } | { error: string } {
  try {
    return { json: JSON.parse(raw.toString('utf8')) };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

export function mountCalcomWebhooks(app: Hono, deps: CalcomWebhookRouteDeps): void {
  // A failed signature counts against the source address (429 past its limit); a verified one
  // spends its company's budget.
  const refuse = async (c: Context, why: string) => deps.guards.failures.failed(c, deps.guards.rateKey(c), new ApiError(401, 'invalid_signature', why));
  // A header that can verify no body is refused before anything reads the body (the body limit
  // reads a chunked body whole).
  const signatureHeader: MiddlewareHandler = async (c, next) => {
    const header = c.req.header(HEADER);
    if (!header) throw await refuse(c, 'missing X-Cal-Signature-256 header');
    if (!isWellFormedCalcomSignature(header)) throw await refuse(c, 'malformed X-Cal-Signature-256 header (expected 64 hex digits)');
    await next();
  };
  const chain = [signatureHeader, maxBody(deps.maxBodyBytes, 'calcom_webhook')] as const;

  const receive = async (c: Context) => {
    const receivedAt = new Date();
    // Present and well-formed (signatureHeader above).
    const header = c.req.header(HEADER) ?? '';
    const raw = Buffer.from(await c.req.arrayBuffer());

    // The slug route knows its company and checks the signature before the body is parsed; the
    // other route needs the parsed body's event type to find its candidates.
    const slug = c.req.param('company');
    let body = slug === undefined ? parseJson(raw) : undefined;

    // Authenticate before anything else is said about the body.
    let signer: SigningCompany | null;
    if (slug !== undefined) {
      const company = await companyBySlug(deps.db, deps.cipher, slug);
      signer = company && verifyCalcomSignature(raw, company.secret, header) ? company : null;
    } else {
      const eventTypeId = body && 'json' in body ? peekEventTypeId(body.json) : null;
      let candidates = eventTypeId === null ? [] : await companiesBookingEventType(deps.db, deps.cipher, eventTypeId);
      if (!candidates.length) {
        // No event type, or one no service books: every company's secret is a candidate.
        // Decrypting them all and an HMAC of up to a whole body with each is work a source past
        // its failure limit does not get.
        if (await deps.guards.failures.isOver(deps.guards.rateKey(c))) throw await refuse(c, 'signature not checked: too many failures from this source');
        candidates = await companiesWithSecrets(deps.db, deps.cipher);
      }
      signer = findSigner(raw, header, candidates);
    }
    if (!signer) throw await refuse(c, 'signature does not match the body for this company');
    await deps.guards.budget.spend(c, signer.companyId);

    body ??= parseJson(raw);
    if ('error' in body) throw new ApiError(400, 'malformed_json', `body is not valid JSON: ${body.error}`);
    const json = body.json;
    const envelope = envelopeSchema.safeParse(json);
    if (!envelope.success) throw new ApiError(422, 'schema_mismatch', 'webhook does not match the Cal.com schema', describeIssues(envelope.error));
    const trigger = envelope.data.triggerEvent;
    // Cal.com retries non-2xx: triggers callbook does not use are acknowledged and dropped.
    if (!isHandledTrigger(trigger)) return c.json({ status: 'ignored', triggerEvent: trigger }, 200);
    const parsed = bookingWebhookSchema.safeParse(json);
    if (!parsed.success) throw new ApiError(422, 'schema_mismatch', 'webhook does not match the Cal.com booking schema', describeIssues(parsed.error));

    const result = await handleCalcomWebhook(deps, {
      companyId: signer.companyId,
      webhook: parsed.data,
      dedupeKey: calcomDedupeKey(signer.companyId, parsed.data, raw),
      receivedAt,
    });
    return c.json(
      {
        status: result.outcome === 'duplicate' ? 'duplicate' : 'processed',
        outcome: result.outcome,
        company: signer.slug,
        ...(result.appointmentId !== undefined ? { appointmentId: result.appointmentId } : {}),
      },
      200,
    );
  };

  app.post('/webhooks/calcom', ...chain, receive);
  app.post('/webhooks/calcom/:company', ...chain, receive);
}
