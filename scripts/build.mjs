/**
 * `npm run build`: the service, the workers, the CLI and the migration runner as plain ES modules
 * in dist/, for `node dist/…` without tsx. esbuild bundles our own sources (the imports are
 * extensionless, which Node's ESM loader does not resolve) and leaves every package in
 * node_modules external, so `npm ci --omit=dev` provides them at run time. Code splitting keeps
 * what only some routes need (Bull Board, the MCP SDK) in chunks loaded on first use.
 * Type checking is `npm run typecheck`; this only transpiles.
 */
import { rm } from 'node:fs/promises';
import { build } from 'esbuild';

export const ENTRIES = {
  web: 'apps/ingress/main.ts',
  worker: 'workers/main.ts',
  cli: 'apps/cli/main.ts',
  migrate: 'drizzle/migrate.ts',
};

await rm('dist', { recursive: true, force: true });
const result = await build({
  entryPoints: ENTRIES,
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  packages: 'external',
  sourcemap: 'linked',
  chunkNames: 'chunks/[name]-[hash]',
  metafile: true,
  logLevel: 'warning',
});
const out = Object.entries(result.metafile.outputs).filter(([f]) => f.endsWith('.js'));
const kib = (n) => `${(n / 1024).toFixed(0)} KiB`;
console.log(`built ${out.length} files in dist/: ${out.filter(([f]) => !f.includes('/chunks/')).map(([f, o]) => `${f} ${kib(o.bytes)}`).join(', ')}`);
