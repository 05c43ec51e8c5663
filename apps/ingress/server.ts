/**
 * Runs the ingress (`node dist/web.js`, entry apps/ingress/main.ts, Procfile `web`). On SIGTERM /readyz answers 503 at once
 * (load balancers stop sending), SHUTDOWN_DELAY_MS later it stops accepting connections, lets
 * in-flight requests finish (each answers only after Redis has its job), then closes Redis and
 * the database.
 */
import { serve, type ServerType } from '@hono/node-server';
import { loadConfig } from '../../lib/config';
import { createContext, type AppContext } from '../../lib/context';
import { closeEventHubs } from '../../lib/events/hub';
import { startMetricsPublisher, thisProcess } from '../../lib/metrics/publish';
import { assertPiiKeys } from '../../lib/pii';
import { onShutdownSignal, stopWhenPlainIndexClosed, whenReachable } from '../../lib/startup';
import { createApp } from './app';
import { ingressDeps } from './deps';

export interface RunningServer {
  server: ServerType;
  port: number;
  close(): Promise<void>;
}

/** Listen on `port` (0 = any free port); resolves once listening. */
export function listen(ctx: AppContext, port: number, host = '0.0.0.0', app = createApp(ingressDeps(ctx))): Promise<RunningServer> {
  return new Promise((resolve) => {
    const timeout = ctx.config.REQUEST_TIMEOUT_MS;
    const serverOptions = {
      requestTimeout: timeout,
      // Node refuses a headers timeout longer than the request's; its own default is 60 s.
      headersTimeout: Math.min(60_000, timeout),
      // How often Node looks for requests past their timeout (its default, 30 s, would let one
      // run up to twice as long as REQUEST_TIMEOUT_MS).
      connectionsCheckingInterval: Math.min(30_000, Math.max(250, Math.floor(timeout / 4))),
    };
    const server = serve({ fetch: app.fetch, port, hostname: host, serverOptions }, (info) => {
      resolve({
        server,
        port: info.port,
        close: () =>
          new Promise<void>((done, fail) => {
            server.close((err) => (err ? fail(err) : done()));
            // Idle keep-alive sockets would hold close() open for their timeout.
            const closeIdle = () => ('closeIdleConnections' in server ? server.closeIdleConnections() : undefined);
            closeIdle();
            // Open /events streams never end by themselves: end them (clients reconnect elsewhere),
            // then drop the connections they leave idle.
            void closeEventHubs().then(() => setTimeout(closeIdle, 50));
          }),
      });
    });
  });
}

export async function main(): Promise<void> {
  const config = loadConfig();
  const ctx = createContext(config);
  await whenReachable(() => assertPiiKeys(ctx.database.db), { logger: ctx.logger, what: 'personal-data keys' });
  let stopping = false;
  const self = thisProcess('web');
  const running = await listen(ctx, config.PORT, config.HOST, createApp({ ...ingressDeps(ctx, self), isDraining: () => stopping }));
  // Other web processes serve this one's series too (lib/metrics/scrape).
  const stopPublishing = startMetricsPublisher(ctx.redis, ctx.ns, self, (err) => ctx.logger.warn({ err }, 'could not publish metrics'), config.METRICS_PUBLISH_INTERVAL_MS);
  ctx.logger.info({ port: running.port }, 'ingress listening');
  const drain = onShutdownSignal(
    async () => {
      stopping = true;
      await new Promise((r) => setTimeout(r, config.SHUTDOWN_DELAY_MS));
      await running.close();
      await stopPublishing();
      await ctx.close();
      ctx.logger.info('stopped');
    },
    ctx.logger,
    {
      draining: 'draining: /readyz answers 503; then finishing in-flight requests',
      fields: { delayMs: config.SHUTDOWN_DELAY_MS },
      secondSignal: 'second signal: exiting now; requests in flight are cut off',
    },
  );
  stopWhenPlainIndexClosed(ctx, drain);
}

