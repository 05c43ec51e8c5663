/**
 * What every ceiling server of bench/ does around its Hono app: listen on PORT (0 = any) and HOST
 * (127.0.0.1), print `listening on <port>` (the line the benches wait for), and on SIGTERM stop
 * taking connections, close what the ceiling opened, and exit.
 *
 * `answerFunction` is the live-call function route's answer shared by the bare and round-trip
 * ceilings of bench/live.ts: parse the body, answer a small JSON, as any Hono endpoint answering
 * a function call must at least.
 */
import { serve } from '@hono/node-server';
import type { Context, Hono } from 'hono';
import { z } from 'zod';

const listen = z
  .object({
    PORT: z.coerce.number().int().min(0).default(0),
    HOST: z.string().default('127.0.0.1'),
  })
  .parse(process.env);

export function serveCeiling(app: Hono, close: () => void | Promise<void> = () => {}): void {
  const server = serve({ fetch: app.fetch, port: listen.PORT, hostname: listen.HOST }, (info) => {
    console.log(`listening on ${info.port}`);
  });
  process.once('SIGTERM', () =>
    server.close(() => {
      void Promise.resolve(close()).then(() => process.exit(0));
    }),
  );
}

/** Reads the function request's body, runs `before` (what the ceiling adds), answers. */
export async function answerFunction(c: Context, before: () => Promise<void> = async () => {}): Promise<Response> {
  const body = JSON.parse(await c.req.text()) as { name?: string };
  await before();
  return c.json({ status: 'ok', name: body.name ?? c.req.param('name') });
}
