/**
 * Builds dist/ once before the suite: the tests that run the `callbook` bin and the CI smoke
 * test use the built JavaScript, never a stale copy (esbuild takes about a second).
 */
import { execFileSync } from 'node:child_process';

export default function setup(): void {
  execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
}
