import { eq } from 'drizzle-orm';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog, branches, companies, phoneNumbers, services } from '../drizzle/schema';
import { importTenants, parseTenantsFile, TenantsFileError } from '../lib/tenants/import';
import { createTestEnv, type TestEnv } from './helpers/env';
import { twoCompanies } from './helpers/fixtures';

let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv();
});
afterAll(() => env.cleanup());
const deps = () => ({ db: env.ctx.database.db, cipher: env.ctx.cipher, cache: env.ctx.cache });

describe('tenants import', () => {
  it('imports the shipped example file, and a second import changes nothing but counts updates', async () => {
    const file = parseTenantsFile(await readFile('examples/tenants.yaml', 'utf8'), 'tenants.yaml');
    const first = await importTenants(deps(), file, 'test');
    expect(first.companies.created).toBeGreaterThan(0);
    const snapshot = async () => ({
      c: (await env.ctx.database.db.select().from(companies)).map(({ id, slug, name }) => ({ id, slug, name })),
      b: (await env.ctx.database.db.select().from(branches)).map(({ id, slug, defaultServiceId }) => ({ id, slug, defaultServiceId })),
      s: (await env.ctx.database.db.select().from(services)).map(({ id, slug, calcomEventTypeId, calcomTeamId }) => ({ id, slug, calcomEventTypeId, calcomTeamId })),
      p: (await env.ctx.database.db.select().from(phoneNumbers)).map(({ id, e164, branchId }) => ({ id, e164, branchId })),
    });
    const before = await snapshot();
    const second = await importTenants(deps(), file, 'test');
    expect(second.companies.created).toBe(0);
    expect(second.phoneNumbers.created).toBe(0);
    expect(await snapshot()).toEqual(before);
    expect((await env.ctx.database.db.select().from(auditLog)).filter((a) => a.action === 'tenants.import').length).toBeGreaterThanOrEqual(2);
  });

  it('stores API keys encrypted, and a file without keys keeps them', async () => {
    await importTenants(deps(), twoCompanies(), 'test');
    const [row] = await env.ctx.database.db.select().from(companies).where(eq(companies.slug, 'salon-anna'));
    expect(row!.calcomApiKeyEnc).not.toContain('cal_test_salon_key');
    expect(env.ctx.cipher.decrypt(row!.calcomApiKeyEnc!)).toBe('cal_test_salon_key');
    const noKeys = twoCompanies();
    delete noKeys.companies[0]!.calcomApiKey;
    await importTenants(deps(), noKeys, 'test');
    const [again] = await env.ctx.database.db.select().from(companies).where(eq(companies.slug, 'salon-anna'));
    expect(env.ctx.cipher.decrypt(again!.calcomApiKeyEnc!)).toBe('cal_test_salon_key');
  });

  it('rejects a bad file whole, naming the path of each error', () => {
    const yaml = `
companies:
  - slug: Bad Slug
    name: X
    branches:
      - slug: one
        name: One
        timezone: Mars/Olympus
        phoneNumbers: ["0301234"]
        defaultService: nope
    services:
      - slug: s1
        name: S
        calcomEventTypeId: -4
        durationMinutes: 30
        teamId: 5
`;
    try {
      parseTenantsFile(yaml, 'bad.yaml');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(TenantsFileError);
      const paths = (err as TenantsFileError).problems.map((p) => p.path);
      expect(paths).toEqual(
        expect.arrayContaining([
          'companies[0].slug',
          'companies[0].branches[0].timezone',
          'companies[0].branches[0].phoneNumbers[0]',
          'companies[0].services[0].calcomEventTypeId',
          'companies[0].services[0]',
        ]),
      );
    }
    expect(() => parseTenantsFile('{not json', 'x.json')).toThrow(TenantsFileError);
  });

  it('refuses an API key that cannot go in a header (a pasted newline, a space, a non-ASCII character), naming the field', () => {
    for (const bad of ['cal_live_key_0123\n', 'cal live key 0123', 'cal_live_kéy_0123']) {
      const file = twoCompanies();
      file.companies[0]!.calcomApiKey = bad;
      file.companies[1]!.retellApiKey = bad;
      const err = (() => {
        try {
          parseTenantsFile(JSON.stringify(file));
        } catch (e) {
          return e as Error;
        }
        return null;
      })();
      expect(err, JSON.stringify(bad)).toBeInstanceOf(TenantsFileError);
      expect(err!.message).toMatch(/companies\[0\]\.calcomApiKey.*printable ASCII/s);
      expect(err!.message).toMatch(/companies\[1\]\.retellApiKey/);
    }
  });

  it('reports cross-references that do not resolve', () => {
    const file = { companies: [{ slug: 'a', name: 'A', branches: [{ slug: 'b', name: 'B', timezone: 'Europe/Berlin', defaultService: 'ghost' }], services: [] }] };
    expect(() => parseTenantsFile(JSON.stringify(file), 'f.json')).toThrow(/companies\[0\]\.branches\[0\]\.defaultService: no service "ghost"/);
  });

  it('refuses to move a number owned by another company, and writes nothing', async () => {
    await importTenants(deps(), twoCompanies(), 'test');
    const thief = parseTenantsFile(
      JSON.stringify({ companies: [{ slug: 'thief', name: 'Thief', branches: [{ slug: 'x', name: 'X', timezone: 'Europe/Berlin', phoneNumbers: ['+4930111111'] }] }] }),
      'thief.json',
    );
    await expect(importTenants(deps(), thief, 'test')).rejects.toThrow(/\+4930111111 belongs to another company/);
    expect(await env.ctx.database.db.select().from(companies).where(eq(companies.slug, 'thief'))).toHaveLength(0);
  });
});
