/**
 * What counts as "Redis out of reach for now" (answered 503 by the ingress, retried by workers):
 * the errors ioredis and Redis give during a restart or a cluster failover, found through causes;
 * a real error (wrong type, a script bug) does not count.
 */
import { describe, expect, it } from 'vitest';
import { createRedis, isRedisUnavailable, LOADING_RECHECK_MS } from './index';

const replyError = (message: string) => Object.assign(new Error(message), { name: 'ReplyError' });

describe('isRedisUnavailable', () => {
  it.each([
    'Connection is closed.',
    'CLUSTERDOWN The cluster is down',
    'EXECABORT Transaction discarded because of previous errors.',
    'LOADING Redis is loading the dataset in memory',
    // ioredis after following MOVED / CLUSTERDOWN too often while a master restarts (the chaos run on a cluster).
    'Too many Cluster redirections. Last error: ReplyError: CLUSTERDOWN The cluster is down',
    'Too many Cluster redirections. Last error: ReplyError: MOVED 2438 127.0.0.1:43221',
  ])('%s: unavailable', (message) => {
    expect(isRedisUnavailable(replyError(message))).toBe(true);
    expect(isRedisUnavailable(new Error('budget check failed', { cause: replyError(message) }))).toBe(true);
  });

  it.each(['WRONGTYPE Operation against a key holding the wrong kind of value', 'ERR Error running script: attempt to compare nil with number'])('%s: a real error', (message) => {
    expect(isRedisUnavailable(replyError(message))).toBe(false);
  });
});

describe('connections to a Redis that is still loading after a restart', () => {
  it('the ingress and client connections ask again within 250 ms instead of waiting Redis\'s estimate (up to 10 s)', () => {
    for (const role of ['producer', 'client'] as const) {
      const r = createRedis('redis://127.0.0.1:6379', role, { lazyConnect: true });
      expect(r.options.maxLoadingRetryTime, role).toBe(LOADING_RECHECK_MS);
      expect(r.options.enableReadyCheck, role).toBe(true);
      r.disconnect();
    }
    expect(LOADING_RECHECK_MS).toBeLessThanOrEqual(250);
    // Workers make no ready check: they are back as soon as Redis answers.
    const w = createRedis('redis://127.0.0.1:6379', 'worker', { lazyConnect: true });
    expect(w.options.enableReadyCheck).toBe(false);
    w.disconnect();
  });
});
