/** The repository stands alone: no source, script or document points outside it. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';

it('no tracked file refers to a path outside the repository', () => {
  const files = execFileSync('git', ['ls-files'], { encoding: 'utf8' })
    .split('\n')
    .filter((f) => /\.(ts|mjs|js|md|ya?ml|json|sh)$|^Dockerfile$|^Procfile$|^\.ci\//.test(f) && !f.endsWith('package-lock.json') && f !== 'test/self-contained.test.ts');
  const offenders = files.filter((f) => /\.\.\/shared\b|\/work\//.test(readFileSync(f, 'utf8')));
  expect(offenders).toEqual([]);
});
