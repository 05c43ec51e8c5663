/**
 * What a principal may touch. The admin names any company (or none, where a tool allows "every
 * company"); a company token is confined to its company and a branch token to its branch. A
 * scoped token naming another company or branch gets the same "not found" as a slug that does
 * not exist, so tokens learn nothing about other tenants.
 */
import { and, asc, eq, isNull, or } from 'drizzle-orm';
import { branches, companies, services } from '../../drizzle/schema';
import { isBranchToken, scopeOf, seesRow } from '../auth/bearer';
import { adminOnly, companyWideOnly, invalidParams, notFound } from './errors';
import type { ToolContext } from './tool';

export type CompanyRow = typeof companies.$inferSelect;
export type BranchRow = typeof branches.$inferSelect;
export type ServiceRow = typeof services.$inferSelect;

export function isAdmin(t: ToolContext): boolean {
  return t.principal.kind === 'admin';
}

export function requireAdmin(t: ToolContext, why: string): void {
  if (!isAdmin(t)) throw adminOnly(why);
}

/** What acts on a whole company or Retell account is not for a branch token. */
export function requireCompanyWide(t: ToolContext, what: string): void {
  if (isBranchToken(t.principal)) throw companyWideOnly(what);
}

/** The branch a branch token is confined to (null: admin or company token). */
export function tokenBranchId(t: ToolContext): number | null {
  return scopeOf(t.principal).branchId;
}

/** The company a scoped token is confined to, else null (admin). */
export function tokenCompanyId(t: ToolContext): number | null {
  return scopeOf(t.principal).companyId;
}

/** The company to work on: a scoped token's own; for the admin the named one, or the only one. */
export async function resolveCompany(t: ToolContext, slug: string | undefined): Promise<CompanyRow> {
  const db = t.ctx.database.db;
  const own = tokenCompanyId(t);
  if (own !== null) {
    const [row] = await db.select().from(companies).where(eq(companies.id, own));
    if (!row || (slug !== undefined && slug !== row.slug)) throw notFound(`no company "${slug ?? own}"`);
    return row;
  }
  const all = await db.select().from(companies).orderBy(asc(companies.slug));
  if (slug === undefined) {
    if (all.length === 1) return all[0]!;
    throw invalidParams(`company: required (there are ${all.length} companies: ${all.map((c) => c.slug).join(', ') || 'none'})`);
  }
  const found = all.find((c) => c.slug === slug);
  if (!found) throw notFound(`no company "${slug}"; companies: ${all.map((c) => c.slug).join(', ') || 'none'}`);
  return found;
}

/** The company when one is named or implied by the token; null when the admin names none ("every company"). */
export async function optionalCompany(t: ToolContext, slug: string | undefined): Promise<CompanyRow | null> {
  if (slug === undefined && isAdmin(t)) return null;
  return resolveCompany(t, slug);
}

/**
 * The branch: a branch token's own; otherwise the named one (or, when `required`, the company's
 * only one). Null when none is named and none is required.
 */
export async function resolveBranch(t: ToolContext, company: CompanyRow, slug: string | undefined, required: boolean): Promise<BranchRow | null> {
  const db = t.ctx.database.db;
  const own = tokenBranchId(t);
  const all = await db.select().from(branches).where(eq(branches.companyId, company.id)).orderBy(asc(branches.slug));
  if (own !== null) {
    const row = all.find((b) => b.id === own);
    if (!row || (slug !== undefined && slug !== row.slug)) throw notFound(`no branch "${slug ?? own}" in ${company.slug}`);
    return row;
  }
  if (slug === undefined) {
    if (!required) return null;
    if (all.length === 1) return all[0]!;
    throw invalidParams(`branch: required for ${company.slug} (branches: ${all.map((b) => b.slug).join(', ') || 'none'})`);
  }
  const found = all.find((b) => b.slug === slug);
  if (!found) throw notFound(`no branch "${slug}" in ${company.slug}; branches: ${all.map((b) => b.slug).join(', ')}`);
  return found;
}

/** A service of the company offered at the branch, by slug or Cal.com event type id. */
export async function resolveService(t: ToolContext, company: CompanyRow, branch: BranchRow, slugOrId: string): Promise<ServiceRow> {
  const all = await t.ctx.database.db
    .select()
    .from(services)
    .where(and(eq(services.companyId, company.id), or(isNull(services.branchId), eq(services.branchId, branch.id))))
    .orderBy(asc(services.slug));
  const found = all.find((s) => s.slug === slugOrId || String(s.calcomEventTypeId) === slugOrId);
  if (!found) throw notFound(`no service "${slugOrId}" at ${company.slug}/${branch.slug}; services: ${all.map((s) => s.slug).join(', ') || 'none'}`);
  return found;
}

/** May this principal see a row of this company and branch? */
export function inScope(t: ToolContext, companyId: number, branchId: number | null | undefined): boolean {
  return seesRow(t.principal, companyId, branchId);
}
