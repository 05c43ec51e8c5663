/** apps/ talks to the database only through lib/ query modules: no file under apps/ imports the schema. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

it('no file under apps/ imports drizzle/schema', () => {
  const offenders = sources('apps').filter((p) => /from ['"][./]*drizzle\/schema['"]/.test(readFileSync(p, 'utf8')));
  expect(offenders).toEqual([]);
});
