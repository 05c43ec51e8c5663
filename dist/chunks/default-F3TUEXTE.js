import {
  GdprNotFoundError,
  eraseCustomer,
  exportCustomer,
  writeExport
} from "./chunk-OPXCA3TF.js";
import {
  audit
} from "./chunk-54VZ3ZP4.js";
import "./chunk-6VOENOB6.js";
import "./chunk-A7KMJAOI.js";
import "./chunk-RDU6U4K7.js";
import "./chunk-SC2WLIXO.js";
import "./chunk-XN5S2XO3.js";
import "./chunk-RUAA5PEO.js";
import {
  defaultJobSchema
} from "./chunk-Z42SQZT6.js";
import "./chunk-7WOGBSIY.js";
import {
  calls,
  companies
} from "./chunk-AQ2OROU7.js";
import "./chunk-E5ZFRTTD.js";
import "./chunk-54KOYG5C.js";

// workers/default.ts
import { UnrecoverableError } from "bullmq";

// lib/retention/purge.ts
import { and, asc, eq, inArray, isNotNull, isNull, lt, or } from "drizzle-orm";
var PURGE_BATCH_SIZE = 500;
var DAY_MS = 24 * 3600 * 1e3;
async function purgeExpired(ctx, opts = {}) {
  const db = ctx.database.db;
  const now = opts.now ?? /* @__PURE__ */ new Date();
  const batchSize = opts.batchSize ?? PURGE_BATCH_SIZE;
  const targets = await db.select({ id: companies.id, slug: companies.slug, retentionDays: companies.retentionDays }).from(companies).where(opts.companyId === void 0 ? void 0 : eq(companies.id, opts.companyId)).orderBy(asc(companies.id));
  if (opts.companyId !== void 0 && targets.length === 0) throw new Error(`retention purge: company ${opts.companyId} does not exist`);
  const results = [];
  for (const company of targets) {
    if (!(company.retentionDays > 0)) continue;
    const cutoff = new Date(now.getTime() - company.retentionDays * DAY_MS);
    const due = and(
      eq(calls.companyId, company.id),
      isNull(calls.purgedAt),
      or(and(isNotNull(calls.endedAt), lt(calls.endedAt, cutoff)), and(isNull(calls.endedAt), lt(calls.createdAt, cutoff)))
    );
    let purged = 0;
    const record = (interrupted) => audit(db, {
      companyId: company.id,
      actor: opts.actor ?? "worker:default",
      action: "retention.purge",
      target: `company:${company.id}`,
      details: { calls: purged, olderThan: cutoff.toISOString(), retentionDays: company.retentionDays, ...interrupted && { interrupted: true } }
    });
    try {
      for (; ; ) {
        opts.signal?.throwIfAborted();
        const batch = await db.select({ id: calls.id }).from(calls).where(due).orderBy(asc(calls.id)).limit(batchSize);
        if (batch.length === 0) break;
        const [res] = await db.update(calls).set({ transcript: null, summary: null, recordingUrl: null, dynamicVariables: null, analysisData: null, purgedAt: now }).where(and(eq(calls.companyId, company.id), isNull(calls.purgedAt), inArray(calls.id, batch.map((r) => r.id))));
        purged += res.affectedRows;
        if (batch.length < batchSize) break;
      }
    } catch (err) {
      if (purged > 0) await record(true).catch(() => void 0);
      throw err;
    }
    await record(false);
    results.push({ companyId: company.id, slug: company.slug, retentionDays: company.retentionDays, olderThan: cutoff.toISOString(), calls: purged });
  }
  return results;
}

// workers/default.ts
var RETENTION_SCHEDULER_ID = "retention-purge";
function defaultHandler(ctx) {
  return async (job, signal) => {
    const parsed = defaultJobSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`bad default job: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
    const data = parsed.data;
    try {
      switch (data.kind) {
        case "retention_purge": {
          const companies2 = await purgeExpired(ctx, { companyId: data.companyId, actor: "worker:default", signal });
          return { companies: companies2.map((c) => ({ companyId: c.companyId, calls: c.calls, olderThan: c.olderThan })) };
        }
        case "gdpr_export": {
          const exported = await exportCustomer(ctx, { companyId: data.companyId, customerId: data.customerId, actor: data.requestedBy });
          return { path: await writeExport(ctx.config.GDPR_EXPORT_DIR, exported) };
        }
        case "gdpr_erase": {
          const result = await eraseCustomer(ctx, {
            companyId: data.companyId,
            customerId: data.customerId,
            cancelBookings: data.cancelBookings,
            actor: data.requestedBy,
            signal
          });
          if (!result.complete) throw new Error(result.message);
          return {
            customerId: result.customerId,
            calls: result.calls,
            appointments: result.appointments,
            cancelled: result.bookings.cancelled.length,
            kept: result.bookings.kept.length,
            webhookJobsRemoved: result.webhookJobsRemoved,
            warnings: result.warnings
          };
        }
      }
    } catch (err) {
      if (err instanceof GdprNotFoundError) throw new UnrecoverableError(err.message);
      throw err;
    }
  };
}
async function scheduleHousekeeping(ctx) {
  await ctx.queues.default.upsertJobScheduler(
    RETENTION_SCHEDULER_ID,
    { pattern: ctx.config.RETENTION_CRON },
    { name: "retention_purge", data: { kind: "retention_purge" } }
  );
}
export {
  RETENTION_SCHEDULER_ID,
  defaultHandler,
  scheduleHousekeeping
};
//# sourceMappingURL=default-F3TUEXTE.js.map
