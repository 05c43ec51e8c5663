import {
  TTL_MS,
  cacheKeys
} from "./chunk-XN5S2XO3.js";
import {
  apiTokens,
  companies
} from "./chunk-AQ2OROU7.js";
import {
  safeEqual
} from "./chunk-E5ZFRTTD.js";

// lib/auth/tokens.ts
import { createHash, randomBytes } from "node:crypto";
import { and, eq, isNull } from "drizzle-orm";
var TOKEN_PREFIX = "cbk_";
var CACHE_TTL_MS = 6e4;
function hashToken(token) {
  return createHash("sha256").update(token).digest("hex");
}
var cacheKey = (hash) => `auth:token:${hash}`;
async function authenticate(deps, token) {
  if (!token) return null;
  if (deps.adminToken && safeEqual(token, deps.adminToken)) return { kind: "admin" };
  if (!token.startsWith(TOKEN_PREFIX)) return null;
  const hash = hashToken(token);
  const principal = await deps.cache.getOrLoad(cacheKey(hash), CACHE_TTL_MS, async () => {
    const [row] = await deps.db.select().from(apiTokens).where(and(eq(apiTokens.tokenHash, hash), isNull(apiTokens.revokedAt)));
    return row ? { kind: "scoped", tokenId: row.id, companyId: row.companyId, branchId: row.branchId, name: row.name } : null;
  });
  if (principal?.kind === "scoped") await noteUse(deps.db, principal.tokenId);
  return principal;
}
var USE_RESOLUTION_MS = 6e4;
var lastNoted = /* @__PURE__ */ new Map();
async function noteUse(db, tokenId) {
  const now = Date.now();
  if (now - (lastNoted.get(tokenId) ?? 0) < USE_RESOLUTION_MS) return;
  lastNoted.set(tokenId, now);
  await db.update(apiTokens).set({ lastUsedAt: new Date(now) }).where(eq(apiTokens.id, tokenId));
}
async function createToken(db, input) {
  const token = TOKEN_PREFIX + randomBytes(24).toString("base64url");
  const [res] = await db.insert(apiTokens).values({ companyId: input.companyId, branchId: input.branchId ?? null, name: input.name, tokenHash: hashToken(token) });
  return { id: Number(res.insertId), token };
}
async function revokeToken(deps, id) {
  const [row] = await deps.db.select().from(apiTokens).where(eq(apiTokens.id, id));
  if (!row) return false;
  await deps.db.update(apiTokens).set({ revokedAt: /* @__PURE__ */ new Date() }).where(eq(apiTokens.id, id));
  await deps.cache.invalidate(cacheKey(row.tokenHash));
  return true;
}
async function listTokens(db) {
  return db.select({
    id: apiTokens.id,
    company: companies.slug,
    branchId: apiTokens.branchId,
    name: apiTokens.name,
    createdAt: apiTokens.createdAt,
    lastUsedAt: apiTokens.lastUsedAt,
    revokedAt: apiTokens.revokedAt
  }).from(apiTokens).innerJoin(companies, eq(companies.id, apiTokens.companyId));
}

// lib/booking/availability.ts
import { DateTime } from "luxon";
async function freeSlotsOn(cache, client, q, signal) {
  const day = DateTime.fromISO(q.date, { zone: q.timeZone });
  if (!day.isValid) throw new Error(`invalid date "${q.date}" (expected YYYY-MM-DD)`);
  return cache.getOrLoad(cacheKeys.availability(q.eventTypeId, q.date), TTL_MS.availability, async () => {
    const slots = await client.getSlots(
      { eventTypeId: q.eventTypeId, start: day.startOf("day").toUTC().toISO(), end: day.endOf("day").toUTC().toISO(), timeZone: q.timeZone },
      signal
    );
    return Object.values(slots).flat().map((s) => new Date(s.start).toISOString()).sort();
  });
}

export {
  authenticate,
  createToken,
  revokeToken,
  listTokens,
  freeSlotsOn
};
//# sourceMappingURL=chunk-TGK5L235.js.map
