import { gunzipSync } from 'node:zlib';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../apps/ingress/app';
import { ingressDeps } from '../apps/ingress/deps';
import { ingressGuards } from '../apps/ingress/guards';
import { createRedis } from '../lib/redis';
import { webhookJobSchema } from '../lib/queues';
import { importTenants } from '../lib/tenants/import';
import { cacheKeys, TieredCache } from '../lib/cache';
import { ownRetellKeysExist } from '../lib/retell/company-key';
import { createTestEnv, type TestEnv } from './helpers/env';
import { callId, retellEvent, signed, twoCompanies } from './helpers/fixtures';
import { realtimeTranscript } from './helpers/transcript';
import Retell from 'retell-sdk';

let env: TestEnv;
let app: ReturnType<typeof createApp>;

beforeAll(async () => {
  env = await createTestEnv({});
  app = createApp(ingressDeps(env.ctx));
});
afterAll(() => env.cleanup());

async function post(body: string, headers: Record<string, string>, path = '/webhooks/retell') {
  return app.request(path, { method: 'POST', body, headers });
}

describe('POST /webhooks/retell', () => {
  it('accepts a signed webhook with 202 only once the job is in Redis, with a deterministic id', async () => {
    const id = callId();
    const body = JSON.stringify(retellEvent('call_ended', { callId: id }));
    const res = await post(body, await signed(body));
    expect(res.status).toBe(202);
    const json = (await res.json()) as { jobId: string };
    expect(json.jobId).toBe(`retell-${id}-call_ended`);
    const job = await env.ctx.queues.webhooks.getJob(json.jobId);
    expect(job).toBeDefined();
    const data = webhookJobSchema.parse(job!.data);
    // The payload in Redis is sealed: no phone number or transcript in clear text.
    expect(JSON.stringify(job!.data)).not.toContain('+4917012345678');
    expect(JSON.parse(env.ctx.cipher.decrypt(data.sealedBody))).toEqual(JSON.parse(body));
  });

  it("keeps in the job only the call's fields the worker reads: not the words with their timings, not Retell's other fields", async () => {
    const id = callId();
    const event = retellEvent('call_analyzed', { callId: id });
    const call: Record<string, unknown> = { ...(event.call as Record<string, unknown>), ...realtimeTranscript(10), call_cost: { combined_cost: 12 }, latency: { e2e: { p50: 800 } }, public_log_url: 'https://example.test/log' };
    const body = JSON.stringify({ event: 'call_analyzed', call });
    expect(Buffer.byteLength(body)).toBeGreaterThan(150 * 1024);
    const res = await post(body, await signed(body));
    expect(res.status).toBe(202);
    const job = await env.ctx.queues.webhooks.getJob(((await res.json()) as { jobId: string }).jobId);
    const sealed = JSON.parse(env.ctx.cipher.decrypt(webhookJobSchema.parse(job!.data).sealedBody)) as { event: string; call: Record<string, unknown> };
    expect(Object.keys(sealed.call).sort()).toEqual(
      ['agent_id', 'call_analysis', 'call_id', 'call_status', 'call_type', 'direction', 'disconnection_reason', 'duration_ms', 'end_timestamp', 'from_number', 'start_timestamp', 'to_number', 'transcript'],
    );
    expect(sealed).toMatchObject({ event: 'call_analyzed', call: { call_id: id, transcript: call.transcript, call_analysis: { user_sentiment: 'Positive' } } });
    // What Redis holds for the job: the 10-minute transcript once, sealed (about 13 KB), not 170 KB.
    expect(Buffer.byteLength(JSON.stringify(job!.data))).toBeLessThan(25 * 1024);
  });

  it('serves the alias path the same way', async () => {
    const body = JSON.stringify(retellEvent('call_started', { callId: callId() }));
    expect((await post(body, await signed(body), '/api/mcp/retell/webhook')).status).toBe(202);
  });

  it('takes a re-delivery (sequential or concurrent) with 2xx and keeps one job', async () => {
    const id = callId();
    const body = JSON.stringify(retellEvent('call_analyzed', { callId: id }));
    const statuses = await Promise.all(Array.from({ length: 8 }, async () => (await post(body, await signed(body))).status));
    expect(statuses.every((s) => s === 202)).toBe(true);
    expect((await post(body, await signed(body))).status).toBe(202);
    const jobs = await env.ctx.queues.webhooks.getJobs(['waiting', 'delayed', 'active', 'completed']);
    expect(jobs.filter((j) => j.data.callId === id)).toHaveLength(1);
  });

  it('refuses a tampered body, a wrong key, a stale timestamp and a missing header with 401', async () => {
    const body = JSON.stringify(retellEvent('call_ended', { callId: callId() }));
    const good = await signed(body);
    const cases = [
      { body: body.replace('Hallo', 'Hullo'), headers: good },
      { body, headers: await signed(body, 'some-other-key') },
      { body, headers: { 'content-type': 'application/json', 'x-retell-signature': good['x-retell-signature']!.replace(/v=\d+/, `v=${Date.now() - 6 * 60_000}`) } },
      { body, headers: { 'content-type': 'application/json' } },
    ];
    for (const c of cases) {
      const res = await post(c.body, c.headers);
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('invalid_signature');
    }
    const count = await env.ctx.queues.webhooks.getJobCountByTypes('waiting', 'delayed', 'active', 'completed', 'failed');
    const ids = (await env.ctx.queues.webhooks.getJobs(['waiting'])).map((j) => j.data.callId);
    expect(ids).not.toContain(JSON.parse(body).call.call_id);
    expect(count).toBeGreaterThan(0);
  });

  it('accepts a body signed with the company key of the dialled number, from the moment tenants import sets it', async () => {
    const body = JSON.stringify(retellEvent('call_ended', { callId: callId(), to: '+4940222222' }));
    // No company has a key of its own yet: refused (unparsed), and "none" is now cached — in this
    // process only: Redis never holds it (a stale "none" there would refuse a new key everywhere).
    expect((await post(body, await signed(body, 'key_company_clinic_own'))).status).toBe(401);
    expect(await env.ctx.redis.get(env.ctx.ns + cacheKeys.retellOwnKeysExist())).toBeNull();
    const file = twoCompanies();
    file.companies[1]!.retellApiKey = 'key_company_clinic_own';
    await importTenants({ db: env.ctx.database.db, cipher: env.ctx.cipher, cache: env.ctx.cache }, file, 'test');
    expect((await post(body, await signed(body, 'key_company_clinic_own'))).status).toBe(202);
    // ...but that key does not open another company's number.
    const other = JSON.stringify(retellEvent('call_ended', { callId: callId(), to: '+4930111111' }));
    expect((await post(other, await signed(other, 'key_company_clinic_own'))).status).toBe(401);
  });

  it('answers 400 for malformed JSON and 422 with the failing path for a schema mismatch', async () => {
    const bad = '{"event": "call_ended", "call": {';
    const r1 = await post(bad, await signed(bad));
    expect(r1.status).toBe(400);
    expect(((await r1.json()) as { error: { code: string } }).error.code).toBe('malformed_json');

    const wrong = JSON.stringify({ event: 'call_ended', call: { call_id: 'x1', to_number: 'not-a-number' } });
    const r2 = await post(wrong, await signed(wrong));
    expect(r2.status).toBe(422);
    const j2 = (await r2.json()) as { error: { issues: Array<{ path: string }> } };
    expect(j2.error.issues.map((i) => i.path)).toContain('call.to_number');

    const noCall = JSON.stringify({ event: 'call_ended' });
    const r3 = await post(noCall, await signed(noCall));
    expect(r3.status).toBe(422);
  });

  it('acknowledges events it does not handle without enqueuing', async () => {
    const id = callId();
    const body = JSON.stringify(retellEvent('transcript_updated', { callId: id }));
    const res = await post(body, await signed(body));
    expect(res.status).toBe(200);
    expect(await env.ctx.queues.webhooks.getJob(`retell-${id}-transcript_updated`)).toBeUndefined();
  });

  it('answers 413 for a body over the limit', async () => {
    const big = JSON.stringify({ event: 'call_ended', call: { call_id: 'big', transcript: 'x'.repeat(env.ctx.config.WEBHOOK_MAX_BODY_BYTES + 10) } });
    const res = await post(big, await signed(big));
    expect(res.status).toBe(413);
  });

  it('with Redis out of reach, whether any company has its own key reads as "yes" (the path that answered before the question)', async () => {
    const dead = createRedis('redis://127.0.0.1:1', 'producer');
    dead.on('error', () => {});
    const deps = { db: env.ctx.database.db, cipher: env.ctx.cipher, cache: new TieredCache(dead, `${env.ctx.ns}dead:`) };
    expect(await ownRetellKeysExist(deps)).toBe(true);
    dead.disconnect();
  });

  it('answers 503 when Redis is unreachable', async () => {
    const dead = createRedis('redis://127.0.0.1:1', 'producer');
    const queue = new Queue('webhooks', { connection: dead });
    queue.on('error', () => {}); // the refused connection is the point of this test
    const deadApp = createApp({ ...ingressDeps(env.ctx), webhooksQueue: queue, enqueueTimeoutMs: 1000 });
    const body = JSON.stringify(retellEvent('call_ended', { callId: callId() }));
    const res = await deadApp.request('/webhooks/retell', { method: 'POST', body, headers: await signed(body) });
    expect(res.status).toBe(503);
    await queue.close().catch(() => {});
    dead.disconnect();
  });

  it('refuses sources outside WEBHOOK_IP_ALLOWLIST', async () => {
    const allow = createApp({ ...ingressDeps(env.ctx), ipAllowlist: ['100.20.5.228'], guards: ingressGuards({ ...env.ctx, config: { ...env.ctx.config, TRUST_PROXY: 1 } }) });
    const body = JSON.stringify(retellEvent('call_started', { callId: callId() }));
    const h = await signed(body);
    expect((await allow.request('/webhooks/retell', { method: 'POST', body, headers: { ...h, 'x-forwarded-for': '10.0.0.9' } })).status).toBe(403);
    expect((await allow.request('/webhooks/retell', { method: 'POST', body, headers: { ...h, 'x-forwarded-for': '100.20.5.228' } })).status).toBe(202);
  });
});

describe('health', () => {
  it('/healthz and /readyz answer', async () => {
    expect((await app.request('/healthz')).status).toBe(200);
    const ready = await app.request('/readyz');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ checks: { redis: true, db: true } });
  });
  it('retell-sdk signatures are what the SDK says they are', async () => {
    expect(await Retell.verify('{}', 'k', await Retell.sign('{}', 'k'))).toBe(true);
  });
});

describe('compression', () => {
  it('compresses large JSON answers when accepted, never webhook acknowledgements', async () => {
    const big = { items: Array.from({ length: 200 }, (_, i) => ({ i, text: 'free slot at 11:30' })) };
    const withRoutes = createApp({
      ...ingressDeps(env.ctx),
      routes: [(a) => a.get('/big', (c) => c.json(big)), (a) => a.get('/webhooks/big', (c) => c.json(big))],
    });
    const gz = await withRoutes.request('/big', { headers: { 'accept-encoding': 'gzip' } });
    expect(gz.headers.get('content-encoding')).toBe('gzip');
    expect(JSON.parse(gunzipSync(Buffer.from(await gz.arrayBuffer())).toString())).toEqual(big);
    expect((await withRoutes.request('/big', { headers: { 'accept-encoding': 'br' } })).headers.get('content-encoding')).toBe('br');
    expect((await withRoutes.request('/big')).headers.get('content-encoding')).toBeNull();
    const hook = await withRoutes.request('/webhooks/big', { headers: { 'accept-encoding': 'gzip, br' } });
    expect(hook.headers.get('content-encoding')).toBeNull();
    expect(await hook.json()).toEqual(big);
  });
});
