/**
 * What counts as "Redis out of reach for now" (answered 503 by the ingress, retried by workers):
 * the errors ioredis and Redis give during a restart or a cluster failover, found through causes;
 * a real error (wrong type, a script bug) does not count.
 */
import { describe, expect, it } from 'vitest';
import { isRedisUnavailable } from './index';

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
