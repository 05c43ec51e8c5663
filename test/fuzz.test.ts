/**
 * 10,000 fuzzed requests against the real ingress over HTTP (in-process server, real Redis and
 * MariaDB, no workers): random bytes, truncated JSON, wrong types, huge headers, wrong content
 * types, missing and garbage signatures, oversize bodies, malformed HTTP on raw sockets, wrong
 * methods and paths. Every answer must be a 4xx — 2xx only for a validly signed body, and the
 * corpus holds no validly signed *handled* event, so nothing may be stored — never a 5xx, never
 * a dropped connection without an answer, and the server must still answer afterwards.
 * The corpus comes from a seeded PRNG (FUZZ_SEED replays one; FUZZ_N changes the count).
 */
import { connect } from 'node:net';
import { Readable } from 'node:stream';
import { sql } from 'drizzle-orm';
import { Pool } from 'undici';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { listen, type RunningServer } from '../apps/ingress/server';
import { QUEUE_NAMES } from '../lib/queues';
import { signRetellBody } from '../lib/retell/signature';
import { importTenants } from '../lib/tenants/import';
import { createTestEnv, type TestEnv } from './helpers/env';
import { CLINIC_NUMBER, SALON_NUMBER, retellEvent, twoCompanies } from './helpers/fixtures';
import { bytes, int, pick, prng } from './helpers/prng';

const N = Number(process.env.FUZZ_N ?? 10_000);
const SEED = Number(process.env.FUZZ_SEED ?? 20261126);
const KEY = 'key_test_retell_global';
const MAX_BODY = 64 * 1024;

let env: TestEnv;
let server: RunningServer;

beforeAll(async () => {
  // The failed-authentication limit would turn most of the corpus into 429s before it reaches the
  // parsers and the signature check this run is about (the limit has its own tests).
  env = await createTestEnv({ RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: '100000000', WEBHOOK_MAX_BODY_BYTES: String(MAX_BODY) });
  await importTenants({ db: env.ctx.database.db, cipher: env.ctx.cipher, cache: env.ctx.cache }, twoCompanies(), 'test');
  server = await listen(env.ctx, 0, '127.0.0.1');
});
afterAll(async () => {
  await server?.close();
  await env?.cleanup();
});

type Case =
  | { kind: string; raw?: undefined; method: string; path: string; headers: Record<string, string>; body?: Buffer | string; signedValid?: boolean; chunked?: boolean }
  | { kind: string; raw: Buffer };

const CONTENT_TYPES = ['application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=zz', 'application/xml', 'application/octet-stream', '', '*/*', 'application/json; charset=latin1', 'x'.repeat(300)];
const ENCODINGS = ['', 'br', 'gzip', 'gzip, deflate, br', 'identity', '*', 'br;q=0, gzip;q=1', 'x-unknown'];
const EVENTS = ['call_started', 'call_ended', 'call_analyzed'];

function validBody(rnd: () => number): Record<string, unknown> {
  const e = retellEvent(pick(EVENTS, rnd), {
    callId: `call_fuzz_${Math.floor(rnd() * 1e9).toString(36)}`,
    to: pick([SALON_NUMBER, CLINIC_NUMBER, '+4930999999'], rnd),
    vars: { booking_confirmed: 'ja', appointment_datetime: '2026-12-01T11:00', service: 'Haarschnitt' },
    analysis: { booking_confirmed: true },
  });
  return e;
}

/** A value of another type than the field wants. */
function wrongValue(rnd: () => number): unknown {
  return pick<unknown>([null, 0, -1, 1.5, 1e309, true, [], {}, [1, 'a'], 'x', '', 'x'.repeat(5000), { nested: { deeper: [null] } }, '\u0000', '\ud800', -0], rnd);
}

/** Break one field the schema checks (event, call, call_id, numbers, timestamps, …). */
function mutate(body: Record<string, unknown>, rnd: () => number): string {
  const call = body.call as Record<string, unknown>;
  const choice = int(0, 13, rnd);
  switch (choice) {
    case 0: body.event = pick<unknown>([123, null, [], {}, '', 'x'.repeat(65), true], rnd); break;
    case 1: body.call = pick<unknown>(['call', 42, null, [call], true], rnd); break;
    case 2: call.call_id = pick<unknown>([42, '', 'x'.repeat(101), null, [], {}], rnd); break;
    case 3: call.to_number = pick<unknown>(['abc', 4930111111, '+0123', '+49301111111111111111', '', null, ['+4930111111']], rnd); break;
    case 4: call.from_number = pick<unknown>(['not a number', 12345, '++49', {}], rnd); break;
    case 5: call.start_timestamp = pick<unknown>([-1, 'yesterday', 1.5, null, {}, '1700000000000'], rnd); break;
    case 6: call.direction = pick<unknown>(['sideways', 1, null, ['inbound']], rnd); break;
    case 7: call.collected_dynamic_variables = pick<unknown>([[1, 2], 'vars', 7, true], rnd); break;
    case 8: call.call_analysis = pick<unknown>(['good', 5, [], true], rnd); break;
    case 9: (call.call_analysis ??= {}), ((call.call_analysis as Record<string, unknown>).call_successful = pick<unknown>(['yes', 1, null, {}], rnd)); break;
    case 10: call.duration_ms = pick<unknown>([-5, 'long', 2.5, []], rnd); break;
    case 11: call.recording_url = 'x'.repeat(1001); break;
    case 12: delete body.call; break;
    default: call.disconnection_reason = wrongValue(rnd) === null ? 5 : 'x'.repeat(65);
  }
  return JSON.stringify(body);
}

function garbageSignature(rnd: () => number, body: string): string | undefined {
  const now = Date.now();
  return pick<string | undefined>(
    [
      undefined,
      '',
      'v=abc',
      'v=1,d=',
      `v=${now},d=${'0'.repeat(64)}`,
      `v=${now},d=${bytes(32, rnd).toString('hex')}`,
      `v=${now},d=${'f'.repeat(10_000)}`,
      `v=${now - 10 * 60_000},d=${signRetellBody(body, KEY, now - 10 * 60_000).split('d=')[1]}`,
      signRetellBody(body, 'wrong_key'),
      signRetellBody(body + ' ', KEY),
      `V=${now},D=${'A'.repeat(64)}`,
      `v=99999999999999999999,d=${'a'.repeat(64)}`,
      `v=${now},d=${'g'.repeat(64)}`,
      '\u00e9\u00e8',
      `${signRetellBody(body, KEY)},${signRetellBody(body, KEY)}`,
    ],
    rnd,
  );
}

function rawCase(rnd: () => number): Buffer {
  const body = JSON.stringify(validBody(rnd));
  const choices = [
    () => Buffer.concat([bytes(int(1, 200, rnd), rnd), Buffer.from('\r\n\r\n')]),
    () => Buffer.from(`POST /webhooks/retell HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nhello`),
    () => Buffer.from(`POST /webhooks/retell HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n${body}\r\n0\r\n\r\n`),
    () => Buffer.from(`POST /webhooks/retell HTTP/1.1\r\nHost: x\r\nBad Header: x\r\n\r\n`),
    () => Buffer.from(`POST /webhooks/retell HTTP/9.9\r\nHost: x\r\n\r\n`),
    () => Buffer.from(`POST /webhooks/retell HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n`),
    () => Buffer.from(`POST /webhooks/retell HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`),
    () => Buffer.from(`POST /webhooks/retell HTTP/1.1\r\nHost: x\r\nX-Retell-Signature: a\u0000b\r\n\r\n`),
    () => Buffer.from(`GET /${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`),
    () => Buffer.from(`POST /webhooks/retell HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n${body}`),
  ];
  return pick(choices, rnd)();
}

/** The fuzz corpus: `n` cases from `seed`, in a fixed mix. */
function corpus(n: number, seed: number): Case[] {
  const rnd = prng(seed);
  const out: Case[] = [];
  for (let i = 0; i < n; i++) {
    const r = rnd();
    const ct = pick(CONTENT_TYPES, rnd);
    const base = (extra: Record<string, string> = {}): Record<string, string> => {
      const h: Record<string, string> = { ...(ct ? { 'content-type': ct } : {}), ...extra };
      const enc = pick(ENCODINGS, rnd);
      if (enc) h['accept-encoding'] = enc;
      return h;
    };
    const path = rnd() < 0.8 ? '/webhooks/retell' : '/api/mcp/retell/webhook';
    if (r < 0.14) {
      // Random bytes, unsigned or with a garbage signature.
      const body = bytes(int(0, 4096, rnd), rnd);
      const sig = garbageSignature(rnd, body.toString('latin1'));
      out.push({ kind: 'random-bytes', method: 'POST', path, headers: base(sig === undefined ? {} : { 'x-retell-signature': sig }), body });
    } else if (r < 0.28) {
      // Truncated JSON; half validly signed (reaches the JSON parser → 400).
      const full = JSON.stringify(validBody(rnd));
      const body = full.slice(0, int(0, full.length - 1, rnd));
      const signedValid = rnd() < 0.5;
      out.push({ kind: 'truncated-json', method: 'POST', path, headers: base({ 'x-retell-signature': signedValid ? signRetellBody(body, KEY) : garbageSignature(rnd, body) ?? '' }), body, signedValid });
    } else if (r < 0.46) {
      // Wrong types; mostly validly signed (reaches the schema → 422).
      const body = mutate(validBody(rnd), rnd);
      const signedValid = rnd() < 0.8;
      out.push({ kind: 'wrong-types', method: 'POST', path, headers: base({ 'x-retell-signature': signedValid ? signRetellBody(body, KEY) : signRetellBody(body, 'nope') }), body, signedValid });
    } else if (r < 0.53) {
      // JSON that parses but is no webhook, validly signed.
      const body = pick(['null', '[]', '"call"', '42', 'true', '{}', '{"event":"call_ended"}', `{"event":"call_ended","call":{}}`, '\ufeff{"event":"call_ended"}', `${'['.repeat(5000)}${']'.repeat(5000)}`, `{"__proto__":{"event":"x"},"constructor":{"prototype":{}}}`, '{"event":"call_ended","call":{"call_id":"a"}} trailing', '{"a":1e999999}', `{"event":"\\ud800"}`], rnd);
      out.push({ kind: 'odd-json', method: 'POST', path, headers: base({ 'x-retell-signature': signRetellBody(body, KEY) }), body, signedValid: true });
    } else if (r < 0.6) {
      // Huge headers: beyond Node's 16 KB limit → 431 from the HTTP server itself.
      const body = JSON.stringify(validBody(rnd));
      const size = int(17, 80, rnd) * 1024;
      const h: Record<string, string> = rnd() < 0.5 ? { 'x-retell-signature': 'v=1,d=' + 'a'.repeat(size) } : { 'x-filler': 'b'.repeat(size) };
      out.push({ kind: 'huge-headers', method: 'POST', path, headers: base(h), body });
    } else if (r < 0.68) {
      // A valid body, unsigned or garbage-signed, under any content type.
      const body = JSON.stringify(validBody(rnd));
      const sig = garbageSignature(rnd, body);
      out.push({ kind: 'bad-signature', method: 'POST', path, headers: base(sig === undefined ? {} : { 'x-retell-signature': sig }), body });
    } else if (r < 0.72) {
      // An event callbook ignores, validly signed, under any content type: 200, nothing stored.
      const v = validBody(rnd);
      v.event = pick(['transcript_updated', 'call_transferred', 'x'], rnd);
      const body = JSON.stringify(v);
      out.push({ kind: 'ignored-event', method: 'POST', path, headers: base({ 'x-retell-signature': signRetellBody(body, KEY) }), body, signedValid: true });
    } else if (r < 0.8) {
      // Oversize bodies, with and without Content-Length.
      const body = Buffer.alloc(int(MAX_BODY + 1, MAX_BODY * 4, rnd), 0x61);
      out.push({ kind: 'oversize', method: 'POST', path, headers: base({ 'x-retell-signature': signRetellBody('x', KEY) }), body, chunked: rnd() < 0.5 });
    } else if (r < 0.88) {
      // Wrong methods and paths.
      const method = pick(['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'POST'], rnd);
      const p = pick(['/webhooks/retell', '/webhooks/retell/', '/webhooks/RETELL', '/webhooks/../webhooks/retell', '/%2e%2e/etc/passwd', '/webhooks/retell?x=%ZZ', `/${'x'.repeat(2000)}`, '/api/mcp/retell/webhook/x', '/admin/queues/api/queues', '/api/metrics/x'], rnd);
      const withBody = method !== 'GET' && method !== 'HEAD';
      out.push({ kind: 'method-path', method, path: method === 'POST' && p === '/webhooks/retell' ? '/webhooks/retell/x' : p, headers: base(), ...(withBody ? { body: bytes(int(0, 200, rnd), rnd) } : {}) });
    } else if (r < 0.95) {
      // Signed bodies of random bytes: signature ok, JSON parser says no.
      const body = bytes(int(1, 2048, rnd), rnd);
      out.push({ kind: 'signed-bytes', method: 'POST', path, headers: base({ 'x-retell-signature': signRetellBody(body.toString('latin1'), KEY) }), body: body.toString('latin1'), signedValid: true });
    } else {
      out.push({ kind: 'raw-http', raw: rawCase(rnd) });
    }
  }
  return out;
}

/** Writes raw bytes, reads the status line of the answer (or '' when the connection closes without one). */
function rawRequest(port: number, raw: Buffer): Promise<string> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    let buf = '';
    let done = false;
    const finish = (status: string) => {
      if (done) return;
      done = true;
      sock.destroy();
      resolve(status);
    };
    sock.setTimeout(5_000, () => finish('timeout'));
    sock.on('connect', () => sock.end(raw));
    sock.on('data', (d) => {
      buf += d.toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(buf);
      if (m) finish(m[1]!);
    });
    sock.on('error', () => finish(buf ? 'garbled' : 'reset'));
    sock.on('close', () => finish(buf ? 'garbled' : 'closed'));
  });
}

it(`${N} fuzzed requests: only 4xx (2xx only for validly signed bodies), never a 5xx, nothing stored`, async () => {
  const cases = corpus(N, SEED);
  const pool = new Pool(`http://127.0.0.1:${server.port}`, { connections: 64, headersTimeout: 10_000, bodyTimeout: 10_000 });
  const byStatus: Record<string, number> = {};
  const byKind: Record<string, Record<string, number>> = {};
  const wrong: string[] = [];
  const t0 = Date.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      for (;;) {
        const i = next++;
        if (i >= cases.length) return;
        const c = cases[i]!;
        let status: string;
        if (c.raw) status = await rawRequest(server.port, c.raw);
        else {
          try {
            // Chunked: a stream has no Content-Length, so the limit must count as the bytes arrive.
            const body = c.body === undefined ? undefined : c.chunked ? Readable.from([Buffer.from(c.body)]) : c.body;
            const res = await pool.request({ method: c.method as 'POST', path: c.path, headers: c.headers, body });
            await res.body.dump();
            status = String(res.statusCode);
          } catch (err) {
            status = `error:${(err as { code?: string }).code ?? (err as Error).message}`;
          }
        }
        byStatus[status] = (byStatus[status] ?? 0) + 1;
        const k = (byKind[c.kind] ??= {});
        k[status] = (k[status] ?? 0) + 1;
        const n = Number(status);
        const signed = 'signedValid' in c && c.signedValid === true;
        // Raw malformed HTTP may be refused by closing the socket (Node does for some parse errors).
        const ok = (n >= 400 && n < 500) || (signed && n >= 200 && n < 300) || (c.raw !== undefined && status === 'closed');
        if (!ok) wrong.push(`#${i} ${c.kind}: ${status}`);
      }
    }),
  );
  await pool.close();
  const ms = Date.now() - t0;

  // Still alive and answering; nothing reached the queues or the database.
  expect((await fetch(`http://127.0.0.1:${server.port}/healthz`)).status).toBe(200);
  const jobs: Record<string, number> = {};
  for (const name of QUEUE_NAMES) {
    const counts = await env.ctx.queues[name].getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized', 'waiting-children');
    jobs[name] = Object.values(counts).reduce((a, b) => a + b, 0);
  }
  const db = env.ctx.database.db;
  const rows: Record<string, number> = {};
  for (const table of ['calls', 'webhook_events', 'customers', 'appointments', 'notifications']) {
    const [[r]] = (await db.execute(sql.raw(`SELECT COUNT(*) AS n FROM ${table}`))) as unknown as [[{ n: number }]];
    rows[table] = Number(r.n);
  }

  console.log(
    `\nfuzz: ${cases.length} requests in ${(ms / 1000).toFixed(1)} s (${Math.round(cases.length / (ms / 1000))}/s), seed ${SEED}\n` +
      `  by status: ${JSON.stringify(byStatus)}\n` +
      Object.entries(byKind).map(([k, v]) => `  ${k.padEnd(15)} ${JSON.stringify(v)}`).join('\n') +
      `\n  jobs stored: ${JSON.stringify(jobs)}\n  rows stored: ${JSON.stringify(rows)}`,
  );
  expect(wrong.slice(0, 30)).toEqual([]);
  expect(Object.keys(byStatus).filter((s) => /^5/.test(s))).toEqual([]);
  expect(Object.values(jobs).every((n) => n === 0)).toBe(true);
  expect(Object.values(rows).every((n) => n === 0)).toBe(true);
}, 120_000);
