/**
 * Per-queue job counts (waiting, active, delayed, failed, completed), read from Redis when
 * Prometheus scrapes. Registered only by web processes (one series per web process: chart them with max).
 */
import { Gauge } from 'prom-client';
import type { Queue } from 'bullmq';
import { registry } from './index';

const STATES = ['waiting', 'active', 'delayed', 'failed', 'completed'] as const;

export function registerQueueGauges(queues: Queue[]): void {
  if (registry.getSingleMetric('callbook_queue_jobs')) registry.removeSingleMetric('callbook_queue_jobs');
  new Gauge({
    name: 'callbook_queue_jobs',
    help: 'Jobs per queue and state',
    labelNames: ['queue', 'state'] as const,
    registers: [registry],
    async collect() {
      const counts = await Promise.all(queues.map((q) => q.getJobCounts(...STATES)));
      queues.forEach((q, i) => {
        for (const state of STATES) this.set({ queue: q.name, state }, counts[i]![state] ?? 0);
      });
    },
  });
}
