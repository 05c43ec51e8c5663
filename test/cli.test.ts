/** The `callbook` bin as a user runs it: real process, real database, exit codes. */
import { execFile } from 'node:child_process';
import { runCli } from './helpers/cli';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from './helpers/env';

const exec = promisify(execFile);
let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv();
});
afterAll(() => env.cleanup());

const cli = (...args: string[]) => runCli(env.vars, ...args);

describe('callbook CLI', () => {
  it('prints its version (package.json) with --version, exit 0', async () => {
    const r = await cli('--version');
    expect(r.code).toBe(0);
    expect(r.out.trim()).toBe((await import('../package.json')).default.version);
  });

  it('usage errors exit 2; with --json they are one JSON document on stdout', async () => {
    const text = await cli('no-such-command');
    expect(text.code).toBe(2);
    const json = await cli('--json', 'tenants', 'list', '--no-such-option');
    expect(json.code).toBe(2);
    expect(JSON.parse(json.out)).toEqual({ error: { code: 'commander.unknownOption', message: "unknown option '--no-such-option'" } });
  });

  it('imports the example tenants and lists them as JSON', async () => {
    const r = await cli('--json', 'tenants', 'import', 'examples/tenants.yaml');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ companies: { created: 2 } });
    const list = JSON.parse((await cli('--json', 'tenants', 'list')).out) as Array<{ slug: string; hasCalcomKey: boolean }>;
    expect(list.map((c) => c.slug)).toEqual(['praxis-nord', 'salon-anna']);
    expect(list.every((c) => c.hasCalcomKey)).toBe(true);
  }, 30_000);

  it('rejects a bad file with exit code 2 and the path of each error', async () => {
    const file = join(tmpdir(), `bad-${Date.now()}.yaml`);
    await writeFile(file, 'companies:\n  - slug: ok\n    name: X\n    branches:\n      - {slug: b, name: B, timezone: Nowhere/City}\n');
    const r = await cli('tenants', 'import', file);
    expect(r.code).toBe(2);
    expect(r.err).toContain('companies[0].branches[0].timezone: must be an IANA time zone');
  }, 30_000);

  it('names a bad variable and exits 3', async () => {
    try {
      await exec(process.execPath, ['bin/callbook.mjs', 'tenants', 'list'], { env: { ...process.env, ...env.vars, ENCRYPTION_KEY: 'nope' } });
      expect.unreachable();
    } catch (err) {
      const e = err as { code: number; stderr: string };
      expect(e.code).toBe(3);
      expect(e.stderr).toContain('ENCRYPTION_KEY is invalid');
    }
  }, 30_000);
});
