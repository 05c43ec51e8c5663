/**
 * Authenticates a Retell body and hands the handler the very object that was authenticated.
 * Per request, once: read `x-retell-signature` (missing, malformed or stale: refused before the
 * body is read), read the raw bytes, verify them with the platform key, parse them (JSON, then the
 * route's own parser from lib/retell/body, which also names the business number), and, only if the
 * platform key failed, verify with the own key of the company owning the business number the parse
 * found — a body the platform key does not verify is not parsed while no company has a key of its
 * own. The handler reads `c.var.retell.verdict` — never the body again — so the number that chose
 * the key is the number the call is processed under.
 *
 * A failure answers 401 with the reason (logged without signature or key) and counts against the
 * source address (429 past its limit); an authenticated request spends its company's budget.
 */
import type { Context, MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';
import type { BodyVerdict } from '../../../../lib/retell/body';
import type { CompanyKey } from '../../../../lib/retell/company-key';
import { readSignatureHeader, verifyRetellSignature, type SignatureVerdict } from '../../../../lib/retell/signature';
import { ApiError } from '../../errors';
import type { AuthFailureLimit, CompanyBudget } from '../rate-limit';

/** Who vouched for a body: the platform's RETELL_API_KEY, or one company's own key. */
export type RetellSigner = { kind: 'platform' } | { kind: 'company'; companyId: number };

export interface RetellAuthVars<T> {
  retell: {
    verdict: BodyVerdict<T>;
    signer: RetellSigner;
    /** The company whose budget the request spent (null: a number no company owns). */
    companyId: number | null;
    /** Set instead of a 429 when the route asked for `softBudget`. */
    overBudget: boolean;
  };
}

export type RetellAuthEnv<T> = { Variables: RetellAuthVars<T> };

export interface RetellAuthOptions<T> {
  apiKey: string;
  parse: (json: unknown) => BodyVerdict<T>;
  /** The company owning a number and its own Retell key, if it has one. */
  companyKey: (e164: string) => Promise<CompanyKey | null>;
  /** Whether any company has a key of its own (when none has, a mismatch is refused unparsed). */
  ownKeysExist: () => Promise<boolean>;
  /** The company owning a number (for the budget of platform-signed bodies). */
  companyOf: (e164: string) => Promise<number | null>;
  failures: AuthFailureLimit;
  budget: CompanyBudget;
  clientKey: (c: Context) => string;
  logger: Logger;
  /** Over budget: mark `overBudget` and go on (the inbound webhook must answer, empty), instead of 429. */
  softBudget?: boolean;
}

const WHY: Record<Exclude<SignatureVerdict, 'ok'>, string> = {
  missing: 'missing x-retell-signature header',
  malformed: 'malformed x-retell-signature header',
  stale: 'signature timestamp is outside the 5-minute window',
  mismatch: 'signature does not match the body',
};

/** The route's parse of the raw body (JSON first); malformed JSON is a verdict, not a throw. */
function parseBody<T>(raw: Buffer, parse: (json: unknown) => BodyVerdict<T>): BodyVerdict<T> {
  try {
    return parse(JSON.parse(raw.toString('utf8')));
  } catch (err) {
    return { ok: false, status: 400, code: 'malformed_json', message: `body is not valid JSON: ${(err as Error).message}`, businessNumber: undefined };
  }
}

type RefusalOptions = Pick<RetellAuthOptions<unknown>, 'failures' | 'clientKey' | 'logger'>;

/** 401 with the reason, logged (never the header or a key) and counted against the source address. */
async function refuse(opts: RefusalOptions, c: Context, result: Exclude<SignatureVerdict, 'ok'>, number: string | null): Promise<never> {
  const why = WHY[result];
  const ip = opts.clientKey(c);
  // Through the request's logger (request id, trace id) when mounted.
  const log = (c.var as { log?: Logger }).log ?? opts.logger;
  log.warn({ path: c.req.path, ip, reason: result, number }, `Retell request refused (401): ${why}`);
  throw await opts.failures.failed(c, ip, new ApiError(401, 'invalid_signature', why));
}

/**
 * The signature header alone: one that can verify no body (missing, malformed, stale) is refused
 * before anything reads the body. Mounted before the body limit, whose path for a chunked body
 * reads it whole; retellAuth checks the same again for routes mounted without it.
 */
export function retellSignatureHeader(opts: RefusalOptions): MiddlewareHandler {
  return async (c, next) => {
    const early = readSignatureHeader(c.req.header('x-retell-signature'));
    if (typeof early === 'string') return refuse(opts, c, early, null);
    await next();
  };
}

export function retellAuth<T>(opts: RetellAuthOptions<T>): MiddlewareHandler<RetellAuthEnv<T>> {
  return async (c, next) => {
    const header = c.req.header('x-retell-signature');
    const early = readSignatureHeader(header);
    if (typeof early === 'string') return refuse(opts, c, early, null);
    const raw = Buffer.from(await c.req.arrayBuffer());
    // The platform key first, on the raw bytes: a body is parsed only once something may vouch
    // for it (a long call's Retell body is up to a megabyte of JSON: bench/RESULTS, eleventh session).
    const result = verifyRetellSignature(raw, opts.apiKey, header);
    let signer: RetellSigner | null = result === 'ok' ? { kind: 'platform' } : null;
    let verdict: BodyVerdict<T> | undefined;
    if (result === 'mismatch' && (await opts.ownKeysExist())) {
      // A company's own key is chosen by the number in the body, so the body is parsed to find
      // it — also from a source past its failed authentications: tenants share Retell's source
      // addresses, and one tenant's wrong key must not lock out another's genuine body. With no
      // company key anywhere there is nothing to find, and the body stays unread.
      verdict = parseBody(raw, opts.parse);
      const own = verdict.businessNumber ? await opts.companyKey(verdict.businessNumber) : null;
      if (own && verifyRetellSignature(raw, own.key, header) === 'ok') signer = { kind: 'company', companyId: own.companyId };
    }
    if (!signer) return refuse(opts, c, result === 'ok' ? 'mismatch' : result, verdict?.businessNumber ?? null);
    verdict ??= parseBody(raw, opts.parse);
    const companyId = signer.kind === 'company' ? signer.companyId : verdict.businessNumber ? await opts.companyOf(verdict.businessNumber) : null;
    let overBudget = false;
    try {
      await opts.budget.spend(c, companyId ?? 'unknown');
    } catch (err) {
      if (!(opts.softBudget && err instanceof ApiError && err.status === 429)) throw err;
      overBudget = true;
    }
    c.set('retell', { verdict, signer, companyId, overBudget });
    await next();
  };
}
