/**
 * `npm start`: the whole system in one process. With no configuration it is a sandbox: the local
 * (or an embedded) Redis, the local MySQL/MariaDB (database created and migrated), generated
 * secrets kept in .sandbox/env (so the CLI finds them), the demo tenants from
 * examples/tenants.yaml, the ingress and every worker. Set DATABASE_URL, REDIS_URL and the
 * other variables to run against real services instead.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConfigError, loadConfig } from '../../lib/config';
import { createContext } from '../../lib/context';
import { connectDatabase, ensureDatabase, runMigrations } from '../../lib/db';
import { parseTenantsFile, importTenants } from '../../lib/tenants/import';
import { listen } from '../ingress/server';
import { availableQueues, scheduleRepeatables, startWorkers } from '../../workers';
import { onShutdownSignal } from '../../lib/startup';
import { SANDBOX_ENV_FILE } from '../cli/env';
import { createRetellSim, startRetellSim } from '../../sim/retell';
import { createLogger } from '../../lib/logger';
import { seedRetellFromTenants } from './retell';
import { startSandboxCalcom } from './calcom';
import { NoMysqlError, resolveDatabaseUrl, resolveRedis } from './services';

const DEMO_TENANTS = 'examples/tenants.yaml';

/** Secrets generated once and kept, so data encrypted in one run can be read in the next. */
function sandboxSecrets(): Record<string, string> {
  const saved: Record<string, string> = {};
  if (existsSync(SANDBOX_ENV_FILE)) {
    for (const line of readFileSync(SANDBOX_ENV_FILE, 'utf8').split('\n')) {
      const m = /^([A-Z_]+)=(.*)$/.exec(line);
      if (m) saved[m[1]!] = m[2]!;
    }
  }
  return {
    ENCRYPTION_KEY: saved.ENCRYPTION_KEY ?? randomBytes(32).toString('base64'),
    ADMIN_TOKEN: saved.ADMIN_TOKEN ?? randomBytes(18).toString('base64url'),
    METRICS_TOKEN: saved.METRICS_TOKEN ?? randomBytes(18).toString('base64url'),
    RETELL_API_KEY: saved.RETELL_API_KEY ?? 'key_sandbox_retell_webhooks',
  };
}

async function main(): Promise<void> {
  const env = process.env;
  const redis = await resolveRedis(env.REDIS_URL);
  const database = await resolveDatabaseUrl(env.DATABASE_URL);
  const secrets = sandboxSecrets();
  const tenants = parseTenantsFile(readFileSync(DEMO_TENANTS, 'utf8'), DEMO_TENANTS);
  // Cal.com: the real one when CALCOM_API_URL is set, else the simulator seeded from the tenants.
  const calcomSim = env.CALCOM_API_URL ? undefined : await startSandboxCalcom(tenants, Number(env.CALCOM_SIM_PORT ?? 5555));
  // Retell: the real API when RETELL_API_URL is set, else the simulator (the sync worker talks to it).
  const retellKey = env.RETELL_API_KEY ?? secrets.RETELL_API_KEY!;
  const port = env.PORT ?? '3000';
  const publicUrl = env.PUBLIC_URL ?? `http://127.0.0.1:${port}`;
  // Seeded from the same tenants, so the first sync reports no problems about the demo data.
  const retellSim = env.RETELL_API_URL
    ? undefined
    : await (async () => {
        const sim = createRetellSim({ apiKeys: [retellKey] });
        seedRetellFromTenants(sim, tenants, publicUrl);
        return startRetellSim(sim, Number(env.RETELL_SIM_PORT ?? 5556));
      })();
  const vars: Record<string, string> = {
    DATABASE_URL: database.url,
    REDIS_URL: redis.url,
    PORT: port,
    PUBLIC_URL: publicUrl,
    REDIS_PREFIX: env.REDIS_PREFIX ?? 'callbook',
    ENCRYPTION_KEY: env.ENCRYPTION_KEY ?? secrets.ENCRYPTION_KEY!,
    ADMIN_TOKEN: env.ADMIN_TOKEN ?? secrets.ADMIN_TOKEN!,
    METRICS_TOKEN: env.METRICS_TOKEN ?? secrets.METRICS_TOKEN!,
    // Ctrl-C stops at once: nothing balances load in front of the sandbox.
    SHUTDOWN_DELAY_MS: env.SHUTDOWN_DELAY_MS ?? '0',
    RETELL_API_KEY: retellKey,
    LOG_LEVEL: env.LOG_LEVEL ?? 'info',
    ...(calcomSim ? { CALCOM_API_URL: calcomSim.url } : {}),
    ...(retellSim ? { RETELL_API_URL: retellSim.url } : {}),
  };
  const config = loadConfig({ ...env, ...vars });
  mkdirSync(dirname(SANDBOX_ENV_FILE), { recursive: true });
  writeFileSync(SANDBOX_ENV_FILE, `${Object.entries(vars).map(([k, v]) => `${k}=${v}`).join('\n')}\n`, { mode: 0o600 });

  await ensureDatabase(config.DATABASE_URL);
  const migrator = connectDatabase(config.DATABASE_URL, 1);
  await runMigrations(migrator);
  await migrator.close();

  // People read the sandbox's logs: pino-pretty (a dev dependency); LOG_FORMAT=json for raw lines.
  const ctx = createContext(config, createLogger(config.LOG_LEVEL, {}, { pretty: env.LOG_FORMAT !== 'json' }));
  await importTenants({ db: ctx.database.db, cipher: ctx.cipher, cache: ctx.cache }, tenants, 'sandbox');

  const workers = startWorkers(ctx, availableQueues());
  await scheduleRepeatables(ctx, availableQueues());
  const server = await listen(ctx, config.PORT, config.HOST);
  const base = `http://127.0.0.1:${server.port}`;
  const numbers = tenants.companies.flatMap((c) => c.branches.map((b) => `${b.phoneNumbers.join(', ')} → ${c.name} / ${b.name}`));
  process.stdout.write(
    [
      '',
      'callbook is running',
      `  ingress      ${base}  (POST /webhooks/retell, GET /healthz, /readyz, /api/metrics with METRICS_TOKEN)`,
      `  console      ${base}/console  (sign in with ADMIN_TOKEN from ${SANDBOX_ENV_FILE}, or a token from \`npx callbook tokens create\`)`,
      `  Bull Board   ${base}/admin/queues  (token: ADMIN_TOKEN in ${SANDBOX_ENV_FILE})`,
      `  redis        ${redis.url} (${redis.source})`,
      `  database     ${config.DATABASE_URL} (${database.source})`,
      `  workers      ${availableQueues().join(', ')}`,
      `  Retell API   ${config.RETELL_API_URL}${retellSim ? ' (simulator)' : ''}`,
      `  Cal.com      ${config.CALCOM_API_URL}${calcomSim ? ' (simulator; its bookings: ' + calcomSim.origin + '/__sim/bookings)' : ''}`,
      `  demo tenants ${DEMO_TENANTS}:`,
      ...numbers.map((n) => `               ${n}`),
      `  settings     ${SANDBOX_ENV_FILE} (read by the CLI too)`,
      '',
      'Place a demo call (in another terminal):',
      '  npx callbook demo-call',
      '  npx callbook demo-call --when "morgen um 14 Uhr" --service "Färben" --name "Anna"',
      '',
    ].join('\n'),
  );

  onShutdownSignal(async () => {
    await server.close();
    await workers.close();
    await ctx.close();
    await redis.stop();
    await calcomSim?.close();
    await retellSim?.close();
  }, ctx.logger);
}

main().catch((err: unknown) => {
  if (err instanceof NoMysqlError || err instanceof ConfigError) console.error(err.message);
  else console.error(err);
  process.exit(1);
});
