/** The Cal.com simulator seeded to match the twoCompanies() tenants, and test envs wired to it. */
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { serviceBreaker } from '../../lib/resilience/service-breakers';
import type { TenantsFile } from '../../lib/tenants/file-schema';
import { createCalcomSim, startCalcomSim } from '../../sim/calcom';
import { createTestEnv, importTestTenants, type TestEnv } from './env';

export { CLINIC_KEY, SALON_KEY, seedTwoCompanies } from './seed';
import { seedTwoCompanies } from './seed';

export async function startSeededSim() {
  const sim = createCalcomSim();
  seedTwoCompanies(sim);
  return startCalcomSim(sim, 0);
}

/** The running simulator startSeededSim() returns. */
export type SeededSim = Awaited<ReturnType<typeof startSeededSim>>;

export interface SimTestEnv {
  sim: SeededSim;
  env: TestEnv;
}

/** Starts the seeded simulator and a test env whose CALCOM_API_URL is the simulator's, with `tenants` (default twoCompanies()) imported. */
export async function startSimTestEnv(vars: Record<string, string> = {}, tenants?: TenantsFile): Promise<SimTestEnv> {
  const sim = await startSeededSim();
  const env = await createTestEnv({ CALCOM_API_URL: sim.url, ...vars });
  await importTestTenants(env, tenants);
  return { sim, env };
}

/** Stops what startSimTestEnv started: the env (its database and Redis keys dropped), then the simulator; skips either when it never started. */
export async function stopSimTestEnv({ env, sim }: Partial<SimTestEnv>): Promise<void> {
  await env?.cleanup();
  await sim?.close();
}

/** Clears the simulator's faults and resets the Cal.com circuit breaker: each test starts against a healthy Cal.com. */
export async function resetCalcom({ env, sim }: SimTestEnv): Promise<void> {
  sim.sim.clearFaults();
  await serviceBreaker('calcom', { redis: env.ctx.redis, ns: env.ctx.ns, logger: env.ctx.logger }).reset();
}

/** Registers the calling test file's hooks: startSimTestEnv(vars) before all tests (then `onStart`), resetCalcom before each, stopSimTestEnv after all. */
export function useSimTestEnv(vars: Record<string, string>, onStart: (started: SimTestEnv) => void): void {
  let started: SimTestEnv | undefined;
  beforeAll(async () => {
    started = await startSimTestEnv(vars);
    onStart(started);
  });
  beforeEach(() => resetCalcom(started!));
  afterAll(() => stopSimTestEnv(started ?? {}));
}
