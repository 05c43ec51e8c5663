/**
 * One parse of a Retell body decides everything: the call object the handler will use, and the
 * business number whose company's key may verify the body. Retell bodies come in several shapes
 * (`{event, call}`, the older `{event, data}`, live functions as `{name, call, args}` or args
 * alone, inbound as `{event, call_inbound}`); a body whose places disagree about who calls whom
 * (root vs `call` vs `data` vs `args` naming different numbers or call ids) is refused, never
 * processed, because the key would be chosen from one place and the handler would read another.
 *
 * Each parser returns the business number whenever the identity is unambiguous (even if some
 * other field is invalid), so a body signed with a company's own key still gets its precise 422
 * after it is authenticated; a body whose identity is ambiguous can only be verified by the
 * platform key.
 *
 * @example
 *   const p = parseWebhookBody(JSON.parse(raw));
 *   if (p.businessNumber) keys.push(await companyKey(p.businessNumber));
 *   if (!p.ok) throw new ApiError(p.status, p.code, p.message, p.issues);
 *   use(p.value.call);
 */
import { z } from 'zod';
import { isE164 } from '../phone/e164';
import { callSchema, describeIssues, type RetellCall, type RetellWebhook, webhookSchema } from './webhook';

export type Issue = { path: string; message: string };

export type BodyVerdict<T> =
  | { ok: true; value: T; businessNumber: string | undefined }
  | { ok: false; status: 400 | 422; code: string; message: string; issues?: Issue[]; businessNumber: string | undefined };

/** The fields that say who calls whom; they must agree wherever a body repeats them. */
const IDENTITY_FIELDS = ['call_id', 'to_number', 'from_number', 'direction'] as const;

export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Paths where the identity fields of `places` disagree (`to_number: call.to_number ≠ args.to_number`);
 * a place that leaves a field out does not disagree.
 */
export function identityConflicts(places: Array<[prefix: string, obj: unknown]>): Issue[] {
  const issues: Issue[] = [];
  for (const field of IDENTITY_FIELDS) {
    let first: [string, unknown] | undefined;
    for (const [prefix, obj] of places) {
      if (!isObject(obj) || obj[field] === undefined) continue;
      if (!first) first = [prefix, obj[field]];
      else if (obj[field] !== first[1]) {
        issues.push({ path: `${prefix}${field}`, message: `disagrees with ${first[0]}${field}: a body names one call` });
      }
    }
  }
  return issues;
}

/** The business's number: the dialled one inbound, the calling one outbound. */
export function businessNumberOfCall(call: { direction?: unknown; to_number?: unknown; from_number?: unknown }): string | undefined {
  const n = call.direction === 'outbound' ? call.from_number : call.to_number;
  return isE164(n) ? n : undefined;
}

const disagree = (issues: Issue[]): BodyVerdict<never> => ({
  ok: false,
  status: 422,
  code: 'shapes_disagree',
  message: 'the body names more than one call or number; refused',
  issues,
  businessNumber: undefined,
});

/** A call webhook: `{event, call}` or `{event, data}`, never both, root fields agreeing. */
export function parseWebhookBody(json: unknown): BodyVerdict<RetellWebhook> {
  if (!isObject(json)) return { ok: false, status: 422, code: 'schema_mismatch', message: 'the body must be a JSON object', issues: [{ path: '(root)', message: 'expected an object' }], businessNumber: undefined };
  if (json.call !== undefined && json.data !== undefined) {
    return disagree([{ path: 'data', message: 'a webhook carries its call under call or data, not both' }]);
  }
  const callPlace = json.call !== undefined ? 'call.' : 'data.';
  const callObj = json.call ?? json.data;
  const conflicts = identityConflicts([[callPlace, callObj], ['', json]]);
  if (conflicts.length) return disagree(conflicts);
  const businessNumber = isObject(callObj) ? businessNumberOfCall(callObj) : undefined;
  const parsed = webhookSchema.safeParse(json);
  if (!parsed.success) {
    return { ok: false, status: 422, code: 'schema_mismatch', message: 'webhook does not match the Retell schema', issues: describeIssues(parsed.error), businessNumber };
  }
  return { ok: true, value: parsed.data, businessNumber };
}

export type LiveBodyShape = 'envelope' | 'args_at_root';

export interface LiveBody {
  shape: LiveBodyShape;
  /** The function's arguments (in args_at_root, the whole body). */
  args: Record<string, unknown>;
  /** Where the args sit in the body, for error paths: `args.` or nothing. */
  argsPath: string;
  /**
   * Retell's call object, the only source of the caller's identity; null for bodies without one
   * (args only), which may name a company through `to_number` but never a caller.
   */
  call: RetellCall | null;
  /** The business number the body names (from `call`, or for args-only bodies from the args). */
  businessNumber: string | undefined;
  /** Where the identity fields sit, for error paths: `call.`, `args.` or nothing. */
  identityPath: string;
}

const argsIdentitySchema = z.object({
  call_id: z.string().min(1).max(100).optional(),
  to_number: z.string().optional(),
  from_number: z.string().optional(),
  direction: z.enum(['inbound', 'outbound']).optional(),
});

/**
 * A live-function body: `{name, call, args}` (Retell's default), `{name, args}`, or the args at
 * the root (the tool's `args_at_root`). Every place that names the call must agree.
 */
export function parseLiveBody(json: unknown): BodyVerdict<LiveBody> {
  if (!isObject(json)) return { ok: false, status: 422, code: 'bad_args', message: 'the body must be a JSON object', issues: [{ path: '(root)', message: 'expected an object' }], businessNumber: undefined };
  const envelope = isObject(json.args) && ('call' in json || typeof json.name === 'string');
  const conflicts = identityConflicts([['call.', json.call], ['args.', json.args], ['', json]]);
  if (conflicts.length) return disagree(conflicts);

  if (envelope && json.call !== undefined && json.call !== null) {
    const businessNumber = isObject(json.call) ? businessNumberOfCall(json.call) : undefined;
    const parsed = callSchema.safeParse(json.call);
    if (!parsed.success) {
      return { ok: false, status: 422, code: 'bad_call', message: 'call does not match the Retell call object', issues: prefixed(parsed.error, 'call.'), businessNumber };
    }
    return { ok: true, value: { shape: 'envelope', args: json.args as Record<string, unknown>, argsPath: 'args.', call: parsed.data, businessNumber, identityPath: 'call.' }, businessNumber };
  }
  const args = envelope ? (json.args as Record<string, unknown>) : json;
  const prefix = envelope ? 'args.' : '';
  const businessNumber = businessNumberOfCall(args);
  const identity = argsIdentitySchema.safeParse(args);
  if (!identity.success) {
    return { ok: false, status: 422, code: 'bad_args', message: 'call identity fields are invalid', issues: prefixed(identity.error, prefix), businessNumber };
  }
  const named = businessNumberField(args);
  if (args[named] !== undefined && !businessNumber) {
    return { ok: false, status: 422, code: 'bad_args', message: 'call identity fields are invalid', issues: [{ path: `${prefix}${named}`, message: 'must be an E.164 number like +4930123456' }], businessNumber };
  }
  return { ok: true, value: { shape: envelope ? 'envelope' : 'args_at_root', args, argsPath: prefix, call: null, businessNumber, identityPath: prefix }, businessNumber };
}

const businessNumberField = (o: Record<string, unknown>) => (o.direction === 'outbound' ? 'from_number' : 'to_number');

function prefixed(error: z.ZodError, prefix: string): Issue[] {
  return error.issues.map((i) => {
    const p = i.path.map(String).join('.');
    return { path: p ? prefix + p : prefix.replace(/\.$/, '') || '(root)', message: i.message };
  });
}

export interface InboundBody {
  agentId: string | null;
  /** The caller; null when withheld or not an E.164 (the answer is then empty). */
  fromNumber: string | null;
  toNumber: string;
}

const inboundSchema = z.looseObject({
  event: z.string().max(64).optional(),
  call_inbound: z.looseObject({
    agent_id: z.string().max(100).nullish(),
    from_number: z.string().max(32).nullish(),
    to_number: z.string().max(32).nullish(),
  }),
});

/** Retell's inbound webhook: `{event: "call_inbound", call_inbound: {agent_id, from_number, to_number}}`. */
export function parseInboundBody(json: unknown): BodyVerdict<InboundBody> {
  if (!isObject(json)) return { ok: false, status: 422, code: 'schema_mismatch', message: 'the body must be a JSON object', businessNumber: undefined };
  const conflicts = identityConflicts([['call_inbound.', json.call_inbound], ['', json]]);
  if (conflicts.length) return disagree(conflicts);
  const parsed = inboundSchema.safeParse(json);
  if (!parsed.success) return { ok: false, status: 422, code: 'schema_mismatch', message: 'not a Retell inbound webhook', issues: describeIssues(parsed.error), businessNumber: undefined };
  const { agent_id, from_number, to_number } = parsed.data.call_inbound;
  if (!isE164(to_number)) return { ok: false, status: 422, code: 'schema_mismatch', message: 'call_inbound.to_number is not an E.164 number', businessNumber: undefined };
  return { ok: true, value: { agentId: agent_id ?? null, fromNumber: isE164(from_number) ? from_number : null, toNumber: to_number }, businessNumber: to_number };
}
