/**
 * The sandbox's first minutes: its Retell simulator is seeded from the demo tenants
 * (apps/sandbox/retell.ts), so the first full sync against it and the sandbox's Cal.com
 * simulator reports no problem about the demo data.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startSandboxCalcom } from '../apps/sandbox/calcom';
import { seedRetellFromTenants } from '../apps/sandbox/retell';
import { importTenants, parseTenantsFile } from '../lib/tenants/import';
import { runSync } from '../lib/sync/run';
import { createRetellSim, startRetellSim, type RunningRetellSim } from '../sim/retell';
import { createTestEnv, type TestEnv } from './helpers/env';

const tenants = parseTenantsFile(readFileSync('examples/tenants.yaml', 'utf8'), 'examples/tenants.yaml');
const PUBLIC_URL = 'http://127.0.0.1:3000';
let env: TestEnv;
let retell: RunningRetellSim;
let calcom: Awaited<ReturnType<typeof startSandboxCalcom>>;

beforeAll(async () => {
  const sim = createRetellSim({ apiKeys: ['key_test_retell_global'] });
  seedRetellFromTenants(sim, tenants, PUBLIC_URL);
  retell = await startRetellSim(sim, 0);
  calcom = await startSandboxCalcom(tenants, 0);
  env = await createTestEnv({ RETELL_API_URL: retell.url, CALCOM_API_URL: calcom.url, PUBLIC_URL });
  await importTenants({ db: env.ctx.database.db, cipher: env.ctx.cipher, cache: env.ctx.cache }, tenants, 'test');
});
afterAll(async () => {
  await env?.cleanup();
  await retell?.close();
  await calcom?.close();
});

it('the first full sync of the sandbox reports no problems', async () => {
  const report = await runSync(env.ctx, { kind: 'full' });
  expect(report.errors).toEqual([]);
  expect(report.numbers.unmapped).toEqual([]);
  expect(report.numbers.conflicts).toEqual([]);
  expect(report.agents.mismatches).toEqual([]);
  expect(report.eventTypes.problems).toEqual([]);
  expect(report.status).toBe('ok');
  expect(report.numbers.imported + report.numbers.updatedMappings).toBeGreaterThanOrEqual(0);
  expect(report.agents.count).toBe(3);
});
