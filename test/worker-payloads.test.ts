/**
 * Every queue's worker turns a payload that fails its schema into an unrecoverable failure the
 * same way (workers/payload.ts): failed after one attempt, no retry, a reason naming the field.
 * Real BullMQ workers for all five queues, real Redis and MariaDB.
 */
import type { Job } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ID_PAYLOAD_MAX_BYTES, QUEUE_NAMES, STACK_TRACES_KEPT, type QueueName } from '../lib/queues';
import { startWorkers, type RunningWorkers } from '../workers';
import { createTestEnv, type TestEnv } from './helpers/env';

let env: TestEnv;
let workers: RunningWorkers;

beforeAll(async () => {
  env = await createTestEnv();
  workers = startWorkers(env.ctx, QUEUE_NAMES);
});
afterAll(async () => {
  await workers.close();
  await env.cleanup();
});

async function settled(queue: QueueName, jobId: string): Promise<Job> {
  for (let i = 0; i < 400; i++) {
    const state = await env.ctx.queues[queue].getJobState(jobId);
    // Read the job after it settled: a job read earlier holds the fields of that moment.
    if (state === 'completed' || state === 'failed') return (await env.ctx.queues[queue].getJob(jobId))!;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`job ${jobId} on ${queue} did not settle`);
}

/** One malformed payload per queue, and the field its reason must name. */
const MALFORMED: Record<QueueName, { data: Record<string, unknown>; field: string }> = {
  webhooks: { data: { provider: 'retell', event: 'call_ended', callId: 'call_x', receivedAt: 'yesterday', sealedBody: 'v1:x' }, field: 'receivedAt' },
  bookings: {
    data: { companyId: 1, branchId: 1, customerId: 1, serviceId: 1, start: 'next Tuesday', idempotencyKey: 'a'.repeat(64), source: 'call' },
    field: 'start',
  },
  sync: { data: { kind: 'everything' }, field: 'kind' },
  notifications: { data: { kind: 'booking_confirmed', companyId: 1, appointmentId: -3 }, field: 'appointmentId' },
  default: { data: { kind: 'gdpr_erase', companyId: 1, customerId: 2, requestedBy: 'cli:test' }, field: 'cancelBookings' },
};

describe('a payload that fails its queue schema', () => {
  for (const queue of QUEUE_NAMES) {
    it(`${queue}: fails once, unrecoverable, naming the field`, async () => {
      const { data, field } = MALFORMED[queue];
      const jobId = `malformed-${queue}`;
      // Three attempts allowed: the failure must not use the other two.
      await env.ctx.queues[queue].add('malformed', data, { jobId, attempts: 3, backoff: { type: 'fixed', delay: 10 } });
      const job = await settled(queue, jobId);
      expect(await job.getState()).toBe('failed');
      expect(job.attemptsMade).toBe(1);
      expect(job.failedReason).toMatch(new RegExp(`^invalid ${queue} job payload: .*\\b${field}: `));
      expect(job.stacktrace).toHaveLength(1);
    });
  }
});

describe('the webhook body sealed inside a webhooks job', () => {
  async function failsNaming(jobId: string, sealedBody: string, reason: RegExp) {
    const data = { provider: 'retell', event: 'call_ended', callId: jobId, receivedAt: Date.now(), sealedBody };
    await env.ctx.queues.webhooks.add('call_ended', data, { jobId, attempts: 3, backoff: { type: 'fixed', delay: 10 } });
    const job = await settled('webhooks', jobId);
    expect(await job.getState()).toBe('failed');
    expect(job.attemptsMade).toBe(1);
    expect(job.failedReason).toMatch(reason);
  }

  it('that no longer matches the webhook schema fails once, naming the field inside it', async () => {
    const body = JSON.stringify({ event: 'call_ended', call: { call_id: 'call_body', from_number: 17, to_number: '+4930111111' } });
    await failsNaming('body-schema', env.ctx.cipher.encrypt(body), /^invalid webhooks job payload: .*\bsealedBody\.call\.from_number: /);
  });

  it('that cannot be opened fails once, saying so', async () => {
    await failsNaming('body-sealed', 'v1:nokey:AAAA:BBBB:CCCC', /^invalid webhooks job payload: sealedBody: cannot be opened/);
  });
});

describe('failed jobs keep a bounded size', () => {
  it('an id-only queue refuses a payload over its size limit before it reaches Redis', async () => {
    const big = { kind: 'breaker_opened', service: 'calcom', note: 'x'.repeat(ID_PAYLOAD_MAX_BYTES) };
    await expect(env.ctx.queues.notifications.add('too-big', big, { jobId: 'too-big' })).rejects.toThrow(/exceeds the limit/);
    expect(await env.ctx.queues.notifications.getJob('too-big')).toBeUndefined();
  });

  it('every queue keeps the stacks of its last few attempts only', () => {
    for (const queue of QUEUE_NAMES) expect(env.ctx.queues[queue].defaultJobOptions.stackTraceLimit).toBe(STACK_TRACES_KEPT);
  });
});
