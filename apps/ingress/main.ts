/**
 * Entry point of the web process (`node dist/web.js`): tracing first, when configured, so its
 * instrumentation sees every module the service imports afterwards (lib/tracing).
 */
import { runEntry } from '../../lib/entry';

await runEntry('callbook-web', async () => (await import('./server')).main());
