/**
 * Error text without personal data, and of bounded size: the one place that decides what of an
 * error may leave the process that caught it — into a log line (lib/logger's serializers), a
 * BullMQ job's failedReason and stacktrace (workers/run-job), an error column
 * (webhook_events.error, appointments.failure_reason, notifications.error) or an operator alert.
 *
 * Why it is needed: a database error carries the values it was given. drizzle's
 * DrizzleQueryError puts every bound parameter in its message (`Failed query: …\nparams: <the
 * caller's number>,<the transcript>,…`) and the stack repeats it; MariaDB/MySQL quote the
 * offending value in some messages (`Duplicate entry '+49170…' for key …`, `Incorrect integer
 * value: 'Anna' for column …`); mysql2 errors carry `sql`. What is kept is what an operator needs:
 * the operation (`insert calls`), the driver's code and the server's message with its quoted
 * values replaced.
 */
import { DrizzleQueryError } from 'drizzle-orm';
import { operationName } from '../db/operation';

/** Longest reason kept (failedReason, error columns, log messages). */
export const MAX_REASON_CHARS = 1_000;
/** Stack frames kept per error (BullMQ keeps one stack per attempt, lib/queues caps how many). */
export const MAX_STACK_FRAMES = 10;

const WITHHELD = '[redacted]';

/** Quoted values in server messages, and drizzle's parameter list: each with what replaces it. */
const VALUE_PATTERNS: Array<[RegExp, string | ((...m: string[]) => string)]> = [
  // drizzle: "Failed query: <sql>\nparams: <values>" — the values run to the end of the message.
  [/Failed query: ([\s\S]*?)\nparams: [\s\S]*$/, (_m, query) => `database error in ${operationName(query ?? '')} (values withheld)`],
  // "Duplicate entry '+4917… O'Brien' for key 'customers_…'" — the value may itself hold quotes.
  [/Duplicate entry '[\s\S]*?' for key/g, `Duplicate entry '${WITHHELD}' for key`],
  // "Incorrect integer value: 'Anna' for column …", "Truncated incorrect DOUBLE value: 'x'".
  [/value: '[\s\S]*?'(?= for column|$|;|\))/g, `value: '${WITHHELD}'`],
  // MySQL 8: 'Invalid JSON text: "…" at position 3 in value for column …'.
  [/Invalid JSON text: "[\s\S]*?" at position/g, `Invalid JSON text: "${WITHHELD}" at position`],
];

const EMAIL = /[^\s<>"'(),;:[\]@]+@[^\s<>"'(),;:[\]@]+\.[A-Za-z]{2,}/g;
/** A phone number as providers write it: 7–15 digits, maybe a leading + and spaces. */
const PHONE = /\+?\d[\d ]{5,17}\d/g;

/**
 * E-mail addresses in `text` masked (`a***@example.com`); with `phones`, numbers too
 * (`+49********766`). E-mail addresses are masked in every reason; numbers only where a
 * provider's text may echo a customer's (notification transports), because callbook's own
 * reasons name business numbers on purpose (`unknown number +4930…`).
 */
export function maskAddresses(text: string, opts: { phones?: boolean } = {}): string {
  const out = text.replace(EMAIL, (m) => `${m.slice(0, 1)}***${m.slice(m.lastIndexOf('@'))}`);
  if (!opts.phones) return out;
  return out.replace(PHONE, (m) => {
    const p = m.replace(/ /g, '');
    return p.length < 7 ? m : `${p.slice(0, 3)}${'*'.repeat(p.length - 6)}${p.slice(-3)}`;
  });
}

/** `text` with the values of database errors withheld and e-mail addresses masked, cut to MAX_REASON_CHARS. */
export function redactText(text: string): string {
  let out = text;
  for (const [pattern, replacement] of VALUE_PATTERNS) out = out.replace(pattern, replacement as string);
  return cap(maskAddresses(out));
}

function cap(text: string, max = MAX_REASON_CHARS): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

interface DriverError {
  code?: unknown;
  sqlMessage?: unknown;
  sqlState?: unknown;
  message?: unknown;
}

function isQueryError(err: unknown): err is { query: string; cause?: unknown } {
  if (err instanceof DrizzleQueryError) return true;
  const e = err as { query?: unknown; params?: unknown } | null;
  return typeof e === 'object' && e !== null && typeof e.query === 'string' && Array.isArray(e.params);
}

function isDriverError(err: unknown): err is DriverError {
  const e = err as DriverError | null;
  return typeof e === 'object' && e !== null && (typeof e.sqlMessage === 'string' || typeof e.sqlState === 'string');
}

/**
 * One line saying what went wrong, safe to store and show: for a database error the operation,
 * the driver's code and the server's message (values withheld); for any other error its message
 * with the same patterns withheld.
 */
export function describeError(err: unknown, depth = 0): string {
  if (depth > 4) return 'error';
  if (isQueryError(err)) {
    const cause = err.cause !== undefined ? `: ${describeError(err.cause, depth + 1)}` : '';
    return cap(`database error in ${operationName(err.query)}${cause}`);
  }
  if (isDriverError(err)) {
    const text = typeof err.sqlMessage === 'string' ? err.sqlMessage : String(err.message ?? '');
    return redactText(typeof err.code === 'string' ? `${err.code}: ${text}` : text);
  }
  if (err instanceof Error) return redactText(err.message);
  if (typeof err === 'string') return redactText(err);
  return redactText(safeString(err));
}

function safeString(v: unknown): string {
  try {
    return typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v);
  } catch {
    return Object.prototype.toString.call(v);
  }
}

/** `name: message` and at most MAX_STACK_FRAMES frames of the original stack (frames only: the original header repeats the unsafe message). */
export function safeStack(err: Error, message = describeError(err)): string {
  const stack = typeof err.stack === 'string' ? err.stack : '';
  // Frames are read only after the original message, which may span lines of its own.
  const at = err.message ? stack.indexOf(err.message) : -1;
  const rest = at >= 0 ? stack.slice(at + err.message.length) : stack;
  const frames = rest
    .split('\n')
    .filter((line) => /^\s+at \S/.test(line))
    .slice(0, MAX_STACK_FRAMES);
  return [`${err.name}: ${message}`, ...frames].join('\n');
}

/** Own properties that may carry values, dropped from a scrubbed error. */
const VALUE_PROPS = ['params', 'query', 'sql', 'sqlMessage', 'values', 'parameters', 'details', 'body'] as const;

/**
 * Makes the error that is about to leave a worker safe, in place: its message becomes
 * describeError's line, its stack that line plus a few frames, properties that may hold values are
 * removed. In place, because BullMQ and callers tell errors apart by class and name
 * (UnrecoverableError, DelayedError, JobTimeoutError). A thrown non-Error becomes an Error.
 */
export function scrubError(err: unknown): Error {
  if (!(err instanceof Error)) return new Error(describeError(err));
  const message = describeError(err);
  const stack = safeStack(err, message);
  try {
    err.message = message;
    err.stack = stack;
    for (const prop of VALUE_PROPS) if (Object.prototype.hasOwnProperty.call(err, prop)) delete (err as unknown as Record<string, unknown>)[prop];
    return err;
  } catch {
    // A frozen or read-only error: a plain one with the same name carries the safe text.
    const copy = new Error(message);
    copy.name = err.name;
    copy.stack = stack;
    return copy;
  }
}

/** Own string properties kept by the log serializer (short codes and labels, never values). */
const LOGGED_STRING_PROPS = new Set(['code', 'sqlState', 'syscall', 'kind', 'method', 'path', 'route', 'service']);

export interface SerializedError {
  type: string;
  message: string;
  stack?: string;
  cause?: SerializedError | string;
  [prop: string]: unknown;
}

/**
 * The pino serializer of `err`, `error` and `cause`: an Error becomes
 * `{type, message, stack, code…, cause}` with describeError's message, a capped stack, numbers and
 * booleans of its own properties and only the label-like strings; a string is redacted; anything
 * else is described as a string.
 */
export function serializeError(value: unknown, depth = 0): SerializedError | string | unknown {
  if (value === undefined || value === null) return value;
  if (typeof value === 'string') return redactText(value);
  if (!(value instanceof Error)) return typeof value === 'object' ? describeError(value) : value;
  const message = describeError(value);
  const out: SerializedError = { type: value.name, message, stack: safeStack(value, message) };
  for (const [key, v] of Object.entries(value)) {
    if (key === 'cause' || key === 'message' || key === 'stack' || key === 'name') continue;
    if (typeof v === 'number' || typeof v === 'boolean') out[key] = v;
    else if (typeof v === 'string' && LOGGED_STRING_PROPS.has(key)) out[key] = cap(v, 200);
  }
  // A query error's cause is already in its message; other causes follow, a few levels deep.
  const cause = (value as { cause?: unknown }).cause;
  if (cause !== undefined && !isQueryError(value) && depth < 3) out.cause = serializeError(cause, depth + 1) as SerializedError | string;
  return out;
}
