/**
 * Latency of Retell's inbound-call webhook (`POST /webhooks/retell/inbound`), which must answer
 * well inside Retell's patience while the phone rings (callbook's own deadline: 80 ms, then the
 * empty answer). A private database seeded with 2000 customers (half of them with appointments,
 * 10 000 appointment rows in all); this driver signs N bodies and sends them one after another
 * in-process through `app.request`, then over HTTP on loopback to an ingress in its own OS process
 * (`apps/ingress/main.ts`), one at a time and 10 in flight. Callers rotate, so the customer
 * query never repeats back to back.
 *
 *   npx tsx bench/inbound.ts            # N=500
 *   BENCH_N=2000 npx tsx bench/inbound.ts
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { createApp } from '../apps/ingress/app';
import { ingressDeps } from '../apps/ingress/deps';
import { appointments, services } from '../drizzle/schema';
import { upsertCustomer } from '../lib/calls/record-call';
import { lookupPhone } from '../lib/calls/resolve-phone';
import { loadConfig } from '../lib/config';
import { createContext } from '../lib/context';
import { connectDatabase, ensureDatabase, runMigrations } from '../lib/db';
import { createLogger } from '../lib/logger';
import { answerInbound } from '../lib/inbound';
import { signRetellBody } from '../lib/retell/signature';
import { parseInboundBody, type InboundBody } from '../lib/retell/body';
import { tenantsFileSchema } from '../lib/tenants/file-schema';
import { importTenants } from '../lib/tenants/import';
import { benchVars, dropBenchState, freePort, machine, percentile, startProcess, stopProcess, table, waitForLine } from './lib';

const N = Number(process.env.BENCH_N ?? 500);
const CUSTOMERS = 2000;
const NUMBER = '+4930777000';

const vars = benchVars();
const config = loadConfig(vars);
await ensureDatabase(config.DATABASE_URL);
const migrator = connectDatabase(config.DATABASE_URL, 1);
await runMigrations(migrator);
await migrator.close();
const ctx = createContext(config, createLogger('warn'));
const db = ctx.database.db;

await importTenants(
  { db, cipher: ctx.cipher, cache: ctx.cache },
  tenantsFileSchema.parse({
    companies: [
      {
        slug: 'bench-salon',
        name: 'Bench Salon',
        language: 'de',
        branches: [{ slug: 'main', name: 'Bench Salon Mitte', timezone: 'Europe/Berlin', openingHours: 'Mo–Fr 9–18 Uhr', phoneNumbers: [NUMBER] }],
        services: [{ slug: 'cut', name: 'Haarschnitt', calcomEventTypeId: 7001, durationMinutes: 30 }],
      },
    ],
  }),
  'bench',
);
const where = (await lookupPhone(db, NUMBER))!;
const [svc] = await db.select().from(services);
const callers: string[] = [];
const rows: Array<typeof appointments.$inferInsert> = [];
for (let i = 0; i < CUSTOMERS; i++) {
  const phone = `+4917${String(20_000_000 + i)}`;
  const customerId = await upsertCustomer(db, where.companyId, phone, `Kunde ${i}`);
  callers.push(phone);
  if (i % 2 === 0) {
    for (let k = 0; k < 10; k++) {
      const start = new Date(Date.now() + (k - 5) * 7 * 24 * 3600_000 + i * 60_000); // half past, half upcoming
      rows.push({ companyId: where.companyId, branchId: where.branchId, customerId, serviceId: svc!.id, idempotencyKey: randomBytes(16).toString('hex'), calcomBookingUid: randomBytes(10).toString('hex'), startAt: start, endAt: new Date(start.getTime() + 1_800_000), status: k === 6 ? 'cancelled' : 'booked', source: 'call' });
    }
  }
}
for (let i = 0; i < rows.length; i += 1000) await db.insert(appointments).values(rows.slice(i, i + 1000));
console.error(`seeded ${CUSTOMERS} customers, ${rows.length} appointments`);

type Kind = 'known' | 'unknown caller' | 'unknown number';
function body(kind: Kind, i: number): string {
  const from = kind === 'known' ? callers[i % CUSTOMERS]! : `+4915${String(30_000_000 + i)}`;
  const to = kind === 'unknown number' ? '+4989000000' : NUMBER;
  return JSON.stringify({ event: 'call_inbound', call_inbound: { agent_id: 'agent_bench', from_number: from, to_number: to } });
}
const requests = (kind: Kind) => Array.from({ length: N }, (_, i) => ({ body: body(kind, i + 7919), signature: '' })).map((r) => ({ ...r, signature: signRetellBody(r.body, config.RETELL_API_KEY) }));
const summary = (times: number[]) => {
  const t = [...times].sort((a, b) => a - b);
  return [percentile(t, 50).toFixed(2), percentile(t, 90).toFixed(2), percentile(t, 99).toFixed(2), t[t.length - 1]!.toFixed(2)];
};

const app = createApp(ingressDeps(ctx));
const results: Array<Array<string | number>> = [];
let emptyWhenKnown = 0;

async function inProcess(kind: Kind) {
  const reqs = requests(kind);
  for (const r of reqs.slice(0, 50)) await app.request('/webhooks/retell/inbound', { method: 'POST', body: r.body, headers: { 'content-type': 'application/json', 'x-retell-signature': r.signature } });
  const times: number[] = [];
  for (const r of reqs) {
    const t0 = performance.now();
    const res = await app.request('/webhooks/retell/inbound', { method: 'POST', body: r.body, headers: { 'content-type': 'application/json', 'x-retell-signature': r.signature } });
    const json = (await res.json()) as { call_inbound: { dynamic_variables?: unknown } };
    times.push(performance.now() - t0);
    if (res.status !== 200) throw new Error(`status ${res.status}`);
    if (kind === 'known' && !json.call_inbound.dynamic_variables) emptyWhenKnown++;
  }
  results.push(['in-process (app.request)', kind, 1, N, ...summary(times)]);
}

async function overHttp(kind: Kind, port: number, concurrency: number) {
  const reqs = requests(kind);
  const send = async (r: { body: string; signature: string }) => {
    const res = await fetch(`http://127.0.0.1:${port}/webhooks/retell/inbound`, { method: 'POST', body: r.body, headers: { 'content-type': 'application/json', 'x-retell-signature': r.signature } });
    const json = (await res.json()) as { call_inbound: { dynamic_variables?: unknown } };
    if (res.status !== 200) throw new Error(`status ${res.status}`);
    if (kind === 'known' && !json.call_inbound.dynamic_variables) emptyWhenKnown++;
  };
  for (const r of reqs.slice(0, 50)) await send(r);
  const times: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < reqs.length) {
        const r = reqs[next++]!;
        const t0 = performance.now();
        await send(r);
        times.push(performance.now() - t0);
      }
    }),
  );
  results.push(['HTTP loopback, ingress process', kind, concurrency, N, ...summary(times)]);
}

// The lookup alone (resolution cached, customer + next appointment from the database).
{
  const times: number[] = [];
  for (let i = 0; i < N; i++) {
    const b = parseInboundBody(JSON.parse(body('known', i))) as { ok: true; value: InboundBody };
    const t0 = performance.now();
    await answerInbound({ db, cache: ctx.cache }, b.value);
    times.push(performance.now() - t0);
  }
  results.push(['lookup only (answerInbound)', 'known', 1, N, ...summary(times)]);
}
for (const kind of ['known', 'unknown caller', 'unknown number'] as const) await inProcess(kind);
const port = await freePort();
const ingress = startProcess(['apps/ingress/main.ts'], { ...vars, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info' }, 'ingress');
await waitForLine(ingress, /ingress listening/);
for (const kind of ['known', 'unknown caller'] as const) await overHttp(kind, port, 1);
await overHttp('known', port, 10);
await stopProcess(ingress);

console.log(`\nbench/inbound — ${N} signed requests per row, ${CUSTOMERS} customers / ${rows.length} appointments; ${machine()}; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
console.log(table(['path', 'caller', 'in flight', 'requests', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms'], results));
if (emptyWhenKnown) console.log(`\nWARNING: ${emptyWhenKnown} known callers got the empty answer (deadline hit?)`);
await ctx.close();
await dropBenchState(vars);
process.exit(0);
