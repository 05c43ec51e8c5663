/**
 * Builds the operator console into apps/console/dist: the TypeScript/Preact sources bundled and
 * minified by esbuild into one ES module, plus the static files of public/. `npm run build`
 * runs it; `npm start` and the tests build first. The ingress serves dist/ at /console.
 */
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

export const CONSOLE_DIST = fileURLToPath(new URL('./dist', import.meta.url));
const root = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export async function buildConsole(outdir = CONSOLE_DIST): Promise<{ bytes: number }> {
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  const result = await build({
    entryPoints: [root('./src/main.tsx')],
    outfile: `${outdir}/console.js`,
    bundle: true,
    format: 'esm',
    target: ['es2022', 'chrome110', 'firefox110', 'safari16'],
    minify: true,
    jsx: 'automatic',
    jsxImportSource: 'preact',
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning',
  });
  cpSync(root('./public'), outdir, { recursive: true });
  const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
  return { bytes };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { bytes } = await buildConsole();
  console.log(`console built into ${CONSOLE_DIST} (${(bytes / 1024).toFixed(1)} KiB of JavaScript)`);
}
