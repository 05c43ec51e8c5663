/**
 * The built web process on SIGTERM: /readyz answers 503 at once, a request in flight still gets
 * its answer, then the process exits 0.
 */
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from './helpers/env';
import { callId, retellEvent, signed } from './helpers/fixtures';

let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv();
});
afterAll(() => env.cleanup());

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

it('answers /readyz 503 from SIGTERM on, finishes the request in flight, exits 0', async () => {
  const port = await freePort();
  const child = spawn(process.execPath, ['dist/web.js'], {
    env: { ...process.env, ...env.vars, PORT: String(port), HOST: '127.0.0.1', SHUTDOWN_DELAY_MS: '1500', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300 && !(await fetch(`${base}/readyz`).then((r) => r.ok, () => false)); i++) await new Promise((r) => setTimeout(r, 100));
  expect((await fetch(`${base}/readyz`)).status).toBe(200);

  // A webhook whose body is half sent when SIGTERM arrives.
  const body = JSON.stringify(retellEvent('call_ended', { callId: callId() }));
  const headers = { ...(await signed(body)), 'content-length': String(Buffer.byteLength(body)) };
  const answered = new Promise<{ status: number; id: string | undefined }>((resolve, reject) => {
    const req = request(`${base}/webhooks/retell`, { method: 'POST', headers: { ...headers, 'x-request-id': 'drain-1' } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, id: res.headers['x-request-id'] as string | undefined }));
    });
    req.on('error', reject);
    req.write(body.slice(0, 100));
    setTimeout(() => req.end(body.slice(100)), 1000);
  });
  await new Promise((r) => setTimeout(r, 200));
  child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 200));
  const ready = await fetch(`${base}/readyz`);
  expect(ready.status).toBe(503);
  expect(await ready.json()).toEqual({ status: 'draining' });

  expect(await answered).toEqual({ status: 202, id: 'drain-1' });
  expect(await exited).toBe(0);
  expect(out).toContain('draining');
}, 60_000);
