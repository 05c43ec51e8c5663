/** One pino logger for the process; modules take children with their own bindings. */
import { pino, type DestinationStream, type Logger } from 'pino';
import { serializeError } from '../errors/redact';

export type { Logger };

/**
 * `destination`: where lines go (default stdout); tests pass a stream to read what was logged.
 * Errors logged under `err`, `error`, `cause` or `reason` (or as the first argument) go through
 * lib/errors/redact: no bound values of a failed query, capped stacks.
 */
export function createLogger(
  level: string = process.env.LOG_LEVEL ?? 'info',
  bindings: Record<string, unknown> = {},
  destination?: DestinationStream,
): Logger {
  const options = {
    level,
    base: { pid: process.pid, ...bindings },
    serializers: { err: serializeError, error: serializeError, cause: serializeError, reason: serializeError },
    // Job payloads carry ids only; these paths catch PII that slips into a log object anyway.
    redact: { paths: ['*.phone', '*.from_number', '*.transcript', 'headers.authorization', '*.apiKey'], censor: '[redacted]' },
  };
  return destination ? pino(options, destination) : pino(options);
}
