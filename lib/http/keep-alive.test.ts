/**
 * The shared pool really reuses connections, and the node:http transport the processes use (`keepAliveRequest`)
 * behaves as the fetch one did for the Cal.com client: answers, errors with their headers, a
 * refused connection that never sent anything. Against the Cal.com simulator.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CalcomClient, CalcomError, isServiceFailure } from '../calcom';
import { createCalcomSim } from '../../sim/calcom';
import { seedTwoCompanies, SALON_KEY } from '../../test/helpers/calcom';
import { freePort } from '../../test/helpers/ports';
import { keepAliveFetch, keepAliveRequest } from './keep-alive';

let server: Server;
let base: string;
let sockets = 0;
const sim = createCalcomSim();

beforeAll(async () => {
  seedTwoCompanies(sim);
  for (const name of ['keepAliveFetch', 'keepAliveRequest']) sim.addAccount({ apiKey: `cal_small_${name}`, username: name, timeZone: 'UTC', rateLimitPerMinute: 1 });
  server = serve({ fetch: sim.app.fetch, port: 0, hostname: '127.0.0.1' }) as Server;
  await new Promise((r) => server.once('listening', r));
  server.on('connection', () => sockets++);
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}/v2`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe.each([
  ['keepAliveFetch', { fetch: keepAliveFetch }],
  ['keepAliveRequest', { transport: keepAliveRequest }],
] as const)('Cal.com client over %s', (name, how) => {
  it('serves 30 sequential Cal.com calls over a reused connection', async () => {
    const before = sockets;
    const client = new CalcomClient({ baseUrl: base, apiKey: SALON_KEY, ...how });
    for (let i = 0; i < 30; i++) expect((await client.getEventType(1001)).id).toBe(1001);
    expect(sockets - before).toBeLessThanOrEqual(2); // not one per call
  });

  it('hands over a refusal with its status, body and headers (429: retry at the reset header)', async () => {
    const client = new CalcomClient({ baseUrl: base, apiKey: `cal_small_${name}`, ...how });
    await client.listBookings({});
    const err = await client.listBookings({}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CalcomError);
    expect(err).toMatchObject({ kind: 'rate_limited', status: 429, code: 'ThrottlerException' });
    expect((err as CalcomError).retryAt).toBeGreaterThan(Date.now());
    const missing = await client.getBooking('no-such-uid').catch((e: unknown) => e);
    expect(missing).toMatchObject({ status: expect.any(Number) });
  });

  it('reports a refused connection as a network error that sent nothing', async () => {
    const client = new CalcomClient({ baseUrl: `http://127.0.0.1:${await freePort()}/v2`, apiKey: SALON_KEY, ...how });
    const err = await client.createBooking({ start: '2030-01-01T10:00:00Z', eventTypeId: 1001, attendee: { name: 'A', timeZone: 'UTC' } }).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'network', code: 'ECONNREFUSED', retryable: true, uncertain: false });
  });

  it('an API key that cannot go in a header (pasted with its newline) is an auth error: nothing sent, not retried, not a service failure', async () => {
    const client = new CalcomClient({ baseUrl: base, apiKey: `${SALON_KEY}\n`, ...how });
    const before = sockets;
    const err = await client.createBooking({ start: '2030-01-01T10:00:00Z', eventTypeId: 1001, attendee: { name: 'A', timeZone: 'UTC' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CalcomError);
    expect(err).toMatchObject({ retryable: false, uncertain: false });
    expect(isServiceFailure(err)).toBe(false);
    expect(sockets).toBe(before);
  });

  it('times out as a timeout, uncertain for a POST', async () => {
    sim.setFaults({ latencyMs: 300 });
    try {
      const client = new CalcomClient({ baseUrl: base, apiKey: SALON_KEY, timeoutMs: 50, ...how });
      const err = await client.createBooking({ start: '2030-01-01T10:00:00Z', eventTypeId: 1001, attendee: { name: 'A', timeZone: 'UTC' } }).catch((e: unknown) => e);
      expect(err).toMatchObject({ kind: 'timeout', retryable: true, uncertain: true });
    } finally {
      sim.clearFaults();
    }
  });
});

describe('keepAliveRequest bodies', () => {
  it('asks for compression and decodes gzip and br answers; drops a UTF-8 byte-order mark', async () => {
    const json = JSON.stringify({ status: 'success', data: { title: 'Haarschnitt für Jürgen' } });
    const seen: Array<string | undefined> = [];
    const srv = createServer((req, res) => {
      seen.push(req.headers['accept-encoding']);
      if (req.url === '/gzip') res.writeHead(200, { 'content-encoding': 'gzip' }).end(gzipSync(json));
      else if (req.url === '/br') res.writeHead(200, { 'content-encoding': 'br' }).end(brotliCompressSync(json));
      else if (req.url === '/bom') res.writeHead(200).end(`\ufeff${json}`);
      else res.writeHead(200, { 'content-encoding': 'zstd-of-the-future' }).end('x');
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const url = (p: string) => `http://127.0.0.1:${(srv.address() as AddressInfo).port}${p}`;
    const get = (p: string) => keepAliveRequest(url(p), { method: 'GET', headers: {}, signal: new AbortController().signal });
    try {
      for (const p of ['/gzip', '/br', '/bom']) expect(JSON.parse((await get(p)).text), p).toEqual(JSON.parse(json));
      expect(seen[0]).toMatch(/gzip/);
      await expect(get('/other')).rejects.toThrow(/unsupported Content-Encoding/);
    } finally {
      srv.closeAllConnections();
      await new Promise((r) => srv.close(r));
    }
  });
});
