/**
 * `npm run smoke` (CI): the built service as an operator runs it. Starts `node dist/web.js` and
 * `node dist/worker.js` as OS processes against a fresh database and key prefix (test/helpers),
 * the Cal.com simulator in-process, sends one call_analyzed webhook signed with retell-sdk, and
 * waits until its appointment is booked. Exits 0 on success, 1 with the processes' output on
 * failure. Needs `npm run build` first.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { eq } from 'drizzle-orm';
import { appointments, calls } from '../drizzle/schema';
import { createCalcomSim, startCalcomSim } from '../sim/calcom';
import { seedTwoCompanies } from '../test/helpers/seed';
import { createTestEnv, importTestTenants } from '../test/helpers/env';
import { callId, retellEvent, signed } from '../test/helpers/fixtures';

for (const f of ['dist/web.js', 'dist/worker.js']) if (!existsSync(f)) throw new Error(`${f} is missing: run npm run build first`);

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

const sim = createCalcomSim();
seedTwoCompanies(sim);
const running = await startCalcomSim(sim, 0);
const env = await createTestEnv({ CALCOM_API_URL: running.url });
await importTestTenants(env);
const port = await freePort();
let output = '';
const start = (script: string, args: string[] = []): ChildProcess => {
  const child = spawn(process.execPath, [script, ...args], {
    env: { ...process.env, ...env.vars, CALCOM_API_URL: running.url, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info', RETELL_API_URL: 'http://127.0.0.1:9' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const s of [child.stdout!, child.stderr!]) s.on('data', (d: Buffer) => (output += `[${script}] ${d}`));
  return child;
};
const web = start('dist/web.js');
const worker = start('dist/worker.js', ['webhooks', 'bookings', 'notifications']);

async function until(what: string, cond: () => Promise<boolean>, ms = 60_000): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 200))) if (await cond().catch(() => false)) return;
  throw new Error(`timed out waiting for ${what}`);
}

let ok = false;
try {
  await until('the built web process (/readyz)', async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok);
  await until('the built worker', async () => output.includes('workers started'));
  const id = callId();
  const day = new Date(Date.now() + 7 * 86400_000);
  while ([0, 6].includes(day.getUTCDay())) day.setUTCDate(day.getUTCDate() + 1);
  const analysis = { booking_confirmed: 'ja', appointment_datetime: `${day.toISOString().slice(0, 10)}T11:00`, service: 'Haarschnitt' };
  const body = JSON.stringify(retellEvent('call_analyzed', { callId: id, vars: analysis, analysis }));
  const res = await fetch(`http://127.0.0.1:${port}/webhooks/retell`, { method: 'POST', body, headers: { ...(await signed(body)), 'x-request-id': 'smoke-1' } });
  if (res.status !== 202 || res.headers.get('x-request-id') !== 'smoke-1') throw new Error(`webhook answered ${res.status} (x-request-id ${res.headers.get('x-request-id')}): ${await res.text()}`);
  const db = env.ctx.database.db;
  await until('the booking', async () => {
    const [row] = await db.select({ status: appointments.status }).from(calls).innerJoin(appointments, eq(appointments.id, calls.appointmentId)).where(eq(calls.retellCallId, id));
    return row?.status === 'booked';
  });
  console.log(`smoke: the built web and worker processes booked call ${id} in the Cal.com simulator`);
  ok = true;
} catch (err) {
  console.error(`smoke failed: ${(err as Error).message}\n${output.slice(-4000)}`);
} finally {
  for (const child of [web, worker]) child.kill('SIGTERM');
  await Promise.all([web, worker].map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
  await env.cleanup();
  await running.close();
}
process.exit(ok ? 0 : 1);
