/**
 * Personal data stays out of logs and failure reasons. A real database error — MariaDB refusing a
 * transcript too long for a column made small for this test — is forced on a webhook carrying a
 * known name, number and transcript; then the captured log output, every Redis key under the
 * test's prefix (BullMQ job hashes with failedReason and stacktrace, events streams) and every
 * error column in the database are searched for them. Plus: real MariaDB messages that quote
 * values, and the `log` notification transport.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql, eq } from 'drizzle-orm';
import type { Job } from 'bullmq';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appointments, branches, calls, customers, notifications, services, webhookEvents } from '../drizzle/schema';
import { recordFinalFailure } from '../lib/booking/book';
import { upsertCall } from '../lib/calls/record-call';
import { createContext, type AppContext } from '../lib/context';
import { describeError, MAX_REASON_CHARS, MAX_STACK_FRAMES, scrubError, serializeError } from '../lib/errors/redact';
import { createLogger } from '../lib/logger';
import { HttpTransport, LogTransport, TransportError } from '../lib/notifications/transports';
import { jobIds, STACK_TRACES_KEPT, type BookingJob } from '../lib/queues';
import { scanKeys } from '../lib/redis';
import type { RetellCall } from '../lib/retell/webhook';
import { startWorkers, type RunningWorkers } from '../workers';
import { createTestEnv, importTestTenants, type TestEnv } from './helpers/env';
import { callId, retellEvent, twoCompanies } from './helpers/fixtures';

const NAME = 'Zelda Quixote-Marsh';
const PHONE = '+4917099887766';
const SECRET_WORDS = 'Pampelmusenorakel';
const TRANSCRIPT = `Agent: Hallo!\nUser: Mein Codewort ist ${SECRET_WORDS}, ich heiße ${NAME}, bitte Dienstag um 11.`;
/** What must appear nowhere: the name (and its rare part), the number (with and without +), the transcript's words. */
const NEEDLES = [NAME, 'Quixote', PHONE, PHONE.slice(1), SECRET_WORDS];

function findNeedles(text: string): string[] {
  return NEEDLES.filter((n) => text.includes(n));
}

let env: TestEnv;
let ctx: AppContext;
let workers: RunningWorkers;
const logLines: string[] = [];

beforeAll(async () => {
  env = await createTestEnv();
  const tenants = twoCompanies();
  tenants.companies[0]!.operatorEmails = ['ops@salon.test'];
  await importTestTenants(env, tenants);
  // The workers' own context, logging at debug into memory.
  ctx = createContext(env.config, createLogger('debug', {}, { destination: { write: (line: string) => void logLines.push(line) } }));
  workers = startWorkers(ctx, ['webhooks', 'notifications']);
});
afterAll(async () => {
  await workers?.close();
  await ctx?.close();
  await env.cleanup();
});

async function rootQuery(statement: string): Promise<void> {
  const conn = await mysql.createConnection({ uri: env.config.DATABASE_URL });
  try {
    await conn.query(statement);
  } finally {
    await conn.end();
  }
}

async function settled(job: Pick<Job, 'id'> & { queueName: string }, queue = ctx.queues.webhooks): Promise<Job> {
  for (let i = 0; i < 400; i++) {
    const state = await queue.getJobState(job.id!);
    if (state === 'completed' || state === 'failed') return (await queue.getJob(job.id!))!;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`job ${job.id} did not settle`);
}

/** Every value under the test's prefix, whatever the key's type. */
async function dumpRedis(): Promise<string> {
  const prefix = env.config.REDIS_PREFIX;
  const keys = [...(await scanKeys(ctx.redis, `${prefix}:*`)), ...(await scanKeys(ctx.redis, `{${prefix}}*`))];
  const parts: string[] = [];
  for (const key of keys) {
    const type = await ctx.redis.type(key);
    const value =
      type === 'string' ? await ctx.redis.get(key)
      : type === 'hash' ? await ctx.redis.hgetall(key)
      : type === 'list' ? await ctx.redis.lrange(key, 0, -1)
      : type === 'set' ? await ctx.redis.smembers(key)
      : type === 'zset' ? await ctx.redis.zrange(key, '0', '-1')
      : type === 'stream' ? await ctx.redis.xrange(key, '-', '+')
      : null;
    parts.push(`${key} ${JSON.stringify(value)}`);
  }
  return parts.join('\n');
}

/** Every error and reason column of every row. */
async function dumpErrorColumns(): Promise<string> {
  const db = ctx.database.db;
  const rows = [
    ...(await db.select({ v: webhookEvents.error }).from(webhookEvents)),
    ...(await db.select({ v: appointments.failureReason }).from(appointments)),
    ...(await db.select({ v: calls.bookingReason }).from(calls)),
    ...(await db.select({ v: notifications.error }).from(notifications)),
  ];
  return rows.map((r) => r.v ?? '').join('\n');
}

describe('a database error on a webhook with a known name, number and transcript', () => {
  let job: Job;
  let rawError: Error;

  beforeAll(async () => {
    // Real MariaDB behaviour: in strict mode a value longer than its column is an error, and
    // drizzle's error message lists every bound value of the statement.
    await rootQuery('ALTER TABLE calls MODIFY transcript VARCHAR(32)');
    const id = callId();
    const body = JSON.stringify(retellEvent('call_analyzed', { callId: id, from: PHONE, transcript: TRANSCRIPT, vars: { customer_name: NAME } }));
    job = await ctx.queues.webhooks.add(
      'call_analyzed',
      { provider: 'retell', event: 'call_analyzed', callId: id, receivedAt: Date.now(), sealedBody: ctx.cipher.encrypt(body) },
      { jobId: jobIds.retellWebhook(id, 'call_analyzed'), attempts: 2, backoff: { type: 'fixed', delay: 10 } },
    );
    job = await settled(job);

    // The same statement run directly: the raw error the sinks receive, unredacted.
    const call = (JSON.parse(body) as { call: RetellCall }).call;
    const [mitte] = await ctx.database.db.select().from(branches).where(eq(branches.slug, 'mitte'));
    rawError = await upsertCall(ctx.database.db, { companyId: mitte!.companyId, branchId: mitte!.id, customerId: null, event: 'call_analyzed', call }).then(
      () => new Error('the insert did not fail'),
      (err: Error) => err,
    );
  });
  afterAll(() => rootQuery('ALTER TABLE calls MODIFY transcript MEDIUMTEXT'));

  it('the error really carries the personal data (the test would catch a leak)', () => {
    expect(findNeedles(rawError.message)).toEqual(expect.arrayContaining([PHONE, SECRET_WORDS, 'Quixote']));
    expect(findNeedles(rawError.stack ?? '')).not.toEqual([]);
  });

  it('the job failed with the database error, no values in its reason or stacks, bounded', async () => {
    expect(await job.getState()).toBe('failed');
    expect(job.attemptsMade).toBe(2);
    expect(job.failedReason).toMatch(/^database error in insert calls: ER_DATA_TOO_LONG: Data too long for column 'transcript'/);
    expect(job.failedReason.length).toBeLessThanOrEqual(MAX_REASON_CHARS);
    const stacks = job.stacktrace ?? [];
    expect(stacks.length).toBeGreaterThan(0);
    expect(stacks.length).toBeLessThanOrEqual(STACK_TRACES_KEPT);
    for (const stack of stacks) expect(stack.split('\n').length).toBeLessThanOrEqual(MAX_STACK_FRAMES + 1);
    expect(findNeedles(JSON.stringify({ reason: job.failedReason, stacks }))).toEqual([]);
  });

  it('the inbox row keeps the reason without the values', async () => {
    const [row] = await ctx.database.db.select().from(webhookEvents).where(eq(webhookEvents.externalId, job.data.callId));
    expect(row).toMatchObject({ status: 'failed', error: expect.stringMatching(/^database error in insert calls: ER_DATA_TOO_LONG/) });
  });

  it('a booking that fails with that raw message keeps a clean reason, and so does the operator alert', async () => {
    const db = ctx.database.db;
    const [customer] = await db.select().from(customers).where(eq(customers.name, NAME));
    expect(customer).toBeDefined(); // upserted before the call insert failed
    const [service] = await db.select().from(services).where(eq(services.calcomEventTypeId, 1001));
    const [mitte] = await db.select().from(branches).where(eq(branches.slug, 'mitte'));
    const booking: BookingJob = {
      companyId: customer!.companyId,
      branchId: mitte!.id,
      customerId: customer!.id,
      serviceId: service!.id,
      start: new Date(Date.now() + 86_400_000).toISOString(),
      idempotencyKey: 'b'.repeat(64),
      source: 'call',
    };
    await db.insert(appointments).values({ ...booking, startAt: new Date(booking.start), status: 'pending' });
    // A caller that passes the raw message on (as the bookings worker did before).
    await recordFinalFailure({ db, notificationsQueue: ctx.queues.notifications }, booking, `gave up after 3 attempts: ${rawError.message}`);
    const [appt] = await db.select().from(appointments).where(eq(appointments.idempotencyKey, booking.idempotencyKey));
    expect(appt).toMatchObject({ status: 'failed', failureReason: 'gave up after 3 attempts: database error in insert calls (values withheld)' });
    const alert = await settled({ id: jobIds.notification('booking_failed', appt!.id), queueName: 'notifications' }, ctx.queues.notifications);
    expect(await alert.getState()).toBe('completed');
    expect(logLines.join('')).toContain('notification booking_failed');
  });

  it('nothing in the log output, in Redis or in any error column names the caller', async () => {
    const logs = logLines.join('');
    const found = { logs: findNeedles(logs), redis: findNeedles(await dumpRedis()), database: findNeedles(await dumpErrorColumns()) };
    expect(found).toEqual({ logs: [], redis: [], database: [] });
    // The failure was logged, with what an operator needs.
    expect(logs).toContain('job failed');
    expect(logs).toContain('ER_DATA_TOO_LONG');
  });
});

describe('real MariaDB messages that quote the offending value', () => {
  beforeAll(() => rootQuery('CREATE TABLE scratch (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(60) UNIQUE, n INT)'));

  async function failing(statement: ReturnType<typeof sql>): Promise<Error> {
    return ctx.database.db.execute(statement).then(
      () => new Error('no error'),
      (err: Error) => err,
    );
  }

  it('a duplicate entry, an incorrect integer: the code and the column stay, the value goes', async () => {
    const value = `${PHONE} O'${NAME}`;
    await ctx.database.db.execute(sql`INSERT INTO scratch (v) VALUES (${value})`);
    const duplicate = await failing(sql`INSERT INTO scratch (v) VALUES (${value})`);
    const integer = await failing(sql`INSERT INTO scratch (n) VALUES (${NAME})`);
    // The server quotes the values itself (not only drizzle's params).
    expect((duplicate.cause as Error).message).toContain(PHONE);
    expect((integer.cause as Error).message).toContain(NAME);

    expect(describeError(duplicate)).toBe("database error in insert scratch: ER_DUP_ENTRY: Duplicate entry '[redacted]' for key 'v'");
    expect(describeError(integer)).toMatch(/^database error in insert scratch: ER_TRUNCATED_WRONG_VALUE_FOR_FIELD: Incorrect integer value: '\[redacted\]' for column .*`n` at row 1$/);
    // The driver's error alone (logged as a cause), and the text when it is all that is left.
    expect(describeError(duplicate.cause)).toBe("ER_DUP_ENTRY: Duplicate entry '[redacted]' for key 'v'");
    for (const err of [duplicate, integer]) {
      expect(findNeedles(JSON.stringify(serializeError(err)))).toEqual([]);
      expect(findNeedles(describeError(new Error(`wrapped: ${err.message}`)))).toEqual([]);
    }
    const scrubbed = scrubError(duplicate);
    expect(scrubbed).toBe(duplicate); // in place: BullMQ tells errors apart by class and name
    expect(findNeedles(`${scrubbed.message}\n${scrubbed.stack}`)).toEqual([]);
  });

  it('a logger given the error as `err`, `error`, a cause or the first argument writes no value', async () => {
    const lines: string[] = [];
    const log = createLogger('info', {}, { destination: { write: (line: string) => void lines.push(line) } });
    const err = await failing(sql`INSERT INTO scratch (n) VALUES (${NAME})`);
    log.error({ err }, 'a');
    log.error({ error: err }, 'b');
    log.error(err, 'c');
    log.error({ err: new Error('outer', { cause: err }) }, 'd');
    log.warn({ err: err.message }, 'e');
    expect(lines).toHaveLength(5);
    expect(lines.join('')).toContain('ER_TRUNCATED_WRONG_VALUE_FOR_FIELD');
    expect(findNeedles(lines.join(''))).toEqual([]);
  });
});

describe('notification transports', () => {
  it('a provider that echoes the recipient in its refusal: the error masks it', async () => {
    const server = createServer((req, res) => {
      req.resume();
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: `invalid number ${PHONE} or address zelda@quixote.test` }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/send`;
      const err = await new HttpTransport(url).send({ channel: 'sms', to: PHONE, subject: 's', text: 't', kind: 'booking_confirmed', ref: '7' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TransportError);
      expect((err as Error).message).toMatch(/answered 400: .*invalid number \+49\*+766 or address z\*\*\*@quixote\.test/);
      expect(findNeedles((err as Error).message)).toEqual([]);
    } finally {
      server.close();
    }
  });


  it('log: ids, channel and template only — no recipient, subject or text', async () => {
    const lines: string[] = [];
    const transport = new LogTransport(createLogger('info', {}, { destination: { write: (line: string) => void lines.push(line) } }));
    await transport.send({ channel: 'sms', to: PHONE, subject: `Termin für ${NAME}`, text: `Hallo ${NAME}, ${SECRET_WORDS}`, kind: 'booking_confirmed', ref: '42' });
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(line).toMatchObject({ transport: 'log', channel: 'sms', kind: 'booking_confirmed', ref: '42', recipients: 1 });
    expect(findNeedles(lines.join(''))).toEqual([]);
    expect(line).not.toHaveProperty('text');
    expect(line).not.toHaveProperty('subject');
  });
});
