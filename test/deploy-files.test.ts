/**
 * The files an operator copies: .env.example lists every variable with its default;
 * docker-compose.yml publishes no database or Redis port, requires its passwords, gives every
 * process type a grace period covering its drain, and runs the build; .dockerignore keeps
 * secrets and local state out of the image.
 */
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { parse } from 'yaml';
import { envSchema } from '../lib/config';
import { JOB_TIMEOUT_MS, QUEUE_NAMES } from '../lib/queues';
import { readProcfile } from './helpers/procfile';

const example = new Map(
  readFileSync('.env.example', 'utf8')
    .split('\n')
    .filter((l) => /^[A-Z_]+=/.test(l))
    .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const),
);

it('.env.example lists every configuration variable, with the default the code applies', () => {
  for (const [name, schema] of Object.entries(envSchema.shape)) {
    expect(example.has(name), name).toBe(true);
    const parsed = (schema as { safeParse(v: unknown): { success: boolean; data?: unknown } }).safeParse(undefined);
    if (parsed.success && parsed.data !== undefined) {
      const def = Array.isArray(parsed.data) ? parsed.data.join(',') : String(parsed.data);
      expect(example.get(name), name).toBe(def);
    }
  }
  expect(example.has('OTEL_EXPORTER_OTLP_ENDPOINT')).toBe(true);
});

interface Service {
  ports?: string[];
  command?: string[];
  stop_grace_period?: string;
  environment?: Record<string, string>;
}
const compose = parse(readFileSync('docker-compose.yml', 'utf8'), { merge: true }) as { services: Record<string, Service> };
const seconds = (d: string | undefined) => Number(/^(\d+)s$/.exec(d ?? '')?.[1] ?? NaN);

it('compose publishes no MySQL or Redis port and requires every password from .env', () => {
  expect(compose.services.mysql!.ports).toBeUndefined();
  expect(compose.services.redis!.ports).toBeUndefined();
  const text = readFileSync('docker-compose.yml', 'utf8');
  for (const v of ['MYSQL_PASSWORD', 'MYSQL_ROOT_PASSWORD', 'REDIS_PASSWORD', 'ENCRYPTION_KEY', 'ADMIN_TOKEN', 'METRICS_TOKEN', 'RETELL_API_KEY']) {
    expect(text, v).toMatch(new RegExp(`\\$\\{${v}:\\?[^}]*${v}`));
    expect(example.has(v), v).toBe(true);
  }
  expect(text).not.toMatch(/PASSWORD:-|callbook:callbook@/);
});

it('compose runs the build and gives each worker its queue job timeout (and the web process its drain) as grace period', () => {
  for (const q of QUEUE_NAMES) {
    const s = compose.services[q]!;
    expect(s.command, q).toEqual(['node', 'dist/worker.js', q]);
    expect(seconds(s.stop_grace_period), q).toBeGreaterThanOrEqual(JOB_TIMEOUT_MS[q] / 1000 + 10);
  }
  expect(compose.services.web!.command).toEqual(['node', '--max-semi-space-size=8', 'dist/web.js']);
  expect(seconds(compose.services.web!.stop_grace_period)).toBeGreaterThanOrEqual(Number(envSchema.shape.SHUTDOWN_DELAY_MS.parse(undefined)) / 1000 + 10);
});

it('.dockerignore keeps secrets, exports, sandbox state, node_modules and dist out of the image', () => {
  const ignored = readFileSync('.dockerignore', 'utf8').split('\n').map((l) => l.trim().replace(/\/$/, ''));
  for (const p of ['.env', 'exports', '.sandbox', 'node_modules', 'dist']) expect(ignored, p).toContain(p);
});

/** `--flag=value` pairs of a command line, later ones winning (as node applies NODE_OPTIONS, then its own flags). */
const flagsOf = (...parts: string[][]) => Object.fromEntries(parts.flat().filter((a) => a.startsWith('--')).map((a) => a.split('=') as [string, string]));

it('the image and compose run each process type with the Procfile\'s heap caps', () => {
  const procfile = readProcfile();
  const dockerfile = readFileSync('Dockerfile', 'utf8');
  const nodeOptions = /^ENV NODE_OPTIONS="([^"]*)"/m.exec(dockerfile)![1]!.split(' ');
  const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(dockerfile)![1]!) as string[];
  expect(flagsOf(nodeOptions, cmd)).toEqual(flagsOf(procfile.get('web')!));
  expect(flagsOf(nodeOptions, compose.services.web!.command!)).toEqual(flagsOf(procfile.get('web')!));
  for (const q of QUEUE_NAMES) expect(flagsOf(nodeOptions, compose.services[q]!.command!), q).toEqual(flagsOf(procfile.get(q)!));
  expect(flagsOf(procfile.get('web')!)['--max-old-space-size']).toBeDefined();
});
