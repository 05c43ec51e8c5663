// `node --import ./test/helpers/record-imports.mjs …`: appends every module URL the process
// resolves through the ESM loader to the file named by RECORD_IMPORTS_FILE (lean-processes test).
import { appendFileSync } from 'node:fs';
import { register } from 'node:module';

if (process.env.RECORD_IMPORTS_FILE && !process.env.RECORD_IMPORTS_REGISTERED) {
  process.env.RECORD_IMPORTS_REGISTERED = '1';
  register(import.meta.url);
}

export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  appendFileSync(process.env.RECORD_IMPORTS_FILE, `${resolved.url}\n`);
  return resolved;
}
