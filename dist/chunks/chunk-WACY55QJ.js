import {
  TTL_MS,
  audit,
  bookingIdempotencyKey,
  cacheKeys,
  describeRetellError,
  isRetellNotFound,
  openRetellSession,
  retellKeysByAccount,
  safeEqual,
  upsertCustomer
} from "./chunk-PSMONT7N.js";
import {
  apiTokens,
  companies
} from "./chunk-NUTL6YPA.js";

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

// lib/booking/manual.ts
async function manualBookingJob(db, b) {
  const customerId = await upsertCustomer(db, b.companyId, b.phone, b.name, b.email);
  const start = b.start.toISOString();
  return {
    companyId: b.companyId,
    branchId: b.branchId,
    customerId,
    serviceId: b.service.id,
    start,
    idempotencyKey: bookingIdempotencyKey({ companyId: b.companyId, callRef: `${b.source}:${b.phone}`, eventTypeId: b.service.calcomEventTypeId, startIso: start }),
    source: b.source
  };
}

// lib/sync/update-prompt.ts
import { createHash as createHash2 } from "node:crypto";
import { eq as eq2 } from "drizzle-orm";
var AgentPromptError = class extends Error {
  name = "AgentPromptError";
};
async function updateAgentPrompt(ctx, input, signal) {
  const prompt = input.prompt;
  if (!input.agentId.trim()) throw new AgentPromptError("agent id is required");
  if (!prompt.trim()) throw new AgentPromptError("the prompt is empty");
  const companyId = input.companyId ?? null;
  if (companyId !== null) {
    const [c] = await ctx.database.db.select({ id: companies.id }).from(companies).where(eq2(companies.id, companyId)).limit(1);
    if (!c) throw new AgentPromptError(`company ${companyId} does not exist`);
  }
  const [account] = await retellKeysByAccount(ctx, {
    ...companyId !== null ? { companyId } : {},
    onError: (a, err) => {
      throw new AgentPromptError(`the Retell key of ${a.label} cannot be decrypted: ${err.message}`);
    }
  });
  if (!account) throw new AgentPromptError("no Retell account");
  const session = openRetellSession(ctx, account, signal);
  let agent;
  try {
    agent = await session.call((c, o) => c.agent.retrieve(input.agentId, null, o));
  } catch (err) {
    if (isRetellNotFound(err)) throw new AgentPromptError(`agent ${input.agentId} not found in the ${account.label} Retell account`);
    throw new AgentPromptError(`could not read agent ${input.agentId}: ${describeRetellError(err)}`);
  }
  const engine = agent.response_engine;
  if (engine.type !== "retell-llm") {
    throw new AgentPromptError(
      `agent ${input.agentId} uses a ${engine.type} response engine; only agents on a Retell LLM (retell-llm) have a prompt callbook can change`
    );
  }
  let llm;
  try {
    llm = await session.call((c, o) => c.llm.update(engine.llm_id, { general_prompt: prompt }, o));
  } catch (err) {
    throw new AgentPromptError(`could not update LLM ${engine.llm_id} of agent ${input.agentId}: ${describeRetellError(err)}`);
  }
  const result = {
    agentId: input.agentId,
    llmId: engine.llm_id,
    version: typeof llm.version === "number" ? llm.version : null,
    published: llm.is_published === true
  };
  await audit(ctx.database.db, {
    companyId,
    actor: input.actor,
    action: "agents.update_prompt",
    target: input.agentId,
    details: {
      account: account.label,
      llmId: result.llmId,
      version: result.version,
      published: result.published,
      promptChars: prompt.length,
      promptSha256: createHash2("sha256").update(prompt).digest("hex")
    }
  });
  ctx.logger.info({ actor: input.actor, account: account.label, ...result }, "agent prompt updated");
  return result;
}

export {
  authenticate,
  createToken,
  revokeToken,
  listTokens,
  freeSlotsOn,
  manualBookingJob,
  AgentPromptError,
  updateAgentPrompt
};
//# sourceMappingURL=chunk-WACY55QJ.js.map
