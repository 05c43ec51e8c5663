/**
 * The database: one mysql2 pool per process, drizzle on top, migrations from drizzle/migrations.
 * Every query goes through drizzle (prepared statements); callers scope by company.
 */
import { fileURLToPath } from 'node:url';
import { drizzle, type MySql2Database } from 'drizzle-orm/mysql2';
import { migrate } from 'drizzle-orm/mysql2/migrator';
import mysql from 'mysql2/promise';
import * as schema from '../../drizzle/schema';

export { schema };
export type Db = MySql2Database<typeof schema>;
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

export interface Database {
  db: Db;
  pool: mysql.Pool;
  close(): Promise<void>;
}

export const migrationsFolder = fileURLToPath(new URL('../../drizzle/migrations', import.meta.url));

export function connectDatabase(url: string, poolSize = 10): Database {
  const pool = mysql.createPool({
    uri: url,
    connectionLimit: poolSize,
    // Store and read DATETIME as UTC whatever the server's time zone.
    timezone: 'Z',
    dateStrings: false,
    enableKeepAlive: true,
    connectTimeout: 5_000,
  });
  const db = drizzle(pool, { schema, mode: 'default' });
  return { db, pool, close: () => pool.end() };
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
