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
import { createRedis, keyNamespace, redisTarget, type Redis } from './redis';
import { configurePii } from './pii';

export interface AppContext {
  config: Config;
  logger: Logger;
  database: Database;
  /** General-purpose connection (cache, counters, breakers); an ioredis Cluster when REDIS_CLUSTER_NODES is set (lib/redis). */
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
  const redis = createRedis(redisTarget(config), 'client');
  // Producers use their own connection: BullMQ's Queue must not share one with blocking workers.
  const queueConnection = createRedis(redisTarget(config), 'producer');
  const queues = createQueues(queueConnection, config.REDIS_PREFIX);
  // Without a listener BullMQ prints every reconnect failure to stderr with console.error (the
  // chaos test's Redis restart filled the logs with stack traces); a failed add still rejects.
  for (const q of Object.values(queues)) q.on('error', (err) => logger.debug({ queue: q.name, err: err.message }, 'queue connection error'));
  const ns = keyNamespace(config.REDIS_PREFIX);
  const cipher = new Cipher(config.ENCRYPTION_KEY, config.ENCRYPTION_KEYS_PREVIOUS ?? []);
  configurePii(config, cipher);
  return {
    config,
    logger,
    database,
    redis,
    ns,
    queues,
    cache: new TieredCache(redis, ns),
    cipher,
    async close() {
      await closeQueues(queues);
      queueConnection.disconnect();
      redis.disconnect();
      await database.close();
    },
  };
}
