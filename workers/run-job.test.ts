import type { Job } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { JobTimeoutError, withTimeout } from './run-job';

const job = { id: 'j1' } as Job;

describe('withTimeout', () => {
  it('fails a job that runs past its timeout and aborts its signal', async () => {
    let aborted = false;
    const wrapped = withTimeout('webhooks', async (_job, signal) => {
      signal.addEventListener('abort', () => (aborted = true));
      await new Promise((r) => setTimeout(r, 500));
      return 'late';
    }, 50);
    await expect(wrapped(job)).rejects.toBeInstanceOf(JobTimeoutError);
    expect(aborted).toBe(true);
  });

  it('returns what a job in time returns, and passes its errors on', async () => {
    expect(await withTimeout('bookings', async () => 42, 1000)(job)).toBe(42);
    await expect(withTimeout('bookings', async () => Promise.reject(new Error('boom')), 1000)(job)).rejects.toThrow('boom');
  });

  it('uses the design timeouts per queue by default', async () => {
    const { JOB_TIMEOUT_MS } = await import('../lib/queues');
    expect(JOB_TIMEOUT_MS).toEqual({ webhooks: 60_000, bookings: 120_000, sync: 300_000, notifications: 60_000, default: 180_000 });
  });
});
