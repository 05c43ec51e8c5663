/**
 * Who is asking: the admin (ADMIN_TOKEN, every company) or the holder of a scoped token (one
 * company, or one branch of it). Tokens are random, shown once, stored as SHA-256; lookups are
 * cached briefly so an authenticated request costs no query. Revocation clears the cache entry.
 *
 * @example
 *   const who = await authenticate(deps, bearer);  // { kind: 'admin' } | { kind: 'scoped', companyId, branchId } | null
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

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

const cacheKey = redisKeys.authToken;

export async function authenticate(deps: AuthDeps, token: string | undefined | null): Promise<Principal | null> {
  if (!token) return null;
  if (deps.adminToken && safeEqual(token, deps.adminToken)) return { kind: 'admin' };
  if (!token.startsWith(TOKEN_PREFIX)) return null;
  const hash = hashToken(token);
  const principal = await deps.cache.getOrLoad<Principal | null>(cacheKey(hash), CACHE_TTL_MS, async () => {
    const [row] = await deps.db
      .select()
      .from(apiTokens)
      .where(and(eq(apiTokens.tokenHash, hash), isNull(apiTokens.revokedAt)));
    return row ? { kind: 'scoped', tokenId: row.id, companyId: row.companyId, branchId: row.branchId, name: row.name } : null;
  });
  if (principal?.kind === 'scoped') await noteUse(deps.db, principal.tokenId);
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

/** Does the principal see this company (and, when given, this branch)? */
export function canSee(p: Principal, companyId: number, branchId?: number | null): boolean {
  if (p.kind === 'admin') return true;
  if (p.companyId !== companyId) return false;
  return p.branchId === null || branchId === undefined || branchId === null || p.branchId === branchId;
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
