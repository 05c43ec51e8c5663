/**
 * A private world per test file: its own MariaDB database (migrated) and its own Redis key
 * prefix on the machine's real servers, removed again in cleanup().
 */
import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import { loadConfig, type Config } from '../../lib/config';
import { createContext, type AppContext } from '../../lib/context';
import { connectDatabase, ensureDatabase, runMigrations } from '../../lib/db';
import { createLogger } from '../../lib/logger';
import { createRedis, deletePrefixed, redisTarget } from '../../lib/redis';
import type { TenantsFile } from '../../lib/tenants/file-schema';
import { importTenants } from '../../lib/tenants/import';
import { twoCompanies } from './fixtures';

export const MYSQL_ROOT = process.env.TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** Set (host:port,…) to run the suite against a Redis Cluster instead. */
export const TEST_REDIS_CLUSTER_NODES = process.env.TEST_REDIS_CLUSTER_NODES;

export const TEST_METRICS_TOKEN = 'metrics-token-for-tests-0123456789';
/** Headers of a Prometheus scrape in tests. */
export const SCRAPE_HEADERS = { authorization: `Bearer ${TEST_METRICS_TOKEN}` };

export interface TestEnv {
  config: Config;
  /** The environment variables behind `config`, for child processes. */
  vars: Record<string, string>;
  ctx: AppContext;
  dbName: string;
  cleanup(): Promise<void>;
}

export function testVars(overrides: Record<string, string> = {}): Record<string, string> {
  const id = randomBytes(4).toString('hex');
  return {
    DATABASE_URL: `${MYSQL_ROOT}/cbt_${id}`,
    REDIS_URL: TEST_REDIS_URL,
    ...(TEST_REDIS_CLUSTER_NODES ? { REDIS_CLUSTER_NODES: TEST_REDIS_CLUSTER_NODES } : {}),
    REDIS_PREFIX: `cbt${id}`,
    RETELL_API_KEY: 'key_test_retell_global',
    ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    ADMIN_TOKEN: 'admin-token-for-tests-0123456789',
    METRICS_TOKEN: TEST_METRICS_TOKEN,
    METRICS_CACHE_MS: '0',
    SHUTDOWN_DELAY_MS: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...overrides,
  };
}

export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig(testVars(overrides));
}

export async function createTestEnv(overrides: Record<string, string> = {}): Promise<TestEnv> {
  const vars = testVars(overrides);
  const config = loadConfig(vars);
  await ensureDatabase(config.DATABASE_URL);
  const migrator = connectDatabase(config.DATABASE_URL, 1);
  await runMigrations(migrator);
  await migrator.close();
  const ctx = createContext(config, createLogger(config.LOG_LEVEL));
  const dbName = new URL(config.DATABASE_URL).pathname.slice(1);
  return {
    config,
    vars,
    ctx,
    dbName,
    async cleanup() {
      await ctx.close();
      await dropTestState(config);
    },
  };
}

/** Imports `tenants` (default: the twoCompanies() tenants) into the env's database and cache. */
export function importTestTenants(env: TestEnv, tenants: TenantsFile = twoCompanies()): ReturnType<typeof importTenants> {
  return importTenants({ db: env.ctx.database.db, cipher: env.ctx.cipher, cache: env.ctx.cache }, tenants, 'test');
}

/**
 * Drop the database and every Redis key under the prefix (queues use `{prefix}`); on a Redis
 * Cluster, SCAN runs on every master and keys are deleted one by one (no CROSSSLOT).
 */
export async function dropTestState(config: Config): Promise<void> {
  const dbName = new URL(config.DATABASE_URL).pathname.slice(1);
  const conn = await mysql.createConnection({ uri: MYSQL_ROOT });
  await conn.query(`DROP DATABASE IF EXISTS \`${dbName}\``);
  await conn.end();
  const redis = createRedis(redisTarget(config), 'client');
  try {
    await deletePrefixed(redis, config.REDIS_PREFIX);
  } finally {
    redis.disconnect();
  }
}
