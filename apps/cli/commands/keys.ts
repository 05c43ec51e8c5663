/**
 * `callbook keys rotate [--batch 500]`: re-encrypt what an older ENCRYPTION_KEY made (company
 * secrets, customers' and calls' personal data), encrypt the plaintext PII of companies with
 * encryption on, and fill missing blind indexes — in batches, while the system runs (lib/pii/rotate).
 * With BLIND_INDEX_KEY set it also closes, then retires, the pre-key plain phone index.
 */
import type { Command } from 'commander';
import type { PlainIndexState } from '../../../lib/pii/plain-index';
import { rotateKeys } from '../../../lib/pii/rotate';
import { CliError, print, type Run } from '../output';
import { actor } from '../resolve';

export function registerKeys(program: Command, run: Run): void {
  const keys = program.command('keys').description('encryption keys');
  keys
    .command('rotate')
    .description('re-encrypt secrets and personal data under the current ENCRYPTION_KEY (older keys in ENCRYPTION_KEYS_PREVIOUS), in batches, while the system runs')
    .option('--batch <n>', 'rows per batch (each batch its own short transaction)', '500')
    .action((o: { batch: string }) =>
      run(async (ctx, json) => {
        const batch = Number(o.batch);
        if (!Number.isInteger(batch) || batch < 1 || batch > 10_000) throw new CliError(`--batch must be a whole number from 1 to 10000 (got "${o.batch}")`, 2);
        const counts = await rotateKeys(ctx.database.db, ctx.cipher, { batch, actor: actor() });
        print(json, { keyId: ctx.cipher.keyId, ...counts }, () =>
          [
            `current key ${ctx.cipher.keyId}: re-encrypted ${counts.companies} company secret(s), ${counts.customers} customer(s), ${counts.calls} call(s)`,
            counts.skipped ? `${counts.skipped} row(s) kept changing under concurrent writes: run keys rotate again` : 'nothing skipped',
            ...(counts.duplicates ? [`${counts.duplicates} customer(s) share a number with another row of their company (from before BLIND_INDEX_KEY): left as they are`] : []),
            plainIndexLine(counts.plainIndex, counts.plainLeft),
          ].join('\n'),
        );
      }),
    );
}

function plainIndexLine(state: PlainIndexState, left: number): string {
  if (state === 'open') return 'plain phone index: open (BLIND_INDEX_KEY is not set)';
  if (state === 'retired' && left === 0) return 'plain phone index: retired (customer upserts stop looking for plain rows within a minute; every process needs BLIND_INDEX_KEY)';
  if (state === 'retired') return `plain phone index: retired, yet ${left} customer(s) are under it (was the state set back, or a backup restored?): run keys rotate again`;
  return `plain phone index: closing, ${left} customer(s) still under it: run keys rotate again (every process needs BLIND_INDEX_KEY)`;
}
