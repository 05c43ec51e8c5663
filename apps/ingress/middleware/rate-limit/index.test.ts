import { Hono } from 'hono';
import { afterAll, describe, expect, it } from 'vitest';
import { createRedis } from '../../../../lib/redis';
import { ApiError } from '../../errors';
import { AuthFailureLimit } from './index';

// Nothing listens on port 1: every command fails at once, as during a Redis restart.
const dead = createRedis('redis://127.0.0.1:1', 'producer');
dead.on('error', () => {}); // the refused connection is the point
afterAll(() => dead.disconnect());

describe('AuthFailureLimit while Redis is away', () => {
  it('still refuses with the 401 it was given (counting is best effort), never a 503', async () => {
    const limit = new AuthFailureLimit(dead, 'rl-test:', 60);
    const app = new Hono().get('/', async (c) => {
      const answer = await limit.failed(c, '203.0.113.1', new ApiError(401, 'invalid_signature', 'signature does not match the body'));
      return c.json({ status: answer.status, code: answer.code });
    });
    expect(await (await app.request('/')).json()).toEqual({ status: 401, code: 'invalid_signature' });
    expect(await limit.isOver('203.0.113.1')).toBe(false);
  });
});
