/**
 * `callbook` — the operator CLI. Reads the same environment as the service (or the sandbox's
 * .sandbox/env). Every command takes --json; exit codes: 0 ok, 1 failed, 2 bad input, 3 bad
 * configuration.
 */
import { Command } from 'commander';
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
  .option('--json', 'print JSON instead of text')
  .showHelpAfterError();

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

await program.parseAsync(process.argv);
