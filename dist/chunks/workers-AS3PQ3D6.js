import {
  startMetricsPublisher,
  thisProcess
} from "./chunk-HRM5DEUL.js";
import {
  createContext,
  loadConfig
} from "./chunk-KF4VCP7M.js";
import "./chunk-AFPE6KLN.js";
import {
  assertNoEviction,
  createRedis,
  redisTarget
} from "./chunk-XN5S2XO3.js";
import {
  assertPiiKeys
} from "./chunk-RUAA5PEO.js";
import {
  JOB_TIMEOUT_MS,
  QUEUE_NAMES,
  bullPrefix,
  concurrencyOf,
  isQueueName
} from "./chunk-Z42SQZT6.js";
import {
  queueTelemetry
} from "./chunk-7WOGBSIY.js";
import {
  dbUnavailable
} from "./chunk-42NABTHE.js";
import {
  jobDuration,
  workerServing
} from "./chunk-AQ2OROU7.js";
import "./chunk-E5ZFRTTD.js";
import "./chunk-54KOYG5C.js";

// workers/index.ts
import { Worker } from "bullmq";

// workers/handlers.ts
var HANDLERS = {
  webhooks: async () => (await import("./webhooks-AMMTZC6Z.js")).webhooksHandler,
  bookings: async () => (await import("./bookings-EMJN5HNJ.js")).bookingsHandler,
  sync: async () => (await import("./sync-NSXOYB5G.js")).syncHandler,
  notifications: async () => (await import("./notifications-RR5CSLJQ.js")).notificationsHandler,
  default: async () => (await import("./default-F3TUEXTE.js")).defaultHandler
};

// workers/run-job.ts
import { DelayedError } from "bullmq";
var JobTimeoutError = class extends Error {
  constructor(queue, jobId, ms) {
    super(`job ${jobId} on ${queue} exceeded its ${ms / 1e3} s timeout`);
    this.name = "JobTimeoutError";
  }
};
function withTimeout(queue, handler, timeoutMs = JOB_TIMEOUT_MS[queue]) {
  return async (job, token) => {
    const controller = new AbortController();
    const end = jobDuration.startTimer({ queue });
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => {
        const err = new JobTimeoutError(queue, job.id, timeoutMs);
        controller.abort(err);
        reject(err);
      }, timeoutMs);
    });
    try {
      const result = await Promise.race([handler(job, controller.signal, token), timeout]);
      end({ outcome: "completed" });
      return result;
    } catch (err) {
      const down = dbUnavailable(err);
      if (down && token) {
        end({ outcome: "delayed" });
        await job.moveToDelayed(Math.max(down.retryAt, Date.now() + 1e3), token);
        throw new DelayedError(down.message);
      }
      end({ outcome: "failed" });
      throw err;
    } finally {
      clearTimeout(timer);
    }
  };
}

// workers/index.ts
async function scheduleRepeatables(ctx, names) {
  if (names.includes("sync")) await (await import("./sync-NSXOYB5G.js")).scheduleSync(ctx);
  if (names.includes("default")) await (await import("./default-F3TUEXTE.js")).scheduleHousekeeping(ctx);
}
function startWorkers(ctx, names) {
  const missing = names.filter((n) => !HANDLERS[n]);
  if (missing.length) throw new Error(`no worker for queue(s) ${missing.join(", ")} in this version; available: ${availableQueues().join(", ")}`);
  const connection = createRedis(redisTarget(ctx.config), "worker");
  const loading = [];
  const workers = names.map((name) => {
    const loaded = HANDLERS[name]().then((factory) => factory(ctx));
    loading.push(loaded);
    const handler = withTimeout(name, async (job, signal) => (await loaded)(job, signal));
    const worker = new Worker(name, handler, {
      connection,
      prefix: bullPrefix(ctx.config.REDIS_PREFIX),
      concurrency: concurrencyOf(ctx.config, name),
      // A killed worker's jobs return to the queue after the lock lapses and the next stalled check.
      lockDuration: ctx.config.WORKER_LOCK_MS,
      stalledInterval: ctx.config.WORKER_LOCK_MS,
      // Continues the trace of whoever added the job (lib/tracing); undefined when tracing is off.
      telemetry: queueTelemetry()
    });
    const log = ctx.logger.child({ queue: name });
    worker.on(
      "failed",
      (job, err) => log.warn({ jobId: job?.id, attempt: job?.attemptsMade, err: err.message }, "job failed")
    );
    worker.on("error", (err) => log.error({ err }, "worker error"));
    return worker;
  });
  for (const name of names) workerServing.set({ queue: name }, 1);
  const ready = Promise.all(loading).then(() => ctx.logger.info({ queues: names }, "workers started"));
  return {
    workers,
    ready,
    async close() {
      await Promise.all(workers.map((w) => w.close()));
      connection.disconnect();
    }
  };
}
function availableQueues() {
  return QUEUE_NAMES.filter((n) => HANDLERS[n]);
}
function parseQueueArgs(args) {
  if (args.length === 0) return availableQueues();
  const bad = args.filter((a) => !isQueueName(a));
  if (bad.length) throw new Error(`unknown queue(s) ${bad.join(", ")}; expected some of: ${QUEUE_NAMES.join(", ")}`);
  return args;
}
function onShutdownSignal(stop, logger) {
  let stopping = false;
  const handle = (signal) => {
    if (stopping) {
      logger.warn({ signal }, "second signal: exiting now; active jobs will be recovered as stalled");
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, "draining: finishing active jobs");
    stop().then(
      () => process.exit(0),
      (err) => {
        logger.error({ err }, "error while shutting down");
        process.exit(1);
      }
    );
  };
  process.on("SIGTERM", () => handle("SIGTERM"));
  process.on("SIGINT", () => handle("SIGINT"));
}
async function main() {
  const names = parseQueueArgs(process.argv.slice(2));
  const config = loadConfig();
  const ctx = createContext(config);
  if (!config.REDIS_SKIP_POLICY_CHECK) await assertNoEviction(ctx.redis);
  await assertPiiKeys(ctx.database.db);
  const running = startWorkers(ctx, names);
  const stopPublishing = startMetricsPublisher(
    ctx.redis,
    ctx.ns,
    thisProcess(names.length === 1 ? names[0] : "worker"),
    (err) => ctx.logger.warn({ err }, "could not publish metrics"),
    config.METRICS_PUBLISH_INTERVAL_MS
  );
  onShutdownSignal(async () => {
    await running.close();
    await stopPublishing();
    await ctx.close();
  }, ctx.logger);
  await running.ready;
  await scheduleRepeatables(ctx, names);
}
export {
  availableQueues,
  main,
  onShutdownSignal,
  parseQueueArgs,
  scheduleRepeatables,
  startWorkers
};
//# sourceMappingURL=workers-AS3PQ3D6.js.map
