import {
  checkService,
  loadCatalogue
} from "./chunk-WCWRLYGH.js";
import {
  bookingDeps,
  isServiceFailure,
  keepAliveFetch,
  serviceBreaker
} from "./chunk-6VOENOB6.js";
import {
  TTL_MS,
  cacheKeys
} from "./chunk-XN5S2XO3.js";
import {
  companies,
  phoneNumbers,
  retellPhoneNumbers,
  services,
  syncRuns
} from "./chunk-AQ2OROU7.js";

// lib/sync/run.ts
import { eq as eq5 } from "drizzle-orm";

// lib/retell/client.ts
import { eq, isNotNull, and } from "drizzle-orm";
import Retell, { APIConnectionError, APIError, APIUserAbortError } from "retell-sdk";
var RETELL_TIMEOUT_MS = 1e4;
function createRetellClient(apiKey, baseURL) {
  return new Retell({ apiKey, baseURL, maxRetries: 0, timeout: RETELL_TIMEOUT_MS, fetch: keepAliveFetch });
}
async function retellKeysByAccount(ctx, opts = {}) {
  const global = { companyId: null, label: "global", apiKey: ctx.config.RETELL_API_KEY };
  const where = opts.companyId === void 0 ? isNotNull(companies.retellApiKeyEnc) : and(isNotNull(companies.retellApiKeyEnc), eq(companies.id, opts.companyId));
  const rows = await ctx.database.db.select({ id: companies.id, slug: companies.slug, keyEnc: companies.retellApiKeyEnc }).from(companies).where(where).orderBy(companies.id);
  const seen = /* @__PURE__ */ new Set([global.apiKey]);
  const own = [];
  for (const row of rows) {
    if (!row.keyEnc) continue;
    let apiKey;
    try {
      apiKey = ctx.cipher.decrypt(row.keyEnc);
    } catch (err) {
      opts.onError?.({ companyId: row.id, label: row.slug }, err);
      continue;
    }
    if (seen.has(apiKey)) {
      if (opts.companyId !== void 0) return [global];
      continue;
    }
    seen.add(apiKey);
    own.push({ companyId: row.id, label: row.slug, apiKey });
  }
  if (opts.companyId !== void 0) return rows.length > 0 ? own : [global];
  return [global, ...own];
}
function isRetellServiceFailure(err) {
  if (err instanceof APIUserAbortError) return false;
  if (err instanceof APIConnectionError) return true;
  if (err instanceof APIError) return err.status === void 0 || err.status >= 500;
  return false;
}
function isRetellNotFound(err) {
  return err instanceof APIError && (err.status === 404 || err.status === 422);
}
function describeRetellError(err) {
  if (err instanceof APIConnectionError) return `Retell unreachable: ${err.message}`;
  if (err instanceof APIError && err.status !== void 0) {
    const body = err.error;
    const message = typeof body?.message === "string" ? body.message : err.message;
    return `Retell answered ${err.status}: ${message}`;
  }
  return err instanceof Error ? err.message : String(err);
}
function openRetellSession(ctx, account, signal, breaker = serviceBreaker("retell", { redis: ctx.redis, ns: ctx.ns, logger: ctx.logger })) {
  const client = createRetellClient(account.apiKey, ctx.config.RETELL_API_URL);
  const opts = signal ? { signal } : {};
  return {
    account,
    client,
    call: (fn) => breaker.run(async () => fn(client, opts), isRetellServiceFailure)
  };
}

// lib/sync/agents.ts
import { eq as eq3, isNull } from "drizzle-orm";

// lib/sync/phone-numbers.ts
import { eq as eq2 } from "drizzle-orm";
var RETELL_PAGE_SIZE = 1e3;
var UNMAPPED_HINT = "unmapped: add to a branch in the tenants file";
function agentIds(list, single) {
  const ids = (list ?? []).map((a) => a.agent_id).filter((id) => typeof id === "string" && id !== "");
  if (single && !ids.includes(single)) ids.push(single);
  return ids;
}
async function listAllPhoneNumbers(session, pageSize = RETELL_PAGE_SIZE) {
  const all = [];
  const seenKeys = /* @__PURE__ */ new Set();
  let paginationKey;
  for (; ; ) {
    const query = { limit: pageSize, ...paginationKey ? { pagination_key: paginationKey } : {} };
    const page = await session.call((c, opts) => c.phoneNumber.list(query, opts));
    all.push(...page.items);
    if (!page.has_more || !page.pagination_key || seenKeys.has(page.pagination_key)) break;
    seenKeys.add(page.pagination_key);
    paginationKey = page.pagination_key;
  }
  return all;
}
async function syncPhoneNumbers(db, session, opts = {}) {
  const { account } = session;
  const numbers = await listAllPhoneNumbers(session, opts.pageSize);
  const now = opts.now ?? /* @__PURE__ */ new Date();
  const result = { imported: 0, updatedMappings: 0, unmapped: [], conflicts: [] };
  for (const n of numbers) {
    const e164 = n.phone_number;
    const inbound = agentIds(n.inbound_agents, n.inbound_agent_id);
    const outbound = agentIds(n.outbound_agents, n.outbound_agent_id);
    const nickname = n.nickname ?? null;
    const lastModifiedAt = typeof n.last_modification_timestamp === "number" ? new Date(n.last_modification_timestamp) : null;
    const row = {
      companyId: account.companyId,
      e164,
      nickname: nickname?.slice(0, 200) ?? null,
      inboundAgentIds: inbound,
      outboundAgentIds: outbound,
      inboundWebhookUrl: n.inbound_webhook_url?.slice(0, 500) ?? null,
      lastModifiedAt,
      syncedAt: now
    };
    await db.insert(retellPhoneNumbers).values(row).onDuplicateKeyUpdate({
      set: {
        companyId: row.companyId,
        nickname: row.nickname,
        inboundAgentIds: row.inboundAgentIds,
        outboundAgentIds: row.outboundAgentIds,
        inboundWebhookUrl: row.inboundWebhookUrl,
        lastModifiedAt: row.lastModifiedAt,
        syncedAt: row.syncedAt
      }
    });
    result.imported++;
    const [mapping] = await db.select({ id: phoneNumbers.id, companyId: phoneNumbers.companyId, retellAgentId: phoneNumbers.retellAgentId, nickname: phoneNumbers.nickname }).from(phoneNumbers).where(eq2(phoneNumbers.e164, e164)).limit(1);
    if (!mapping) {
      result.unmapped.push({ e164, account: account.label, nickname, inboundAgentIds: inbound, problem: UNMAPPED_HINT });
      continue;
    }
    if (account.companyId !== null && mapping.companyId !== account.companyId) {
      const [owner] = await db.select({ slug: companies.slug }).from(companies).where(eq2(companies.id, mapping.companyId)).limit(1);
      const mappedTo = owner?.slug ?? `company ${mapping.companyId}`;
      result.conflicts.push({
        e164,
        account: account.label,
        mappedTo,
        problem: `number is in the Retell account of ${account.label} but the tenants file maps it to ${mappedTo}: mapping left unchanged`
      });
      continue;
    }
    const retellAgentId = inbound[0]?.slice(0, 100) ?? null;
    const nick = row.nickname;
    if (mapping.retellAgentId === retellAgentId && mapping.nickname === nick) continue;
    await db.update(phoneNumbers).set({ retellAgentId, nickname: nick }).where(eq2(phoneNumbers.id, mapping.id));
    result.updatedMappings++;
  }
  return result;
}

// lib/sync/agents.ts
var REQUIRED_WEBHOOK_EVENTS = ["call_started", "call_ended", "call_analyzed"];
var WEBHOOK_PATHS = ["/webhooks/retell", "/api/mcp/retell/webhook"];
function agentsCacheKey(companyId) {
  return companyId === null ? "mcp:retell:agents:global" : cacheKeys.retellAgents(companyId);
}
async function listAllAgentIds(session, pageSize = RETELL_PAGE_SIZE) {
  const all = [];
  const seenKeys = /* @__PURE__ */ new Set();
  let paginationKey;
  for (; ; ) {
    const params = { limit: pageSize, ...paginationKey ? { pagination_key: paginationKey } : {} };
    const page = await session.call((c, opts) => c.agent.list(params, opts));
    for (const item of page.items) all.push({ agent_id: item.agent_id, agent_name: item.agent_name });
    if (!page.has_more || !page.pagination_key || seenKeys.has(page.pagination_key)) break;
    seenKeys.add(page.pagination_key);
    paginationKey = page.pagination_key;
  }
  return all;
}
async function fetchAgents(session, pageSize) {
  const agents = [];
  const seen = /* @__PURE__ */ new Set();
  for (const item of await listAllAgentIds(session, pageSize)) {
    if (seen.has(item.agent_id)) continue;
    seen.add(item.agent_id);
    let a;
    try {
      a = await session.call((c, opts) => c.agent.retrieve(item.agent_id, null, opts));
    } catch (err) {
      if (isRetellNotFound(err)) continue;
      throw err;
    }
    const engine = a.response_engine;
    agents.push({
      agentId: a.agent_id,
      agentName: a.agent_name ?? (item.agent_name || null),
      version: typeof a.version === "number" ? a.version : null,
      responseEngine: { type: engine.type, llmId: engine.type === "retell-llm" ? engine.llm_id ?? null : null },
      webhookUrl: a.webhook_url ?? null,
      webhookEvents: a.webhook_events ? [...a.webhook_events] : null,
      webhookTimeoutMs: a.webhook_timeout_ms ?? null
    });
  }
  return agents;
}
function checkAgentWebhook(agent, account, publicUrl) {
  const out = [];
  const base = { agentId: agent.agentId, agentName: agent.agentName, account };
  if (!publicUrl) {
    out.push({ ...base, problem: "cannot check webhook_url: set PUBLIC_URL", expected: null, actual: agent.webhookUrl });
  } else {
    const root = publicUrl.replace(/\/+$/, "");
    const accepted = WEBHOOK_PATHS.map((p) => root + p);
    if (!agent.webhookUrl || !accepted.includes(agent.webhookUrl.replace(/\/+$/, ""))) {
      out.push({
        ...base,
        problem: agent.webhookUrl ? "webhook_url does not point at callbook" : "webhook_url is not set on the agent",
        expected: accepted[0],
        actual: agent.webhookUrl
      });
    }
  }
  if (agent.webhookEvents !== null) {
    const missing = REQUIRED_WEBHOOK_EVENTS.filter((e) => !agent.webhookEvents.includes(e));
    if (missing.length > 0) {
      out.push({
        ...base,
        problem: `webhook_events lacks ${missing.join(", ")}`,
        expected: REQUIRED_WEBHOOK_EVENTS.join(", "),
        actual: agent.webhookEvents.join(", ")
      });
    }
  }
  return out;
}
async function syncAgents(deps, session, opts = {}) {
  const { account } = session;
  const agents = await fetchAgents(session, opts.pageSize);
  await deps.cache.set(agentsCacheKey(account.companyId), agents, TTL_MS.retellAgents);
  const mismatches = agents.flatMap((a) => checkAgentWebhook(a, account.label, deps.publicUrl));
  const known = new Map(agents.map((a) => [a.agentId, a]));
  const numbers = await deps.db.select({ e164: retellPhoneNumbers.e164, inboundAgentIds: retellPhoneNumbers.inboundAgentIds }).from(retellPhoneNumbers).where(account.companyId === null ? isNull(retellPhoneNumbers.companyId) : eq3(retellPhoneNumbers.companyId, account.companyId)).orderBy(retellPhoneNumbers.e164);
  const missing = /* @__PURE__ */ new Map();
  for (const n of numbers) {
    for (const agentId of n.inboundAgentIds) {
      if (known.has(agentId)) continue;
      let gone = missing.get(agentId);
      if (gone === void 0) {
        try {
          await session.call((c, o) => c.agent.retrieve(agentId, null, o));
          gone = false;
        } catch (err) {
          if (!isRetellNotFound(err)) throw err;
          gone = true;
        }
        missing.set(agentId, gone);
      }
      if (gone) {
        mismatches.push({
          agentId,
          agentName: null,
          account: account.label,
          problem: `inbound agent of ${n.e164} not found in the Retell account`,
          expected: "an existing agent",
          actual: null
        });
      }
    }
  }
  return { count: agents.length, mismatches };
}

// lib/sync/event-types.ts
import { and as and2, eq as eq4, isNotNull as isNotNull2 } from "drizzle-orm";
async function syncEventTypes(ctx, opts = {}) {
  const deps = bookingDeps(ctx);
  const log = ctx.logger.child({ component: "sync", part: "event_types" });
  const where = opts.companyId === void 0 ? isNotNull2(companies.calcomApiKeyEnc) : and2(isNotNull2(companies.calcomApiKeyEnc), eq4(companies.id, opts.companyId));
  const rows = await ctx.database.db.select({ id: companies.id, slug: companies.slug, keyEnc: companies.calcomApiKeyEnc, calcomUsername: companies.calcomUsername }).from(companies).where(where).orderBy(companies.id);
  const result = { companies: rows.length, checked: 0, problems: [], errors: [] };
  for (const company of rows) {
    try {
      opts.signal?.throwIfAborted();
      const client = deps.clientFor(ctx.cipher.decrypt(company.keyEnc));
      const guarded = {
        listEventTypes: (...a) => deps.breaker.run(() => client.listEventTypes(...a), isServiceFailure),
        listTeamEventTypes: (...a) => deps.breaker.run(() => client.listTeamEventTypes(...a), isServiceFailure)
      };
      const list = await ctx.database.db.select().from(services).where(eq4(services.companyId, company.id)).orderBy(services.slug);
      const teamIds = list.flatMap((s) => s.calcomTeamId === null ? [] : [s.calcomTeamId]);
      await ctx.cache.invalidate(cacheKeys.eventTypes(company.id));
      const catalogue = await loadCatalogue(ctx.cache, guarded, { id: company.id, calcomUsername: company.calcomUsername }, teamIds, opts.signal);
      for (const service of list) {
        result.checked++;
        const problem = checkService(catalogue, service);
        if (!problem) continue;
        const entry = {
          companyId: company.id,
          company: company.slug,
          service: service.slug,
          eventTypeId: service.calcomEventTypeId,
          teamId: service.calcomTeamId,
          problem
        };
        result.problems.push(entry);
        log.warn(entry, `service ${company.slug}/${service.slug}: ${problem}`);
      }
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      result.errors.push({ company: company.slug, message });
      log.error({ company: company.slug, err: message }, "Cal.com event types could not be refreshed");
    }
  }
  return result;
}

// lib/sync/run.ts
function messageOf(err) {
  return describeRetellError(err);
}
async function runSync(ctx, job, opts = {}) {
  const db = ctx.database.db;
  const log = ctx.logger.child({ component: "sync" });
  const started = /* @__PURE__ */ new Date();
  const [inserted] = await db.insert(syncRuns).values({ companyId: job.companyId ?? null, status: "running", startedAt: started }).$returningId();
  const runId = inserted.id;
  const report = {
    runId,
    kind: job.kind,
    companyId: job.companyId ?? null,
    status: "ok",
    startedAt: started.toISOString(),
    finishedAt: started.toISOString(),
    accounts: [],
    numbers: { imported: 0, updatedMappings: 0, unmapped: [], conflicts: [] },
    agents: { count: 0, mismatches: [] },
    eventTypes: { checked: 0, problems: [] },
    errors: []
  };
  const doNumbers = job.kind === "full" || job.kind === "retell_numbers";
  const doAgents = job.kind === "full" || job.kind === "retell_agents";
  const doEventTypes = job.kind === "full" || job.kind === "calcom_event_types";
  let attempted = 0;
  let failedParts = 0;
  try {
    if (job.companyId !== void 0) {
      const [company] = await db.select({ id: companies.id }).from(companies).where(eq5(companies.id, job.companyId)).limit(1);
      if (!company) throw new Error(`company ${job.companyId} does not exist`);
    }
    if (doNumbers || doAgents) {
      const accounts = await retellKeysByAccount(ctx, {
        ...job.companyId !== void 0 ? { companyId: job.companyId } : {},
        onError: (a, err) => {
          attempted++;
          failedParts++;
          report.errors.push({ part: "accounts", account: a.label, message: `company's Retell key cannot be decrypted (${err.message}): re-import it from the tenants file` });
        }
      });
      report.accounts = accounts.map((a) => a.label);
      for (const account of accounts) {
        opts.signal?.throwIfAborted();
        const session = openRetellSession(ctx, account, opts.signal);
        if (doNumbers) {
          attempted++;
          try {
            const r = await syncPhoneNumbers(db, session, { pageSize: opts.pageSize });
            report.numbers.imported += r.imported;
            report.numbers.updatedMappings += r.updatedMappings;
            report.numbers.unmapped.push(...r.unmapped);
            report.numbers.conflicts.push(...r.conflicts);
          } catch (err) {
            failedParts++;
            report.errors.push({ part: "numbers", account: account.label, message: messageOf(err) });
            log.error({ account: account.label, err: messageOf(err) }, "Retell phone numbers could not be synced");
            if (doAgents) {
              attempted++;
              failedParts++;
              report.errors.push({ part: "agents", account: account.label, message: "skipped: the account's phone numbers failed" });
            }
            continue;
          }
        }
        if (doAgents) {
          attempted++;
          try {
            const r = await syncAgents({ db, cache: ctx.cache, publicUrl: ctx.config.PUBLIC_URL }, session, { pageSize: opts.pageSize });
            report.agents.count += r.count;
            report.agents.mismatches.push(...r.mismatches);
          } catch (err) {
            failedParts++;
            report.errors.push({ part: "agents", account: account.label, message: messageOf(err) });
            log.error({ account: account.label, err: messageOf(err) }, "Retell agents could not be synced");
          }
        }
      }
    }
    if (doEventTypes) {
      const r = await syncEventTypes(ctx, { ...job.companyId !== void 0 ? { companyId: job.companyId } : {}, ...opts.signal ? { signal: opts.signal } : {} });
      report.eventTypes.checked = r.checked;
      report.eventTypes.problems = r.problems;
      attempted += r.companies;
      failedParts += r.errors.length;
      for (const e of r.errors) report.errors.push({ part: "event_types", account: e.company, message: e.message });
    }
    const hasProblems = report.errors.length > 0 || report.numbers.unmapped.length > 0 || report.numbers.conflicts.length > 0 || report.agents.mismatches.length > 0 || report.eventTypes.problems.length > 0;
    report.status = attempted > 0 && failedParts >= attempted ? "failed" : hasProblems ? "problems" : "ok";
  } catch (err) {
    report.status = "failed";
    report.errors.push({ part: "accounts", message: messageOf(err) });
  }
  const finished = /* @__PURE__ */ new Date();
  report.finishedAt = finished.toISOString();
  await db.update(syncRuns).set({ status: report.status, report, finishedAt: finished }).where(eq5(syncRuns.id, runId));
  const summary = {
    runId,
    kind: job.kind,
    companyId: job.companyId ?? null,
    status: report.status,
    accounts: report.accounts,
    numbersImported: report.numbers.imported,
    mappingsUpdated: report.numbers.updatedMappings,
    unmapped: report.numbers.unmapped.length,
    conflicts: report.numbers.conflicts.length,
    agents: report.agents.count,
    agentMismatches: report.agents.mismatches.length,
    servicesChecked: report.eventTypes.checked,
    eventTypeProblems: report.eventTypes.problems.length,
    errors: report.errors.length,
    ms: finished.getTime() - started.getTime()
  };
  if (report.status === "ok") log.info(summary, "sync finished");
  else log.warn({ ...summary, problems: problemLines(report) }, `sync finished with ${report.status}`);
  return report;
}
function problemLines(report) {
  const lines = [];
  for (const u of report.numbers.unmapped) lines.push(`${u.e164} (${u.account}): ${u.problem}`);
  for (const c of report.numbers.conflicts) lines.push(`${c.e164} (${c.account}): ${c.problem}`);
  for (const m of report.agents.mismatches) {
    const who = m.agentName ? `${m.agentId} "${m.agentName}"` : m.agentId;
    const diff = m.expected !== null || m.actual !== null ? ` (expected ${m.expected ?? "\u2013"}, actual ${m.actual ?? "\u2013"})` : "";
    lines.push(`agent ${who} (${m.account}): ${m.problem}${diff}`);
  }
  for (const p of report.eventTypes.problems) lines.push(`service ${p.company}/${p.service}: ${p.problem}`);
  for (const e of report.errors) lines.push(`error in ${e.part}${e.account ? ` (${e.account})` : ""}: ${e.message}`);
  return lines;
}

export {
  retellKeysByAccount,
  isRetellNotFound,
  describeRetellError,
  openRetellSession,
  WEBHOOK_PATHS,
  agentsCacheKey,
  fetchAgents,
  checkAgentWebhook,
  runSync,
  problemLines
};
//# sourceMappingURL=chunk-IKLR67YA.js.map
