/**
 * `startCalcomSim`: serves a simulator over real HTTP on 127.0.0.1 (an ephemeral port by default) for
 * in-process tests, and closes it without waiting for hanging requests or keep-alive sockets.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { createCalcomSim } from './app';
import type { CalcomSim } from './types';

export interface RunningCalcomSim {
  /** Base URL including `/v2`, e.g. `http://127.0.0.1:41234/v2`. */
  url: string;
  /** The server's origin, for the `/__sim` admin API. */
  origin: string;
  sim: CalcomSim;
  close(): Promise<void>;
}

/**
 * @example
 * const { url, sim, close } = await startCalcomSim();
 * sim.addAccount({ apiKey: 'cal_test_a', username: 'anna', timeZone: 'Europe/Berlin' });
 * await fetch(`${url}/bookings`, { headers: { authorization: 'Bearer cal_test_a', 'cal-api-version': '2024-08-13' } });
 * await close();
 */
export async function startCalcomSim(
  sim: CalcomSim = createCalcomSim(),
  port = 0,
  hostname = '127.0.0.1',
): Promise<RunningCalcomSim> {
  // overrideGlobalObjects: false keeps the test process's own Request/Response untouched.
  const server = serve({ fetch: sim.app.fetch, port, hostname, overrideGlobalObjects: false }) as Server;
  await new Promise<void>((resolve, reject) => {
    if (server.listening) return resolve();
    server.once('listening', () => resolve());
    server.once('error', reject);
  });
  const address = server.address() as AddressInfo;
  const host = hostname === '0.0.0.0' || hostname === '::' ? '127.0.0.1' : hostname.includes(':') ? `[${hostname}]` : hostname;
  const origin = `http://${host}:${address.port}`;
  let closed: Promise<void> | undefined;
  return {
    url: `${origin}/v2`,
    origin,
    sim,
    close: () =>
      (closed ??= new Promise<void>((resolve) => {
        sim.releaseHangs();
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}
