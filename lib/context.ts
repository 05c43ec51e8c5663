/**
 * Everything a worker, the ingress or the CLI needs, built once per process from the config.
 * Library code takes this (or a subset) instead of importing globals, so tests build their own.
 */
import type { Config } from './config';
import { TieredCache } from './cache';
import { Cipher } from './crypto';
import { connectDatabase, type Database } from './db';
import { createLogger, type Logger } from './logger';
import { createQueues, closeQueues, type Queues } from './queues';
import { createRedis, keyNamespace, type Redis } from './redis';

export interface AppContext {
  config: Config;
  logger: Logger;
  database: Database;
  /** General-purpose connection (cache, counters, breakers). */
  redis: Redis;
  /** `REDIS_PREFIX:` — prepended to callbook's own keys. */
  ns: string;
  queues: Queues;
  cache: TieredCache;
  cipher: Cipher;
  close(): Promise<void>;
}

export function createContext(config: Config, logger: Logger = createLogger(config.LOG_LEVEL)): AppContext {
  const database = connectDatabase(config.DATABASE_URL, config.DB_POOL_SIZE, { slowMs: config.DB_SLOW_QUERY_MS, logger });
  const redis = createRedis(config.REDIS_URL, 'client');
  // Producers use their own connection: BullMQ's Queue must not share one with blocking workers.
  const queueConnection = createRedis(config.REDIS_URL, 'producer');
  const queues = createQueues(queueConnection, config.REDIS_PREFIX);
  const ns = keyNamespace(config.REDIS_PREFIX);
  return {
    config,
    logger,
    database,
    redis,
    ns,
    queues,
    cache: new TieredCache(redis, ns),
    cipher: new Cipher(config.ENCRYPTION_KEY),
    async close() {
      await closeQueues(queues);
      queueConnection.disconnect();
      redis.disconnect();
      await database.close();
    },
  };
}
