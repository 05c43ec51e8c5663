/**
 * Reads of the tenant tables (companies, branches, services, phone numbers) for operators' tools
 * and routes: apps/ never imports the schema. The hot path reads these rows from the tenant
 * catalogue (./catalogue) instead.
 */
import { and, asc, eq, isNull, or } from 'drizzle-orm';
import type { Db } from '../db';
import { branches, companies, phoneNumbers, services } from '../../drizzle/schema';
import type { BranchRow, CompanyRow, ServiceRow } from './catalogue';

export type { BranchRow, CompanyRow, ServiceRow };

export function companiesBySlug(db: Db): Promise<CompanyRow[]> {
  return db.select().from(companies).orderBy(asc(companies.slug));
}

export async function companyIdBySlug(db: Db, slug: string): Promise<number | undefined> {
  const [row] = await db.select({ id: companies.id }).from(companies).where(eq(companies.slug, slug)).limit(1);
  return row?.id;
}

export function branchesBySlug(db: Db, companyId: number): Promise<BranchRow[]> {
  return db.select().from(branches).where(eq(branches.companyId, companyId)).orderBy(asc(branches.slug));
}

/** The services a branch offers: the company's, plus those only this branch has. */
export function servicesAtBranch(db: Db, companyId: number, branchId: number): Promise<ServiceRow[]> {
  return db
    .select()
    .from(services)
    .where(and(eq(services.companyId, companyId), or(isNull(services.branchId), eq(services.branchId, branchId))));
}

export async function branchSlugs(db: Db): Promise<Map<number, string>> {
  return new Map((await db.select({ id: branches.id, slug: branches.slug }).from(branches)).map((b) => [b.id, b.slug]));
}

/** Every tenant row, for `callbook tenants list`. */
export async function allTenantRows(db: Db) {
  const [cs, bs, ps, ss] = await Promise.all([
    companiesBySlug(db),
    db.select().from(branches),
    db.select().from(phoneNumbers),
    db.select().from(services),
  ]);
  return { companies: cs, branches: bs, phoneNumbers: ps, services: ss };
}

/** The name of a branch's default service (undefined when it has none). */
export async function defaultServiceName(db: Db, branchId: number): Promise<string | undefined> {
  const [row] = await db
    .select({ service: services.name })
    .from(branches)
    .innerJoin(services, eq(services.id, branches.defaultServiceId))
    .where(eq(branches.id, branchId));
  return row?.service;
}
