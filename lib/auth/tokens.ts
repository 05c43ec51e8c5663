/**
 * Who is asking: the admin (ADMIN_TOKEN, every company) or the holder of a scoped token (one
 * company, or one branch of it). Tokens are random, shown once, stored as SHA-256; lookups are
 * cached briefly so an authenticated request costs no query. Revocation clears the cache entry.
 *
 * @example
 *   const who = await authenticate(deps, bearer);  // { kind: 'admin' } | { kind: 'scoped', companyId, branchId } | null
 *
 * Routes do not call this directly: lib/auth/bearer.ts reads the credential, throttles wrong
 * ones and holds the scope rule.
 */
import { createHash, randomBytes } from 'node:crypto';
import { redisKeys } from '../redis/keys';
import { and, eq, isNull } from 'drizzle-orm';
import { apiTokens, companies } from '../../drizzle/schema';
import type { TieredCache } from '../cache';
import { safeEqual } from '../crypto';
import type { Db } from '../db';

export type Principal =
  | { kind: 'admin' }
  | { kind: 'scoped'; tokenId: number; companyId: number; branchId: number | null; name: string };

export interface AuthDeps {
  db: Db;
  cache: TieredCache;
  adminToken: string;
}

const TOKEN_PREFIX = 'cbk_';
const CACHE_TTL_MS = 60_000;
/** Tokens are `cbk_` + 32 base64url characters; anything much longer is not one. */
const MAX_TOKEN_LENGTH = 100;

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

const cacheKey = redisKeys.authToken;

/** Thrown inside the cache loader so that an unknown token is never cached (see authenticate). */
const UNKNOWN = Symbol('unknown token');

export async function authenticate(deps: AuthDeps, token: string | undefined | null): Promise<Principal | null> {
  if (!token) return null;
  // An all-blank ADMIN_TOKEN matches nothing: the admin is never let in by accident.
  if (deps.adminToken.trim() && safeEqual(token, deps.adminToken)) return { kind: 'admin' };
  if (!token.startsWith(TOKEN_PREFIX) || token.length > MAX_TOKEN_LENGTH) return null;
  const hash = hashToken(token);
  // Only tokens that exist are cached: caching "no such token" would let a flood of made-up
  // tokens write one Redis key each (a noeviction Redis fills up and takes every tenant down).
  let principal: Principal;
  try {
    principal = await deps.cache.getOrLoad<Principal>(cacheKey(hash), CACHE_TTL_MS, async () => {
      const [row] = await deps.db
        .select()
        .from(apiTokens)
        .where(and(eq(apiTokens.tokenHash, hash), isNull(apiTokens.revokedAt)));
      if (!row) throw UNKNOWN;
      return { kind: 'scoped', tokenId: row.id, companyId: row.companyId, branchId: row.branchId, name: row.name };
    });
  } catch (err) {
    if (err === UNKNOWN) return null;
    throw err;
  }
  if (principal.kind === 'scoped') await noteUse(deps.db, principal.tokenId);
  return principal;
}

/** `last_used_at` is written at most once a minute per token and process: a minute is precision enough. */
const USE_RESOLUTION_MS = 60_000;
const lastNoted = new Map<number, number>();

async function noteUse(db: Db, tokenId: number): Promise<void> {
  const now = Date.now();
  if (now - (lastNoted.get(tokenId) ?? 0) < USE_RESOLUTION_MS) return;
  lastNoted.set(tokenId, now);
  await db.update(apiTokens).set({ lastUsedAt: new Date(now) }).where(eq(apiTokens.id, tokenId));
}

export function describePrincipal(p: Principal): string {
  return p.kind === 'admin' ? 'admin' : `token:${p.tokenId}:${p.name}`;
}

/** Create a token; the clear value is returned once and never stored. */
export async function createToken(db: Db, input: { companyId: number; branchId?: number | null; name: string }): Promise<{ id: number; token: string }> {
  const token = TOKEN_PREFIX + randomBytes(24).toString('base64url');
  const [res] = await db.insert(apiTokens).values({ companyId: input.companyId, branchId: input.branchId ?? null, name: input.name, tokenHash: hashToken(token) });
  return { id: Number(res.insertId), token };
}

export async function revokeToken(deps: Pick<AuthDeps, 'db' | 'cache'>, id: number): Promise<boolean> {
  const [row] = await deps.db.select().from(apiTokens).where(eq(apiTokens.id, id));
  if (!row) return false;
  await deps.db.update(apiTokens).set({ revokedAt: new Date() }).where(eq(apiTokens.id, id));
  await deps.cache.invalidate(cacheKey(row.tokenHash));
  return true;
}

export async function listTokens(db: Db) {
  return db
    .select({
      id: apiTokens.id,
      company: companies.slug,
      branchId: apiTokens.branchId,
      name: apiTokens.name,
      createdAt: apiTokens.createdAt,
      lastUsedAt: apiTokens.lastUsedAt,
      revokedAt: apiTokens.revokedAt,
    })
    .from(apiTokens)
    .innerJoin(companies, eq(companies.id, apiTokens.companyId));
}

export async function tokenById(db: Db, id: number) {
  const [row] = await db.select().from(apiTokens).where(eq(apiTokens.id, id));
  return row;
}
