/**
 * `callbook demo-call --to <number>`: the dialled branch's default service and language, unless
 * told otherwise; the time it speaks parses in that language.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { demoDefaults, spokenSoon } from '../apps/cli/demo-defaults';
import { parseRequestedStart } from '../lib/datetime/spoken';
import { importTenants, parseTenantsFile } from '../lib/tenants/import';
import { createTestEnv, type TestEnv } from './helpers/env';

let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv();
  const tenants = parseTenantsFile(readFileSync('examples/tenants.yaml', 'utf8'), 'examples/tenants.yaml');
  await importTenants({ db: env.ctx.database.db, cipher: env.ctx.cipher }, tenants, 'test');
});
afterAll(() => env.cleanup());

it("takes the dialled branch's default service and language", async () => {
  expect(await demoDefaults(env.ctx.database.db, '+4930555000')).toEqual({ language: 'de', service: 'Haircut', timezone: 'Europe/Berlin' });
  expect(await demoDefaults(env.ctx.database.db, '+4940555000')).toEqual({ language: 'en', service: 'Check-up', timezone: 'Europe/Berlin' });
  expect((await demoDefaults(env.ctx.database.db, '+4989000000')).service).toBeUndefined();
});

it('speaks the default time in the branch language, and it parses back in that language', () => {
  for (const [lang, sample] of [['de', /^am \d+\.\d+\. um \d+ Uhr$/], ['en', /^on [A-Z][a-z]+ \d+ at \d+ (am|pm)$/]] as const) {
    for (let i = 0; i < 8; i++) {
      const spoken = spokenSoon(lang, 'Europe/Berlin', () => i / 8);
      expect(spoken).toMatch(sample);
      const parsed = parseRequestedStart(spoken, { timeZone: 'Europe/Berlin', lang });
      expect(parsed, spoken).not.toBeNull();
    }
  }
});
