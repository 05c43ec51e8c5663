/**
 * What every service entry point does before the service itself: start tracing when configured
 * (lib/tracing, before the instrumented packages load), flush it at exit, then run `main`;
 * a start-up error is printed without a stack and exits 1.
 */
import { startTracing } from './tracing';

export async function runEntry(serviceName: string, main: () => Promise<void>): Promise<void> {
  try {
    const tracing = await startTracing({ serviceName });
    if (tracing) {
      // process.exit skips async work; flush on the signals the service drains on, then let it exit.
      // A signal before `main` has installed its own handler (during the start-up checks) would
      // otherwise be swallowed by this listener, which takes away Node's default exit: exit as
      // Node would, after the flush.
      for (const signal of ['SIGTERM', 'SIGINT'] as const) {
        process.once(signal, () => {
          const flushed = tracing.shutdown().catch(() => {});
          if (process.listenerCount(signal) === 0) void flushed.finally(() => process.exit(signal === 'SIGTERM' ? 143 : 130));
        });
      }
    }
    await main();
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  }
}
