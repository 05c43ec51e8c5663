/**
 * Ceiling 1 of bench/ingress.ts: the same Hono app on the same @hono/node-server, one POST route
 * that reads the body and answers 204. Nothing callbook does, only what any Hono webhook
 * endpoint must do. Prints `listening on <port>`; PORT (0 = any), HOST (127.0.0.1).
 *
 * The CPU ceiling of bench/live.ts: `POST /functions/retell/:name` reads and parses the body and
 * answers a small JSON, what any Hono endpoint answering a function call must do at least.
 */
import { Hono } from 'hono';
import { answerFunction, serveCeiling } from './serve';

const app = new Hono();
app.post('/webhooks/retell', async (c) => {
  await c.req.arrayBuffer();
  return c.body(null, 204);
});
app.post('/functions/retell/:name', (c) => answerFunction(c));

serveCeiling(app);
