/**
 * Who is calling whom, for one live-call function request.
 *
 * The body was parsed once by lib/retell/body (`parseLiveBody`), and its signature verified with
 * the key of the very business number that parse found; this module resolves that number to
 * company and branch. The caller's identity comes only from Retell's `call` object: in the
 * args-only shapes the caller's number would come from arguments the agent's LLM fills in, which
 * a caller can talk it into, so those bodies may name a company (to list services and check
 * availability) but never a caller. Query parameters are never read: they are not signed.
 */
import type { TieredCache } from '../cache';
import { resolvePhone, type PhoneResolution } from '../calls/resolve-phone';
import type { Lang } from '../datetime';
import type { Db } from '../db';
import type { LiveBody, LiveBodyShape } from '../retell/body';
import type { RetellCall } from '../retell/webhook';

/** A request the gateway refuses (4xx), with the failing paths when it is about the body. */
export class LiveError extends Error {
  override readonly name = 'LiveError';
  constructor(
    readonly status: 400 | 404 | 422,
    readonly code: string,
    message: string,
    readonly issues?: Array<{ path: string; message: string }>,
  ) {
    super(message);
  }
}

export interface LiveCall {
  where: PhoneResolution;
  lang: Lang;
  /** The customer's number (the caller inbound, the dialled one outbound), from Retell's call object only; null when withheld or absent. */
  customerNumber: string | null;
  /** Retell's call id, from the call object; null for args-only bodies. */
  retellCallId: string | null;
  /** Retell's call object; null for args-only bodies. */
  call: RetellCall | null;
  shape: LiveBodyShape;
  /** Where the identity fields sit in the body (`call.`, `args.` or nothing), for error paths. */
  identityPath: string;
}

/**
 * Company, branch, language and customer of the request; refuses when the company is unknown, or
 * when `needsCall` and the body carries no call object.
 */
export async function resolveLiveCall(
  db: Db,
  cache: TieredCache,
  body: LiveBody,
  fn: { name: string; needsCall: boolean },
  /** The company whose own Retell key signed the body (absent: the platform key). */
  signerCompanyId?: number,
): Promise<LiveCall> {
  const call = body.call;
  if (fn.needsCall && !call) {
    throw new LiveError(422, 'call_required', `${fn.name} reads or changes the caller's appointments: it needs Retell's call object (send the function with Retell's default body, not args only)`, [
      { path: 'call', message: "required: the caller's identity comes only from Retell's call object" },
    ]);
  }
  const outbound = (call ?? body.args).direction === 'outbound';
  const field = outbound ? 'from_number' : 'to_number';
  if (!body.businessNumber) {
    throw new LiveError(422, 'company_unknown', `cannot tell which company this call belongs to: send the call object, or ${field} in the args`, [
      { path: `${body.identityPath}${field}`, message: 'required to find the company (the dialled number)' },
    ]);
  }
  const resolved = await resolvePhone(db, cache, body.businessNumber);
  if (!resolved) throw new LiveError(404, 'unknown_number', `no company answers ${body.businessNumber}: import it with callbook tenants import`);
  // The key was chosen by this number; a difference means the number changed company since.
  if (signerCompanyId !== undefined && signerCompanyId !== resolved.companyId) {
    throw new LiveError(422, 'foreign_number', `${body.businessNumber} does not belong to the company whose Retell key signed this request`);
  }
  return {
    where: resolved,
    lang: resolved.language === 'en' ? 'en' : 'de',
    customerNumber: (outbound ? call?.to_number : call?.from_number) ?? null,
    retellCallId: call?.call_id ?? null,
    call,
    shape: body.shape,
    identityPath: body.identityPath,
  };
}
