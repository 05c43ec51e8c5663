/**
 * The company/branch filter of a listing tool as SQL conditions: a token is held to its company
 * (and branch) whatever it names; the admin sees every company unless one is named. Naming
 * another tenant's company or branch answers "not found" (lib/mcp/scope).
 */
import { eq, type SQL } from 'drizzle-orm';
import type { MySqlColumn } from 'drizzle-orm/mysql-core';
import { invalidParams } from './errors';
import { optionalCompany, resolveBranch, tokenBranchId, type BranchRow, type CompanyRow } from './scope';
import type { ToolContext } from './tool';

export interface ScopeFilter {
  company: CompanyRow | null;
  branch: BranchRow | null;
  /** The branch every row must belong to (the named one, or a branch token's own). */
  branchId: number | null;
  where(cols: { companyId: MySqlColumn; branchId: MySqlColumn }): SQL[];
}

export async function scopeFilter(t: ToolContext, companySlug: string | undefined, branchSlug: string | undefined): Promise<ScopeFilter> {
  const company = await optionalCompany(t, companySlug);
  if (!company && branchSlug) throw invalidParams('branch: name the company too');
  const branch = company ? await resolveBranch(t, company, branchSlug, false) : null;
  const branchId = branch?.id ?? tokenBranchId(t);
  return {
    company,
    branch,
    branchId,
    where: (cols) => [...(company ? [eq(cols.companyId, company.id)] : []), ...(branchId !== null ? [eq(cols.branchId, branchId)] : [])],
  };
}
