/** Turns the slugs an operator types into rows, with errors that list what exists. */
import { and, asc, eq, isNull, or } from 'drizzle-orm';
import { branches, companies, services } from '../../drizzle/schema';
import type { Db } from '../../lib/db';
import { CliError } from './output';

export type CompanyRow = typeof companies.$inferSelect;
export type BranchRow = typeof branches.$inferSelect;
export type ServiceRow = typeof services.$inferSelect;

export async function resolveCompany(db: Db, slug: string | undefined): Promise<CompanyRow> {
  const all = await db.select().from(companies).orderBy(asc(companies.slug));
  if (!slug) {
    if (all.length === 1) return all[0]!;
    throw new CliError(`--company is required; companies: ${all.map((c) => c.slug).join(', ') || 'none (import tenants first)'}`, 2);
  }
  const found = all.find((c) => c.slug === slug);
  if (!found) throw new CliError(`no company "${slug}"; companies: ${all.map((c) => c.slug).join(', ') || 'none'}`, 2);
  return found;
}

export async function resolveBranch(db: Db, company: CompanyRow, slug: string | undefined): Promise<BranchRow> {
  const all = await db.select().from(branches).where(eq(branches.companyId, company.id)).orderBy(asc(branches.slug));
  if (!slug) {
    if (all.length === 1) return all[0]!;
    throw new CliError(`--branch is required for ${company.slug}; branches: ${all.map((b) => b.slug).join(', ')}`, 2);
  }
  const found = all.find((b) => b.slug === slug);
  if (!found) throw new CliError(`no branch "${slug}" in ${company.slug}; branches: ${all.map((b) => b.slug).join(', ')}`, 2);
  return found;
}

export async function resolveService(db: Db, company: CompanyRow, branch: BranchRow, slug: string): Promise<ServiceRow> {
  const all = await db
    .select()
    .from(services)
    .where(and(eq(services.companyId, company.id), or(isNull(services.branchId), eq(services.branchId, branch.id))));
  const found = all.find((s) => s.slug === slug || s.calcomEventTypeId === Number(slug));
  if (!found) throw new CliError(`no service "${slug}" at ${company.slug}/${branch.slug}; services: ${all.map((s) => s.slug).join(', ')}`, 2);
  return found;
}

export function actor(): string {
  return `cli:${process.env.USER ?? process.env.USERNAME ?? 'unknown'}`;
}
