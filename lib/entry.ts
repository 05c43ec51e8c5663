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
      for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => void tracing.shutdown().catch(() => {}));
    }
    await main();
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  }
}
