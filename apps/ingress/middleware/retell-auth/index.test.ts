/**
 * What a Retell body costs before anything vouches for it: the route's parse (JSON, then the
 * zod parse of lib/retell/body) runs only for a platform-signed body, or — to find the company
 * whose own key may have signed it — for a body the platform key did not sign, when any company
 * has a key of its own. A missing, malformed or stale signature is refused unread.
 */
import { randomBytes } from 'node:crypto';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import pino from 'pino';
import Retell from 'retell-sdk';
import { Agent, request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { createRedis, deletePrefixed } from '../../../../lib/redis';
import type { BodyVerdict } from '../../../../lib/retell/body';
import { errorResponse } from '../../errors';
import { AuthFailureLimit, CompanyBudget } from '../rate-limit';
import { retellAuth } from './index';

const redis = createRedis('redis://127.0.0.1:6379', 'client');
afterAll(() => redis.disconnect());
const PLATFORM = 'key_platform_test';
const OWN = 'key_company_own_test';
const NUMBER = '+4930111222';

function harness(failuresPerMinute: number, companyKeys = true) {
  const ns = `retell-auth-test-${randomBytes(4).toString('hex')}`;
  const prefix = `${ns}:`;
  let parses = 0;
  const parse = (json: unknown): BodyVerdict<unknown> => {
    parses++;
    return { ok: true, value: json, businessNumber: NUMBER } as BodyVerdict<unknown>;
  };
  const app = new Hono();
  app.onError((err, c) => errorResponse(c, err, pino({ level: 'silent' })));
  app.post(
    '/r',
    retellAuth({
      apiKey: PLATFORM,
      parse,
      // The key lookup answers as if company 7 had OWN either way: only ownKeysExist says whether it is asked.
      companyKey: async (n) => (n === NUMBER ? { companyId: 7, key: OWN } : null),
      ownKeysExist: async () => companyKeys,
      companyOf: async () => 7,
      failures: new AuthFailureLimit(redis, prefix, failuresPerMinute),
      budget: new CompanyBudget(redis, prefix, 1_000_000),
      clientKey: () => '203.0.113.9',
      logger: pino({ level: 'silent' }),
    }),
    (c) => c.json({ signer: c.var.retell.signer }),
  );
  const post = async (body: string, signature?: string) => {
    const res = await app.request('/r', { method: 'POST', body, headers: { 'content-type': 'application/json', ...(signature ? { 'x-retell-signature': signature } : {}) } });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };
  return { app, post, parses: () => parses, cleanup: () => deletePrefixed(redis, ns) };
}

describe('retellAuth parses a body only once something may vouch for it', () => {
  it('platform-signed: parsed once; own-key-signed: parsed once, to find the company', async () => {
    const h = harness(5);
    const body = JSON.stringify({ call: { to_number: NUMBER }, pad: 'x'.repeat(1000) });
    expect(await h.post(body, await Retell.sign(body, PLATFORM))).toEqual({ status: 200, json: { signer: { kind: 'platform' } } });
    expect(h.parses()).toBe(1);
    expect(await h.post(body, await Retell.sign(body, OWN))).toEqual({ status: 200, json: { signer: { kind: 'company', companyId: 7 } } });
    expect(h.parses()).toBe(2);
    await h.cleanup();
  });

  it('a missing, malformed or stale signature is refused (401) unread', async () => {
    const h = harness(100);
    const body = JSON.stringify({ call: { to_number: NUMBER } });
    expect((await h.post(body)).status).toBe(401);
    expect((await h.post(body, 'nonsense')).status).toBe(401);
    const stale = `v=${Date.now() - 10 * 60_000},d=${'0'.repeat(64)}`;
    expect((await h.post(body, stale)).status).toBe(401);
    expect(h.parses()).toBe(0);
    await h.cleanup();
  });

  it('a wrong signature is parsed (its number may name a company key), also past the source\'s failure limit (tenants share Retell\'s addresses)', async () => {
    const h = harness(3);
    const body = JSON.stringify({ call: { to_number: NUMBER } });
    const wrong = await Retell.sign(body, 'key_someone_else');
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await h.post(body, wrong)).status);
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
    expect(h.parses()).toBe(5);
    expect((await h.post(body, await Retell.sign(body, OWN))).status).toBe(200);
    await h.cleanup();
  });

  it('with no company key anywhere, a wrong signature is refused (401) unread; a platform-signed body still passes', async () => {
    const h = harness(100, false);
    const body = JSON.stringify({ call: { to_number: NUMBER }, pad: 'x'.repeat(1000) });
    expect((await h.post(body, await Retell.sign(body, 'key_someone_else'))).status).toBe(401);
    expect((await h.post(body, await Retell.sign(body, OWN))).status).toBe(401);
    expect(h.parses()).toBe(0);
    expect(await h.post(body, await Retell.sign(body, PLATFORM))).toEqual({ status: 200, json: { signer: { kind: 'platform' } } });
    expect(h.parses()).toBe(1);
    await h.cleanup();
  });

  it('a refusal before the body is read leaves the keep-alive connection usable (over a real socket)', async () => {
    const h = harness(100);
    const server = serve({ fetch: h.app.fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise((r) => server.once('listening', r));
    const { port } = server.address() as { port: number };
    let connections = 0;
    server.on('connection', () => connections++);
    const agent = new Agent({ connections: 1 });
    const big = JSON.stringify({ call: { to_number: NUMBER }, pad: 'x'.repeat(600 * 1024) });
    const send = async (signature?: string) => {
      const res = await request(`http://127.0.0.1:${port}/r`, { method: 'POST', body: big, dispatcher: agent, headers: { 'content-type': 'application/json', ...(signature ? { 'x-retell-signature': signature } : {}) } });
      await res.body.dump();
      return res.statusCode;
    };
    try {
      expect(await send()).toBe(401);
      expect(await send(`v=${Date.now() - 10 * 60_000},d=${'0'.repeat(64)}`)).toBe(401);
      expect(await send(await Retell.sign(big, PLATFORM))).toBe(200);
      expect(h.parses()).toBe(1);
      expect(connections).toBe(1);
    } finally {
      await agent.close();
      await new Promise((r) => server.close(r));
      await h.cleanup();
    }
  });
});
