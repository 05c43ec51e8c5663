/**
 * Who a GDPR request is about. A person is a customer per company (one row per company and
 * phone number), so a request always names the company: the same number in another company is
 * another customer and is never touched by this request. Queue jobs then carry only the ids.
 */
import { phoneIndexCandidates } from '../pii';
import { and, eq, inArray } from 'drizzle-orm';
import type { Db } from '../db';
import { companies, customers } from '../../drizzle/schema';
import { isE164 } from '../phone/e164';

export class GdprLookupError extends Error {
  override readonly name = 'GdprLookupError';
}

export interface CustomerRef {
  companyId: number;
  companySlug: string;
  customerId: number;
}

/** The company by id (number), or by slug, or by id written as digits when no slug matches. */
export async function findCompany(db: Db, company: string | number): Promise<{ id: number; slug: string }> {
  const bySlug = typeof company === 'string' ? (await db.select({ id: companies.id, slug: companies.slug }).from(companies).where(eq(companies.slug, company)))[0] : undefined;
  if (bySlug) return bySlug;
  const id = typeof company === 'number' ? company : /^\d+$/.test(company) ? Number(company) : undefined;
  const byId = id !== undefined && Number.isSafeInteger(id) ? (await db.select({ id: companies.id, slug: companies.slug }).from(companies).where(eq(companies.id, id)))[0] : undefined;
  if (byId) return byId;
  throw new GdprLookupError(`no company with slug or id "${company}"`);
}

/** Finds the customer of `phone` (E.164) in one company, or throws GdprLookupError saying which part is missing. */
export async function findCustomer(db: Db, q: { company: string | number; phone: string }): Promise<CustomerRef> {
  const phone = q.phone.trim();
  if (!isE164(phone)) throw new GdprLookupError(`"${q.phone}" is not an E.164 number (like +4917012345678)`);
  const company = await findCompany(db, q.company);
  const [row] = await db
    .select({ id: customers.id })
    .from(customers)
    .where(and(eq(customers.companyId, company.id), inArray(customers.phoneIndex, phoneIndexCandidates(company.id, phone))));
  if (!row) throw new GdprLookupError(`no customer with that number in company ${company.slug} (already erased, or never called)`);
  return { companyId: company.id, companySlug: company.slug, customerId: row.id };
}
