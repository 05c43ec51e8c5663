/** The shared pool really reuses connections: many calls to the Cal.com simulator, few sockets. */
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import { describe, expect, it } from 'vitest';
import { CalcomClient } from '../calcom';
import { createCalcomSim } from '../../sim/calcom';
import { seedTwoCompanies, SALON_KEY } from '../../test/helpers/calcom';
import { keepAliveFetch } from './keep-alive';

describe('keepAliveFetch', () => {
  it('serves 30 sequential Cal.com calls over a reused connection', async () => {
    const sim = createCalcomSim();
    seedTwoCompanies(sim);
    const server = serve({ fetch: sim.app.fetch, port: 0, hostname: '127.0.0.1' }) as Server;
    await new Promise((r) => server.once('listening', r));
    let sockets = 0;
    server.on('connection', () => sockets++);
    const port = (server.address() as { port: number }).port;
    const client = new CalcomClient({ baseUrl: `http://127.0.0.1:${port}/v2`, apiKey: SALON_KEY, fetch: keepAliveFetch });
    for (let i = 0; i < 30; i++) await client.getEventType(1001);
    expect(sockets).toBeGreaterThan(0);
    expect(sockets).toBeLessThanOrEqual(2); // not one per call
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
});
