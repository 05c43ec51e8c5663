/**
 * Ceiling 2 of bench/ingress.ts: Hono + `queue.add`, no verification. The same server, the same
 * `webhooks` queue (lib/queues: name, `{prefix}` hash-tag prefix, default job options with their
 * retention), the same producer connection options (lib/redis) and the same deterministic job id
 * (`retell-<call_id>-<event>`, which needs the body parsed). What it leaves out is what the
 * real ingress adds: the per-source rate limit (a Redis round trip), the HMAC signature check,
 * the zod schema, and sealing the body with AES-256-GCM (the job carries the raw text instead).
 * Prints `listening on <port>`; needs REDIS_URL and REDIS_PREFIX.
 */
import { Queue } from 'bullmq';
import { Hono } from 'hono';
import { bullPrefix, DEFAULT_JOB_OPTIONS, jobIds } from '../../lib/queues';
import { createRedis } from '../../lib/redis';
import { serveCeiling } from './serve';

const connection = createRedis(process.env.REDIS_URL!, 'producer');
const queue = new Queue('webhooks', { connection, prefix: bullPrefix(process.env.REDIS_PREFIX!), defaultJobOptions: DEFAULT_JOB_OPTIONS.webhooks });

const app = new Hono();
app.post('/webhooks/retell', async (c) => {
  const text = await c.req.text();
  const { event, call } = JSON.parse(text) as { event: string; call: { call_id: string } };
  const jobId = jobIds.retellWebhook(call.call_id, event);
  await queue.add(event, { provider: 'retell', event, callId: call.call_id, receivedAt: Date.now(), body: text }, { jobId });
  return c.json({ status: 'accepted', jobId }, 202);
});

serveCeiling(app, async () => {
  await queue.close();
  connection.disconnect();
});
