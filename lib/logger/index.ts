/**
 * One pino logger for the process; modules take children with their own bindings. Every line
 * carries the active trace id when tracing is on (lib/tracing). Production writes JSON; the
 * sandbox asks for `pretty` (pino-pretty, a dev dependency) so a person can read it.
 */
import { pino, type Logger } from 'pino';
import { currentTraceId } from '../tracing/context';

export type { Logger };

export interface LoggerOptions {
  /** Human-readable lines through pino-pretty (sandbox only; it is not installed in the image). */
  pretty?: boolean;
}

export function createLogger(level: string = process.env.LOG_LEVEL ?? 'info', bindings: Record<string, unknown> = {}, opts: LoggerOptions = {}): Logger {
  return pino({
    level,
    base: { pid: process.pid, ...bindings },
    mixin() {
      const traceId = currentTraceId();
      return traceId ? { traceId } : {};
    },
    // Job payloads carry ids only; these paths catch PII that slips into a log object anyway.
    redact: { paths: ['*.phone', '*.from_number', '*.transcript', 'headers.authorization', '*.apiKey'], censor: '[redacted]' },
    ...(opts.pretty ? { transport: { target: 'pino-pretty', options: { colorize: process.stdout.isTTY, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } } } : {}),
  });
}
