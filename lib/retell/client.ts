/**
 * The Retell REST client: the official retell-sdk, never a hand-written one, so request shapes
 * follow Retell's own. It never retries by itself (the queue owns retries) and every request goes
 * through the shared `retell` circuit breaker, counting only service failures (5xx, timeouts,
 * network) — a 404/422 "not found" or a 401 says nothing about Retell's health.
 *
 * Retell accounts: the global key (RETELL_API_KEY) is one account; a company with its own
 * `retellApiKey` in the tenants file is another. Sync and prompt changes work per account.
 */
import { eq, isNotNull, and } from 'drizzle-orm';
import Retell, { APIConnectionError, APIError, APIUserAbortError } from 'retell-sdk';
import { companies } from '../../drizzle/schema';
import { keepAliveFetch } from '../http/keep-alive';
import type { AppContext } from '../context';
import { serviceBreaker } from '../resilience/service-breakers';
import type { RedisBreaker } from '../resilience/breaker';

export type RetellClient = Retell;

/** Per request; Retell's own webhook timeout is 10 s too. */
export const RETELL_TIMEOUT_MS = 10_000;

export function createRetellClient(apiKey: string, baseURL: string): Retell {
  return new Retell({ apiKey, baseURL, maxRetries: 0, timeout: RETELL_TIMEOUT_MS, fetch: keepAliveFetch });
}

export interface RetellAccount {
  /** null: the global key (RETELL_API_KEY). */
  companyId: number | null;
  /** `global` or the company's slug, for reports and logs. */
  label: string;
  apiKey: string;
}

export function accountLabel(companyId: number | null, slug?: string): string {
  return companyId === null ? 'global' : (slug ?? `company ${companyId}`);
}

/**
 * The Retell accounts to work on: the global key first, then every company with its own key
 * (decrypted). A company key equal to one already listed is the same account and is skipped.
 * With `companyId`, only the account that serves that company: its own key, else the global one.
 * A key that cannot be decrypted is passed to `onError` and left out.
 */
export async function retellKeysByAccount(
  ctx: Pick<AppContext, 'config' | 'database' | 'cipher'>,
  opts: { companyId?: number; onError?: (account: { companyId: number; label: string }, err: Error) => void } = {},
): Promise<RetellAccount[]> {
  const global: RetellAccount = { companyId: null, label: 'global', apiKey: ctx.config.RETELL_API_KEY };
  const where =
    opts.companyId === undefined
      ? isNotNull(companies.retellApiKeyEnc)
      : and(isNotNull(companies.retellApiKeyEnc), eq(companies.id, opts.companyId));
  const rows = await ctx.database.db
    .select({ id: companies.id, slug: companies.slug, keyEnc: companies.retellApiKeyEnc })
    .from(companies)
    .where(where)
    .orderBy(companies.id);
  const seen = new Set([global.apiKey]);
  const own: RetellAccount[] = [];
  for (const row of rows) {
    if (!row.keyEnc) continue;
    let apiKey: string;
    try {
      apiKey = ctx.cipher.decrypt(row.keyEnc);
    } catch (err) {
      opts.onError?.({ companyId: row.id, label: row.slug }, err as Error);
      continue;
    }
    if (seen.has(apiKey)) {
      // The same key as the global account (or an earlier company): the same account.
      if (opts.companyId !== undefined) return [global];
      continue;
    }
    seen.add(apiKey);
    own.push({ companyId: row.id, label: row.slug, apiKey });
  }
  // One company: its own key; the global account only when it has no key of its own (a key
  // that failed to decrypt was reported and is not silently replaced by the global account).
  if (opts.companyId !== undefined) return rows.length > 0 ? own : [global];
  return [global, ...own];
}

/** Whether an error says Retell itself is unwell (counts for the breaker). */
export function isRetellServiceFailure(err: unknown): boolean {
  if (err instanceof APIUserAbortError) return false;
  if (err instanceof APIConnectionError) return true; // includes timeouts
  if (err instanceof APIError) return err.status === undefined || err.status >= 500;
  return false;
}

/** Retell answers an unknown id with 422 ("Cannot find requested asset under given api key") or 404. */
export function isRetellNotFound(err: unknown): boolean {
  return err instanceof APIError && (err.status === 404 || err.status === 422);
}

/** A short, key-free description of a Retell failure for reports. */
export function describeRetellError(err: unknown): string {
  if (err instanceof APIConnectionError) return `Retell unreachable: ${err.message}`;
  if (err instanceof APIError && err.status !== undefined) {
    const body = err.error as { message?: unknown } | undefined;
    const message = typeof body?.message === 'string' ? body.message : err.message;
    return `Retell answered ${err.status}: ${message}`;
  }
  return err instanceof Error ? err.message : String(err);
}

/** One account's client with the breaker and the job's abort signal applied to every request. */
export interface RetellSession {
  account: RetellAccount;
  client: Retell;
  /** Runs one Retell request through the breaker; `opts` carries the abort signal. */
  call<T>(fn: (client: Retell, opts: { signal?: AbortSignal }) => PromiseLike<T>): Promise<T>;
}

export function openRetellSession(
  ctx: Pick<AppContext, 'config' | 'redis' | 'ns' | 'logger'>,
  account: RetellAccount,
  signal?: AbortSignal,
  breaker: RedisBreaker = serviceBreaker('retell', { redis: ctx.redis, ns: ctx.ns, logger: ctx.logger }),
): RetellSession {
  const client = createRetellClient(account.apiKey, ctx.config.RETELL_API_URL);
  const opts = signal ? { signal } : {};
  return {
    account,
    client,
    call: (fn) => breaker.run(async () => fn(client, opts), isRetellServiceFailure),
  };
}
