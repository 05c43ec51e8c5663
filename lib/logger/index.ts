/**
 * One pino logger for the process; modules take children with their own bindings. Every line
 * carries the active trace id when tracing is on (lib/tracing). Production writes JSON; the
 * sandbox asks for `pretty` (pino-pretty, a dev dependency) so a person can read it. Errors logged
 * under `err`, `error`, `cause` or `reason` (or as the first argument) go through
 * lib/errors/redact: no bound values of a failed query, capped stacks.
 */
import { pino, type DestinationStream, type Logger } from 'pino';
import { serializeError } from '../errors/redact';
import { currentTraceId } from '../tracing/context';

export type { Logger };

export interface LoggerOptions {
  /** Human-readable lines through pino-pretty (sandbox only; it is not installed in the image). */
  pretty?: boolean;
  /** Where lines go (default stdout); tests pass a stream to read what was logged. */
  destination?: DestinationStream;
}

export function createLogger(level: string = process.env.LOG_LEVEL ?? 'info', bindings: Record<string, unknown> = {}, opts: LoggerOptions = {}): Logger {
  const options = {
    level,
    base: { pid: process.pid, ...bindings },
    mixin() {
      const traceId = currentTraceId();
      return traceId ? { traceId } : {};
    },
    serializers: { err: serializeError, error: serializeError, cause: serializeError, reason: serializeError },
    // Job payloads carry ids only; these paths catch PII that slips into a log object anyway.
    redact: { paths: ['*.phone', '*.from_number', '*.transcript', 'headers.authorization', '*.apiKey'], censor: '[redacted]' },
    ...(opts.pretty && !opts.destination ? { transport: { target: 'pino-pretty', options: { colorize: process.stdout.isTTY, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } } } : {}),
  };
  return opts.destination ? pino(options, opts.destination) : pino(options);
}
