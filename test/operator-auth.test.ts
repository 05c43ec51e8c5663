/**
 * The operator surfaces — /admin, /mcp, /events — played as an attacker would, over real HTTP
 * against real MariaDB and Redis. Requests leave from different loopback addresses
 * (127.0.0.2, 127.0.0.3 …: the socket's own address, no X-Forwarded-For, so no TRUST_PROXY is
 * involved) to show the wrong-token throttle counts per source address and is shared by the three
 * routes; another tenant's token, a branch token for another branch and a revoked token see
 * nothing; a token cannot hold more than EVENTS_MAX_STREAMS_PER_TOKEN streams; a revoked token's
 * open stream ends.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen, type RunningServer } from '../apps/ingress/server';
import { authGate, WRONG_CREDENTIALS_PER_MINUTE } from '../lib/auth/bearer';
import { REVOCATION_CHECK_MS } from '../lib/auth/revocation-watch';
import { createToken, revokeToken } from '../lib/auth/tokens';
import { lookupPhone, type PhoneResolution } from '../lib/calls/resolve-phone';
import { publishEvent } from '../lib/events';
import { closeEventHubs } from '../lib/events/hub';
import { scanKeys } from '../lib/redis';
import { importTenants } from '../lib/tenants/import';
import { createTestEnv, type TestEnv } from './helpers/env';
import { CLINIC_NUMBER, SALON_NUMBER, twoCompanies } from './helpers/fixtures';

const KREUZBERG_NUMBER = '+4930333333';
const MAX_STREAMS = 2;

let env: TestEnv;
let server: RunningServer;
let mitte: PhoneResolution;
let kreuzberg: PhoneResolution;
let clinic: PhoneResolution;
const tokens = { salon: '', mitte: '', clinic: '' };
let ADMIN: string;

beforeAll(async () => {
  env = await createTestEnv({ EVENTS_MAX_STREAMS_PER_TOKEN: String(MAX_STREAMS) });
  ADMIN = env.config.ADMIN_TOKEN;
  const tenants = twoCompanies();
  tenants.companies[0]!.branches.push({ slug: 'kreuzberg', name: 'Salon Anna Kreuzberg', timezone: 'Europe/Berlin', phoneNumbers: [KREUZBERG_NUMBER] });
  const db = env.ctx.database.db;
  await importTenants({ db, cipher: env.ctx.cipher, cache: env.ctx.cache }, tenants, 'test');
  mitte = (await lookupPhone(db, SALON_NUMBER))!;
  kreuzberg = (await lookupPhone(db, KREUZBERG_NUMBER))!;
  clinic = (await lookupPhone(db, CLINIC_NUMBER))!;
  tokens.salon = (await createToken(db, { companyId: mitte.companyId, name: 'salon office' })).token;
  tokens.mitte = (await createToken(db, { companyId: mitte.companyId, branchId: mitte.branchId, name: 'mitte tablet' })).token;
  tokens.clinic = (await createToken(db, { companyId: clinic.companyId, name: 'clinic office' })).token;
  server = await listen(env.ctx, 0, '127.0.0.1');
});
afterAll(async () => {
  await server?.close();
  await closeEventHubs();
  await env?.cleanup();
});

interface Answer {
  status: number;
  headers: IncomingMessage['headers'];
  body: string;
  json: any;
}

/** One request from a chosen loopback source address. */
function send(path: string, o: { from: string; method?: string; headers?: Record<string, string>; body?: string }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port: server.port, path, method: o.method ?? 'GET', localAddress: o.from, headers: o.headers },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => {
          let json: unknown;
          try {
            json = JSON.parse(body);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode!, headers: res.headers, body, json });
        });
      },
    );
    req.on('error', reject);
    req.end(o.body);
  });
}

const mcpBody = (name: string, args: Record<string, unknown> = {}) => JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: args } });
const mcp = (from: string, token: string, name = 'breaker_status', args: Record<string, unknown> = {}) =>
  send('/mcp', { from, method: 'POST', body: mcpBody(name, args), headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' } });
const admin = (from: string, token: string) => send('/admin/queues/api/queues', { from, headers: { authorization: `Bearer ${token}` } });

interface Stream {
  status: number;
  json?: any;
  events: Array<{ event: string; data: any }>;
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  close(): void;
  waitFor(pred: (e: { event: string; data: any }) => boolean, ms?: number): Promise<void>;
}

/** Opens /events from a source address; a non-stream answer is read as JSON. */
function stream(query: string, from = '127.0.0.1'): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: server.port, path: `/events${query}`, localAddress: from }, (res) => {
      const events: Stream['events'] = [];
      let buf = '';
      let end!: () => void;
      const ended = new Promise<void>((r) => (end = r));
      res.setEncoding('utf8');
      res.on('end', end);
      res.on('close', end);
      const s: Stream = {
        status: res.statusCode!,
        events,
        ended,
        close: () => req.destroy(),
        waitFor: async (pred, ms = 3000) => {
          const t0 = Date.now();
          while (!events.some(pred)) {
            if (Date.now() - t0 > ms) throw new Error(`no matching event within ${ms} ms; got ${JSON.stringify(events)}`);
            await new Promise((r) => setTimeout(r, 20));
          }
        },
      };
      if (!res.headers['content-type']?.startsWith('text/event-stream')) {
        let body = '';
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ ...s, json: JSON.parse(body) }));
        return;
      }
      res.on('data', (d: string) => {
        buf += d;
        for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const ev = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (ev && data) events.push({ event: ev, data: JSON.parse(data) });
        }
      });
      resolve(s);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('wrong tokens: one throttle per source address, shared by /admin, /mcp and /events', () => {
  it('a flood from one address locks out that address for new credentials only; a token in use and every other address pass', async () => {
    const attacker = '127.0.0.2';
    const operator = '127.0.0.3';
    // Wrong guesses spread over the three routes all count against the attacker's address.
    const guesses = [
      () => mcp(attacker, 'cbk_guess_guess_guess_guess_guess_guess_'),
      () => stream('?token=cbk_guess_guess_guess', attacker),
      () => admin(attacker, 'guessing-the-admin-token'),
    ];
    for (let i = 0; i < WRONG_CREDENTIALS_PER_MINUTE; i++) expect((await guesses[i % 3]!()).status, `guess ${i}`).toBe(401);
    // Locked out on every route for a token never used here (a guess looks the same) …
    const fresh = (await createToken(env.ctx.database.db, { companyId: mitte.companyId, name: 'new laptop' })).token;
    const locked = [await mcp(attacker, fresh), await admin(attacker, 'another-guess-at-the-admin-token')];
    for (const r of locked) {
      expect(r.status).toBe(429);
      expect(Number(r.headers['retry-after'])).toBeGreaterThan(0);
    }
    const lockedStream = await stream(`?token=${fresh}`, attacker);
    expect([lockedStream.status, lockedStream.json.error.code]).toEqual([429, 'too_many_attempts']);
    // … but a token in use (an operator behind the same NAT as the guesser) is not locked out.
    expect((await mcp(operator, tokens.clinic)).status).toBe(200);
    expect((await mcp(attacker, tokens.clinic)).status).toBe(200);

    // The operator, from another address, is not affected anywhere.
    expect((await mcp(operator, ADMIN)).status).toBe(200);
    expect((await mcp(operator, tokens.salon)).status).toBe(200);
    expect((await admin(operator, ADMIN)).status).toBe(200);
    const s = await stream(`?token=${tokens.salon}`, operator);
    expect(s.status).toBe(200);
    await s.waitFor((e) => e.event === 'ready');
    s.close();
    // The gate the routes used is the process's one.
    expect(authGate(env.ctx).throttle.retryAfter(attacker)).toBeGreaterThan(0);
    expect(authGate(env.ctx).throttle.retryAfter(operator)).toBe(0);
  });

  it('made-up tokens leave nothing behind in Redis', async () => {
    const tokenKeys = async () => (await scanKeys(env.ctx.redis, `${env.ctx.ns}auth:token:*`)).sort();
    const before = await tokenKeys();
    for (let i = 0; i < 5; i++) expect((await mcp('127.0.0.4', `cbk_made_up_${i}_${'x'.repeat(20)}`)).status).toBe(401);
    expect(await tokenKeys()).toEqual(before);
  });
});

describe("another tenant's token, a branch token for another branch", () => {
  it("another company's token sees nothing of this company on /events and /mcp, and is no admin on /admin", async () => {
    const s = await stream(`?token=${tokens.clinic}&company=salon-anna`, '127.0.0.5');
    expect([s.status, s.json.error.code]).toEqual([403, 'forbidden']);
    const r = await mcp('127.0.0.5', tokens.clinic, 'calls_search', { company: 'salon-anna' });
    expect(r.status).toBe(200);
    expect(r.json.error).toMatchObject({ code: -32002, message: expect.stringContaining('not found') });
    const a = await admin('127.0.0.5', tokens.clinic);
    expect([a.status, a.json.error.code]).toEqual([403, 'forbidden']);
    // A valid token is no wrong guess: it does not count against its address.
    expect(authGate(env.ctx).throttle.retryAfter('127.0.0.5')).toBe(0);
  });

  it("a branch token hears only its branch's events and cannot name another branch", async () => {
    const s = await stream(`?token=${tokens.mitte}`, '127.0.0.6');
    await s.waitFor((e) => e.event === 'ready');
    const ev = (branchId: number, appointmentId: number) => ({ type: 'booking.booked' as const, companyId: mitte.companyId, branchId, appointmentId });
    await publishEvent(env.ctx.redis, env.ctx.ns, ev(kreuzberg.branchId, 901));
    await publishEvent(env.ctx.redis, env.ctx.ns, ev(mitte.branchId, 902));
    await s.waitFor((e) => e.data.appointmentId === 902);
    expect(s.events.filter((e) => e.event === 'booking.booked').map((e) => e.data.appointmentId)).toEqual([902]);
    s.close();
    const r = await mcp('127.0.0.6', tokens.mitte, 'calls_search', { company: 'salon-anna', branch: 'kreuzberg' });
    expect(r.json.error).toMatchObject({ code: -32002 });
    const sync = await mcp('127.0.0.6', tokens.mitte, 'phone_numbers_sync');
    expect(sync.json.error).toMatchObject({ code: -32003, message: expect.stringContaining('not for a branch token') });
  });
});

describe('a revoked token', () => {
  it("its open stream ends within a few seconds; new requests are 401 on /events and /mcp", async () => {
    const doomed = await createToken(env.ctx.database.db, { companyId: mitte.companyId, name: 'stolen laptop' });
    const s = await stream(`?token=${doomed.token}`, '127.0.0.7');
    await s.waitFor((e) => e.event === 'ready');
    expect((await mcp('127.0.0.7', doomed.token)).status).toBe(200);
    const t0 = Date.now();
    await revokeToken({ db: env.ctx.database.db, cache: env.ctx.cache }, doomed.id);
    await s.ended;
    const took = Date.now() - t0;
    console.log(`revoked token's stream closed after ${took} ms (check every ${REVOCATION_CHECK_MS} ms)`);
    expect(took).toBeLessThan(REVOCATION_CHECK_MS * 2 + 1000);
    expect(s.events.at(-1)).toMatchObject({ event: 'error', data: { code: 'token_revoked' } });
    expect((await stream(`?token=${doomed.token}`, '127.0.0.7')).status).toBe(401);
    expect((await mcp('127.0.0.7', doomed.token)).status).toBe(401);
  });
});

describe('streams per token', () => {
  it(`at most EVENTS_MAX_STREAMS_PER_TOKEN (${MAX_STREAMS}) open streams per token; a closed one frees its slot; other tokens are not affected`, async () => {
    const open: Stream[] = [];
    for (let i = 0; i < MAX_STREAMS; i++) {
      const s = await stream(`?token=${tokens.salon}`, '127.0.0.8');
      expect(s.status).toBe(200);
      await s.waitFor((e) => e.event === 'ready');
      open.push(s);
    }
    const over = await stream(`?token=${tokens.salon}`, '127.0.0.9');
    expect([over.status, over.json.error.code]).toEqual([429, 'too_many_streams']);
    expect(over.json.error.message).toContain('EVENTS_MAX_STREAMS_PER_TOKEN');
    const other = await stream(`?token=${tokens.clinic}`, '127.0.0.8');
    expect(other.status).toBe(200);
    other.close();

    open.shift()!.close();
    // The server notices the closed socket and gives the slot back.
    let again: Stream | undefined;
    for (let t0 = Date.now(); Date.now() - t0 < 3000; await new Promise((r) => setTimeout(r, 50))) {
      again = await stream(`?token=${tokens.salon}`, '127.0.0.8');
      if (again.status === 200) break;
    }
    expect(again!.status).toBe(200);
    again!.close();
    for (const s of open) s.close();
  });
});
