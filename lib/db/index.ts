/**
 * The database: one mysql2 pool per process, drizzle on top, migrations from drizzle/migrations.
 * Every query goes through drizzle (prepared statements); callers scope by company.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { drizzle, type MySql2Database } from 'drizzle-orm/mysql2';
import { migrate } from 'drizzle-orm/mysql2/migrator';
import mysql from 'mysql2/promise';
import type { Logger } from 'pino';
import * as schema from '../../drizzle/schema';
import { dbBreakerState } from '../metrics';
import { DbBreaker } from './breaker';
import { instrumentPool } from './instrument';

export { DbBreaker, DbUnavailableError, dbUnavailable, isConnectionError } from './breaker';

export { schema };
export type Db = MySql2Database<typeof schema>;
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

export interface Database {
  db: Db;
  pool: mysql.Pool;
  breaker: DbBreaker;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** Statements slower than this are logged (operation and duration only). Default 200 ms. */
  slowMs?: number;
  logger?: Logger;
  /** Consecutive connection failures that open the breaker (default 5) and for how long (default 30 s). */
  breakerThreshold?: number;
  breakerOpenMs?: number;
}

/**
 * drizzle/migrations of the package: the nearest one above this module, which is lib/db/ when
 * run from source and dist/ or dist/chunks/ when run from the build.
 */
export const migrationsFolder = findUp('drizzle/migrations', fileURLToPath(new URL('.', import.meta.url)));

function findUp(relative: string, from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, relative);
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) throw new Error(`${relative} not found above ${from}`);
  }
}

export function connectDatabase(url: string, poolSize = 10, opts: DatabaseOptions = {}): Database {
  const breaker = new DbBreaker(opts.breakerThreshold ?? 5, opts.breakerOpenMs ?? 30_000, (from, to) => {
    dbBreakerState.set({ OPEN: 2, HALF_OPEN: 1, CLOSED: 0 }[to]);
    const log = opts.logger?.child({ component: 'db-breaker' });
    if (to === 'OPEN') log?.warn({ from, to }, 'database circuit breaker opened: jobs wait until it closes');
    else log?.info({ from, to }, 'database circuit breaker state change');
  });
  const pool = mysql.createPool({
    uri: url,
    connectionLimit: poolSize,
    // Store and read DATETIME as UTC whatever the server's time zone.
    timezone: 'Z',
    dateStrings: false,
    enableKeepAlive: true,
    // The first TCP keep-alive probe after 30 s idle instead of the OS's 2 h: an idle connection
    // kept in the pool then survives a NAT or load balancer that forgets quiet flows after minutes
    // (the pool hands out the most recently used connection first, so a quiet one can sit for long).
    keepAliveInitialDelay: 30_000,
    connectTimeout: 5_000,
    // No caller stack captured per query (mysql2's promise API does it for every statement: 1.7 %
    // of a worker's CPU in bench/e2e). Errors still carry their MySQL code and message, and the
    // instrument layer names the operation.
    trace: false,
  });
  const instrumented = instrumentPool(pool, { breaker, slowMs: opts.slowMs ?? 200, logger: opts.logger });
  const db = drizzle(instrumented, { schema, mode: 'default' });
  return { db, pool, breaker, close: () => pool.end() };
}

/**
 * Open `count` of the pool's connections now and put them back idle (mysql2 keeps up to
 * connectionLimit idle ones open: maxIdle defaults to it, as it keeps the connections a burst
 * opened). Called once when a worker process starts (lib/startup `openDatabaseConnections`), so the
 * first burst of calls after a deploy does not also pay a TCP connect and a MySQL handshake per
 * connection while its code is still cold. A connection that fails to open is left for the pool
 * to open on demand; the first such error is returned for the caller to judge and log.
 */
export async function openConnections(pool: mysql.Pool, count: number): Promise<{ opened: number; error?: unknown }> {
  const settled = await Promise.allSettled(Array.from({ length: count }, () => pool.getConnection()));
  let opened = 0;
  let error: unknown;
  for (const r of settled) {
    if (r.status === 'fulfilled') {
      r.value.release();
      opened++;
    } else error ??= r.reason;
  }
  return error === undefined ? { opened } : { opened, error };
}

/** Create the database named in the URL when it does not exist (sandbox and tests). */
export async function ensureDatabase(url: string): Promise<void> {
  const u = new URL(url);
  const name = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (!/^[A-Za-z0-9_]+$/.test(name)) throw new Error(`database name "${name}" in DATABASE_URL must be letters, digits and _`);
  u.pathname = '/';
  const conn = await mysql.createConnection({ uri: u.toString(), connectTimeout: 5_000 });
  try {
    await conn.query(`CREATE DATABASE IF NOT EXISTS \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  } finally {
    await conn.end();
  }
}

export async function runMigrations(database: Database): Promise<void> {
  await migrate(database.db, { migrationsFolder });
}

/** True when `err` is a MySQL duplicate-key violation (ER_DUP_ENTRY). */
export function isDuplicateKey(err: unknown): boolean {
  const e = err as { code?: string; cause?: { code?: string } } | undefined;
  return e?.code === 'ER_DUP_ENTRY' || e?.cause?.code === 'ER_DUP_ENTRY';
}
