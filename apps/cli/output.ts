/**
 * Output and exit codes shared by every command: `--json` prints one JSON document, otherwise a
 * human summary. Exit 0 success, 1 operation failed, 2 bad input, 3 bad configuration.
 */
import { ConfigError } from '../../lib/config';
import type { AppContext } from '../../lib/context';
import { TenantsFileError } from '../../lib/tenants/import';

/** How a command body runs: main.ts builds the context, prints what it throws and sets the exit code. */
export type Run = (fn: (ctx: AppContext, json: boolean) => Promise<void>) => Promise<void>;

export class CliError extends Error {
  constructor(message: string, readonly exitCode = 1, readonly details?: unknown) {
    super(message);
  }
}

export function print(json: boolean, data: unknown, human: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(data, null, 2)}\n` : `${human()}\n`);
}

export function fail(err: unknown, json: boolean): never {
  const code = err instanceof CliError ? err.exitCode : err instanceof TenantsFileError ? 2 : err instanceof ConfigError ? 3 : 1;
  const message = err instanceof Error ? err.message : String(err);
  const details = err instanceof TenantsFileError ? err.problems : err instanceof ConfigError ? err.problems : err instanceof CliError ? err.details : undefined;
  if (json) process.stdout.write(`${JSON.stringify({ error: { message, ...(details ? { details } : {}) } }, null, 2)}\n`);
  else process.stderr.write(`callbook: ${message}\n`);
  process.exit(code);
}
