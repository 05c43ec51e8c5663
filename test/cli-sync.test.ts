/** `callbook sync run` and `callbook agents update-prompt` against the Retell and Cal.com simulators. */
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Retell from 'retell-sdk';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { auditLog, retellPhoneNumbers } from '../drizzle/schema';
import { importTenants } from '../lib/tenants/import';
import { DEMO, createRetellSim, seedRetellDemo, startRetellSim } from '../sim/retell';
import { startSeededSim } from './helpers/calcom';
import { runCli } from './helpers/cli';
import { createTestEnv, type TestEnv } from './helpers/env';
import { twoCompanies } from './helpers/fixtures';

let env: TestEnv;
let calcom: Awaited<ReturnType<typeof startSeededSim>>;
let retell: Awaited<ReturnType<typeof startRetellSim>>;

beforeAll(async () => {
  calcom = await startSeededSim();
  const sim = createRetellSim({ apiKeys: [DEMO.apiKey] });
  seedRetellDemo(sim);
  retell = await startRetellSim(sim, 0);
  env = await createTestEnv({ CALCOM_API_URL: calcom.url, RETELL_API_URL: retell.url, RETELL_API_KEY: DEMO.apiKey, PUBLIC_URL: 'http://127.0.0.1:3000' });
  await importTenants({ db: env.ctx.database.db, cipher: env.ctx.cipher, cache: env.ctx.cache }, twoCompanies(), 'test');
});
afterAll(async () => {
  await env.cleanup();
  await calcom.close();
  await retell.close();
});

const cli = (...args: string[]) => runCli({ ...env.vars }, ...args);

it('sync run imports the Retell numbers and reports what needs an operator', async () => {
  const r = await cli('--json', 'sync', 'run');
  expect(r.code, r.err).toBe(0);
  const report = JSON.parse(r.out) as { status: string; numbers: { imported: number; unmapped: unknown[] } };
  expect(report.numbers.imported).toBe(2);
  expect(report.numbers.unmapped).toHaveLength(2); // the demo account's numbers are not in the tenants file
  expect(report.status).toBe('problems');
  const inventory = await env.ctx.database.db.select().from(retellPhoneNumbers);
  expect(inventory.map((n) => n.e164).sort()).toEqual([DEMO.phoneNumber, DEMO.legacyPhoneNumber].sort());
  const text = await cli('sync', 'run', '--kind', 'retell_numbers');
  expect(text.out).toMatch(/unmapped/);
  expect((await cli('sync', 'run', '--kind', 'everything')).code).toBe(2);
}, 60_000);

it('agents update-prompt changes the LLM prompt and audits it', async () => {
  const file = join(tmpdir(), `prompt-${Date.now()}.txt`);
  await writeFile(file, 'Du bist die Rezeption von Salon Anna. Sei kurz.');
  const r = await cli('agents', 'update-prompt', DEMO.agentId, '--file', file);
  expect(r.code, r.err).toBe(0);
  expect(r.out).toContain(`agent ${DEMO.agentId}: LLM ${DEMO.llmId}`);
  const client = new Retell({ apiKey: DEMO.apiKey, baseURL: retell.url });
  const llm = await client.llm.retrieve(DEMO.llmId);
  expect(llm.general_prompt).toBe('Du bist die Rezeption von Salon Anna. Sei kurz.');
  expect((await env.ctx.database.db.select().from(auditLog)).map((a) => a.action)).toContain('agents.update_prompt');
  expect((await cli('agents', 'update-prompt', 'agent_missing', '--prompt', 'x')).code).toBe(2);
}, 60_000);
