/**
 * Ceiling 1 of bench/ingress.ts: the same Hono app on the same @hono/node-server, one POST route
 * that reads the body and answers 204. Nothing callbook does, only what any Hono webhook
 * endpoint must do. Prints `listening on <port>`; PORT (0 = any), HOST (127.0.0.1).
 *
 * The CPU ceiling of bench/live.ts: `POST /functions/retell/:name` reads and parses the body and
 * answers a small JSON, what any Hono endpoint answering a function call must do at least.
 */
import { serve } from '@hono/node-server';
import { Hono } from 'hono';

const app = new Hono();
app.post('/webhooks/retell', async (c) => {
  await c.req.arrayBuffer();
  return c.body(null, 204);
});
app.post('/functions/retell/:name', async (c) => {
  const body = JSON.parse(await c.req.text()) as { name?: string };
  return c.json({ status: 'ok', name: body.name ?? c.req.param('name') });
});

const server = serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 0), hostname: process.env.HOST ?? '127.0.0.1' }, (info) => {
  console.log(`listening on ${info.port}`);
});
process.once('SIGTERM', () => server.close(() => process.exit(0)));
