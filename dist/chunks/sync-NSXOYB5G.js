import {
  runSync
} from "./chunk-IKLR67YA.js";
import "./chunk-WCWRLYGH.js";
import "./chunk-6VOENOB6.js";
import "./chunk-A7KMJAOI.js";
import "./chunk-SC2WLIXO.js";
import "./chunk-XN5S2XO3.js";
import {
  syncJobSchema
} from "./chunk-Z42SQZT6.js";
import "./chunk-7WOGBSIY.js";
import "./chunk-AQ2OROU7.js";
import "./chunk-54KOYG5C.js";

// workers/sync.ts
var SYNC_SCHEDULER_ID = "sync-every";
var SyncFailedError = class extends Error {
  name = "SyncFailedError";
};
function syncHandler(ctx) {
  return async (job, signal) => {
    const data = syncJobSchema.parse(job.data);
    const report = await runSync(ctx, data, { signal });
    const summary = {
      runId: report.runId,
      status: report.status,
      numbers: report.numbers.imported,
      unmapped: report.numbers.unmapped.length,
      agentMismatches: report.agents.mismatches.length,
      eventTypeProblems: report.eventTypes.problems.length,
      errors: report.errors.length
    };
    if (report.status === "failed") {
      throw new SyncFailedError(`sync run ${report.runId} failed: ${report.errors.map((e) => `${e.part}${e.account ? ` (${e.account})` : ""}: ${e.message}`).join("; ")}`);
    }
    return summary;
  };
}
async function scheduleSync(ctx) {
  const data = { kind: "full" };
  await ctx.queues.sync.upsertJobScheduler(SYNC_SCHEDULER_ID, { every: ctx.config.SYNC_INTERVAL_MS }, { name: "sync", data });
  ctx.logger.info({ every: ctx.config.SYNC_INTERVAL_MS }, "sync scheduled");
}
export {
  SYNC_SCHEDULER_ID,
  SyncFailedError,
  scheduleSync,
  syncHandler
};
//# sourceMappingURL=sync-NSXOYB5G.js.map
