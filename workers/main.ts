/**
 * Entry point of a worker process (`node dist/worker.js [queue …]`): tracing first, when
 * configured, so its instrumentation sees every module the worker imports afterwards.
 */
import { runEntry } from '../lib/entry';

await runEntry('callbook-worker', async () => (await import('./index')).main());
