/**
 * The no-op ceiling of bench/e2e.ts: the same queues, job options, Worker options, concurrency
 * settings and job-timeout wrapper as `workers/index.ts`, with handlers that do nothing but pass
 * each call along the same path:
 *
 *   webhooks       call_analyzed → add a bookings job (deterministic id, a BookingJob-sized payload);
 *                  call_ended → nothing (the real worker waits for the analysis too)
 *   bookings       record the time in one Redis hash (the benchmark's probe, where the real worker
 *                  writes the booked appointment) → add a notifications job
 *   notifications, sync, default   return
 *
 * So it measures what BullMQ, Redis and the process layout cost on this machine, with callbook's
 * work taken out. Queue names on the command line as for workers/index.ts (none: all five).
 * The probe hash is `<REDIS_PREFIX>:bench:booked` (call id → epoch ms).
 */
import { createHash } from 'node:crypto';
import { Worker, type Job } from 'bullmq';
import { loadConfig } from '../../lib/config';
import { bullPrefix, concurrencyOf, createQueues, isQueueName, jobIds, QUEUE_NAMES, type BookingJob, type NotificationJob, type QueueName, type WebhookJob } from '../../lib/queues';
import { createRedis, keyNamespace } from '../../lib/redis';
import { withTimeout, type JobHandler } from '../../workers/run-job';

const args = process.argv.slice(2);
const bad = args.filter((a) => !isQueueName(a));
if (bad.length) throw new Error(`unknown queue(s) ${bad.join(', ')}`);
const names: QueueName[] = args.length ? (args as QueueName[]) : [...QUEUE_NAMES];

const config = loadConfig();
const client = createRedis(config.REDIS_URL, 'client');
const queues = createQueues(createRedis(config.REDIS_URL, 'producer'), config.REDIS_PREFIX);
const probeKey = `${keyNamespace(config.REDIS_PREFIX)}bench:booked`;

type BenchBookingJob = BookingJob & { benchCallId: string };

const handlers: Record<QueueName, JobHandler> = {
  webhooks: async (job: Job) => {
    const data = job.data as WebhookJob;
    if (data.event !== 'call_analyzed') return { status: 'processed', decision: 'wait' };
    const key = createHash('sha256').update(data.callId).digest('hex');
    const booking: BenchBookingJob = {
      companyId: 1,
      branchId: 1,
      customerId: 1,
      serviceId: 1,
      callId: 1,
      start: new Date().toISOString(),
      idempotencyKey: key,
      source: 'call',
      benchCallId: data.callId,
    };
    await queues.bookings.add('book', booking, { jobId: jobIds.booking(key) });
    return { status: 'processed', decision: 'book' };
  },
  bookings: async (job: Job) => {
    const data = job.data as BenchBookingJob;
    await client.hset(probeKey, data.benchCallId, Date.now());
    const note: NotificationJob = { kind: 'booking_confirmed', companyId: 1, appointmentId: 1 };
    await queues.notifications.add('booking_confirmed', note, { jobId: jobIds.notification('booking_confirmed', data.idempotencyKey.slice(0, 20)) });
    return { status: 'booked' };
  },
  notifications: async () => ({ status: 'sent' }),
  sync: async () => ({}),
  default: async () => ({}),
};

const connection = createRedis(config.REDIS_URL, 'worker');
const workers = names.map(
  (name) =>
    new Worker(name, withTimeout(name, handlers[name]), {
      connection,
      prefix: bullPrefix(config.REDIS_PREFIX),
      concurrency: concurrencyOf(config, name),
    }),
);
console.log('noop workers started'); // bench/e2e times start-up to this line
for (const w of workers) w.on('error', (err) => console.error(`noop worker ${w.name}: ${err.message}`));

const stop = async () => {
  await Promise.all(workers.map((w) => w.close()));
  await Promise.all(Object.values(queues).map((q) => q.close()));
  connection.disconnect();
  client.disconnect();
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());
