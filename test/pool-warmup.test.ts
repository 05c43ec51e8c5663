/**
 * A worker opens its database connections before taking work (workers/index `connectionsAtOnce`,
 * lib/startup `openDatabaseConnections`), against the real MariaDB: only as many as its jobs use
 * at once, so the deployment's connection budget is what it was; a wrong password stops start-up
 * without printing it; a SIGTERM during the warm-up stops the process even with tracing on.
 * (Written first by a review as the attacker's tests of the warm-up; the first version warmed
 * DB_POOL_SIZE connections in every process and failed the budget test.)
 */
import { spawn } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { sql } from 'drizzle-orm';
import mysql from 'mysql2/promise';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDatabase } from '../lib/db';
import { openDatabaseConnections } from '../lib/startup';
import { connectionsAtOnce } from '../workers/index';
import { captureLogs } from './helpers/log-capture';
import { createTestEnv, MYSQL_ROOT, type TestEnv } from './helpers/env';


describe('start-up warm-up of a worker\'s database connections', () => {
  let env: TestEnv;
  let root: mysql.Connection;
  let user: string;
  let userUrl: string;
  const LIMIT = 4;

  beforeAll(async () => {
    env = await createTestEnv();
    root = await mysql.createConnection(MYSQL_ROOT);
    // A throwaway user limited to LIMIT sessions stands in for the server's max_connections
    // shared by the deployment's processes (the machine's global limit is left alone).
    user = `pw_${env.dbName}`.slice(0, 80);
    await root.query(`CREATE USER '${user}'@'%' IDENTIFIED BY 'pw-not-logged' WITH MAX_USER_CONNECTIONS ${LIMIT}`);
    await root.query(`GRANT ALL ON \`${env.dbName}\`.* TO '${user}'@'%'`);
    const u = new URL(env.config.DATABASE_URL);
    u.username = user;
    u.password = 'pw-not-logged';
    userUrl = u.toString();
  });

  afterAll(async () => {
    await root?.query(`DROP USER IF EXISTS '${user}'@'%'`).catch(() => {});
    await root?.end();
    await env?.cleanup();
  });

  async function burst(database: ReturnType<typeof connectDatabase>, n: number) {
    const rs = await Promise.allSettled(Array.from({ length: n }, () => database.db.execute(sql`SELECT SLEEP(0.1) AS s`)));
    return rs.map((r) => (r.status === 'fulfilled' ? 'ok' : String((r.reason as { cause?: { code?: string } }).cause?.code ?? (r.reason as Error).message)));
  }

  it('opens the pool\'s connections at start-up, which later statements reuse', async () => {
    const database = connectDatabase(env.config.DATABASE_URL, 4);
    // Counted by the server: sessions whose default database is this test's.
    const name = new URL(env.config.DATABASE_URL).pathname.slice(1);
    const sessions = async () => Number(((await env.ctx.database.pool.query('SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = ?', [name])) as unknown as [[{ n: number }]])[0][0].n);
    const before = await sessions();
    const { lines, logger } = captureLogs();
    await openDatabaseConnections({ database, logger }, 4);
    expect(await sessions()).toBe(before + 4);
    expect(lines.map((l) => JSON.parse(l) as { msg: string; opened: number }).find((l) => l.msg === 'database connections opened')?.opened).toBe(4);
    await Promise.all(Array.from({ length: 4 }, () => database.db.execute(sql`SELECT SLEEP(0.05)`)));
    expect(await sessions()).toBe(before + 4);
    await database.close();
  });

  it('starts without its connections when the database is out of reach, and says why', async () => {
    const dead = connectDatabase('mysql://root@127.0.0.1:1/nowhere', 3);
    const { lines, logger } = captureLogs();
    await openDatabaseConnections({ database: dead, logger }, 3);
    const warn = lines.map((l) => JSON.parse(l) as { msg: string; opened: number; of: number; err?: { message?: string } }).find((l) => l.msg.startsWith('could not open every database connection'));
    expect(warn).toMatchObject({ opened: 0, of: 3 });
    expect(warn?.err?.message).toMatch(/ECONNREFUSED/);
    await dead.close().catch(() => {});
  });

  it('opens one connection per job in flight, capped by DB_POOL_SIZE', () => {
    const config = { ...env.config, DB_POOL_SIZE: 10, CONCURRENCY_WEBHOOKS: 10, CONCURRENCY_BOOKINGS: 5, CONCURRENCY_SYNC: 1, CONCURRENCY_NOTIFICATIONS: 5, CONCURRENCY_DEFAULT: 2 };
    expect(connectionsAtOnce(config, ['sync'])).toBe(1);
    expect(connectionsAtOnce(config, ['bookings', 'default'])).toBe(7);
    expect(connectionsAtOnce(config, ['webhooks', 'bookings', 'sync', 'notifications', 'default'])).toBe(10);
  });

  it('a starting worker takes no more of the shared connection budget than its jobs use, so a running process keeps its share', async () => {
    const running = connectDatabase(userUrl, LIMIT);
    await running.db.execute(sql`SELECT 1`); // serving, one connection open
    const sync = connectDatabase(userUrl, LIMIT); // a sync worker (concurrency 1) with the same DB_POOL_SIZE
    const { lines, logger } = captureLogs();
    await openDatabaseConnections({ database: sync, logger }, connectionsAtOnce({ ...env.config, DB_POOL_SIZE: LIMIT, CONCURRENCY_SYNC: 1 }, ['sync']));
    expect(lines.map((l) => JSON.parse(l) as { msg: string; opened?: number }).find((l) => l.msg === 'database connections opened')?.opened).toBe(1);
    const [[{ n }]] = (await root.query('SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE USER = ?', [user])) as unknown as [[{ n: number }]];
    expect(Number(n)).toBe(2);
    // The running process still opens what its burst needs (with every process warming
    // DB_POOL_SIZE this burst failed with ER_USER_LIMIT_REACHED).
    const results = await burst(running, LIMIT - 2);
    await running.close();
    await sync.close();
    expect(results).toEqual(Array(LIMIT - 2).fill('ok'));
  });

  it('stops start-up on a wrong password, naming the cause but not the password', async () => {
    const u = new URL(userUrl);
    u.password = 'wrong-password-4711';
    const wrong = connectDatabase(u.toString(), 2);
    const err = await openDatabaseConnections({ database: wrong, logger: pino({ level: 'silent' }) }, 2).catch((e: unknown) => e as Error);
    await wrong.close().catch(() => {});
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/^DATABASE_URL: Access denied .*ER_ACCESS_DENIED_ERROR/);
    expect((err as Error).message).not.toContain('wrong-password-4711');
  });

  it('SIGTERM during the warm-up stops a worker, also with tracing on', async () => {
    // A database port that accepts and never answers: the warm-up waits connectTimeout (5 s).
    const sockets: Socket[] = [];
    let accepted!: () => void;
    const firstAccept = new Promise<void>((r) => (accepted = r));
    const server: Server = createServer((s) => {
      sockets.push(s);
      s.on('error', () => {});
      accepted();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const child = spawn(process.execPath, ['dist/worker.js', 'sync'], {
      env: {
        ...process.env,
        ...env.vars,
        DATABASE_URL: `mysql://root@127.0.0.1:${port}/nowhere`,
        BLIND_INDEX_KEY: Buffer.alloc(32, 7).toString('base64'), // assertPiiKeys skips the database
        // runEntry's flush-on-SIGTERM listener took away Node's default exit on the signal.
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1',
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      await firstAccept; // the warm-up is connecting
      child.kill('SIGTERM');
      const code = await Promise.race([exited, new Promise<'running'>((r) => setTimeout(() => r('running'), 4_000))]);
      expect({ code, started: out.includes('workers started') }).toEqual({ code: 143, started: false });
    } finally {
      if (child.exitCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
      for (const s of sockets) s.destroy();
      server.close();
    }
  });
});
