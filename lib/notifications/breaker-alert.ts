/**
 * Turns a circuit breaker opening into one `breaker_opened` notification job. It runs inside the
 * breaker's state transition (a synchronous callback in the middle of a booking), so it never
 * throws and never waits: the enqueue is fire-and-forget and its errors are logged.
 *
 * Only CLOSED → OPEN alerts. While a service stays down, every failed probe re-opens the breaker
 * (HALF_OPEN → OPEN) once a minute; alerting on those would mail operators every minute of an
 * outage. The transition is performed by exactly one process (one Lua script in Redis), and the
 * job id is per service and minute, so one opening is one job.
 */
import type { Queue } from 'bullmq';
import type { Logger } from 'pino';
import { jobIds, type NotificationJob } from '../queues';
import type { BreakerState } from '../resilience/breaker';

/** The notification ref (and job-id part) of a breaker opening: `<service>-<epoch minute>`. */
export function breakerAlertRef(service: string, at: number): string {
  return `${service}-${Math.floor(at / 60_000)}`;
}

export function breakerOpenedAlert(queue: Pick<Queue, 'add'>, logger: Pick<Logger, 'warn' | 'error'>) {
  return (service: string, from: BreakerState, to: BreakerState): void => {
    if (to !== 'OPEN' || from !== 'CLOSED') return;
    try {
      const at = Date.now();
      const job: NotificationJob = { kind: 'breaker_opened', service, at };
      queue
        .add('breaker_opened', job, { jobId: jobIds.notification('breaker_opened', breakerAlertRef(service, at)) })
        .catch((err: unknown) => logger.error({ err, service }, 'could not queue the breaker_opened notification'));
    } catch (err) {
      logger.error({ err, service }, 'could not queue the breaker_opened notification');
    }
  };
}
