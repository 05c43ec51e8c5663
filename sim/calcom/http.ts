/**
 * Helpers every simulator route shares: the dependencies they receive, bearer-key auth, the
 * `cal-api-version` gate, JSON body parsing and the success envelope.
 */
import type { Context } from 'hono';
import { MSG, SimHttpError } from './errors';
import type { AccountRecord, SimState } from './state';
import type { SimEnv } from './types';
import type { WebhookDispatcher } from './webhooks';

export const API_VERSIONS = {
  bookings: '2024-08-13',
  slots: '2024-09-04',
  eventTypes: '2024-06-14',
} as const;

export interface SimDeps {
  state: SimState;
  now: () => Date;
  webhooks: WebhookDispatcher;
}

export type SimContext = Context<SimEnv>;

export function bearerToken(header: string | undefined): string | undefined {
  const m = header?.match(/^\s*Bearer\s+(\S+)\s*$/i);
  return m?.[1];
}

/** The account of the request's API key; 401 with Cal.com's texts when missing or unknown. */
export function requireAccount(c: SimContext, state: SimState): AccountRecord {
  const token = bearerToken(c.req.header('authorization'));
  if (!token) throw new SimHttpError(401, MSG.noAuth);
  const account = state.account(token);
  if (!account) throw new SimHttpError(401, MSG.invalidKey);
  return account;
}

export function optionalAccount(c: SimContext, state: SimState): AccountRecord | undefined {
  return state.account(bearerToken(c.req.header('authorization')));
}

/**
 * Cal.com answers a missing or unknown `cal-api-version` silently from its legacy 2024-04-15 controllers,
 * whose shapes differ (and `/v2/slots` does not exist there). A client that forgets the header would pass
 * against a lenient simulator and break in production, so the simulator refuses such requests with a 400
 * that names the header, and `details.legacy: true`.
 */
export function requireVersion(c: SimContext, expected: string): void {
  const got = c.req.header('cal-api-version');
  if (got === expected) return;
  const where = `${c.req.method} ${new URL(c.req.url).pathname}`;
  const message =
    `cal-api-version must be "${expected}" for ${where} (received ${got === undefined ? 'no header' : `"${got}"`}). ` +
    'Cal.com would route this request to its legacy 2024-04-15 controllers, which answer with other shapes; ' +
    'the simulator refuses it instead.';
  throw new SimHttpError(400, message, {
    details: { message, error: 'Bad Request', statusCode: 400, expected, received: got ?? null, legacy: true },
  });
}

/** The parsed JSON body (`undefined` when empty); 400 on malformed JSON, as Nest's body parser answers. */
export function readBody(c: SimContext): unknown {
  const raw = c.get('rawBody');
  if (raw === undefined || raw.trim() === '') return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch (err) {
    throw new SimHttpError(400, err instanceof Error ? err.message : 'Malformed JSON body');
  }
}

export function success(c: SimContext, data: unknown, status: 200 | 201 = 200, extra: Record<string, unknown> = {}) {
  return c.json({ status: 'success', data, ...extra }, status);
}

/** A positive integer path or query parameter, or a 400. */
export function intParam(value: string | undefined, name: string): number {
  const n = Number(value);
  if (value === undefined || !/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) {
    throw new SimHttpError(400, `${name} property is wrong,${name} must be an integer number `);
  }
  return n;
}
