/**
 * `tenants_list`: the companies, branches and services the caller may work on — the admin every
 * company; a company token its own; a branch token its own branch and the services offered
 * there. Ids are included because live events (/events) name branches by id.
 */
import { and, asc, eq, inArray, isNull, or } from 'drizzle-orm';
import { z } from 'zod';
import { branches, companies, services } from '../../drizzle/schema';
import { tokenBranchId, tokenCompanyId } from './scope';
import { defineTool, ok, type ToolDef } from './tool';

const tenantsList = defineTool({
  name: 'tenants_list',
  title: 'Companies, branches and services',
  description: 'The companies, branches (with time zones) and services this token may work on, and who the token is (admin, company or branch).',
  input: z.object({}).strict(),
  annotations: { readOnlyHint: true, openWorldHint: false },
  handler: async (_a, t) => {
    const db = t.ctx.database.db;
    const ownCompany = tokenCompanyId(t);
    const ownBranch = tokenBranchId(t);
    const cos = await db
      .select()
      .from(companies)
      .where(ownCompany !== null ? eq(companies.id, ownCompany) : undefined)
      .orderBy(asc(companies.slug));
    const ids = cos.map((c) => c.id);
    const brs = ids.length
      ? await db
          .select()
          .from(branches)
          .where(and(inArray(branches.companyId, ids), ownBranch !== null ? eq(branches.id, ownBranch) : undefined))
          .orderBy(asc(branches.slug))
      : [];
    const svcs = ids.length
      ? await db
          .select()
          .from(services)
          .where(and(inArray(services.companyId, ids), ownBranch !== null ? or(isNull(services.branchId), eq(services.branchId, ownBranch)) : undefined))
          .orderBy(asc(services.slug))
      : [];
    const branchSlug = new Map(brs.map((b) => [b.id, b.slug]));
    const p = t.principal;
    return ok({
      principal: p.kind === 'admin' ? { kind: 'admin' } : { kind: p.branchId === null ? 'company' : 'branch', name: p.name },
      companies: cos.map((c) => ({
        id: c.id,
        slug: c.slug,
        name: c.name,
        language: c.language,
        branches: brs.filter((b) => b.companyId === c.id).map((b) => ({ id: b.id, slug: b.slug, name: b.name, timezone: b.timezone, language: b.language })),
        services: svcs
          .filter((s) => s.companyId === c.id)
          .map((s) => ({ slug: s.slug, name: s.name, durationMinutes: s.durationMinutes, branch: s.branchId === null ? null : (branchSlug.get(s.branchId) ?? null) })),
      })),
    });
  },
});

export const tenantTools: ToolDef[] = [tenantsList];
