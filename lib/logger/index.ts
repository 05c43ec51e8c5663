/** One pino logger for the process; modules take children with their own bindings. */
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string = process.env.LOG_LEVEL ?? 'info', bindings: Record<string, unknown> = {}): Logger {
  return pino({
    level,
    base: { pid: process.pid, ...bindings },
    // Job payloads carry ids only; these paths catch PII that slips into a log object anyway.
    redact: { paths: ['*.phone', '*.from_number', '*.transcript', 'headers.authorization', '*.apiKey'], censor: '[redacted]' },
  });
}
