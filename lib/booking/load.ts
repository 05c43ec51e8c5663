/**
 * Everything a booking needs, for one company only: the company's decrypted Cal.com key, the
 * branch (time zone, language) and the service (event type) from the process's tenant catalogue
 * (lib/tenants/catalogue: no statement while it is warm), and the customer, read with the
 * appointment (appointment-store findCustomerAndAppointment). A row that does not belong to the
 * job's company is treated as missing.
 */
import { openPii } from '../pii';
import type { Cipher } from '../crypto';
import type { Db } from '../db';
import type { BookingJob } from '../queues';
import { companyCatalogue, type ServiceRow } from '../tenants/catalogue';

export class BookingInputError extends Error {
  override readonly name = 'BookingInputError';
}

export interface BookingContext {
  company: { id: number; slug: string; calcomApiKey: string; calcomUsername: string | null };
  branch: { id: number; name: string; timezone: string; language: string };
  service: ServiceRow;
  customer: { id: number; phone: string; name: string | null; email: string | null };
}

export interface CustomerRow {
  id: number;
  phone: string;
  name: string | null;
  email: string | null;
  erasedAt: Date | null;
}

export async function bookingContext(db: Db, cipher: Cipher, job: BookingJob, customer: CustomerRow | undefined): Promise<BookingContext> {
  const c = job.companyId;
  const cat = await companyCatalogue(db, c);
  if (!cat) throw new BookingInputError(`company ${c} does not exist`);
  const company = cat.company;
  const branch = cat.branches.get(job.branchId);
  const service = cat.services.find((s) => s.id === job.serviceId);
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
