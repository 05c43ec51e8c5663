/**
 * The database layer against real MariaDB: slow-query log without values, the query-duration
 * metric, prepared statements, and the breaker — open on an unreachable server (a pool pointed
 * at a closed port), never on constraint violations — with jobs that wait instead of failing.
 */
import { Worker } from 'bullmq';
import { sql } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customers } from '../drizzle/schema';
import { connectDatabase, dbUnavailable, DbUnavailableError } from '../lib/db';
import { operationName } from '../lib/db/instrument';
import { registry } from '../lib/metrics';
import { bullPrefix, jobIds } from '../lib/queues';
import { createRedis } from '../lib/redis';
import { withTimeout } from '../workers/run-job';
import { webhooksHandler } from '../workers/webhooks';
import { createContext } from '../lib/context';
import { captureLogs } from './helpers/log-capture';
import { createTestEnv, type TestEnv } from './helpers/env';
import { callId, retellEvent } from './helpers/fixtures';

let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv();
});
afterAll(() => env.cleanup());


describe('database layer', () => {
  it('names operations without values', () => {
    expect(operationName('select `id` from `calls` where `retell_call_id` = ?')).toBe('select calls');
    expect(operationName('insert into `appointments` (`a`) values (?)')).toBe('insert appointments');
    expect(operationName('update `customers` set `name` = ?')).toBe('update customers');
    expect(operationName('begin')).toBe('begin');
  });

  it('logs a slow statement with its operation and duration, never its values, and times it', async () => {
    const { lines, logger } = captureLogs();
    const database = connectDatabase(env.config.DATABASE_URL, 2, { slowMs: 200, logger });
    await database.db.execute(sql`SELECT SLEEP(${0.3}) AS s, ${'secret-value-4711'} AS v`);
    await database.db.execute(sql`SELECT ${'quick'} AS v`);
    await database.close();
    const slow = lines.map((l) => JSON.parse(l) as { msg: string; op: string; ms: number }).filter((l) => l.msg === 'slow query');
    expect(slow).toHaveLength(1);
    expect(slow[0]!.op).toBe('select');
    expect(slow[0]!.ms).toBeGreaterThanOrEqual(290);
    expect(lines.join('')).not.toContain('secret-value-4711');
    const metric = await registry.getSingleMetric('mcp_db_query_duration_seconds')!.get();
    expect(metric.values.some((v) => v.labels.op === 'select' && (v as { metricName?: string }).metricName?.endsWith('_count'))).toBe(true);
  });

  it('runs parameterised statements as server-side prepared statements, prepared once per connection', async () => {
    const one = connectDatabase(env.config.DATABASE_URL, 1);
    const prepares = async () => Number(((await one.pool.query("SHOW SESSION STATUS LIKE 'Com_stmt_prepare'")) as unknown as [[{ Value: string }]])[0][0].Value);
    const before = await prepares();
    const q = () => one.db.select().from(customers).where(sql`${customers.phone} = ${'+4900000000'}`);
    expect(await q()).toEqual([]);
    expect(await prepares()).toBe(before + 1);
    await q();
    expect(await prepares()).toBe(before + 1); // cached by mysql2 on that connection
    await one.close();
  });

  it('does not open on constraint violations', async () => {
    await env.ctx.database.db.insert(customers).values({ companyId: 999, phone: '+4911111111', phoneIndex: '+4911111111' });
    for (let i = 0; i < 8; i++) {
      await expect(env.ctx.database.db.insert(customers).values({ companyId: 999, phone: '+4911111111', phoneIndex: '+4911111111' })).rejects.toThrow();
    }
    expect(env.ctx.database.breaker.state).toBe('CLOSED');
  });

  it('opens when the server is unreachable, then fails fast', async () => {
    const dead = connectDatabase('mysql://root@127.0.0.1:1/nowhere', 2, { breakerThreshold: 5, breakerOpenMs: 60_000 });
    for (let i = 0; i < 5; i++) {
      const err = await dead.db.execute(sql`SELECT 1`).catch((e: unknown) => e);
      expect(dbUnavailable(err)).toBeInstanceOf(DbUnavailableError);
    }
    expect(dead.breaker.state).toBe('OPEN');
    const t0 = performance.now();
    const fast = await dead.db.execute(sql`SELECT 1`).catch((e: unknown) => e);
    expect(dbUnavailable(fast)).toBeInstanceOf(DbUnavailableError);
    expect(performance.now() - t0).toBeLessThan(20);
    await dead.close().catch(() => {});
  });

  it('a worker whose database is down delays its jobs instead of failing them', async () => {
    const ctx = createContext({ ...env.config, DATABASE_URL: 'mysql://root@127.0.0.1:1/nowhere' }, pino({ level: 'silent' }));
    const connection = createRedis(env.config.REDIS_URL, 'worker');
    const worker = new Worker('webhooks', withTimeout('webhooks', webhooksHandler(ctx)), { connection, prefix: bullPrefix(env.config.REDIS_PREFIX) });
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      const id = callId();
      const body = JSON.stringify(retellEvent('call_ended', { callId: id }));
      const job = await env.ctx.queues.webhooks.add('call_ended', { provider: 'retell', event: 'call_ended', callId: id, receivedAt: Date.now(), sealedBody: env.ctx.cipher.encrypt(body) }, { jobId: jobIds.retellWebhook(id, 'call_ended') });
      ids.push(job.id!);
    }
    for (let i = 0; i < 100; i++) {
      const states = await Promise.all(ids.map(async (id) => (await env.ctx.queues.webhooks.getJob(id))!.getState()));
      if (states.every((s) => s === 'delayed')) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    await worker.close();
    connection.disconnect();
    for (const id of ids) {
      const job = (await env.ctx.queues.webhooks.getJob(id))!;
      expect(await job.getState()).toBe('delayed');
      expect(job.attemptsMade).toBe(0);
    }
    expect(ctx.database.breaker.state).toBe('OPEN');
    await ctx.close().catch(() => {});
  });
});
