/** Turns the slugs an operator types into rows, with errors that list what exists. */
import type { Db } from '../../lib/db';
import { branchesBySlug, companiesBySlug, servicesAtBranch, type BranchRow, type CompanyRow, type ServiceRow } from '../../lib/tenants/queries';
import { CliError } from './output';

export type { BranchRow, CompanyRow, ServiceRow };

export async function resolveCompany(db: Db, slug: string | undefined): Promise<CompanyRow> {
  const all = await companiesBySlug(db);
  if (!slug) {
    if (all.length === 1) return all[0]!;
    throw new CliError(`--company is required; companies: ${all.map((c) => c.slug).join(', ') || 'none (import tenants first)'}`, 2);
  }
  const found = all.find((c) => c.slug === slug);
  if (!found) throw new CliError(`no company "${slug}"; companies: ${all.map((c) => c.slug).join(', ') || 'none'}`, 2);
  return found;
}

export async function resolveBranch(db: Db, company: CompanyRow, slug: string | undefined): Promise<BranchRow> {
  const all = await branchesBySlug(db, company.id);
  if (!slug) {
    if (all.length === 1) return all[0]!;
    throw new CliError(`--branch is required for ${company.slug}; branches: ${all.map((b) => b.slug).join(', ')}`, 2);
  }
  const found = all.find((b) => b.slug === slug);
  if (!found) throw new CliError(`no branch "${slug}" in ${company.slug}; branches: ${all.map((b) => b.slug).join(', ')}`, 2);
  return found;
}

export async function resolveService(db: Db, company: CompanyRow, branch: BranchRow, slug: string): Promise<ServiceRow> {
  const all = await servicesAtBranch(db, company.id, branch.id);
  const found = all.find((s) => s.slug === slug || s.calcomEventTypeId === Number(slug));
  if (!found) throw new CliError(`no service "${slug}" at ${company.slug}/${branch.slug}; services: ${all.map((s) => s.slug).join(', ')}`, 2);
  return found;
}

export function actor(): string {
  return `cli:${process.env.USER ?? process.env.USERNAME ?? 'unknown'}`;
}
