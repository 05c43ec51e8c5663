/**
 * Ceiling 1 of bench/ingress.ts: the same Hono app on the same @hono/node-server, one POST route
 * that reads the body and answers 204. Nothing callbook does, only what any Hono webhook
 * endpoint must do. Prints `listening on <port>`; PORT (0 = any), HOST (127.0.0.1).
 */
import { serve } from '@hono/node-server';
import { Hono } from 'hono';

const app = new Hono();
app.post('/webhooks/retell', async (c) => {
  await c.req.arrayBuffer();
  return c.body(null, 204);
});

const server = serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 0), hostname: process.env.HOST ?? '127.0.0.1' }, (info) => {
  console.log(`listening on ${info.port}`);
});
process.once('SIGTERM', () => server.close(() => process.exit(0)));
