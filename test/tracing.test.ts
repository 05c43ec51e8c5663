/**
 * One booked call, traced with an in-memory exporter: a single trace runs from the webhook's
 * HTTP request through the webhooks job, the bookings job, the Cal.com POST and the
 * notification. Tracing starts before anything instrumented is imported (as the entry points
 * do), hence the dynamic imports.
 */
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-node';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTracing, type Tracing } from '../lib/tracing';

const exporter = new InMemorySpanExporter();
let tracing: Tracing;
let stopAll: () => Promise<void>;
let post: (body: string) => Promise<Response>;
let booked: (id: string) => Promise<boolean>;
let fixtures: typeof import('./helpers/fixtures');


beforeAll(async () => {
  tracing = (await startTracing({ serviceName: 'callbook-test', exporter }))!;
  const { startSimTestEnv, stopSimTestEnv } = await import('./helpers/calcom');
  const { listen } = await import('../apps/ingress/server');
  const { startWorkers } = await import('../workers');
  const { calls } = await import('../drizzle/schema');
  const { eq } = await import('drizzle-orm');
  fixtures = await import('./helpers/fixtures');
  const { sim, env } = await startSimTestEnv();
  const server = await listen(env.ctx, 0, '127.0.0.1');
  const workers = startWorkers(env.ctx, ['webhooks', 'bookings', 'notifications']);
  await workers.ready;
  post = async (body) => fetch(`http://127.0.0.1:${server.port}/webhooks/retell`, { method: 'POST', body, headers: await fixtures.signed(body) });
  booked = async (id) => {
    const [row] = await env.ctx.database.db.select().from(calls).where(eq(calls.retellCallId, id));
    return Boolean(row?.appointmentId);
  };
  stopAll = async () => {
    await workers.close();
    await server.close();
    await stopSimTestEnv({ sim, env });
  };
});
afterAll(async () => {
  await stopAll?.();
  await tracing?.shutdown();
});

function tree(spans: ReadableSpan[], root: ReadableSpan, depth = 0): string[] {
  const id = root.spanContext().spanId;
  const kids = spans.filter((s) => s.parentSpanContext?.spanId === id).sort((a, b) => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1]);
  return [`${'  '.repeat(depth)}${root.name}`, ...kids.flatMap((k) => tree(spans, k, depth + 1))];
}

it('traces one booked call from the webhook request to the notification', async () => {
  const { callId, retellEvent } = fixtures;
  const id = callId();
  const day = new Date(Date.now() + 7 * 86400_000);
  while ([0, 6].includes(day.getUTCDay())) day.setUTCDate(day.getUTCDate() + 1);
  const analysis = { booking_confirmed: 'ja', appointment_datetime: `${day.toISOString().slice(0, 10)}T10:00`, service: 'Haarschnitt' };
  const res = await post(JSON.stringify(retellEvent('call_analyzed', { callId: id, vars: analysis, analysis })));
  expect(res.status).toBe(202);
  for (let i = 0; i < 200 && !(await booked(id)); i++) await new Promise((r) => setTimeout(r, 50));
  expect(await booked(id)).toBe(true);
  await new Promise((r) => setTimeout(r, 1500)); // the notification job

  const spans = exporter.getFinishedSpans();
  const server = spans.find((s) => s.kind === 1 && String(s.attributes['url.path'] ?? s.attributes['http.target'] ?? '').startsWith('/webhooks/retell'));
  expect(server, spans.map((s) => s.name).join(', ')).toBeDefined();
  const trace = spans.filter((s) => s.spanContext().traceId === server!.spanContext().traceId);
  const lines = tree(trace, server!);
  // Each step below the one before it, in the one trace of the webhook's request.
  const below = (parent: ReadableSpan, what: string, match: (s: ReadableSpan) => boolean): ReadableSpan => {
    const kids = (p: ReadableSpan): ReadableSpan[] => trace.filter((s) => s.parentSpanContext?.spanId === p.spanContext().spanId);
    const queue = kids(parent);
    for (let s = queue.shift(); s; s = queue.shift()) {
      if (match(s)) return s;
      queue.push(...kids(s));
    }
    throw new Error(`no span "${what}" below "${parent.name}" in:\n${lines.join('\n')}`);
  };
  const named = (n: string) => (s: ReadableSpan) => s.name === n;
  const enqueued = below(server!, 'add webhooks.call_analyzed', named('add webhooks.call_analyzed'));
  const webhooksJob = below(enqueued, 'process webhooks', named('process webhooks'));
  expect(trace.some((s) => s.parentSpanContext?.spanId === webhooksJob.spanContext().spanId && Object.keys(s.attributes).some((k) => k.startsWith('db.')))).toBe(true);
  const bookingsJob = below(below(webhooksJob, 'add bookings.book', named('add bookings.book')), 'process bookings', named('process bookings'));
  const calcomPost = below(bookingsJob, 'Cal.com POST /bookings', (s) => s.kind === 2 && s.attributes['http.request.method'] === 'POST' && String(s.attributes['url.full']).includes('/bookings'));
  expect(calcomPost.attributes['http.response.status_code']).toBe(201);
  const notification = below(bookingsJob, 'process notifications', named('process notifications'));
  expect(notification.status.code).not.toBe(2); // not ERROR
});
