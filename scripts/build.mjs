/**
 * `npm run build`: the service, the workers, the CLI and the migration runner as plain ES modules
 * in dist/, for `node dist/…` without tsx. esbuild bundles our own sources (the imports are
 * extensionless, which Node's ESM loader does not resolve) and leaves the packages in
 * node_modules external, so `npm ci --omit=dev` provides them at run time — all but the ones in
 * BUNDLED. Code splitting keeps what only some routes need (Bull Board, the MCP SDK) in chunks
 * loaded on first use. Type checking is `npm run typecheck`; this only transpiles.
 */
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { build } from 'esbuild';

/**
 * Packages built into dist/ instead of resolved from node_modules at start-up. drizzle-orm is
 * ~100 ES modules under one 179 KB package.json (447 `exports`), and Node 22/24 read and
 * deserialise the nearest package.json again for each module it loads (nodejs/node#60397): on
 * Node 24.22 importing drizzle-orm alone took 1.4 s and 105 MiB of peak RSS under the Procfile's
 * heap cap, against 0.25 s and 53 MiB on Node 20 (bench/RESULTS.md, thirteenth session).
 */
const BUNDLED = new Set(['drizzle-orm']);
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const external = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies, ...pkg.peerDependencies })
  .filter((name) => !BUNDLED.has(name))
  .flatMap((name) => [name, `${name}/*`]);

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
  external,
  sourcemap: 'linked',
  chunkNames: 'chunks/[name]-[hash]',
  metafile: true,
  logLevel: 'warning',
});
const out = Object.entries(result.metafile.outputs).filter(([f]) => f.endsWith('.js'));
const kib = (n) => `${(n / 1024).toFixed(0)} KiB`;
console.log(`built ${out.length} files in dist/: ${out.filter(([f]) => !f.includes('/chunks/')).map(([f, o]) => `${f} ${kib(o.bytes)}`).join(', ')}`);
