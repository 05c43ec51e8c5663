/**
 * Starts the workers named on the command line (`node dist/worker.js webhooks bookings`, entry
 * workers/main.ts), or
 * all of them with no argument. SIGTERM/SIGINT drain: no new jobs are taken, active ones
 * finish (BullMQ's close waits for them), then connections close. A process killed harder
 * leaves its active jobs to BullMQ's stalled-job check, which hands them to another worker.
 */
import { Worker, type Job } from 'bullmq';
import { loadConfig } from '../lib/config';
import { createContext, type AppContext } from '../lib/context';
import { bullPrefix, concurrencyOf, isQueueName, JOB_TIMEOUT_MS, QUEUE_NAMES, type QueueName } from '../lib/queues';
import { workerServing } from '../lib/metrics';
import { startMetricsPublisher, thisProcess } from '../lib/metrics/publish';
import { assertPiiKeys } from '../lib/pii';
import { onShutdownSignal, openDatabaseConnections, stopWhenPlainIndexClosed, whenReachable } from '../lib/startup';
import { assertNoEviction, createRedis, redisTarget } from '../lib/redis';
import { queueTelemetry } from '../lib/tracing';
import { HANDLERS } from './handlers';
import { withTimeout } from './run-job';
import { superviseWorker } from './supervise';

export interface RunningWorkers {
  /** The workers serving now (a wedged one is replaced: workers/supervise). */
  readonly workers: Worker[];
  /** Resolves once every queue's handler module is loaded (they load on demand: ./handlers). */
  ready: Promise<void>;
  close(): Promise<void>;
}

/** Repeatable jobs of the queues this process serves; idempotent across processes (BullMQ job schedulers). */
export async function scheduleRepeatables(ctx: AppContext, names: readonly QueueName[]): Promise<void> {
  if (names.includes('sync')) {
    const sync = await import('./sync');
    await sync.scheduleSync(ctx);
    await sync.scheduleReconcile(ctx);
  }
  if (names.includes('default')) await (await import('./default')).scheduleHousekeeping(ctx);
}

export function startWorkers(ctx: AppContext, names: readonly QueueName[]): RunningWorkers {
  const missing = names.filter((n) => !HANDLERS[n]);
  if (missing.length) throw new Error(`no worker for queue(s) ${missing.join(', ')} in this version; available: ${availableQueues().join(', ')}`);
  const connection = createRedis(redisTarget(ctx.config), 'worker');
  // A replacement worker gets its own connection (the wedge may be in the shared one), let go
  // of once that worker is closed or left behind.
  const fresh = new Map<Worker, typeof connection>();
  const loading: Array<Promise<unknown>> = [];
  const supervised = names.map((name) => {
    const loaded = HANDLERS[name]!().then((factory) => factory(ctx));
    loading.push(loaded);
    const log = ctx.logger.child({ queue: name });
    return superviseWorker({
      queue: ctx.queues[name],
      concurrency: concurrencyOf(ctx.config, name),
      wedgeMs: ctx.config.WORKER_WEDGE_MS,
      // Its handlers are done by then (withTimeout), within the grace period the README gives.
      abandonAfterMs: JOB_TIMEOUT_MS[name] + 5_000,
      logger: ctx.logger,
      process: withTimeout(name, async (job: Job, signal: AbortSignal) => (await loaded)(job, signal)),
      create(process, isFresh) {
        const conn = isFresh ? createRedis(redisTarget(ctx.config), 'worker') : connection;
        const worker = new Worker(name, process, {
          connection: conn,
          prefix: bullPrefix(ctx.config.REDIS_PREFIX),
          concurrency: concurrencyOf(ctx.config, name),
          // A killed worker's jobs return to the queue after the lock lapses and the next stalled check.
          lockDuration: ctx.config.WORKER_LOCK_MS,
          stalledInterval: ctx.config.WORKER_LOCK_MS,
          // Continues the trace of whoever added the job (lib/tracing); undefined when tracing is off.
          telemetry: queueTelemetry(),
        });
        worker.on('failed', (job, err) => log.warn({ jobId: job?.id, attempt: job?.attemptsMade, err: err.message }, 'job failed'));
        worker.on('error', (err) => log.error({ err }, 'worker error'));
        if (isFresh) fresh.set(worker, conn);
        return worker;
      },
      dispose(worker) {
        fresh.get(worker)?.disconnect();
        fresh.delete(worker);
      },
    });
  });
  for (const name of names) workerServing.set({ queue: name }, 1);
  const ready = Promise.all(loading).then(() => ctx.logger.info({ queues: names }, 'workers started'));
  return {
    get workers() {
      return supervised.map((s) => s.current);
    },
    ready,
    async close() {
      await Promise.all(supervised.map((s) => s.close()));
      for (const conn of [connection, ...fresh.values()]) conn.disconnect();
    },
  };
}

/** The most database connections this process's jobs use at once: one per job in flight, up to DB_POOL_SIZE. */
export function connectionsAtOnce(config: Parameters<typeof concurrencyOf>[0] & { DB_POOL_SIZE: number }, names: readonly QueueName[]): number {
  return Math.min(config.DB_POOL_SIZE, names.reduce((n, name) => n + concurrencyOf(config, name), 0));
}

/** Queues that have a handler, in the design's order. */
export function availableQueues(): QueueName[] {
  return QUEUE_NAMES.filter((n) => HANDLERS[n]);
}

export function parseQueueArgs(args: string[]): QueueName[] {
  if (args.length === 0) return availableQueues();
  const bad = args.filter((a) => !isQueueName(a));
  if (bad.length) throw new Error(`unknown queue(s) ${bad.join(', ')}; expected some of: ${QUEUE_NAMES.join(', ')}`);
  return args as QueueName[];
}

export async function main(): Promise<void> {
  const names = parseQueueArgs(process.argv.slice(2));
  const config = loadConfig();
  const ctx = createContext(config);
  const logger = ctx.logger;
  if (!config.REDIS_SKIP_POLICY_CHECK) await whenReachable(() => assertNoEviction(ctx.redis), { logger, what: 'Redis eviction policy' });
  // A company that encrypts personal data needs BLIND_INDEX_KEY: stop here, naming it.
  await whenReachable(() => assertPiiKeys(ctx.database.db), { logger, what: 'personal-data keys' });
  await openDatabaseConnections(ctx, connectionsAtOnce(config, names));
  const running = startWorkers(ctx, names);
  // No HTTP listener here: metrics go to Redis and the web process serves them (lib/metrics).
  const stopPublishing = startMetricsPublisher(
    ctx.redis,
    ctx.ns,
    thisProcess(names.length === 1 ? names[0]! : 'worker'),
    (err) => ctx.logger.warn({ err }, 'could not publish metrics'),
    config.METRICS_PUBLISH_INTERVAL_MS,
  );
  // Before anything else is awaited: a job may already be running.
  const drain = onShutdownSignal(async () => {
    await running.close();
    await stopPublishing();
    await ctx.close();
  }, ctx.logger);
  stopWhenPlainIndexClosed(ctx, drain);
  await running.ready;
  await scheduleRepeatables(ctx, names);
}

