/** `callbook tenants import <file>` and `callbook tenants list`. */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { allTenantRows } from '../../../lib/tenants/queries';
import { importTenants, parseTenantsFile } from '../../../lib/tenants/import';
import { CliError, print, type Run } from '../output';

export function registerTenants(program: Command, run: Run): void {
  const tenants = program.command('tenants').description('companies, branches, numbers and services');

  tenants
    .command('import <file>')
    .description('create or update tenants from a JSON or YAML file (rejected whole if any entry is bad)')
    .action((file: string) =>
      run(async (ctx, json) => {
        const text = await readFile(file, 'utf8').catch((e: Error) => {
          throw new CliError(`cannot read ${file}: ${e.message}`, 2);
        });
        const parsed = parseTenantsFile(text, file);
        const summary = await importTenants({ db: ctx.database.db, cipher: ctx.cipher, cache: ctx.cache }, parsed, `cli:${process.env.USER ?? 'unknown'}`);
        print(json, summary, () =>
          Object.entries(summary)
            .map(([k, v]) => `${k.padEnd(13)} ${v.created} created, ${v.updated} updated`)
            .join('\n'),
        );
      }),
    );

  tenants
    .command('list')
    .description('list companies with their branches, numbers and services')
    .action(() =>
      run(async (ctx, json) => {
        const db = ctx.database.db;
        const { companies: cs, branches: bs, phoneNumbers: ps, services: ss } = await allTenantRows(db);
        const list = cs.map((c) => ({
          slug: c.slug,
          name: c.name,
          hasCalcomKey: Boolean(c.calcomApiKeyEnc),
          hasRetellKey: Boolean(c.retellApiKeyEnc),
          branches: bs
            .filter((b) => b.companyId === c.id)
            .map((b) => ({ slug: b.slug, name: b.name, timezone: b.timezone, numbers: ps.filter((p) => p.branchId === b.id).map((p) => p.e164) })),
          services: ss
            .filter((s) => s.companyId === c.id)
            .map((s) => ({ slug: s.slug, eventTypeId: s.calcomEventTypeId, teamId: s.calcomTeamId ?? undefined, minutes: s.durationMinutes })),
        }));
        print(json, list, () =>
          list
            .map(
              (c) =>
                `${c.slug} — ${c.name}\n` +
                c.branches.map((b) => `  branch ${b.slug} (${b.timezone}): ${b.numbers.join(', ') || 'no numbers'}`).join('\n') +
                '\n' +
                c.services.map((s) => `  service ${s.slug}: event type ${s.eventTypeId}${s.teamId ? ` (team ${s.teamId})` : ''}, ${s.minutes} min`).join('\n'),
            )
            .join('\n') || 'no tenants yet: callbook tenants import examples/tenants.yaml',
        );
      }),
    );
}
