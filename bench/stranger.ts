/**
 * What a stranger's request costs the web process: Retell webhook bodies of three sizes (identity
 * fields only; a 10- and a 45-minute call's transcript with each word's timing, as Retell's call
 * object carries it) with a signature that is missing, stale, or well-formed and fresh but made
 * up. Each is refused 401; the question is how much CPU the refusal takes — a body that is read
 * and parsed costs many times one that is refused on its signature alone.
 *
 * The built web process (`node dist/web.js` with the Procfile's flags) runs twice: in a deployment
 * where no company has a Retell key of its own (a made-up signature is refused unread), and after
 * `tenants import` gave one company its own key (a made-up signature's body is parsed, since the
 * number in it may name that company). Each request comes from its own address (TRUST_PROXY=1,
 * X-Forwarded-For), so the 401 path is measured, not the 429 one. The ceilings, measured in the
 * same run on the same bodies: a bare Hono server (bench/ceilings/bare.ts) that only reads the
 * body, and one that reads and parses it.
 *
 *   npm run bench:stranger                 # 200 requests per cell
 *   BENCH_REQUESTS=500 npm run bench:stranger
 */
import type { ChildProcess } from 'node:child_process';
import Retell from 'retell-sdk';
import { Agent, request } from 'undici';
import { TieredCache } from '../lib/cache';
import { Cipher } from '../lib/crypto';
import { connectDatabase, ensureDatabase, runMigrations } from '../lib/db';
import { createRedis } from '../lib/redis';
import { signRetellBody } from '../lib/retell/signature';
import { importTenants } from '../lib/tenants/import';
import { tenantsFileSchema, type TenantsFile } from '../lib/tenants/file-schema';
import { readProcfile } from '../test/helpers/procfile';
import { realtimeTranscript } from '../test/helpers/transcript';
import { benchVars, dropBenchState, freePort, load, machine, procStats, startProcess, startRedis, stopProcess, table, waitForHttp, waitForLine } from './lib';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 200);
const NUMBER = '+4930999000';

const tenants = (ownKey?: string): TenantsFile =>
  tenantsFileSchema.parse({
    companies: [
      {
        slug: 'bench',
        name: 'Bench',
        language: 'de',
        calcomApiKey: 'cal_bench_stranger',
        ...(ownKey ? { retellApiKey: ownKey } : {}),
        branches: [{ slug: 'main', name: 'Main', timezone: 'Europe/Berlin', phoneNumbers: [NUMBER], defaultService: 'cut' }],
        services: [{ slug: 'cut', name: 'Cut', calcomEventTypeId: 9200, durationMinutes: 30 }],
      },
    ],
  });

function body(minutes: number): Buffer {
  const call = { call_id: `call_stranger_${minutes}`, agent_id: 'agent_x', call_type: 'phone_call', call_status: 'ended', direction: 'inbound', to_number: NUMBER, from_number: '+4917012345678', ...realtimeTranscript(minutes) };
  return Buffer.from(JSON.stringify({ event: 'call_ended', call }));
}

const BODIES = [
  { label: 'identity fields only', buf: body(0) },
  { label: "a 10-minute call's", buf: body(10) },
  { label: "a 45-minute call's", buf: body(45) },
];

type SignatureKind = 'missing' | 'stale' | 'made up';
const SIGNATURES: SignatureKind[] = ['missing', 'stale', 'made up'];

async function signatureHeader(kind: SignatureKind, buf: Buffer): Promise<Record<string, string>> {
  if (kind === 'missing') return {};
  if (kind === 'stale') return { 'x-retell-signature': signRetellBody(buf.toString(), 'key_stranger', Date.now() - 10 * 60_000) };
  return { 'x-retell-signature': await Retell.sign(buf.toString(), 'key_stranger') };
}

/** CPU ms per request of `pid` over REQUESTS posts of `buf` (after 20 to warm up); every answer must be `expect`. */
async function measure(pid: number, url: string, buf: Buffer, headers: Record<string, string>, expect: number): Promise<number> {
  const agent = new Agent({ connections: 1, keepAliveTimeout: 60_000 });
  let n = 0;
  const post = async () => {
    n++;
    const res = await request(url, { method: 'POST', body: buf, dispatcher: agent, headers: { 'content-type': 'application/json', 'x-forwarded-for': `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`, ...headers } });
    await res.body.dump();
    if (res.statusCode !== expect) throw new Error(`${url}: ${res.statusCode}, expected ${expect}`);
  };
  for (let i = 0; i < 20; i++) await post();
  const cpu0 = procStats(pid)!.cpuSec;
  for (let i = 0; i < REQUESTS; i++) await post();
  const ms = ((procStats(pid)!.cpuSec - cpu0) * 1000) / REQUESTS;
  await agent.close();
  return ms;
}

async function main(): Promise<number> {
  const children: ChildProcess[] = [];
  const redisServer = await startRedis();
  const port = await freePort();
  const vars = benchVars({ REDIS_URL: redisServer.url, TRUST_PROXY: '1', PORT: String(port), HOST: '127.0.0.1', RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: '1000000' });
  try {
    await ensureDatabase(vars.DATABASE_URL!);
    const database = connectDatabase(vars.DATABASE_URL!, 2);
    await runMigrations(database);
    const redis = createRedis(vars.REDIS_URL!, 'client');
    const importDeps = { db: database.db, cipher: new Cipher(vars.ENCRYPTION_KEY!), cache: new TieredCache(redis, `${vars.REDIS_PREFIX}:`) };
    const procfileFlags = (readProcfile().get('web') ?? []).filter((w) => w.startsWith('-'));
    const base = `http://127.0.0.1:${port}`;

    // cost[deployment][body][signature]
    const cost: Record<string, number[][]> = {};
    for (const deployment of ['no company key', 'a company key'] as const) {
      await importTenants(importDeps, tenants(deployment === 'a company key' ? 'key_bench_company_own' : undefined), 'bench');
      // A fresh web process: it sees the import at once (another process would within 30 s).
      const web = startProcess([...procfileFlags, 'dist/web.js'], vars, 'web');
      children.push(web);
      await waitForHttp(`${base}/healthz`);
      cost[deployment] = [];
      for (const b of BODIES) {
        const row: number[] = [];
        for (const kind of SIGNATURES) row.push(await measure(web.pid!, `${base}/webhooks/retell`, b.buf, await signatureHeader(kind, b.buf), 401));
        cost[deployment].push(row);
      }
      await stopProcess(web);
      children.splice(children.indexOf(web), 1);
    }
    redis.disconnect();
    await database.close();

    const bare = startProcess([...procfileFlags, 'bench/ceilings/bare.ts'], { PORT: '0', HOST: '127.0.0.1' }, 'bare');
    children.push(bare);
    const [, barePort] = await waitForLine(bare, /listening on (\d+)/);
    const bareBase = `http://127.0.0.1:${barePort}`;
    const readOnly: number[] = [];
    const readAndParse: number[] = [];
    for (const b of BODIES) {
      readOnly.push(await measure(bare.pid!, `${bareBase}/webhooks/retell`, b.buf, {}, 204));
      readAndParse.push(await measure(bare.pid!, `${bareBase}/functions/retell/x`, b.buf, {}, 200));
    }

    console.log(`\nbench/stranger — Retell webhooks refused 401, ${REQUESTS} per cell, one keep-alive connection, each from its own address; the web process's CPU (ms per request); ${machine()}\n`);
    const rows: Array<Array<string | number>> = [];
    BODIES.forEach((b, i) => {
      SIGNATURES.forEach((kind, j) => {
        rows.push([
          `${b.label} (${(b.buf.length / 1024).toFixed(1)} KiB)`,
          kind,
          cost['no company key']![i]![j]!.toFixed(2),
          cost['a company key']![i]![j]!.toFixed(2),
          readOnly[i]!.toFixed(2),
          readAndParse[i]!.toFixed(2),
        ]);
      });
    });
    console.log(table(['body', 'signature', 'no company key', 'a company key', 'bare: read', 'bare: read + parse'], rows));
    console.log(`\nLoad average (1/5/15 min) after: ${load()}.`);
    return 0;
  } finally {
    for (const child of children.reverse()) await stopProcess(child);
    await dropBenchState(vars);
    await redisServer.stop();
  }
}

process.exit(await main());
