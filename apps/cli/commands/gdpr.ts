/** `callbook gdpr export|erase --company --phone`: access and erasure requests for one caller of one company. */
import type { Command } from 'commander';
import type { AppContext } from '../../../lib/context';
import { eraseCustomer } from '../../../lib/gdpr/erase';
import { exportCustomer, writeExport } from '../../../lib/gdpr/export';
import { findCustomer, GdprLookupError } from '../../../lib/gdpr/find';
import { CliError, print, type Run } from '../output';
import { actor } from '../resolve';

async function find(ctx: AppContext, company: string, phone: string) {
  try {
    return await findCustomer(ctx.database.db, { company, phone });
  } catch (err) {
    if (err instanceof GdprLookupError) throw new CliError(err.message, 2);
    throw err;
  }
}

export function registerGdpr(program: Command, run: Run): void {
  const gdpr = program.command('gdpr').description("a caller's data in one company: export or erase");
  gdpr
    .command('export')
    .requiredOption('--company <slug>')
    .requiredOption('--phone <e164>')
    .option('--out <dir>', 'directory (default GDPR_EXPORT_DIR)')
    .description('write everything about the caller to a JSON file (0600) and print its path')
    .action((o: { company: string; phone: string; out?: string }) =>
      run(async (ctx, json) => {
        const who = await find(ctx, o.company, o.phone);
        const data = await exportCustomer(ctx, { companyId: who.companyId, customerId: who.customerId, actor: actor() });
        const path = await writeExport(o.out ?? ctx.config.GDPR_EXPORT_DIR, data);
        print(json, { path }, () => `written: ${path}`);
      }),
    );
  gdpr
    .command('erase')
    .requiredOption('--company <slug>')
    .requiredOption('--phone <e164>')
    .option('--keep-bookings', "keep the caller's upcoming Cal.com bookings (default: cancel them)")
    .description("erase the caller's personal data; upcoming Cal.com bookings are cancelled unless --keep-bookings")
    .action((o: { company: string; phone: string; keepBookings?: boolean }) =>
      run(async (ctx, json) => {
        const who = await find(ctx, o.company, o.phone);
        const result = await eraseCustomer(ctx, { companyId: who.companyId, customerId: who.customerId, cancelBookings: !o.keepBookings, actor: actor() });
        print(json, result, () => [result.message, ...result.warnings.map((w) => `warning: ${w}`)].join('\n'));
        if (!result.complete) process.exitCode = 1;
      }),
    );
}
