/**
 * Who is calling whom, for one live-call function request.
 *
 * Retell posts `{ name, call, args }`, or — with the tool's `args_at_root` — the args object
 * alone. In that second shape the call is not sent, so the call's identity must travel inside
 * the args (`call_id`, `to_number`, `from_number`, `direction`), which the signature covers.
 * Query parameters are never read: they are not signed, and a replayed body with another
 * `?from_number=` would otherwise speak for another caller.
 *
 * The business number (to_number inbound, from_number outbound) names company and branch
 * through the cached phone resolution; the other number is the customer, whose number is the
 * customer key within that company.
 */
import { z } from 'zod';
import type { TieredCache } from '../cache';
import { resolvePhone, type PhoneResolution } from '../calls/resolve-phone';
import type { Lang } from '../datetime';
import type { Db } from '../db';
import { callSchema, type RetellCall } from '../retell/webhook';

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

export type BodyShape = 'envelope' | 'args_at_root';

export interface LiveRequest {
  shape: BodyShape;
  /** The function's arguments (in args_at_root, the whole body, identity fields included). */
  args: Record<string, unknown>;
  /** Where the args sit in the body, for error paths: `args.` or nothing. */
  argsPath: string;
  /** The call as Retell sent it, or one built from the identity fields of args-only bodies. */
  call: RetellCall | null;
  /** Where the call's identity fields sit, for error paths: `call.`, `args.` or nothing. */
  identityPath: string;
}

export interface LiveCall {
  where: PhoneResolution;
  lang: Lang;
  /** The customer's number (the caller inbound, the dialled one outbound); null when withheld. */
  customerNumber: string | null;
  /** Retell's call id; null only for args-only bodies that did not pass one. */
  retellCallId: string | null;
  call: RetellCall | null;
  shape: BodyShape;
  /** Where the identity fields sit in the body (`call.`, `args.` or nothing), for error paths. */
  identityPath: string;
}

const e164 = z.string().regex(/^\+[1-9]\d{5,14}$/, 'must be an E.164 number like +4930123456');
/** Identity fields accepted inside args when Retell sends args only. */
const identitySchema = z.object({
  call_id: z.string().min(1).max(100).optional(),
  to_number: e164.optional(),
  from_number: e164.optional(),
  direction: z.enum(['inbound', 'outbound']).optional(),
});

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** zod issues with dotted paths under `prefix` (`args.`, `call.` or nothing). */
export function issuesOf(error: z.ZodError, prefix: string): Array<{ path: string; message: string }> {
  return error.issues.map((i) => {
    const p = i.path.map(String).join('.');
    return { path: p ? prefix + p : prefix.replace(/\.$/, '') || '(root)', message: i.message };
  });
}

/** The envelope has an `args` object next to `call` or `name`; anything else is args at root. */
export function readLiveBody(json: unknown): LiveRequest {
  if (!isObject(json)) throw new LiveError(422, 'bad_args', 'the body must be a JSON object', [{ path: '(root)', message: 'expected an object' }]);
  if (isObject(json.args) && ('call' in json || typeof json.name === 'string')) {
    if (json.call === undefined) return { shape: 'envelope', args: json.args, argsPath: 'args.', call: identityCall(json.args, 'args.'), identityPath: 'args.' };
    const parsed = callSchema.safeParse(json.call);
    if (!parsed.success) throw new LiveError(422, 'bad_call', 'call does not match the Retell call object', issuesOf(parsed.error, 'call.'));
    return { shape: 'envelope', args: json.args, argsPath: 'args.', call: parsed.data, identityPath: 'call.' };
  }
  return { shape: 'args_at_root', args: json, argsPath: '', call: identityCall(json, ''), identityPath: '' };
}

function identityCall(args: Record<string, unknown>, prefix: string): RetellCall | null {
  const parsed = identitySchema.safeParse(args);
  if (!parsed.success) throw new LiveError(422, 'bad_args', 'call identity fields are invalid', issuesOf(parsed.error, prefix));
  const { call_id, to_number, from_number, direction } = parsed.data;
  if (!call_id && !to_number && !from_number) return null;
  return { call_id: call_id ?? '', to_number, from_number, direction };
}

/** Company, branch, language and customer of the request; refuses when the company is unknown. */
export async function resolveLiveCall(db: Db, cache: TieredCache, req: LiveRequest): Promise<LiveCall> {
  const call = req.call;
  const outbound = call?.direction === 'outbound';
  const business = outbound ? call?.from_number : call?.to_number;
  if (!business) {
    const field = outbound ? 'from_number' : 'to_number';
    throw new LiveError(422, 'company_unknown', `cannot tell which company this call belongs to: send the call object, or ${field} in the args`, [
      { path: `${req.identityPath}${field}`, message: 'required to find the company (the dialled number)' },
    ]);
  }
  const resolved = await resolvePhone(db, cache, business);
  if (!resolved) throw new LiveError(404, 'unknown_number', `no company answers ${business}: import it with callbook tenants import`);
  return {
    where: resolved,
    lang: resolved.language === 'en' ? 'en' : 'de',
    customerNumber: (outbound ? call?.to_number : call?.from_number) ?? null,
    retellCallId: call?.call_id || null,
    call,
    shape: req.shape,
    identityPath: req.identityPath,
  };
}
