/**
 * Everything a booking needs, read for one company only: the company's decrypted Cal.com key,
 * the branch (time zone, language), the service (event type), the customer. A row that does not
 * belong to the job's company is treated as missing.
 */
import { openPii } from '../pii';
import { and, eq } from 'drizzle-orm';
import type { Cipher } from '../crypto';
import type { Db } from '../db';
import { branches, companies, customers, services } from '../../drizzle/schema';
import type { BookingJob } from '../queues';

export class BookingInputError extends Error {
  override readonly name = 'BookingInputError';
}

export interface BookingContext {
  company: { id: number; slug: string; calcomApiKey: string; calcomUsername: string | null };
  branch: { id: number; name: string; timezone: string; language: string };
  service: typeof services.$inferSelect;
  customer: { id: number; phone: string; name: string | null; email: string | null };
}

export async function loadBookingContext(db: Db, cipher: Cipher, job: BookingJob): Promise<BookingContext> {
  const c = job.companyId;
  const [[company], [branch], [service], [customer]] = await Promise.all([
    db.select().from(companies).where(eq(companies.id, c)),
    db.select().from(branches).where(and(eq(branches.id, job.branchId), eq(branches.companyId, c))),
    db.select().from(services).where(and(eq(services.id, job.serviceId), eq(services.companyId, c))),
    db.select().from(customers).where(and(eq(customers.id, job.customerId), eq(customers.companyId, c))),
  ]);
  if (!company) throw new BookingInputError(`company ${c} does not exist`);
  if (!branch) throw new BookingInputError(`branch ${job.branchId} is not a branch of company ${company.slug}`);
  if (!service) throw new BookingInputError(`service ${job.serviceId} is not a service of company ${company.slug}`);
  if (!customer) throw new BookingInputError(`customer ${job.customerId} is not a customer of company ${company.slug}`);
  if (customer.erasedAt) throw new BookingInputError(`customer ${job.customerId} was erased (GDPR) before this booking ran`);
  if (service.branchId !== null && service.branchId !== branch.id) {
    throw new BookingInputError(`service ${service.slug} is not offered at branch ${branch.name}`);
  }
  if (!company.calcomApiKeyEnc) throw new BookingInputError(`company ${company.slug} has no Cal.com API key (add calcomApiKey to its tenants entry)`);
  return {
    company: { id: company.id, slug: company.slug, calcomApiKey: cipher.decrypt(company.calcomApiKeyEnc), calcomUsername: company.calcomUsername },
    branch: { id: branch.id, name: branch.name, timezone: branch.timezone, language: branch.language },
    service,
    // PII may be stored encrypted (lib/pii): the attendee needs the plaintext.
    customer: { id: customer.id, phone: openPii(cipher, customer.phone), name: openPii(cipher, customer.name), email: openPii(cipher, customer.email) },
  };
}
