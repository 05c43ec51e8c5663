/**
 * Senders that hold a connection: a signature header that can verify no body is answered before
 * the body arrives — a chunked body included, which the body limit would otherwise read whole —
 * and a client that does not finish its request within REQUEST_TIMEOUT_MS gets 408 and a closed
 * connection. Over real sockets, against the whole ingress (`listen`).
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen, type RunningServer } from '../apps/ingress/server';
import { createTestEnv, importTestTenants, type TestEnv } from './helpers/env';
import { callId, retellEvent, signed } from './helpers/fixtures';

let env: TestEnv;
let server: RunningServer;

beforeAll(async () => {
  env = await createTestEnv({ REQUEST_TIMEOUT_MS: '1000', TRUST_PROXY: '1' });
  await importTestTenants(env);
  server = await listen(env.ctx, 0, '127.0.0.1');
});
afterAll(async () => {
  await server?.close();
  await env?.cleanup();
});

/** Opens a socket, writes `head`, and collects what comes back until the server closes it or `ms` pass. */
function exchange(head: string, ms: number): { socket: Socket; answer: Promise<{ text: string; closed: boolean; afterMs: number }> } {
  const socket = connect(server.port, '127.0.0.1');
  const started = Date.now();
  const answer = new Promise<{ text: string; closed: boolean; afterMs: number }>((resolve) => {
    let text = '';
    let firstAt = 0;
    const timer = setTimeout(() => resolve({ text, closed: false, afterMs: firstAt ? firstAt - started : ms }), ms);
    socket.on('data', (d: Buffer) => {
      if (!firstAt) firstAt = Date.now();
      text += d.toString();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text, closed: true, afterMs: (firstAt || Date.now()) - started });
    });
  });
  socket.write(head);
  return { socket, answer };
}

const chunkedHead = (path: string, extra = '') => `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nX-Forwarded-For: 203.0.113.${Math.floor(Math.random() * 250) + 1}\r\n${extra}\r\n`;

describe('a signature header that can verify no body', () => {
  for (const [route, path, header] of [
    ['Retell webhook, no signature', '/webhooks/retell', ''],
    ['Retell webhook, stale signature', '/webhooks/retell', `X-Retell-Signature: v=${Date.now() - 10 * 60_000},d=${'0'.repeat(64)}\r\n`],
    ['live function, malformed signature', '/functions/retell/check_availability', 'X-Retell-Signature: nonsense\r\n'],
    ['inbound webhook, no signature', '/webhooks/retell/inbound', ''],
    ['Cal.com webhook, no signature', '/webhooks/calcom', ''],
    ['Cal.com webhook, malformed signature', '/webhooks/calcom/salon-anna', 'X-Cal-Signature-256: xyz\r\n'],
  ] as const) {
    it(`${route}: 401 while a chunked body is still on its way`, async () => {
      // One chunk of the body, then nothing: the answer must not wait for the rest.
      const { socket, answer } = exchange(`${chunkedHead(path, header)}10\r\n{"event":"call_e\r\n`, 3_000);
      const got = await answer;
      socket.destroy();
      expect(got.text).toMatch(/^HTTP\/1\.1 401 /);
      expect(got.text).toContain('invalid_signature');
      expect(got.afterMs).toBeLessThan(900);
    });
  }
});

describe('REQUEST_TIMEOUT_MS', () => {
  it('a well-signed request whose body stalls gets 408 and its connection closed', async () => {
    const body = JSON.stringify(retellEvent('call_ended', { callId: callId() }));
    const headers = await signed(body);
    const head = `POST /webhooks/retell HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nX-Retell-Signature: ${headers['x-retell-signature']}\r\n\r\n`;
    // Half the body, then silence.
    const { answer } = exchange(head + body.slice(0, 50), 6_000);
    const got = await answer;
    expect(got.text).toMatch(/^HTTP\/1\.1 408 /);
    expect(got.closed).toBe(true);
    expect(got.afterMs).toBeGreaterThanOrEqual(900);
    expect(got.afterMs).toBeLessThan(3_000);
  });

  it('bounds receiving a request, not a long answer: an /events stream stays open past it', async () => {
    const head = `GET /events?company=salon-anna HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${env.vars.ADMIN_TOKEN}\r\nAccept: text/event-stream\r\n\r\n`;
    const { socket, answer } = exchange(head, 2_500);
    const got = await answer;
    socket.destroy();
    expect(got.text).toMatch(/^HTTP\/1\.1 200 /);
    expect(got.closed).toBe(false);
  });

  it('a request sent whole is unaffected', async () => {
    const body = JSON.stringify(retellEvent('call_ended', { callId: callId() }));
    const headers = await signed(body);
    const res = await fetch(`http://127.0.0.1:${server.port}/webhooks/retell`, { method: 'POST', body, headers: { ...headers, 'x-forwarded-for': '198.51.100.7' } });
    expect(res.status).toBe(202);
  });
});
