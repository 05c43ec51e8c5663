/**
 * Finds the Redis and MySQL the sandbox runs on: REDIS_URL / DATABASE_URL when set, else the
 * local servers on their default ports, else (Redis only) an embedded redis-server started by
 * redis-memory-server. A missing MySQL is reported with the one command that starts one.
 */
import { execFileSync } from 'node:child_process';
import mysql from 'mysql2/promise';
import { Redis } from 'ioredis';

export interface ResolvedRedis {
  url: string;
  source: 'env' | 'local' | 'embedded';
  stop(): Promise<void>;
}

async function redisAnswers(url: string): Promise<boolean> {
  const r = new Redis(url, { lazyConnect: true, connectTimeout: 800, maxRetriesPerRequest: 0, retryStrategy: () => null });
  r.on('error', () => {});
  try {
    await r.connect();
    return (await r.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    r.disconnect();
  }
}

function systemRedisBinary(): string | undefined {
  try {
    return execFileSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

export async function resolveRedis(envUrl: string | undefined): Promise<ResolvedRedis> {
  if (envUrl) return { url: envUrl, source: 'env', stop: async () => {} };
  const local = 'redis://127.0.0.1:6379';
  if (await redisAnswers(local)) return { url: local, source: 'local', stop: async () => {} };
  const { RedisMemoryServer } = await import('redis-memory-server');
  const binary = systemRedisBinary();
  const server = await RedisMemoryServer.create(binary ? { binary: { systemBinary: binary } } : {});
  const url = `redis://${await server.getHost()}:${await server.getPort()}`;
  return { url, source: 'embedded', stop: async () => void (await server.stop()) };
}

export class NoMysqlError extends Error {
  constructor(url: string, cause: string) {
    super(
      `No MySQL/MariaDB answers at ${url} (${cause}). Start one with: docker compose up -d mysql  (or set DATABASE_URL=mysql://user:pass@host:3306/callbook)`,
    );
  }
}

export async function resolveDatabaseUrl(envUrl: string | undefined): Promise<{ url: string; source: 'env' | 'local' }> {
  const url = envUrl ?? 'mysql://root@127.0.0.1:3306/callbook_sandbox';
  const server = new URL(url);
  server.pathname = '/';
  try {
    const conn = await mysql.createConnection({ uri: server.toString(), connectTimeout: 2_000 });
    await conn.end();
  } catch (err) {
    throw new NoMysqlError(server.host, (err as Error).message);
  }
  return { url, source: envUrl ? 'env' : 'local' };
}
