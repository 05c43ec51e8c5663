/**
 * What a built worker process loads (bench/RESULTS.md, "Lean processes": peak RSS and start-up
 * per process). Each queue's process resolves only the packages its handler needs: no
 * process imports the `undici` package (Node's own fetch serves calls out), nodemailer waits for
 * the first e-mail, chrono-node brings its German and English locales only, and Bull Board and
 * the MCP SDK belong to the web process. Runs `node dist/worker.js` as the Procfile does, with an
 * ESM resolve hook recording every module URL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from './helpers/env';

let env: TestEnv;
const dir = mkdtempSync(join(tmpdir(), 'cb-lean-'));
const children = new Set<ChildProcess>();
beforeAll(async () => {
  env = await createTestEnv();
});
afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await env.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

/** Starts `node dist/worker.js <queues>`, waits for "workers started", stops it; the packages and chrono locales it resolved. */
async function loadedBy(queues: string[], extra: Record<string, string> = {}): Promise<{ packages: Set<string>; chronoLocales: Set<string> }> {
  const file = join(dir, `${queues.join('-') || 'all'}.txt`);
  const child = spawn(process.execPath, ['--import', './test/helpers/record-imports.mjs', 'dist/worker.js', ...queues], {
    // A closed port for Retell: the sync worker's first run must not leave the machine.
    env: { ...process.env, ...env.vars, LOG_LEVEL: 'info', RECORD_IMPORTS_FILE: file, RETELL_API_URL: 'http://127.0.0.1:9', ...extra },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`worker ${queues.join(' ')} not ready in 30 s:\n${out}`));
    }, 30_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d;
      if (out.includes('workers started')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr!.on('data', (d: Buffer) => (out += d));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`worker exited ${code}:\n${out}`));
    });
  });
  if (child.exitCode === null) {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
  const urls = readFileSync(file, 'utf8').split('\n').filter(Boolean);
  const packages = new Set(urls.map((u) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(u)?.[1]).filter((p): p is string => !!p));
  const chronoLocales = new Set(urls.map((u) => /\/chrono-node\/dist\/esm\/locales\/([a-z]+)\//.exec(u)?.[1]).filter((p): p is string => !!p));
  return { packages, chronoLocales };
}

const WEB_ONLY = ['@bull-board/api', '@bull-board/hono', '@modelcontextprotocol/sdk', 'hono', '@hono/node-server'];

describe('a built worker loads what its queues use', () => {
  it('bookings: the database, Redis and Cal.com client; no date parser, mailer, Retell SDK, undici or web packages', async () => {
    const { packages } = await loadedBy(['bookings']);
    expect(packages).toContain('bullmq');
    expect(packages).toContain('mysql2');
    // Built into dist/ (scripts/build.mjs BUNDLED): Node 24 spent 1.4 s resolving its modules.
    expect(packages).not.toContain('drizzle-orm');
    for (const p of ['undici', 'nodemailer', 'retell-sdk', 'chrono-node', ...WEB_ONLY]) expect(packages, p).not.toContain(p);
  }, 60_000);

  it('webhooks: chrono-node with its de and en locales only', async () => {
    const { packages, chronoLocales } = await loadedBy(['webhooks']);
    expect(packages).toContain('chrono-node');
    expect([...chronoLocales].sort()).toEqual(['de', 'en']);
    for (const p of ['undici', 'nodemailer', 'retell-sdk', ...WEB_ONLY]) expect(packages, p).not.toContain(p);
  }, 60_000);

  it('notifications with NOTIFY_TRANSPORT=smtp: nodemailer still waits for the first e-mail', async () => {
    const { packages } = await loadedBy(['notifications'], { NOTIFY_TRANSPORT: 'smtp', SMTP_URL: 'smtp://mailer:secret@127.0.0.1:9' });
    for (const p of ['nodemailer', 'undici', 'chrono-node', 'retell-sdk', ...WEB_ONLY]) expect(packages, p).not.toContain(p);
  }, 60_000);

  it('every queue in one process: the Retell SDK for sync, still no mailer before the first e-mail, no undici, no web packages', async () => {
    const { packages, chronoLocales } = await loadedBy([]);
    expect(packages).toContain('retell-sdk');
    expect([...chronoLocales].sort()).toEqual(['de', 'en']);
    for (const p of ['undici', 'nodemailer', ...WEB_ONLY]) expect(packages, p).not.toContain(p);
  }, 60_000);
});
