#!/usr/bin/env node
// The `callbook` CLI: the built JavaScript in dist/ (`npm run build`; the image has it built).
import { existsSync } from 'node:fs';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(cli)) {
  console.error('callbook: dist/cli.js is missing; run `npm run build` first');
  process.exit(3);
}
await import(cli.href);
