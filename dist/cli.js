import {
  eraseCustomer,
  exportCustomer,
  writeExport
} from "./chunks/chunk-OPXCA3TF.js";
import {
  AgentPromptError,
  manualBookingJob,
  updateAgentPrompt
} from "./chunks/chunk-L7ZCO24U.js";
import {
  problemLines,
  runSync
} from "./chunks/chunk-IKLR67YA.js";
import {
  ConfigError,
  createContext,
  createLogger,
  loadConfig
} from "./chunks/chunk-KF4VCP7M.js";
import "./chunks/chunk-AFPE6KLN.js";
import {
  createToken,
  freeSlotsOn,
  listTokens,
  revokeToken
} from "./chunks/chunk-TGK5L235.js";
import {
  BookingDeferred,
  BookingRejected,
  executeBooking
} from "./chunks/chunk-FVWXLA2E.js";
import "./chunks/chunk-WCWRLYGH.js";
import {
  audit
} from "./chunks/chunk-54VZ3ZP4.js";
import {
  bookingDeps,
  serviceBreaker
} from "./chunks/chunk-6VOENOB6.js";
import "./chunks/chunk-A7KMJAOI.js";
import {
  lookupPhone
} from "./chunks/chunk-5BOZF2J7.js";
import "./chunks/chunk-YXWKEBKV.js";
import {
  parseRequestedRange,
  parseRequestedStart
} from "./chunks/chunk-GN4KETLM.js";
import "./chunks/chunk-RDU6U4K7.js";
import "./chunks/chunk-SC2WLIXO.js";
import {
  cacheKeys
} from "./chunks/chunk-XN5S2XO3.js";
import {
  blindIndexKeyMissing,
  forgetPiiFlags,
  isSealedJson,
  open,
  openJson,
  openPii,
  phoneIndex,
  phoneIndexCandidates,
  piiSettings,
  sealPii,
  sealPiiJson
} from "./chunks/chunk-RUAA5PEO.js";
import {
  QUEUE_NAMES,
  isQueueName,
  syncJobSchema
} from "./chunks/chunk-Z42SQZT6.js";
import "./chunks/chunk-7WOGBSIY.js";
import "./chunks/chunk-42NABTHE.js";
import {
  apiTokens,
  appointments,
  auditLog,
  branches,
  calls,
  companies,
  customers,
  phoneNumbers,
  services,
  webhookEvents
} from "./chunks/chunk-AQ2OROU7.js";
import {
  isCiphertext
} from "./chunks/chunk-E5ZFRTTD.js";
import "./chunks/chunk-54KOYG5C.js";

// apps/cli/main.ts
import { Command, CommanderError } from "commander";

// package.json
var package_default = {
  name: "callbook",
  version: "0.1.0",
  description: "Turns phone calls answered by Retell.ai voice agents into Cal.com appointments, for many companies and branches.",
  type: "module",
  private: true,
  license: "UNLICENSED",
  engines: {
    node: "^20.19.0 || ^24.0.0"
  },
  bin: {
    callbook: "bin/callbook.mjs"
  },
  scripts: {
    build: "node scripts/build.mjs",
    start: "tsx apps/sandbox/main.ts",
    "start:web": "node dist/web.js",
    "start:worker": "node dist/worker.js",
    "db:generate": "drizzle-kit generate",
    "db:migrate": "tsx drizzle/migrate.ts",
    "sim:calcom": "tsx sim/calcom/server.ts",
    typecheck: "tsc --noEmit",
    test: "tsc --noEmit && vitest run",
    "test:watch": "vitest",
    "test:chaos": "vitest run --config test/chaos/vitest.config.ts",
    "bench:bookings": "tsx bench/bookings.ts",
    "bench:ingress": "tsx bench/ingress.ts",
    smoke: "tsx scripts/smoke.ts",
    "bench:e2e": "node scripts/build.mjs && tsx bench/e2e.ts",
    "bench:live": "tsx bench/live.ts"
  },
  devDependencies: {
    "@types/luxon": "^3.7.6",
    "@types/node": "^20.19.43",
    "@types/nodemailer": "^8.0.2",
    "@types/smtp-server": "^3.5.13",
    autocannon: "^9.0.0",
    "drizzle-kit": "^0.31.11",
    esbuild: "^0.28.2",
    "pino-pretty": "^13.2.0",
    "playwright-core": "^1.65.1",
    "redis-memory-server": "^0.17.1",
    "smtp-server": "^3.21.6",
    tsx: "^4.23.15",
    typescript: "5.9",
    vitest: "^4.1.12"
  },
  redisMemoryServer: {
    disablePostinstall: "1"
  },
  dependencies: {
    "@bull-board/api": "^9.10.2",
    "@bull-board/hono": "^9.10.1",
    "@hono/node-server": "^2.1.9",
    "@modelcontextprotocol/sdk": "^1.32.2",
    "@opentelemetry/api": "^1.9.1",
    "@opentelemetry/exporter-trace-otlp-http": "^0.223.1",
    "@opentelemetry/instrumentation": "^0.223.0",
    "@opentelemetry/instrumentation-http": "^0.223.0",
    "@opentelemetry/instrumentation-ioredis": "^0.71.0",
    "@opentelemetry/instrumentation-mysql2": "^0.69.0",
    "@opentelemetry/instrumentation-undici": "^0.33.0",
    "@opentelemetry/resources": "^2.12.1",
    "@opentelemetry/sdk-trace-node": "^2.12.1",
    "@opentelemetry/semantic-conventions": "^1.45.0",
    bullmq: "^6.7.0",
    "bullmq-otel": "^2.0.1",
    "chrono-node": "^2.10.3",
    commander: "^14.0.3",
    "drizzle-orm": "^0.45.4",
    hono: "^4.13.19",
    ioredis: "^6.0.0",
    "lru-cache": "^11.5.3",
    luxon: "^3.7.2",
    mysql2: "^3.24.6",
    nodemailer: "^7.0.13",
    pino: "^10.4.0",
    "prom-client": "^15.1.3",
    "retell-sdk": "5.66.1",
    undici: "^7.30.2",
    yaml: "^2.9.1",
    zod: "^4.6.7"
  }
};

// apps/cli/commands/booking.ts
import { DateTime } from "luxon";

// lib/tenants/import.ts
import { and, eq, inArray } from "drizzle-orm";
import { parse as parseYaml } from "yaml";

// lib/tenants/file-schema.ts
import { z } from "zod";
var slug = z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, "lower-case letters, digits and - (max 64)");
var e164 = z.string().regex(/^\+[1-9]\d{5,14}$/, "must be an E.164 number like +4930123456");
var timezone = z.string().refine((tz) => {
  try {
    new Intl.DateTimeFormat("en", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, "must be an IANA time zone like Europe/Berlin");
var language = z.enum(["de", "en"]);
var branchSchema = z.strictObject({
  slug,
  name: z.string().min(1).max(200),
  timezone,
  language: language.optional(),
  openingHours: z.string().max(500).optional(),
  phoneNumbers: z.array(e164).default([]),
  /** slug of a service of this company */
  defaultService: slug.optional()
});
var serviceSchema = z.strictObject({
  slug,
  name: z.string().min(1).max(200),
  /** slug of the branch offering it; omitted = every branch */
  branch: slug.optional(),
  calcomEventTypeId: z.number().int().positive(),
  /** Cal.com team id for team event types: used for discovery and checks, never sent when booking. */
  calcomTeamId: z.number().int().positive().optional(),
  durationMinutes: z.number().int().positive().max(24 * 60),
  aliases: z.array(z.string().min(1).max(100)).default([])
});
var companySchema = z.strictObject({
  slug,
  name: z.string().min(1).max(200),
  language: language.default("de"),
  /** Overrides RETELL_API_KEY for this company's webhooks and API calls. */
  retellApiKey: z.string().min(8).optional(),
  calcomApiKey: z.string().min(8).optional(),
  calcomUsername: z.string().max(100).optional(),
  calcomWebhookSecret: z.string().min(8).optional(),
  retentionDays: z.number().int().positive().max(3650).default(365),
  operatorEmails: z.array(z.email()).default([]),
  /** Store customers' name/email/phone and calls' numbers and words encrypted (lib/pii); absent keeps what is stored, null = PII_ENCRYPTION_DEFAULT. */
  piiEncryption: z.boolean().nullable().optional(),
  branches: z.array(branchSchema).min(1, "a company needs at least one branch"),
  services: z.array(serviceSchema).default([])
});
var tenantsFileSchema = z.strictObject({ companies: z.array(companySchema).min(1) }).superRefine((file, ctx) => {
  const numbers = /* @__PURE__ */ new Map();
  file.companies.forEach((company, ci) => {
    const branchSlugs = /* @__PURE__ */ new Set();
    const serviceSlugs = new Set(company.services.map((s) => s.slug));
    company.branches.forEach((b, bi) => {
      if (branchSlugs.has(b.slug)) ctx.addIssue({ code: "custom", path: ["companies", ci, "branches", bi, "slug"], message: `duplicate branch slug "${b.slug}"` });
      branchSlugs.add(b.slug);
      if (b.defaultService && !serviceSlugs.has(b.defaultService))
        ctx.addIssue({ code: "custom", path: ["companies", ci, "branches", bi, "defaultService"], message: `no service "${b.defaultService}" in this company` });
      b.phoneNumbers.forEach((n, ni) => {
        const seen = numbers.get(n);
        if (seen) ctx.addIssue({ code: "custom", path: ["companies", ci, "branches", bi, "phoneNumbers", ni], message: `${n} is already listed at ${seen}` });
        numbers.set(n, `companies[${ci}].branches[${bi}]`);
      });
    });
    const seenServices = /* @__PURE__ */ new Set();
    company.services.forEach((s, si) => {
      if (seenServices.has(s.slug)) ctx.addIssue({ code: "custom", path: ["companies", ci, "services", si, "slug"], message: `duplicate service slug "${s.slug}"` });
      seenServices.add(s.slug);
      if (s.branch && !branchSlugs.has(s.branch))
        ctx.addIssue({ code: "custom", path: ["companies", ci, "services", si, "branch"], message: `no branch "${s.branch}" in this company` });
    });
  });
  const companySlugs = /* @__PURE__ */ new Set();
  file.companies.forEach((c, ci) => {
    if (companySlugs.has(c.slug)) ctx.addIssue({ code: "custom", path: ["companies", ci, "slug"], message: `duplicate company slug "${c.slug}"` });
    companySlugs.add(c.slug);
  });
});
function formatPath(path) {
  return path.reduce((acc, p) => typeof p === "number" ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p), "") || "(root)";
}

// lib/tenants/import.ts
var TenantsFileError = class extends Error {
  constructor(problems) {
    super(`tenants file rejected:
${problems.map((p) => `  ${p.path}: ${p.message}`).join("\n")}`);
    this.problems = problems;
    this.name = "TenantsFileError";
  }
  problems;
};
function parseTenantsFile(text, filename = "") {
  let raw;
  try {
    raw = /\.json$/i.test(filename) ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new TenantsFileError([{ path: "(file)", message: `not valid ${/\.json$/i.test(filename) ? "JSON" : "YAML/JSON"}: ${err.message}` }]);
  }
  const result = tenantsFileSchema.safeParse(raw);
  if (!result.success) {
    throw new TenantsFileError(result.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message })));
  }
  return result.data;
}
var counter = () => ({ created: 0, updated: 0 });
async function importCompany(tx, cipher, spec, ci, summary) {
  const enc = (v) => v === void 0 ? void 0 : cipher.encrypt(v);
  const values = {
    name: spec.name,
    language: spec.language,
    retentionDays: spec.retentionDays,
    operatorEmails: spec.operatorEmails,
    calcomUsername: spec.calcomUsername ?? null,
    ...spec.piiEncryption !== void 0 && { piiEncryption: spec.piiEncryption },
    // Absent keys leave stored keys alone: a file without secrets must not erase them.
    ...spec.retellApiKey !== void 0 && { retellApiKeyEnc: enc(spec.retellApiKey) },
    ...spec.calcomApiKey !== void 0 && { calcomApiKeyEnc: enc(spec.calcomApiKey) },
    ...spec.calcomWebhookSecret !== void 0 && { calcomWebhookSecretEnc: enc(spec.calcomWebhookSecret) }
  };
  if (spec.piiEncryption === true && blindIndexKeyMissing()) {
    throw new TenantsFileError([{ path: `companies[${ci}].piiEncryption`, message: "needs BLIND_INDEX_KEY to be set (32 bytes, base64: openssl rand -base64 32)" }]);
  }
  const [existing] = await tx.select({ id: companies.id }).from(companies).where(eq(companies.slug, spec.slug));
  let companyId;
  if (existing) {
    await tx.update(companies).set(values).where(eq(companies.id, existing.id));
    companyId = existing.id;
    summary.companies.updated++;
  } else {
    const [res] = await tx.insert(companies).values({ slug: spec.slug, ...values });
    companyId = Number(res.insertId);
    summary.companies.created++;
  }
  const branchIds = /* @__PURE__ */ new Map();
  for (const b of spec.branches) {
    const v = { name: b.name, timezone: b.timezone, language: b.language ?? spec.language, openingHours: b.openingHours ?? null };
    const [row] = await tx.select({ id: branches.id }).from(branches).where(and(eq(branches.companyId, companyId), eq(branches.slug, b.slug)));
    if (row) {
      await tx.update(branches).set(v).where(eq(branches.id, row.id));
      branchIds.set(b.slug, row.id);
      summary.branches.updated++;
    } else {
      const [res] = await tx.insert(branches).values({ companyId, slug: b.slug, ...v });
      branchIds.set(b.slug, Number(res.insertId));
      summary.branches.created++;
    }
  }
  const serviceIds = /* @__PURE__ */ new Map();
  for (const s of spec.services) {
    const v = {
      name: s.name,
      branchId: s.branch ? branchIds.get(s.branch) : null,
      calcomEventTypeId: s.calcomEventTypeId,
      calcomTeamId: s.calcomTeamId ?? null,
      durationMinutes: s.durationMinutes,
      aliases: s.aliases
    };
    const [row] = await tx.select({ id: services.id }).from(services).where(and(eq(services.companyId, companyId), eq(services.slug, s.slug)));
    if (row) {
      await tx.update(services).set(v).where(eq(services.id, row.id));
      serviceIds.set(s.slug, row.id);
      summary.services.updated++;
    } else {
      const [res] = await tx.insert(services).values({ companyId, slug: s.slug, ...v });
      serviceIds.set(s.slug, Number(res.insertId));
      summary.services.created++;
    }
  }
  for (const [bi, b] of spec.branches.entries()) {
    const branchId = branchIds.get(b.slug);
    await tx.update(branches).set({ defaultServiceId: b.defaultService ? serviceIds.get(b.defaultService) : null }).where(eq(branches.id, branchId));
    if (b.phoneNumbers.length === 0) continue;
    const owned = await tx.select().from(phoneNumbers).where(inArray(phoneNumbers.e164, b.phoneNumbers));
    for (const [ni, e1642] of b.phoneNumbers.entries()) {
      const row = owned.find((o) => o.e164 === e1642);
      if (row && row.companyId !== companyId) {
        throw new TenantsFileError([
          { path: `companies[${ci}].branches[${bi}].phoneNumbers[${ni}]`, message: `${e1642} belongs to another company (id ${row.companyId}); remove it there first` }
        ]);
      }
      if (row) {
        await tx.update(phoneNumbers).set({ branchId }).where(eq(phoneNumbers.id, row.id));
        summary.phoneNumbers.updated++;
      } else {
        await tx.insert(phoneNumbers).values({ e164: e1642, companyId, branchId });
        summary.phoneNumbers.created++;
      }
    }
  }
  return companyId;
}
async function importTenants(deps, file, actor2) {
  const summary = { companies: counter(), branches: counter(), services: counter(), phoneNumbers: counter() };
  await deps.db.transaction(async (tx) => {
    for (const [ci, company] of file.companies.entries()) {
      const companyId = await importCompany(tx, deps.cipher, company, ci, summary);
      await tx.insert(auditLog).values({
        companyId,
        actor: actor2,
        action: "tenants.import",
        target: `company:${company.slug}`,
        details: { branches: company.branches.length, services: company.services.length }
      });
    }
  });
  forgetPiiFlags();
  const numbers = file.companies.flatMap((c) => c.branches.flatMap((b) => b.phoneNumbers));
  if (deps.cache && numbers.length) await deps.cache.invalidate(...numbers.map(cacheKeys.phoneResolution));
  return summary;
}

// apps/cli/output.ts
var CliError = class extends Error {
  constructor(message, exitCode = 1, details) {
    super(message);
    this.exitCode = exitCode;
    this.details = details;
  }
  exitCode;
  details;
};
function print(json, data, human) {
  process.stdout.write(json ? `${JSON.stringify(data, null, 2)}
` : `${human()}
`);
}
function fail(err, json) {
  const code = err instanceof CliError ? err.exitCode : err instanceof TenantsFileError ? 2 : err instanceof ConfigError ? 3 : 1;
  const message = err instanceof Error ? err.message : String(err);
  const details = err instanceof TenantsFileError ? err.problems : err instanceof ConfigError ? err.problems : err instanceof CliError ? err.details : void 0;
  if (json) process.stdout.write(`${JSON.stringify({ error: { message, ...details ? { details } : {} } }, null, 2)}
`);
  else process.stderr.write(`callbook: ${message}
`);
  process.exit(code);
}

// apps/cli/resolve.ts
import { and as and2, asc, eq as eq2, isNull, or } from "drizzle-orm";
async function resolveCompany(db, slug2) {
  const all = await db.select().from(companies).orderBy(asc(companies.slug));
  if (!slug2) {
    if (all.length === 1) return all[0];
    throw new CliError(`--company is required; companies: ${all.map((c) => c.slug).join(", ") || "none (import tenants first)"}`, 2);
  }
  const found = all.find((c) => c.slug === slug2);
  if (!found) throw new CliError(`no company "${slug2}"; companies: ${all.map((c) => c.slug).join(", ") || "none"}`, 2);
  return found;
}
async function resolveBranch(db, company, slug2) {
  const all = await db.select().from(branches).where(eq2(branches.companyId, company.id)).orderBy(asc(branches.slug));
  if (!slug2) {
    if (all.length === 1) return all[0];
    throw new CliError(`--branch is required for ${company.slug}; branches: ${all.map((b) => b.slug).join(", ")}`, 2);
  }
  const found = all.find((b) => b.slug === slug2);
  if (!found) throw new CliError(`no branch "${slug2}" in ${company.slug}; branches: ${all.map((b) => b.slug).join(", ")}`, 2);
  return found;
}
async function resolveService(db, company, branch, slug2) {
  const all = await db.select().from(services).where(and2(eq2(services.companyId, company.id), or(isNull(services.branchId), eq2(services.branchId, branch.id))));
  const found = all.find((s) => s.slug === slug2 || s.calcomEventTypeId === Number(slug2));
  if (!found) throw new CliError(`no service "${slug2}" at ${company.slug}/${branch.slug}; services: ${all.map((s) => s.slug).join(", ")}`, 2);
  return found;
}
function actor() {
  return `cli:${process.env.USER ?? process.env.USERNAME ?? "unknown"}`;
}

// apps/cli/commands/booking.ts
function localDate(text, timeZone) {
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) return text;
  const range = parseRequestedRange(text, { timeZone });
  if (!range) throw new CliError(`cannot read the date "${text}" (use YYYY-MM-DD or e.g. "morgen")`, 2);
  return DateTime.fromJSDate(range.from).setZone(timeZone).toISODate();
}
function registerBooking(program2, run2) {
  program2.command("availability <service> <date>").description("free slots of a service on a day (YYYY-MM-DD or spoken, in the branch time zone)").option("--company <slug>", "company (optional when there is one)").option("--branch <slug>", "branch (optional when the company has one)").action(
    (serviceSlug, dateText, o) => run2(async (ctx, json) => {
      const db = ctx.database.db;
      const company = await resolveCompany(db, o.company);
      const branch = await resolveBranch(db, company, o.branch);
      const service = await resolveService(db, company, branch, serviceSlug);
      const date = localDate(dateText, branch.timezone);
      const deps = bookingDeps(ctx);
      if (!company.calcomApiKeyEnc) throw new CliError(`${company.slug} has no Cal.com API key`, 2);
      const slots = await freeSlotsOn(ctx.cache, deps.clientFor(ctx.cipher.decrypt(company.calcomApiKeyEnc)), {
        eventTypeId: service.calcomEventTypeId,
        date,
        timeZone: branch.timezone
      });
      const local = slots.map((s) => DateTime.fromISO(s).setZone(branch.timezone).toFormat("HH:mm"));
      print(
        json,
        { company: company.slug, branch: branch.slug, service: service.slug, date, timeZone: branch.timezone, slots },
        () => local.length ? `${service.name} at ${branch.name} on ${date} (${branch.timezone}): ${local.join(", ")}` : `no free slot for ${service.name} on ${date}`
      );
    })
  );
  program2.command("book").description("book directly (same exactly-once path as calls; running it twice books once)").requiredOption("--service <slug>", "service slug or Cal.com event type id").requiredOption("--phone <e164>", "customer's phone number").requiredOption("--at <time>", 'start: ISO, "2026-12-01 11:00" or spoken, in the branch time zone').option("--name <name>", "customer's name").option("--email <email>", "customer's email").option("--company <slug>").option("--branch <slug>").action(
    (o) => run2(async (ctx, json) => {
      const db = ctx.database.db;
      if (!/^\+[1-9]\d{5,14}$/.test(o.phone)) throw new CliError(`--phone must be E.164, e.g. +4930123456 (got "${o.phone}")`, 2);
      const company = await resolveCompany(db, o.company);
      const branch = await resolveBranch(db, company, o.branch);
      const service = await resolveService(db, company, branch, o.service);
      const when = parseRequestedStart(o.at, { timeZone: branch.timezone });
      if (!when?.hasTime) throw new CliError(`cannot read a start time from "${o.at}"`, 2);
      const job = await manualBookingJob(db, { companyId: company.id, branchId: branch.id, service, phone: o.phone, name: o.name, email: o.email, start: when.start, source: "cli" });
      const start = job.start;
      await audit(db, { companyId: company.id, actor: actor(), action: "booking.create", target: `service:${service.slug}`, details: { start, branch: branch.slug } });
      try {
        const result = await executeBooking(bookingDeps(ctx), job);
        const local = DateTime.fromISO(result.start).setZone(branch.timezone).toFormat("yyyy-MM-dd HH:mm");
        print(json, result, () => `${result.status === "booked" ? "booked" : "already booked"}: ${service.name} at ${branch.name}, ${local} (${branch.timezone}), appointment #${result.appointmentId}, Cal.com uid ${result.uid}`);
      } catch (err) {
        if (err instanceof BookingRejected) throw new CliError(`not booked: ${err.reason}`, 1, { alternatives: err.alternatives });
        if (err instanceof BookingDeferred) throw new CliError(`not booked now: ${err.message}`, 1);
        throw err;
      }
    })
  );
}

// apps/cli/demo-defaults.ts
import { eq as eq3 } from "drizzle-orm";
import { DateTime as DateTime2 } from "luxon";
async function demoDefaults(db, to) {
  const where = await lookupPhone(db, to);
  if (!where) return { language: "de", timezone: "Europe/Berlin" };
  const [row] = await db.select({ service: services.name }).from(branches).innerJoin(services, eq3(services.id, branches.defaultServiceId)).where(eq3(branches.id, where.branchId));
  return { language: where.language, service: row?.service, timezone: where.timezone };
}
function spokenSoon(language2, timezone2, random = Math.random) {
  let d = DateTime2.now().setZone(timezone2).plus({ days: 2 + Math.floor(random() * 7) });
  while (d.weekday > 5) d = d.plus({ days: 1 });
  const hour = 9 + Math.floor(random() * 8);
  if (language2.startsWith("de")) return `am ${d.day}.${d.month}. um ${hour} Uhr`;
  return `on ${d.setLocale("en").toFormat("LLLL d")} at ${hour > 12 ? hour - 12 : hour} ${hour >= 12 ? "pm" : "am"}`;
}

// apps/cli/commands/demo-call.ts
import { randomBytes } from "node:crypto";
import { eq as eq4 } from "drizzle-orm";
import Retell from "retell-sdk";
var DEMO_TO = "+4930555000";
var DEMO_FROM = "+4917612345678";
function collect(kv, acc) {
  const i = kv.indexOf("=");
  if (i < 1) throw new CliError(`--var expects key=value, got "${kv}"`, 2);
  acc[kv.slice(0, i)] = kv.slice(i + 1);
  return acc;
}
function buildCall(o, event) {
  const now = Date.now();
  const call = {
    call_id: o.callId,
    agent_id: "agent_demo",
    call_type: "phone_call",
    call_status: event === "call_started" ? "ongoing" : "ended",
    direction: "inbound",
    from_number: o.from,
    to_number: o.to,
    start_timestamp: now - 95e3
  };
  if (event !== "call_started") {
    Object.assign(call, {
      end_timestamp: now,
      duration_ms: 95e3,
      disconnection_reason: "user_hangup",
      transcript: `Agent: Guten Tag, hier ist der Salon. Wie kann ich helfen?
User: Ich h\xE4tte gern einen Termin ${o.vars.appointment_datetime ?? ""}, ${o.vars.service ?? ""}. Mein Name ist ${o.vars.customer_name ?? ""}.
Agent: Gern, ist gebucht.`,
      collected_dynamic_variables: o.vars
    });
  }
  if (event === "call_analyzed") {
    call.call_analysis = { call_summary: "The caller booked an appointment.", user_sentiment: "Positive", call_successful: true, in_voicemail: false, custom_analysis_data: o.vars };
  }
  return { event, call };
}
async function send(url, apiKey, payload) {
  const body = JSON.stringify(payload);
  const res = await fetch(`${url}/webhooks/retell`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-retell-signature": await Retell.sign(body, apiKey) },
    body
  }).catch((e) => {
    throw new CliError(`cannot reach the ingress at ${url} (${e.message}); is callbook running? (npm start)`);
  });
  return { status: res.status, body: await res.json().catch(() => null) };
}
async function waitForOutcome(ctx, callId, timeoutMs) {
  const db = ctx.database.db;
  const end = Date.now() + timeoutMs;
  for (; ; ) {
    const [call] = await db.select().from(calls).where(eq4(calls.retellCallId, callId));
    const appointment = call?.appointmentId ? (await db.select().from(appointments).where(eq4(appointments.id, call.appointmentId)))[0] : void 0;
    const [failed] = call ? await db.select().from(appointments).where(eq4(appointments.callId, call.id)) : [];
    const events = await db.select().from(webhookEvents).where(eq4(webhookEvents.externalId, callId));
    const rejected = events.find((e) => e.status === "rejected" || e.status === "failed");
    const settled = rejected || call?.bookingDecision === "no_booking" || appointment || failed?.status === "failed";
    if (settled || Date.now() > end) return { call, appointment: appointment ?? failed, rejected, timedOut: !settled };
    await new Promise((r) => setTimeout(r, 200));
  }
}
function ingressUrl(config, given) {
  return given ?? process.env.CALLBOOK_URL ?? `http://127.0.0.1:${config.PORT}`;
}
function registerDemoCall(program2, run2) {
  program2.command("demo-call").description("play a whole signed Retell call against the running ingress and wait for the booking").option("--url <url>", "ingress base URL (default http://127.0.0.1:$PORT)").option("--to <e164>", "dialled business number", DEMO_TO).option("--from <e164>", "caller number", DEMO_FROM).option("--name <name>", "caller name", "Anna Beispiel").option("--service <service>", "service as spoken (default: the dialled branch's default service)").option("--when <text>", `requested time as spoken or ISO (default: a weekday soon in the branch's language, e.g. "am 3.12. um 14 Uhr")`).option("--language <lang>", "language the time is spoken in (default: the dialled branch's)").option("--var <key=value>", "extra collected variable (repeatable)", collect, {}).option("--timeout <ms>", "how long to wait for the outcome", "20000").action(
    (o) => run2(async (ctx, json) => {
      const url = ingressUrl(ctx.config, o.url);
      const callId = `call_demo_${randomBytes(6).toString("hex")}`;
      const branch = await demoDefaults(ctx.database.db, o.to);
      const service = o.service ?? branch.service;
      if (!service) throw new CliError(`no --service given and ${o.to} has no branch with a default service; name one (e.g. --service "Haircut")`, 2);
      const language2 = o.language ?? branch.language;
      const when = o.when ?? spokenSoon(language2, branch.timezone);
      const vars = { customer_name: o.name, service, appointment_datetime: when, booking_confirmed: language2.startsWith("de") ? "ja" : "yes", ...o.var };
      const sent = [];
      for (const event of ["call_started", "call_ended", "call_analyzed"]) {
        const r = await send(url, ctx.config.RETELL_API_KEY, buildCall({ callId, to: o.to, from: o.from, vars }, event));
        if (r.status >= 300) throw new CliError(`ingress answered ${r.status} to ${event}: ${JSON.stringify(r.body)}`);
        sent.push({ event, status: r.status });
      }
      const outcome = await waitForOutcome(ctx, callId, Number(o.timeout));
      const result = {
        callId,
        asked: vars,
        sent,
        decision: outcome.call?.bookingDecision ?? null,
        reason: outcome.call?.bookingReason ?? outcome.rejected?.error ?? null,
        appointment: outcome.appointment ? { id: outcome.appointment.id, status: outcome.appointment.status, start: outcome.appointment.startAt, calcomUid: outcome.appointment.calcomBookingUid, failure: outcome.appointment.failureReason } : null,
        timedOut: outcome.timedOut
      };
      print(
        json,
        result,
        () => [
          `call ${callId}: ${sent.map((s) => `${s.event} \u2192 ${s.status}`).join(", ")}`,
          `asked: "${vars.appointment_datetime}", ${vars.service}, for ${vars.customer_name}`,
          `decision: ${result.decision ?? "none yet"}${result.reason ? ` (${result.reason})` : ""}`,
          result.appointment ? `appointment #${result.appointment.id}: ${result.appointment.status} at ${result.appointment.start.toISOString()}${result.appointment.calcomUid ? `, Cal.com uid ${result.appointment.calcomUid}` : ""}${result.appointment.failure ? ` \u2014 ${result.appointment.failure}` : ""}` : result.timedOut ? "no appointment yet (timed out waiting; is a bookings worker running?)" : "no appointment"
        ].join("\n")
      );
      if (outcome.timedOut) process.exitCode = 1;
    })
  );
  program2.command("test-webhook").description("send one signed Retell webhook to the running ingress").option("--url <url>", "ingress base URL (default http://127.0.0.1:$PORT)").option("--event <event>", "call_started | call_ended | call_analyzed | any other", "call_ended").option("--call-id <id>", "Retell call id (default: random)").option("--to <e164>", "dialled business number", DEMO_TO).option("--from <e164>", "caller number", DEMO_FROM).option("--var <key=value>", "collected variable (repeatable)", collect, {}).option("--key <apiKey>", "sign with this key instead of RETELL_API_KEY").action(
    (o) => run2(async (ctx, json) => {
      const callId = o.callId ?? `call_test_${randomBytes(6).toString("hex")}`;
      const r = await send(ingressUrl(ctx.config, o.url), o.key ?? ctx.config.RETELL_API_KEY, buildCall({ callId, to: o.to, from: o.from, vars: o.var }, o.event));
      print(json, { callId, event: o.event, ...r }, () => `${o.event} for ${callId} \u2192 ${r.status} ${JSON.stringify(r.body)}`);
      if (r.status >= 300) process.exitCode = 1;
    })
  );
}

// lib/gdpr/find.ts
import { and as and3, eq as eq5, inArray as inArray2 } from "drizzle-orm";
var GdprLookupError = class extends Error {
  name = "GdprLookupError";
};
var E164 = /^\+[1-9]\d{6,14}$/;
async function findCompany(db, company) {
  const bySlug = typeof company === "string" ? (await db.select({ id: companies.id, slug: companies.slug }).from(companies).where(eq5(companies.slug, company)))[0] : void 0;
  if (bySlug) return bySlug;
  const id = typeof company === "number" ? company : /^\d+$/.test(company) ? Number(company) : void 0;
  const byId = id !== void 0 && Number.isSafeInteger(id) ? (await db.select({ id: companies.id, slug: companies.slug }).from(companies).where(eq5(companies.id, id)))[0] : void 0;
  if (byId) return byId;
  throw new GdprLookupError(`no company with slug or id "${company}"`);
}
async function findCustomer(db, q) {
  const phone = q.phone.trim();
  if (!E164.test(phone)) throw new GdprLookupError(`"${q.phone}" is not an E.164 number (like +4917012345678)`);
  const company = await findCompany(db, q.company);
  const [row] = await db.select({ id: customers.id }).from(customers).where(and3(eq5(customers.companyId, company.id), inArray2(customers.phoneIndex, phoneIndexCandidates(company.id, phone))));
  if (!row) throw new GdprLookupError(`no customer with that number in company ${company.slug} (already erased, or never called)`);
  return { companyId: company.id, companySlug: company.slug, customerId: row.id };
}

// apps/cli/commands/gdpr.ts
async function find(ctx, company, phone) {
  try {
    return await findCustomer(ctx.database.db, { company, phone });
  } catch (err) {
    if (err instanceof GdprLookupError) throw new CliError(err.message, 2);
    throw err;
  }
}
function registerGdpr(program2, run2) {
  const gdpr = program2.command("gdpr").description("a caller's data in one company: export or erase");
  gdpr.command("export").requiredOption("--company <slug>").requiredOption("--phone <e164>").option("--out <dir>", "directory (default GDPR_EXPORT_DIR)").description("write everything about the caller to a JSON file (0600) and print its path").action(
    (o) => run2(async (ctx, json) => {
      const who = await find(ctx, o.company, o.phone);
      const data = await exportCustomer(ctx, { companyId: who.companyId, customerId: who.customerId, actor: actor() });
      const path = await writeExport(o.out ?? ctx.config.GDPR_EXPORT_DIR, data);
      print(json, { path }, () => `written: ${path}`);
    })
  );
  gdpr.command("erase").requiredOption("--company <slug>").requiredOption("--phone <e164>").option("--keep-bookings", "keep the caller's upcoming Cal.com bookings (default: cancel them)").description("erase the caller's personal data; upcoming Cal.com bookings are cancelled unless --keep-bookings").action(
    (o) => run2(async (ctx, json) => {
      const who = await find(ctx, o.company, o.phone);
      const result = await eraseCustomer(ctx, { companyId: who.companyId, customerId: who.customerId, cancelBookings: !o.keepBookings, actor: actor() });
      print(json, result, () => result.message);
      if (!result.complete) process.exitCode = 1;
    })
  );
}

// lib/pii/rotate.ts
import { and as and4, asc as asc2, eq as eq6, getTableColumns, gt, inArray as inArray3, isNull as isNull2, sql } from "drizzle-orm";
var RETRIES = 5;
var isDeadlock = (err) => {
  const e = err;
  const code = e?.code ?? e?.cause?.code;
  return code === "ER_LOCK_DEADLOCK" || code === "ER_LOCK_WAIT_TIMEOUT";
};
var isDup = (err) => {
  const e = err;
  return (e?.code ?? e?.cause?.code) === "ER_DUP_ENTRY";
};
var jsonText = (col) => sql`CAST(${col} AS CHAR)`;
var JSON_COLUMNS = /* @__PURE__ */ new Set(["dynamicVariables", "analysisData"]);
function target(keyring, on, value) {
  if (value === null) return null;
  if (isCiphertext(value)) return keyring.needsRotation(value) ? keyring.encrypt(keyring.decrypt(value)) : value;
  return on ? sealPii(keyring, true, value) : value;
}
async function companyFlags(db) {
  const { defaultOn, blindIndexKey } = piiSettings();
  const rows = await db.select({ id: companies.id, slug: companies.slug, on: companies.piiEncryption }).from(companies);
  const flags = /* @__PURE__ */ new Map();
  for (const r of rows) {
    const on = r.on ?? defaultOn;
    if (on && !blindIndexKey) throw new Error(`BLIND_INDEX_KEY is missing: company ${r.slug} has PII encryption on`);
    flags.set(r.id, on);
  }
  return flags;
}
async function applyOne(db, table, p) {
  const set = {};
  const conds = [eq6(table.id, p.id)];
  const cols = table;
  for (const [name, [from, to]] of p.changes) {
    set[name] = to;
    const col = cols[name];
    if (JSON_COLUMNS.has(name)) conds.push(from === null ? isNull2(col) : sql`${jsonText(col)} = ${from}`);
    else conds.push(from === null ? isNull2(col) : eq6(col, from));
  }
  const [res] = await db.update(table).set(set).where(and4(...conds));
  return res.affectedRows > 0;
}
function planCustomer(keyring, flags, r) {
  const on = flags.get(r.companyId) ?? false;
  const changes = /* @__PURE__ */ new Map();
  const erased = r.erasedAt !== null || r.phone.startsWith("erased-");
  const names = erased ? ["name", "email"] : ["name", "email", "phone"];
  for (const name of names) {
    const from = r[name];
    const to = target(keyring, on, from);
    if (to !== from) changes.set(name, [from, to]);
  }
  const index = erased ? `erased-${r.id}` : phoneIndex(r.companyId, openPii(keyring, r.phone));
  if (index !== r.phoneIndex) changes.set("phoneIndex", [r.phoneIndex, index]);
  return changes.size ? { id: r.id, changes } : null;
}
function planCall(keyring, flags, r) {
  const on = flags.get(r.companyId) ?? false;
  const changes = /* @__PURE__ */ new Map();
  for (const name of ["fromNumber", "toNumber", "transcript", "summary", "recordingUrl"]) {
    const from = r[name];
    const to = target(keyring, on, from);
    if (to !== from) changes.set(name, [from, to]);
  }
  for (const [name, text] of [["dynamicVariables", r.dvText], ["analysisData", r.adText]]) {
    const value = r[name];
    if (value === null) continue;
    let to = value;
    if (isSealedJson(value)) {
      if (keyring.needsRotation(value.$pii)) to = { $pii: keyring.encrypt(keyring.decrypt(value.$pii)) };
    } else if (on) to = sealPiiJson(keyring, true, value);
    if (to !== value) changes.set(name, [text, to]);
  }
  const caller = r.direction === "outbound" ? r.toNumber : r.fromNumber;
  if (r.customerId !== null && caller !== null && r.purgedAt === null) {
    const index = phoneIndex(r.companyId, openPii(keyring, caller));
    if (index !== r.callerIndex) changes.set("callerIndex", [r.callerIndex, index]);
  }
  return changes.size ? { id: r.id, changes } : null;
}
async function rotateTable(db, table, plan, batch, counts, key, onBatch) {
  let after = 0;
  for (; ; ) {
    const rows = await select(db, table).where(gt(table.id, after)).orderBy(asc2(table.id)).limit(batch);
    if (!rows.length) return;
    after = rows[rows.length - 1].id;
    let planned = rows.map(plan).filter((p) => p !== null);
    for (let attempt = 0; planned.length && attempt < RETRIES; attempt++) {
      const conflicted = [];
      let applied = 0;
      let dups = 0;
      try {
        await db.transaction(async (tx) => {
          for (const p of planned) {
            try {
              if (await applyOne(tx, table, p)) applied++;
              else conflicted.push(p.id);
            } catch (err) {
              if (!isDup(err)) throw err;
              dups++;
            }
          }
        });
        counts[key] += applied;
        counts.duplicates += dups;
      } catch (err) {
        if (!isDeadlock(err)) throw err;
        conflicted.splice(0, conflicted.length, ...planned.map((p) => p.id));
      }
      if (!conflicted.length) {
        planned = [];
        break;
      }
      const fresh = await select(db, table).where(inIds(table, conflicted));
      planned = fresh.map(plan).filter((p) => p !== null);
    }
    counts.skipped += planned.length;
    onBatch?.(key, counts);
  }
}
function select(db, table) {
  if (table === calls) {
    return db.select({ ...getTableColumns(calls), dvText: jsonText(calls.dynamicVariables), adText: jsonText(calls.analysisData) }).from(calls);
  }
  return db.select().from(customers);
}
var inIds = (table, ids) => inArray3(table.id, ids);
async function rotateKeys(db, keyring, opts = {}) {
  const batch = opts.batch ?? 500;
  const counts = { companies: 0, customers: 0, calls: 0, skipped: 0, duplicates: 0 };
  const flags = await companyFlags(db);
  const rows = await db.select().from(companies);
  for (const c of rows) {
    for (const name of ["retellApiKeyEnc", "calcomApiKeyEnc", "calcomWebhookSecretEnc"]) {
      const from = c[name];
      if (from === null || !keyring.needsRotation(from)) continue;
      const [res] = await db.update(companies).set({ [name]: keyring.encrypt(keyring.decrypt(from)) }).where(and4(eq6(companies.id, c.id), eq6(companies[name], from)));
      if (res.affectedRows > 0) counts.companies++;
      else counts.skipped++;
    }
  }
  await rotateTable(db, customers, (r) => planCustomer(keyring, flags, r), batch, counts, "customers", opts.onBatch);
  await rotateTable(db, calls, (r) => planCall(keyring, flags, r), batch, counts, "calls", opts.onBatch);
  await audit(db, { actor: opts.actor ?? "system", action: "keys.rotate", target: "all companies", details: { keyId: keyring.keyId, batch, ...counts } });
  return counts;
}

// apps/cli/commands/keys.ts
function registerKeys(program2, run2) {
  const keys = program2.command("keys").description("encryption keys");
  keys.command("rotate").description("re-encrypt secrets and personal data under the current ENCRYPTION_KEY (older keys in ENCRYPTION_KEYS_PREVIOUS), in batches, while the system runs").option("--batch <n>", "rows per batch (each batch its own short transaction)", "500").action(
    (o) => run2(async (ctx, json) => {
      const batch = Number(o.batch);
      if (!Number.isInteger(batch) || batch < 1 || batch > 1e4) throw new CliError(`--batch must be a whole number from 1 to 10000 (got "${o.batch}")`, 2);
      const counts = await rotateKeys(ctx.database.db, ctx.cipher, { batch, actor: actor() });
      print(
        json,
        { keyId: ctx.cipher.keyId, ...counts },
        () => [
          `current key ${ctx.cipher.keyId}: re-encrypted ${counts.companies} company secret(s), ${counts.customers} customer(s), ${counts.calls} call(s)`,
          counts.skipped ? `${counts.skipped} row(s) kept changing under concurrent writes: run keys rotate again` : "nothing skipped",
          ...counts.duplicates ? [`${counts.duplicates} customer(s) share a number with another row of their company (from before BLIND_INDEX_KEY): left as they are`] : []
        ].join("\n")
      );
    })
  );
}

// apps/cli/commands/operations.ts
import { and as and5, eq as eq7 } from "drizzle-orm";
var SERVICES = ["calcom", "retell"];
function queuesFrom(opt) {
  if (!opt) return [...QUEUE_NAMES];
  if (!isQueueName(opt)) throw new CliError(`--queue must be one of ${QUEUE_NAMES.join(", ")} (got "${opt}")`, 2);
  return [opt];
}
function describeJob(q, j) {
  return {
    queue: q,
    id: j.id,
    name: j.name,
    attempts: j.attemptsMade,
    failedAt: j.finishedOn ? new Date(j.finishedOn).toISOString() : null,
    reason: j.failedReason
  };
}
function registerOperations(program2, run2) {
  const breaker = program2.command("breaker").description("circuit breakers (state shared by all processes, in Redis)");
  breaker.command("status").description("state of the calcom and retell breakers").action(
    () => run2(async (ctx, json) => {
      const rows = await Promise.all(SERVICES.map((s) => serviceBreaker(s, { redis: ctx.redis, ns: ctx.ns, logger: ctx.logger }).status()));
      print(
        json,
        rows,
        () => rows.map((r) => `${r.service.padEnd(7)} ${r.state}${r.failures ? `, ${r.failures} consecutive failures` : ""}${r.retryAt && r.state !== "CLOSED" ? `, probe at ${new Date(r.retryAt).toISOString()}` : ""}`).join("\n")
      );
    })
  );
  breaker.command("reset <service>").description("force a breaker closed (calcom | retell)").action(
    (service) => run2(async (ctx, json) => {
      if (!SERVICES.includes(service)) throw new CliError(`service must be one of ${SERVICES.join(", ")}`, 2);
      const b = serviceBreaker(service, { redis: ctx.redis, ns: ctx.ns, logger: ctx.logger });
      const before = await b.status();
      await b.reset();
      await audit(ctx.database.db, { actor: actor(), action: "breaker.reset", target: `breaker:${service}`, details: { from: before.state } });
      print(json, { service, from: before.state, to: "CLOSED" }, () => `${service}: ${before.state} \u2192 CLOSED`);
    })
  );
  program2.command("cache").description("caches (L1 in each process expires within 30 s; L2 in Redis is cleared now)").command("clear").option("--prefix <prefix>", "only keys starting with this (e.g. mcp:calcom:availability:)", "mcp:").action(
    (o) => run2(async (ctx, json) => {
      const removed = await ctx.cache.invalidatePrefix(o.prefix);
      await audit(ctx.database.db, { actor: actor(), action: "cache.clear", target: o.prefix, details: { removed } });
      print(json, { prefix: o.prefix, removed }, () => `removed ${removed} keys under ${o.prefix}`);
    })
  );
  const failed = program2.command("failed").description("failed jobs: see why, retry");
  failed.command("list").option("--queue <name>", "one queue (default: all)").option("--limit <n>", "per queue", "50").action(
    (o) => run2(async (ctx, json) => {
      const rows = [];
      for (const q of queuesFrom(o.queue)) {
        for (const j of await ctx.queues[q].getFailed(0, Number(o.limit) - 1)) rows.push(describeJob(q, j));
      }
      print(json, rows, () => rows.length ? rows.map((r) => `${r.queue}/${r.id} (${r.attempts} attempts, ${r.failedAt}): ${r.reason}`).join("\n") : "no failed jobs");
    })
  );
  failed.command("retry").option("--queue <name>", "one queue (default: all)").option("--id <jobId>", "one job").option("--all", "every failed job of the queue(s)").action(
    (o) => run2(async (ctx, json) => {
      if (!o.id && !o.all) throw new CliError("say which: --id <jobId> or --all", 2);
      const retried = [];
      for (const q of queuesFrom(o.queue)) {
        const jobs = o.id ? [await ctx.queues[q].getJob(o.id)].filter((j) => Boolean(j)) : await ctx.queues[q].getFailed(0, -1);
        for (const j of jobs) {
          if (await j.getState() !== "failed") {
            if (o.id) throw new CliError(`${q}/${j.id} is not failed (it is ${await j.getState()})`, 2);
            continue;
          }
          await j.retry("failed");
          retried.push({ queue: q, id: j.id });
        }
      }
      if (o.id && retried.length === 0) throw new CliError(`no failed job with id ${o.id}${o.queue ? ` in ${o.queue}` : ""}`, 2);
      await audit(ctx.database.db, { actor: actor(), action: "failed.retry", target: o.id ?? `${o.queue ?? "all"}:all`, details: { jobs: retried } });
      print(json, { retried }, () => `retried ${retried.length} job(s)${retried.length ? `: ${retried.map((r) => `${r.queue}/${r.id}`).join(", ")}` : ""}`);
    })
  );
  program2.command("calls").description("calls as recorded").command("show <retellCallId>").description("one call with its transcript, customer and appointment (writes an audit row: personal data)").action(
    (id) => run2(async (ctx, json) => {
      const db = ctx.database.db;
      const [stored] = await db.select().from(calls).where(eq7(calls.retellCallId, id));
      if (!stored) throw new CliError(`no call ${id}`, 2);
      const call = { ...stored, fromNumber: open(stored.fromNumber), toNumber: open(stored.toNumber), transcript: open(stored.transcript), summary: open(stored.summary), recordingUrl: open(stored.recordingUrl) };
      const [storedCustomer] = call.customerId ? await db.select().from(customers).where(and5(eq7(customers.id, call.customerId), eq7(customers.companyId, call.companyId))) : [];
      const customer = storedCustomer ? { ...storedCustomer, name: open(storedCustomer.name), phone: open(storedCustomer.phone), email: open(storedCustomer.email) } : void 0;
      const appts = await db.select().from(appointments).where(and5(eq7(appointments.callId, call.id), eq7(appointments.companyId, call.companyId)));
      await audit(db, { companyId: call.companyId, actor: actor(), action: "calls.show", target: `call:${id}` });
      const out = {
        call: { ...call, dynamicVariables: openJson(call.dynamicVariables), analysisData: openJson(call.analysisData) },
        customer: customer ? { id: customer.id, name: customer.name, phone: customer.phone, email: customer.email } : null,
        appointments: appts.map((a) => ({ id: a.id, status: a.status, start: a.startAt, calcomUid: a.calcomBookingUid, failureReason: a.failureReason }))
      };
      print(
        json,
        out,
        () => [
          `call ${call.retellCallId} \u2014 ${call.status}, ${call.direction ?? ""} ${call.fromNumber ?? "?"} \u2192 ${call.toNumber ?? "?"}, ${call.startedAt?.toISOString() ?? ""}`,
          `customer: ${customer ? `${customer.name ?? "(no name)"} ${customer.phone}` : "none"}`,
          `sentiment: ${call.sentiment ?? "-"}; summary: ${call.summary ?? "-"}`,
          `booking decision: ${call.bookingDecision ?? "none"}${call.bookingReason ? ` (${call.bookingReason})` : ""}`,
          ...out.appointments.map((a) => `appointment #${a.id}: ${a.status} ${a.start.toISOString()}${a.calcomUid ? ` uid ${a.calcomUid}` : ""}${a.failureReason ? ` \u2014 ${a.failureReason}` : ""}`),
          "",
          call.transcript ?? "(no transcript)"
        ].join("\n")
      );
    })
  );
}

// apps/cli/commands/sync.ts
import { readFile } from "node:fs/promises";
function registerSync(program2, run2) {
  program2.command("sync").description("Retell numbers and agents, Cal.com event types").command("run").description("run a sync now (the sync worker also runs one every SYNC_INTERVAL_MS)").option("--kind <kind>", "full | retell_numbers | retell_agents | calcom_event_types", "full").option("--company <slug>", "one company").action(
    (o) => run2(async (ctx, json) => {
      const company = o.company ? await resolveCompany(ctx.database.db, o.company) : void 0;
      const parsed = syncJobSchema.safeParse({ kind: o.kind, companyId: company?.id });
      if (!parsed.success) throw new CliError(`--kind must be one of full, retell_numbers, retell_agents, calcom_event_types`, 2);
      const report = await runSync(ctx, parsed.data);
      await audit(ctx.database.db, { companyId: company?.id, actor: actor(), action: "sync.run", target: o.kind, details: { runId: report.runId, status: report.status } });
      print(json, report, () => [`sync ${report.kind}: ${report.status}`, ...problemLines(report).map((l) => `  - ${l}`)].join("\n"));
      if (report.status === "failed") process.exitCode = 1;
    })
  );
  program2.command("agents").description("Retell agents").command("update-prompt <agentId>").description("replace an agent's prompt (its Retell LLM general_prompt)").option("--file <path>", "read the prompt from a file").option("--prompt <text>", "the prompt itself").option("--company <slug>", "use the company's own Retell key").action(
    (agentId, o) => run2(async (ctx, json) => {
      if (!o.file === !o.prompt) throw new CliError("give the prompt with exactly one of --file or --prompt", 2);
      const prompt = o.file ? await readFile(o.file, "utf8").catch((e) => Promise.reject(new CliError(`cannot read ${o.file}: ${e.message}`, 2))) : o.prompt;
      const company = o.company ? await resolveCompany(ctx.database.db, o.company) : void 0;
      try {
        const r = await updateAgentPrompt(ctx, { companyId: company?.id ?? null, agentId, prompt, actor: actor() });
        print(json, r, () => `agent ${r.agentId}: LLM ${r.llmId} now at version ${r.version}${r.published ? "" : " (a draft: publish the agent in Retell for calls to use it)"}`);
      } catch (err) {
        if (err instanceof AgentPromptError) throw new CliError(err.message, 2);
        throw err;
      }
    })
  );
}

// apps/cli/commands/tokens.ts
import { eq as eq8 } from "drizzle-orm";
function registerTokens(program2, run2) {
  const tokens = program2.command("tokens").description("access tokens for /mcp, confined to one company or one branch (stored hashed, shown once)");
  tokens.command("create").description("create a token and print it once").requiredOption("--company <slug>", "the company the token is confined to").option("--branch <slug>", "confine it further to one branch").requiredOption("--name <name>", 'who or what holds it, e.g. "reception tablet"').action(
    (o) => run2(async (ctx, json) => {
      const name = o.name.trim();
      if (!name || name.length > 100) throw new CliError("--name must be 1\u2013100 characters", 2);
      const db = ctx.database.db;
      const company = await resolveCompany(db, o.company);
      const branch = o.branch ? await resolveBranch(db, company, o.branch) : null;
      const { id, token } = await createToken(db, { companyId: company.id, branchId: branch?.id ?? null, name });
      await audit(db, { companyId: company.id, actor: actor(), action: "token.create", target: `token:${id}`, details: { name, branch: branch?.slug ?? null } });
      const scope = branch ? `${company.slug}/${branch.slug}` : company.slug;
      print(
        json,
        { id, company: company.slug, branch: branch?.slug ?? null, name, token },
        () => [`token #${id} for ${scope} ("${name}"):`, "", `  ${token}`, "", "It is shown only now: callbook keeps its hash, not the token. Revoke with `callbook tokens revoke " + id + "`."].join("\n")
      );
    })
  );
  tokens.command("list").description("every token: id, company, branch, name, created, last used, revoked (never the token itself)").option("--company <slug>", "only this company").action(
    (o) => run2(async (ctx, json) => {
      const db = ctx.database.db;
      const company = o.company ? await resolveCompany(db, o.company) : null;
      const branchSlugs = new Map((await db.select({ id: branches.id, slug: branches.slug }).from(branches)).map((b) => [b.id, b.slug]));
      const rows = (await listTokens(db)).filter((r) => !company || r.company === company.slug).sort((a, b) => a.id - b.id).map((r) => ({
        id: r.id,
        company: r.company,
        branch: r.branchId === null ? null : branchSlugs.get(r.branchId) ?? `#${r.branchId}`,
        name: r.name,
        createdAt: r.createdAt.toISOString(),
        lastUsedAt: r.lastUsedAt?.toISOString() ?? null,
        revokedAt: r.revokedAt?.toISOString() ?? null
      }));
      print(
        json,
        rows,
        () => rows.length ? rows.map((r) => `#${r.id} ${r.branch ? `${r.company}/${r.branch}` : r.company} "${r.name}" created ${r.createdAt}, ${r.lastUsedAt ? `last used ${r.lastUsedAt}` : "never used"}${r.revokedAt ? `, revoked ${r.revokedAt}` : ", active"}`).join("\n") : "no tokens"
      );
    })
  );
  tokens.command("revoke <id>").description("revoke a token (by the id `tokens list` shows)").action(
    (idText) => run2(async (ctx, json) => {
      const id = Number(idText);
      if (!Number.isSafeInteger(id) || id <= 0) throw new CliError(`token id must be a positive number (got "${idText}")`, 2);
      const db = ctx.database.db;
      const [row] = await db.select().from(apiTokens).where(eq8(apiTokens.id, id));
      if (!row) throw new CliError(`no token #${id}`, 2);
      if (row.revokedAt) {
        print(json, { id, revokedAt: row.revokedAt.toISOString(), already: true }, () => `token #${id} was already revoked at ${row.revokedAt.toISOString()}`);
        return;
      }
      await revokeToken({ db, cache: ctx.cache }, id);
      await audit(db, { companyId: row.companyId, actor: actor(), action: "token.revoke", target: `token:${id}`, details: { name: row.name } });
      print(json, { id, revoked: true }, () => `token #${id} ("${row.name}") revoked`);
    })
  );
}

// apps/cli/commands/tenants.ts
import { readFile as readFile2 } from "node:fs/promises";
import { asc as asc3 } from "drizzle-orm";
function registerTenants(program2, run2) {
  const tenants = program2.command("tenants").description("companies, branches, numbers and services");
  tenants.command("import <file>").description("create or update tenants from a JSON or YAML file (rejected whole if any entry is bad)").action(
    (file) => run2(async (ctx, json) => {
      const text = await readFile2(file, "utf8").catch((e) => {
        throw new CliError(`cannot read ${file}: ${e.message}`, 2);
      });
      const parsed = parseTenantsFile(text, file);
      const summary = await importTenants({ db: ctx.database.db, cipher: ctx.cipher, cache: ctx.cache }, parsed, `cli:${process.env.USER ?? "unknown"}`);
      print(
        json,
        summary,
        () => Object.entries(summary).map(([k, v]) => `${k.padEnd(13)} ${v.created} created, ${v.updated} updated`).join("\n")
      );
    })
  );
  tenants.command("list").description("list companies with their branches, numbers and services").action(
    () => run2(async (ctx, json) => {
      const db = ctx.database.db;
      const [cs, bs, ps, ss] = await Promise.all([
        db.select().from(companies).orderBy(asc3(companies.slug)),
        db.select().from(branches),
        db.select().from(phoneNumbers),
        db.select().from(services)
      ]);
      const list = cs.map((c) => ({
        slug: c.slug,
        name: c.name,
        hasCalcomKey: Boolean(c.calcomApiKeyEnc),
        hasRetellKey: Boolean(c.retellApiKeyEnc),
        branches: bs.filter((b) => b.companyId === c.id).map((b) => ({ slug: b.slug, name: b.name, timezone: b.timezone, numbers: ps.filter((p) => p.branchId === b.id).map((p) => p.e164) })),
        services: ss.filter((s) => s.companyId === c.id).map((s) => ({ slug: s.slug, eventTypeId: s.calcomEventTypeId, teamId: s.calcomTeamId ?? void 0, minutes: s.durationMinutes }))
      }));
      print(
        json,
        list,
        () => list.map(
          (c) => `${c.slug} \u2014 ${c.name}
` + c.branches.map((b) => `  branch ${b.slug} (${b.timezone}): ${b.numbers.join(", ") || "no numbers"}`).join("\n") + "\n" + c.services.map((s) => `  service ${s.slug}: event type ${s.eventTypeId}${s.teamId ? ` (team ${s.teamId})` : ""}, ${s.minutes} min`).join("\n")
        ).join("\n") || "no tenants yet: callbook tenants import examples/tenants.yaml"
      );
    })
  );
}

// apps/cli/env.ts
import { existsSync } from "node:fs";
import { resolve } from "node:path";
var SANDBOX_ENV_FILE = resolve(process.cwd(), ".sandbox/env");
function cliConfig() {
  if (!process.env.DATABASE_URL && existsSync(SANDBOX_ENV_FILE)) process.loadEnvFile(SANDBOX_ENV_FILE);
  return loadConfig();
}

// apps/cli/main.ts
var program = new Command("callbook").description("callbook: Retell calls \u2192 Cal.com bookings, for many companies and branches").version(package_default.version, "-V, --version", "print the version").option("--json", "print JSON instead of text").showHelpAfterError();
var wantsJson = process.argv.includes("--json");
program.exitOverride();
if (wantsJson) program.configureOutput({ writeErr: () => {
}, outputError: () => {
} });
async function run(fn) {
  const json = Boolean(program.opts().json);
  let ctx;
  try {
    const config = cliConfig();
    ctx = createContext(config, createLogger(process.env.LOG_LEVEL ?? "warn"));
    await fn(ctx, json);
  } catch (err) {
    await ctx?.close().catch(() => {
    });
    fail(err, json);
  }
  await ctx.close();
}
registerTenants(program, run);
registerDemoCall(program, run);
registerBooking(program, run);
registerOperations(program, run);
registerSync(program, run);
registerGdpr(program, run);
registerTokens(program, run);
registerKeys(program, run);
try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (!(err instanceof CommanderError)) throw err;
  if (err.exitCode === 0) process.exit(0);
  if (wantsJson) process.stdout.write(`${JSON.stringify({ error: { code: err.code, message: err.message.replace(/^error: /, "") } }, null, 2)}
`);
  process.exit(2);
}
//# sourceMappingURL=cli.js.map
