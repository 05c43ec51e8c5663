import {
  DbBreaker,
  DbUnavailableError,
  isConnectionError
} from "./chunk-42NABTHE.js";
import {
  dbBreakerState,
  dbQueryDuration,
  schema_exports
} from "./chunk-AQ2OROU7.js";

// lib/db/index.ts
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { drizzle } from "drizzle-orm/mysql2";
import { migrate } from "drizzle-orm/mysql2/migrator";
import mysql from "mysql2/promise";

// lib/db/instrument.ts
function operationName(sqlText) {
  const s = sqlText.trimStart();
  const verb = (/^\w+/.exec(s)?.[0] ?? "unknown").toLowerCase();
  const table = verb === "select" || verb === "delete" ? /\bfrom\s+`?(\w+)`?/i.exec(s)?.[1] : verb === "insert" ? /\binto\s+`?(\w+)`?/i.exec(s)?.[1] : verb === "update" ? /^update\s+`?(\w+)`?/i.exec(s)?.[1] : void 0;
  return table ? `${verb} ${table}` : verb;
}
function sqlOf(arg) {
  if (typeof arg === "string") return arg;
  return arg?.sql ?? "";
}
async function guarded(breaker, fn) {
  const probe = breaker.admit();
  try {
    const result = await fn();
    breaker.success(probe);
    return result;
  } catch (err) {
    if (isConnectionError(err)) {
      breaker.failure(probe);
      throw new DbUnavailableError(breaker.retryAt, err);
    }
    breaker.neutral(probe);
    throw err;
  }
}
function timed(target, opts, method) {
  return async (...args) => {
    const op = operationName(sqlOf(args[0]));
    const params = args[1];
    const useExecute = method === "execute" || Array.isArray(params) && params.length > 0;
    const run = useExecute ? target.execute : target.query;
    const start = performance.now();
    try {
      return await guarded(opts.breaker, () => run.apply(target, args));
    } finally {
      const ms = performance.now() - start;
      dbQueryDuration.observe({ op }, ms / 1e3);
      if (ms >= opts.slowMs) opts.logger?.warn({ op, ms: Math.round(ms) }, "slow query");
    }
  };
}
function wrap(target, opts) {
  return new Proxy(target, {
    get(t, prop) {
      if (prop === "query" || prop === "execute") return timed(t, opts, prop);
      if (prop === "getConnection") {
        return async () => wrap(await guarded(opts.breaker, () => t.getConnection()), opts);
      }
      const v = Reflect.get(t, prop, t);
      return typeof v === "function" ? v.bind(t) : v;
    }
  });
}
function instrumentPool(pool, opts) {
  return wrap(pool, opts);
}

// lib/db/index.ts
var migrationsFolder = findUp("drizzle/migrations", fileURLToPath(new URL(".", import.meta.url)));
function findUp(relative, from) {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, relative);
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) throw new Error(`${relative} not found above ${from}`);
  }
}
function connectDatabase(url, poolSize = 10, opts = {}) {
  const breaker = new DbBreaker(opts.breakerThreshold ?? 5, opts.breakerOpenMs ?? 3e4, (from, to) => {
    dbBreakerState.set({ OPEN: 2, HALF_OPEN: 1, CLOSED: 0 }[to]);
    const log = opts.logger?.child({ component: "db-breaker" });
    if (to === "OPEN") log?.warn({ from, to }, "database circuit breaker opened: jobs wait until it closes");
    else log?.info({ from, to }, "database circuit breaker state change");
  });
  const pool = mysql.createPool({
    uri: url,
    connectionLimit: poolSize,
    // Store and read DATETIME as UTC whatever the server's time zone.
    timezone: "Z",
    dateStrings: false,
    enableKeepAlive: true,
    connectTimeout: 5e3
  });
  const instrumented = instrumentPool(pool, { breaker, slowMs: opts.slowMs ?? 200, logger: opts.logger });
  const db = drizzle(instrumented, { schema: schema_exports, mode: "default" });
  return { db, pool, breaker, close: () => pool.end() };
}
async function ensureDatabase(url) {
  const u = new URL(url);
  const name = decodeURIComponent(u.pathname.replace(/^\//, ""));
  if (!/^[A-Za-z0-9_]+$/.test(name)) throw new Error(`database name "${name}" in DATABASE_URL must be letters, digits and _`);
  u.pathname = "/";
  const conn = await mysql.createConnection({ uri: u.toString(), connectTimeout: 5e3 });
  try {
    await conn.query(`CREATE DATABASE IF NOT EXISTS \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  } finally {
    await conn.end();
  }
}
async function runMigrations(database) {
  await migrate(database.db, { migrationsFolder });
}
function isDuplicateKey(err) {
  const e = err;
  return e?.code === "ER_DUP_ENTRY" || e?.cause?.code === "ER_DUP_ENTRY";
}

export {
  connectDatabase,
  ensureDatabase,
  runMigrations,
  isDuplicateKey
};
//# sourceMappingURL=chunk-AFPE6KLN.js.map
