/**
 * The tenants file (`callbook tenants import <file>`, JSON or YAML): companies with their
 * branches, phone numbers and services. Validated whole before anything is written; every
 * error names its path, e.g. `companies[0].branches[1].timezone`.
 */
import { z } from 'zod';
import { e164 } from '../phone/e164';

const slug = z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'lower-case letters, digits and - (max 64)');
const timezone = z.string().refine((tz) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, 'must be an IANA time zone like Europe/Berlin');
const language = z.enum(['de', 'en']);

export const branchSchema = z.strictObject({
  slug,
  name: z.string().min(1).max(200),
  timezone,
  language: language.optional(),
  openingHours: z.string().max(500).optional(),
  phoneNumbers: z.array(e164).default([]),
  /** slug of a service of this company */
  defaultService: slug.optional(),
});

export const serviceSchema = z.strictObject({
  slug,
  name: z.string().min(1).max(200),
  /** slug of the branch offering it; omitted = every branch */
  branch: slug.optional(),
  calcomEventTypeId: z.number().int().positive(),
  /** Cal.com team id for team event types: used for discovery and checks, never sent when booking. */
  calcomTeamId: z.number().int().positive().optional(),
  durationMinutes: z.number().int().positive().max(24 * 60),
  aliases: z.array(z.string().min(1).max(100)).default([]),
});

/** Sent in an Authorization header: printable ASCII, no spaces or line breaks (node:http refuses the rest). */
const apiKey = z
  .string()
  .min(8)
  .max(500)
  .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces or line breaks (pasted with a trailing newline?)');

export const companySchema = z.strictObject({
  slug,
  name: z.string().min(1).max(200),
  language: language.default('de'),
  /** Overrides RETELL_API_KEY for this company's webhooks and API calls. */
  retellApiKey: apiKey.optional(),
  calcomApiKey: apiKey.optional(),
  calcomUsername: z.string().max(100).optional(),
  calcomWebhookSecret: z.string().min(8).optional(),
  retentionDays: z.number().int().positive().max(3650).default(365),
  operatorEmails: z.array(z.email()).default([]),
  /** Store customers' name/email/phone and calls' numbers and words encrypted (lib/pii); absent keeps what is stored, null = PII_ENCRYPTION_DEFAULT. */
  piiEncryption: z.boolean().nullable().optional(),
  branches: z.array(branchSchema).min(1, 'a company needs at least one branch'),
  services: z.array(serviceSchema).default([]),
});

export const tenantsFileSchema = z
  .strictObject({ companies: z.array(companySchema).min(1) })
  .superRefine((file, ctx) => {
    const numbers = new Map<string, string>();
    file.companies.forEach((company, ci) => {
      const branchSlugs = new Set<string>();
      const serviceSlugs = new Set(company.services.map((s) => s.slug));
      company.branches.forEach((b, bi) => {
        if (branchSlugs.has(b.slug)) ctx.addIssue({ code: 'custom', path: ['companies', ci, 'branches', bi, 'slug'], message: `duplicate branch slug "${b.slug}"` });
        branchSlugs.add(b.slug);
        if (b.defaultService && !serviceSlugs.has(b.defaultService))
          ctx.addIssue({ code: 'custom', path: ['companies', ci, 'branches', bi, 'defaultService'], message: `no service "${b.defaultService}" in this company` });
        b.phoneNumbers.forEach((n, ni) => {
          const seen = numbers.get(n);
          if (seen) ctx.addIssue({ code: 'custom', path: ['companies', ci, 'branches', bi, 'phoneNumbers', ni], message: `${n} is already listed at ${seen}` });
          numbers.set(n, `companies[${ci}].branches[${bi}]`);
        });
      });
      const seenServices = new Set<string>();
      company.services.forEach((s, si) => {
        if (seenServices.has(s.slug)) ctx.addIssue({ code: 'custom', path: ['companies', ci, 'services', si, 'slug'], message: `duplicate service slug "${s.slug}"` });
        seenServices.add(s.slug);
        if (s.branch && !branchSlugs.has(s.branch))
          ctx.addIssue({ code: 'custom', path: ['companies', ci, 'services', si, 'branch'], message: `no branch "${s.branch}" in this company` });
      });
    });
    const companySlugs = new Set<string>();
    file.companies.forEach((c, ci) => {
      if (companySlugs.has(c.slug)) ctx.addIssue({ code: 'custom', path: ['companies', ci, 'slug'], message: `duplicate company slug "${c.slug}"` });
      companySlugs.add(c.slug);
    });
  });

export type TenantsFile = z.infer<typeof tenantsFileSchema>;
export type CompanySpec = z.infer<typeof companySchema>;

/** `companies[0].branches[1].timezone` */
export function formatPath(path: PropertyKey[]): string {
  return path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)), '') || '(root)';
}
