/**
 * How long the console's MCP tools take on a company with many calls: N calls (default 20,000,
 * one a minute), every fourth with a booking that has not landed (half pending, half failed),
 * the rest not booked; stats_overview and calls_list (a page, and the failed ones) over the last
 * 30 days, through /mcp over HTTP, the median of 7. Uses its own test database.
 *
 *   npm run bench:console
 *   BENCH_N=100000 npm run bench:console
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createApp } from '../apps/ingress/app';
import { ingressDeps } from '../apps/ingress/deps';
import { mountMcp } from '../apps/ingress/routes/mcp';
import { listen } from '../apps/ingress/server';
import { appointments, branches, calls, customers } from '../drizzle/schema';
import { createTestEnv, importTestTenants } from '../test/helpers/env';

const env = await createTestEnv();
await importTestTenants(env);
const db = env.ctx.database.db;
const [b] = await db.select().from(branches);
const N = Number(process.env.BENCH_N ?? 20_000);
const [cust] = await db.insert(customers).values({ companyId: b!.companyId, phone: '+4917000000', phoneIndex: 'x' });
for (let i = 0; i < N; i += 1000) {
  await db.insert(calls).values(Array.from({ length: 1000 }, (_, k) => ({ retellCallId: `c${i + k}`, companyId: b!.companyId, branchId: b!.id, status: 'analyzed', startedAt: new Date(Date.now() - (i + k) * 60_000), bookingDecision: (i + k) % 4 === 0 ? 'book' : 'no_booking', bookingReason: (i + k) % 4 ? `reason ${(i + k) % 7}` : null })));
}
const rows = await db.select({ id: calls.id, d: calls.bookingDecision }).from(calls);
const booked = rows.filter((r) => r.d === 'book');
for (let i = 0; i < booked.length; i += 1000) {
  await db.insert(appointments).values(booked.slice(i, i + 1000).map((r, k) => ({ companyId: b!.companyId, branchId: b!.id, customerId: Number(cust.insertId), callId: r.id, serviceId: 1, idempotencyKey: String(r.id).padStart(64, '0'), startAt: new Date(), status: k % 2 ? 'failed' : 'pending', source: 'call' })));
}
const server = await listen(env.ctx, 0, '127.0.0.1', createApp({ ...ingressDeps(env.ctx), routes: [mountMcp(env.ctx)] }));
const client = new Client({ name: 'bench', version: '1' });
await client.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${server.port}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${env.config.ADMIN_TOKEN}` } } }));
const d = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString().slice(0, 10);
for (const [name, args] of [['stats_overview', { from: d(30), to: d(0), timeZone: 'Europe/Berlin' }], ['calls_list', { from: d(30), to: d(0), timeZone: 'Europe/Berlin', limit: 10 }], ['calls_list', { from: d(30), to: d(0), timeZone: 'Europe/Berlin', outcome: 'failed', limit: 10 }]] as const) {
  const t: number[] = [];
  for (let i = 0; i < 7; i++) {
    const s = performance.now();
    await client.callTool({ name, arguments: args });
    t.push(performance.now() - s);
  }
  t.sort((a, b) => a - b);
  console.log(`${name} ${JSON.stringify(args).slice(0, 60)}: median ${t[3]!.toFixed(0)} ms over ${N} calls`);
}
await client.close();
await server.close();
await env.cleanup();
process.exit(0);
