/**
 * A Lua script (one key unless told) as a command of its own on an ioredis connection (`defineCommand`: EVALSHA,
 * falling back to EVAL when the script is not cached, e.g. after a Redis restart). A connection
 * shared by several users (breakers, limiters, counters) gets each command defined once.
 */
import type { Redis } from 'ioredis';

export function withCommand<C extends object>(redis: Redis, name: keyof C & string, lua: string, numberOfKeys = 1): Redis & C {
  const r = redis as Redis & Partial<Record<string, unknown>>;
  if (typeof r[name] !== 'function') redis.defineCommand(name, { lua, numberOfKeys });
  return redis as Redis & C;
}
