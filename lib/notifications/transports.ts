/**
 * Where notifications leave callbook. One small interface so the queue logic (./send) never
 * knows whether a message went to a log line, an SMTP server or an SMS/HTTP provider; the
 * sandbox default (log) needs nothing configured. NOTIFY_TRANSPORT picks one per process, and a
 * transport that cannot work (smtp without SMTP_URL, http without NOTIFY_HTTP_URL) stops the
 * worker at start with the variable's name instead of failing every job later.
 *
 * Errors carry whether the message may have gone out anyway (`maybeDelivered`): ./send retries
 * only failures known not to have delivered, so a timeout after the provider took the message
 * never turns into a second SMS. A transport that throws a plain Error says "not delivered".
 */
import type { Transporter } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport';
import type { Logger } from 'pino';
import type { Config } from '../config';
import { smtpUrlProblem } from '../config/smtp-url';
import { NOT_SENT_CODES } from '../http/transport';
import { maskAddresses } from '../errors/redact';
import { maskRecipient } from './messages';

export type Channel = 'sms' | 'email';

export interface OutgoingMessage {
  channel: Channel;
  /** One address, or several e-mail addresses separated by ", " (one message to all of them). */
  to: string;
  subject: string;
  text: string;
  /** booking_confirmed | booking_failed | breaker_opened */
  kind: string;
  /** What it is about (appointment id, breaker event): with kind, a stable idempotency key. */
  ref: string;
}

export interface Transport {
  readonly name: string;
  send(msg: OutgoingMessage, signal?: AbortSignal): Promise<void>;
  close?(): Promise<void>;
}

/** A send that failed. `maybeDelivered`: the outcome is unknown (timeout, connection lost mid-send). */
export class TransportError extends Error {
  override readonly name = 'TransportError';
  constructor(
    message: string,
    readonly maybeDelivered: boolean,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** This transport cannot carry this channel (an SMS to SMTP): the message is skipped, not retried. */
export class UnsupportedChannelError extends Error {
  override readonly name = 'UnsupportedChannelError';
}

export function recipients(to: string): string[] {
  return to
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

const maskList = (to: string) => recipients(to).map(maskRecipient).join(', ');

/**
 * A provider's error text with the addresses in it masked: SMTP servers name the rejected
 * recipient (`550 <anna@example.com>: Recipient address rejected`), SMS gateways echo the number.
 * The text becomes notifications.error, a job's failedReason and a log line.
 */
const maskAddressesIn = (text: string) => maskAddresses(text, { phones: true });

// ---------------------------------------------------------------------------

/**
 * The sandbox default: one info line per message with its ids only — kind, ref, channel, how many
 * recipients. No recipient, subject or text: those carry the customer's name, number and
 * appointment, and log lines are kept and shipped far beyond the notifications table.
 */
export class LogTransport implements Transport {
  readonly name = 'log';
  constructor(private readonly logger: Logger) {}

  async send(msg: OutgoingMessage): Promise<void> {
    this.logger.info(
      { transport: 'log', channel: msg.channel, kind: msg.kind, ref: msg.ref, recipients: recipients(msg.to).length },
      `notification ${msg.kind} ${msg.ref} (${msg.channel})`,
    );
  }
}

// ---------------------------------------------------------------------------

/** nodemailer codes that mean the server (or DNS, TLS, auth) refused before taking the message. */
const SMTP_NOT_DELIVERED = new Set(['EENVELOPE', 'EAUTH', 'ENOAUTH', 'EOAUTH2', 'ETLS', 'EDNS', 'EMESSAGE', 'EPROTOCOL', 'ECONFIG', 'EREQUIRETLS']);
/** Connection set-up errors (before any SMTP command). */
const SMTP_CONNECT_MESSAGES = /^(Connection timeout|Greeting never received)/;

function smtpMaybeDelivered(err: unknown): boolean {
  const e = err as { code?: string; responseCode?: number; syscall?: string; message?: string };
  if (typeof e?.responseCode === 'number' && e.responseCode >= 400) return false; // the server said no
  if (e?.code && SMTP_NOT_DELIVERED.has(e.code)) return false;
  if (e?.syscall === 'connect' || e?.syscall === 'getaddrinfo') return false;
  if (SMTP_CONNECT_MESSAGES.test(e?.message ?? '')) return false;
  // ETIMEDOUT / ESOCKET / ECONNECTION mid-session: the message may have been accepted.
  return true;
}

/** E-mail through any SMTP server (SMTP_URL, e.g. smtp://user:pass@mail.example.com:587). */
export class SmtpTransport implements Transport {
  readonly name = 'smtp';
  /** nodemailer (~8 MiB of modules) is loaded by the first message, not by every worker that could send one. */
  private mailer?: Promise<Transporter<SMTPTransport.SentMessageInfo>>;

  constructor(
    private readonly url: string,
    private readonly from: string,
    private readonly logger?: Logger,
  ) {
    // What nodemailer would refuse at its first message is refused here, when the worker starts.
    const problem = smtpUrlProblem(url);
    if (problem) throw new Error(`SMTP_URL is invalid: ${problem}`);
  }

  private mailerOnce(): Promise<Transporter<SMTPTransport.SentMessageInfo>> {
    // nodemailer's defaults wait up to 2 min to connect and 10 min on a quiet socket: far past the job timeout.
    if (this.mailer) return this.mailer;
    const loading = import('nodemailer').then((m) =>
      m.default.createTransport({ url: this.url, connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 }),
    );
    // A load that failed is tried again by the next message rather than remembered.
    loading.catch(() => {
      if (this.mailer === loading) this.mailer = undefined;
    });
    this.mailer = loading;
    return loading;
  }

  async send(msg: OutgoingMessage): Promise<void> {
    if (msg.channel !== 'email') {
      throw new UnsupportedChannelError(`the smtp transport sends e-mail only; ${msg.channel} to ${maskList(msg.to)} skipped (set NOTIFY_TRANSPORT=http for SMS)`);
    }
    let mailer: Transporter<SMTPTransport.SentMessageInfo>;
    try {
      mailer = await this.mailerOnce();
    } catch (err) {
      throw new TransportError(`smtp: could not set up the mailer: ${maskAddressesIn((err as Error).message)}`, false, undefined, { cause: err });
    }
    try {
      const info = await mailer.sendMail({ from: this.from, to: recipients(msg.to), subject: msg.subject, text: msg.text });
      const rejected = (info.rejected ?? []).map((r) => maskRecipient(typeof r === 'string' ? r : r.address));
      if (rejected.length) this.logger?.warn({ kind: msg.kind, ref: msg.ref, rejected }, 'smtp: some recipients were rejected');
    } catch (err) {
      throw new TransportError(`smtp: ${maskAddressesIn((err as Error).message)}`, smtpMaybeDelivered(err), (err as { responseCode?: number }).responseCode, { cause: err });
    }
  }

  async close(): Promise<void> {
    const mailer = await this.mailer?.catch(() => undefined);
    mailer?.close();
  }
}

// ---------------------------------------------------------------------------

/**
 * A provider hook (SMS gateway, chat webhook, your own service): POST JSON
 * `{channel, to, recipients, subject, text, kind, ref}` to NOTIFY_HTTP_URL, with
 * `Authorization: Bearer NOTIFY_HTTP_TOKEN` when set and `Idempotency-Key: <kind>:<ref>`.
 * 2xx = delivered; any other status is an error naming it.
 */
export class HttpTransport implements Transport {
  readonly name = 'http';

  constructor(
    private readonly url: string,
    private readonly token?: string,
    private readonly timeoutMs = 10_000,
  ) {}

  async send(msg: OutgoingMessage, signal?: AbortSignal): Promise<void> {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const headers: Record<string, string> = { 'content-type': 'application/json', 'idempotency-key': `${msg.kind}:${msg.ref}` };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let res: Response;
    try {
      res = await fetch(this.url, {
        method: 'POST',
        headers,
        body: JSON.stringify({ ...msg, recipients: recipients(msg.to) }),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
    } catch (err) {
      const e = err as { name?: string; cause?: { code?: string } };
      if (e?.name === 'TimeoutError' || timeout.aborted) {
        throw new TransportError(`http: no answer from ${this.url} within ${this.timeoutMs} ms`, true, undefined, { cause: err });
      }
      const code = e?.cause?.code;
      const before = code !== undefined && NOT_SENT_CODES.has(code);
      throw new TransportError(`http: ${code ?? (err as Error).message} posting to ${this.url}`, !before, undefined, { cause: err });
    }
    const body = await res.text().catch(() => '');
    if (!res.ok) {
      throw new TransportError(`http: ${this.url} answered ${res.status}${body ? `: ${maskAddressesIn(body.slice(0, 200))}` : ''}`, false, res.status);
    }
  }
}

// ---------------------------------------------------------------------------

/** The transport NOTIFY_TRANSPORT names; throws at once, naming the variable, when it cannot work. */
export function createTransport(
  config: Pick<Config, 'NOTIFY_TRANSPORT' | 'SMTP_URL' | 'SMTP_FROM' | 'NOTIFY_HTTP_URL' | 'NOTIFY_HTTP_TOKEN'>,
  logger: Logger,
): Transport {
  switch (config.NOTIFY_TRANSPORT) {
    case 'smtp':
      if (!config.SMTP_URL) throw new Error('NOTIFY_TRANSPORT=smtp needs SMTP_URL (e.g. smtp://user:pass@mail.example.com:587)');
      return new SmtpTransport(config.SMTP_URL, config.SMTP_FROM, logger);
    case 'http':
      if (!config.NOTIFY_HTTP_URL) throw new Error('NOTIFY_TRANSPORT=http needs NOTIFY_HTTP_URL (the provider endpoint that takes the POST)');
      return new HttpTransport(config.NOTIFY_HTTP_URL, config.NOTIFY_HTTP_TOKEN);
    case 'log':
    default:
      return new LogTransport(logger);
  }
}
