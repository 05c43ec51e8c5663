/**
 * `npm run build`: the service, the workers, the CLI and the migration runner as plain ES modules
 * in dist/, for `node dist/…` without tsx. esbuild bundles our own sources (the imports are
 * extensionless, which Node's ESM loader does not resolve) and leaves the packages in
 * node_modules external, so `npm ci --omit=dev` provides them at run time — all but the ones in
 * BUNDLED. Code splitting keeps what only some routes need (Bull Board, the MCP SDK) in chunks
 * loaded on first use. Type checking is `npm run typecheck`; this only transpiles.
 */
import { rm } from 'node:fs/promises';
import { build } from 'esbuild';

/**
 * Packages built into dist/ instead of resolved from node_modules at start-up. drizzle-orm is
 * ~100 ES modules under one 179 KB package.json (447 `exports`), and Node 22/24 look the
 * nearest package.json up again for each module they load (`getPackageScopeConfig` in a profile;
 * nodejs/node#60397): on Node 24.22 importing drizzle-orm alone took 1.4 s and 105 MiB of peak RSS under the Procfile's
 * heap cap, against 0.25 s and 53 MiB on Node 20 (bench/RESULTS.md, "2026-12-02, thirteenth
 * session").
 */
const BUNDLED = new Set(['drizzle-orm']);

/** `@scope/name` or `name` of a bare import specifier (`zod`, `hono/factory`, `@opentelemetry/api`). */
const packageOf = (specifier) => specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/');

/**
 * Every bare import stays external but those of BUNDLED packages: by name, not from a list in
 * package.json, so a package imported without being declared is not built in unnoticed.
 */
const externalPackages = {
  name: 'external-packages',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) =>
      args.kind === 'entry-point' || BUNDLED.has(packageOf(args.path)) ? undefined : { path: args.path, external: true },
    );
  },
};

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
  plugins: [externalPackages],
  sourcemap: 'linked',
  chunkNames: 'chunks/[name]-[hash]',
  metafile: true,
  logLevel: 'warning',
});
// What was built in from node_modules must belong to a BUNDLED package (a guard on the plugin).
const strays = Object.keys(result.metafile.inputs).filter((f) => {
  const m = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(f);
  return m && !BUNDLED.has(m[1]);
});
if (strays.length) throw new Error(`build: node_modules code outside BUNDLED went into dist/: ${strays.slice(0, 5).join(', ')}`);
const out = Object.entries(result.metafile.outputs).filter(([f]) => f.endsWith('.js'));
const kib = (n) => `${(n / 1024).toFixed(0)} KiB`;
console.log(`built ${out.length} files in dist/: ${out.filter(([f]) => !f.includes('/chunks/')).map(([f, o]) => `${f} ${kib(o.bytes)}`).join(', ')}`);
