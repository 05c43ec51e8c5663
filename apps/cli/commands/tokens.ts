/**
 * `callbook tokens create|list|revoke`: access tokens for /mcp (and other token routes) confined
 * to one company or one branch. The token is printed once, at creation; only its SHA-256 is
 * stored. Revoking takes effect at once in Redis; other processes' in-memory copies expire
 * within 30 s. Creating and revoking write audit rows.
 */
import type { Command } from 'commander';
import { branchSlugs } from '../../../lib/tenants/queries';
import { audit } from '../../../lib/audit';
import { createToken, listTokens, revokeToken, tokenById } from '../../../lib/auth/tokens';
import { CliError, print, type Run } from '../output';
import { actor, resolveBranch, resolveCompany } from '../resolve';

export function registerTokens(program: Command, run: Run): void {
  const tokens = program.command('tokens').description('access tokens for /mcp, confined to one company or one branch (stored hashed, shown once)');

  tokens
    .command('create')
    .description('create a token and print it once')
    .requiredOption('--company <slug>', 'the company the token is confined to')
    .option('--branch <slug>', 'confine it further to one branch')
    .requiredOption('--name <name>', 'who or what holds it, e.g. "reception tablet"')
    .action((o: { company: string; branch?: string; name: string }) =>
      run(async (ctx, json) => {
        const name = o.name.trim();
        if (!name || name.length > 100) throw new CliError('--name must be 1–100 characters', 2);
        const db = ctx.database.db;
        const company = await resolveCompany(db, o.company);
        const branch = o.branch ? await resolveBranch(db, company, o.branch) : null;
        const { id, token } = await createToken(db, { companyId: company.id, branchId: branch?.id ?? null, name });
        await audit(db, { companyId: company.id, actor: actor(), action: 'token.create', target: `token:${id}`, details: { name, branch: branch?.slug ?? null } });
        const scope = branch ? `${company.slug}/${branch.slug}` : company.slug;
        print(json, { id, company: company.slug, branch: branch?.slug ?? null, name, token }, () =>
          [`token #${id} for ${scope} ("${name}"):`, '', `  ${token}`, '', 'It is shown only now: callbook keeps its hash, not the token. Revoke with `callbook tokens revoke ' + id + '`.'].join('\n'),
        );
      }),
    );

  tokens
    .command('list')
    .description('every token: id, company, branch, name, created, last used, revoked (never the token itself)')
    .option('--company <slug>', 'only this company')
    .action((o: { company?: string }) =>
      run(async (ctx, json) => {
        const db = ctx.database.db;
        const company = o.company ? await resolveCompany(db, o.company) : null;
        const slugs = await branchSlugs(db);
        const rows = (await listTokens(db))
          .filter((r) => !company || r.company === company.slug)
          .sort((a, b) => a.id - b.id)
          .map((r) => ({
            id: r.id,
            company: r.company,
            branch: r.branchId === null ? null : (slugs.get(r.branchId) ?? `#${r.branchId}`),
            name: r.name,
            createdAt: r.createdAt.toISOString(),
            lastUsedAt: r.lastUsedAt?.toISOString() ?? null,
            revokedAt: r.revokedAt?.toISOString() ?? null,
          }));
        print(json, rows, () =>
          rows.length
            ? rows
                .map((r) => `#${r.id} ${r.branch ? `${r.company}/${r.branch}` : r.company} "${r.name}" created ${r.createdAt}, ${r.lastUsedAt ? `last used ${r.lastUsedAt}` : 'never used'}${r.revokedAt ? `, revoked ${r.revokedAt}` : ', active'}`)
                .join('\n')
            : 'no tokens',
        );
      }),
    );

  tokens
    .command('revoke <id>')
    .description('revoke a token (by the id `tokens list` shows)')
    .action((idText: string) =>
      run(async (ctx, json) => {
        const id = Number(idText);
        if (!Number.isSafeInteger(id) || id <= 0) throw new CliError(`token id must be a positive number (got "${idText}")`, 2);
        const db = ctx.database.db;
        const row = await tokenById(db, id);
        if (!row) throw new CliError(`no token #${id}`, 2);
        if (row.revokedAt) {
          print(json, { id, revokedAt: row.revokedAt.toISOString(), already: true }, () => `token #${id} was already revoked at ${row.revokedAt!.toISOString()}`);
          return;
        }
        await revokeToken({ db, cache: ctx.cache }, id);
        await audit(db, { companyId: row.companyId, actor: actor(), action: 'token.revoke', target: `token:${id}`, details: { name: row.name } });
        print(json, { id, revoked: true }, () => `token #${id} ("${row.name}") revoked`);
      }),
    );
}
