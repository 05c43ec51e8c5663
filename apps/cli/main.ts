/**
 * `callbook` — the operator CLI. Reads the same environment as the service (or the sandbox's
 * .sandbox/env). Every command takes --json; exit codes: 0 ok, 1 failed, 2 bad input, 3 bad
 * configuration.
 */
import { Command, CommanderError } from 'commander';
import pkg from '../../package.json';
import { createContext, type AppContext } from '../../lib/context';
import { createLogger } from '../../lib/logger';
import { registerBooking } from './commands/booking';
import { registerDemoCall } from './commands/demo-call';
import { registerGdpr } from './commands/gdpr';
import { registerKeys } from './commands/keys';
import { registerOperations } from './commands/operations';
import { registerReconcile } from './commands/reconcile';
import { registerSync } from './commands/sync';
import { registerTokens } from './commands/tokens';
import { registerTenants } from './commands/tenants';
import { cliConfig } from './env';
import { fail } from './output';

const program = new Command('callbook')
  .description('callbook: Retell calls → Cal.com bookings, for many companies and branches')
  .version(pkg.version, '-V, --version', 'print the version')
  .option('--json', 'print JSON instead of text')
  .showHelpAfterError();

// Usage errors (unknown command or option, missing argument) exit 2, as documented, and honour
// --json; help and --version exit 0. Commander reads argv before our option is parsed, hence argv.
const wantsJson = process.argv.includes('--json');
program.exitOverride();
if (wantsJson) program.configureOutput({ writeErr: () => {}, outputError: () => {} });

/** Build a context, run the command, always close connections; errors become exit codes. */
async function run(fn: (ctx: AppContext, json: boolean) => Promise<void>): Promise<void> {
  const json = Boolean(program.opts().json);
  let ctx: AppContext | undefined;
  try {
    const config = cliConfig();
    ctx = createContext(config, createLogger(process.env.LOG_LEVEL ?? 'warn'));
    await fn(ctx, json);
  } catch (err) {
    await ctx?.close().catch(() => {});
    fail(err, json);
  }
  await ctx.close();
}

registerTenants(program, run);
registerDemoCall(program, run);
registerBooking(program, run);
registerOperations(program, run);
registerReconcile(program, run);
registerSync(program, run);
registerGdpr(program, run);
registerTokens(program, run);
registerKeys(program, run);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (!(err instanceof CommanderError)) throw err;
  if (err.exitCode === 0) process.exit(0); // --help, --version
  if (wantsJson) process.stdout.write(`${JSON.stringify({ error: { code: err.code, message: err.message.replace(/^error: /, '') } }, null, 2)}\n`);
  process.exit(2);
}
