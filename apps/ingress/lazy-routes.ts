/**
 * Route groups whose code is imported on their first request, not at start-up: Bull Board
 * (/admin) and the MCP server (/mcp) pull in ~40 MiB of modules that most web processes never
 * use (bench/RESULTS.md, "Lean processes"). The group mounts itself on a Hono app of its own;
 * its errors propagate to the main app's onError, so answers keep the ingress's JSON shapes.
 */
import { Hono } from 'hono';

export function lazyRoutes(paths: string[], load: () => Promise<(app: Hono) => void>): (app: Hono) => void {
  let sub: Promise<Hono> | undefined;
  const build = async () => {
    const inner = new Hono();
    inner.onError((err) => {
      throw err;
    });
    inner.notFound((c) => c.json({ error: { code: 'not_found', message: `no route for ${c.req.method} ${c.req.path}` } }, 404));
    (await load())(inner);
    return inner;
  };
  return (app) => {
    for (const path of paths) {
      app.all(path, async (c) => {
        sub ??= build().catch((err: unknown) => {
          sub = undefined; // a failed import is tried again on the next request
          throw err;
        });
        return (await sub).fetch(c.req.raw, c.env);
      });
    }
  };
}
