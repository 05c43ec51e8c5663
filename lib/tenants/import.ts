/**
 * Creates or updates companies, branches, services and phone numbers from a tenants file, in
 * one transaction: a bad file (or a number owned by another company) changes nothing.
 * Matching is by slug (companies; branches and services within their company) and by E.164
 * (numbers), so importing the same file twice is a no-op in effect. Nothing is deleted.
 */
import { and, eq, inArray } from 'drizzle-orm';
import { parse as parseYaml } from 'yaml';
import type { TieredCache } from '../cache';
import { cacheKeys } from '../cache';
import type { Cipher } from '../crypto';
import type { Db, Tx } from '../db';
import { auditLog, branches, companies, phoneNumbers, services } from '../../drizzle/schema';
import { blindIndexKeyMissing, forgetPiiFlags } from '../pii';
import { forgetCatalogues } from './catalogue';
import { formatPath, tenantsFileSchema, type CompanySpec, type TenantsFile } from './file-schema';

export class TenantsFileError extends Error {
  constructor(readonly problems: Array<{ path: string; message: string }>) {
    super(`tenants file rejected:\n${problems.map((p) => `  ${p.path}: ${p.message}`).join('\n')}`);
    this.name = 'TenantsFileError';
  }
}

/** Parse JSON or YAML text and validate it; throws TenantsFileError listing every problem. */
export function parseTenantsFile(text: string, filename = ''): TenantsFile {
  let raw: unknown;
  try {
    raw = /\.json$/i.test(filename) ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new TenantsFileError([{ path: '(file)', message: `not valid ${/\.json$/i.test(filename) ? 'JSON' : 'YAML/JSON'}: ${(err as Error).message}` }]);
  }
  const result = tenantsFileSchema.safeParse(raw);
  if (!result.success) {
    throw new TenantsFileError(result.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message })));
  }
  return result.data;
}

export interface ImportSummary {
  companies: { created: number; updated: number };
  branches: { created: number; updated: number };
  services: { created: number; updated: number };
  phoneNumbers: { created: number; updated: number };
}

const counter = () => ({ created: 0, updated: 0 });

async function importCompany(tx: Tx, cipher: Cipher, spec: CompanySpec, ci: number, summary: ImportSummary): Promise<number> {
  const enc = (v: string | undefined) => (v === undefined ? undefined : cipher.encrypt(v));
  const values = {
    name: spec.name,
    language: spec.language,
    retentionDays: spec.retentionDays,
    operatorEmails: spec.operatorEmails,
    calcomUsername: spec.calcomUsername ?? null,
    ...(spec.piiEncryption !== undefined && { piiEncryption: spec.piiEncryption }),
    // Absent keys leave stored keys alone: a file without secrets must not erase them.
    ...(spec.retellApiKey !== undefined && { retellApiKeyEnc: enc(spec.retellApiKey) }),
    ...(spec.calcomApiKey !== undefined && { calcomApiKeyEnc: enc(spec.calcomApiKey) }),
    ...(spec.calcomWebhookSecret !== undefined && { calcomWebhookSecretEnc: enc(spec.calcomWebhookSecret) }),
  };
  if (spec.piiEncryption === true && blindIndexKeyMissing()) {
    throw new TenantsFileError([{ path: `companies[${ci}].piiEncryption`, message: 'needs BLIND_INDEX_KEY to be set (32 bytes, base64: openssl rand -base64 32)' }]);
  }
  const [existing] = await tx.select({ id: companies.id }).from(companies).where(eq(companies.slug, spec.slug));
  let companyId: number;
  if (existing) {
    await tx.update(companies).set(values).where(eq(companies.id, existing.id));
    companyId = existing.id;
    summary.companies.updated++;
  } else {
    const [res] = await tx.insert(companies).values({ slug: spec.slug, ...values });
    companyId = Number(res.insertId);
    summary.companies.created++;
  }

  const branchIds = new Map<string, number>();
  for (const b of spec.branches) {
    const v = { name: b.name, timezone: b.timezone, language: b.language ?? spec.language, openingHours: b.openingHours ?? null };
    const [row] = await tx.select({ id: branches.id }).from(branches).where(and(eq(branches.companyId, companyId), eq(branches.slug, b.slug)));
    if (row) {
      await tx.update(branches).set(v).where(eq(branches.id, row.id));
      branchIds.set(b.slug, row.id);
      summary.branches.updated++;
    } else {
      const [res] = await tx.insert(branches).values({ companyId, slug: b.slug, ...v });
      branchIds.set(b.slug, Number(res.insertId));
      summary.branches.created++;
    }
  }

  const serviceIds = new Map<string, number>();
  for (const s of spec.services) {
    const v = {
      name: s.name,
      branchId: s.branch ? branchIds.get(s.branch)! : null,
      calcomEventTypeId: s.calcomEventTypeId,
      calcomTeamId: s.calcomTeamId ?? null,
      durationMinutes: s.durationMinutes,
      aliases: s.aliases,
    };
    const [row] = await tx.select({ id: services.id }).from(services).where(and(eq(services.companyId, companyId), eq(services.slug, s.slug)));
    if (row) {
      await tx.update(services).set(v).where(eq(services.id, row.id));
      serviceIds.set(s.slug, row.id);
      summary.services.updated++;
    } else {
      const [res] = await tx.insert(services).values({ companyId, slug: s.slug, ...v });
      serviceIds.set(s.slug, Number(res.insertId));
      summary.services.created++;
    }
  }

  for (const [bi, b] of spec.branches.entries()) {
    const branchId = branchIds.get(b.slug)!;
    await tx
      .update(branches)
      .set({ defaultServiceId: b.defaultService ? serviceIds.get(b.defaultService)! : null })
      .where(eq(branches.id, branchId));
    if (b.phoneNumbers.length === 0) continue;
    const owned = await tx.select().from(phoneNumbers).where(inArray(phoneNumbers.e164, b.phoneNumbers));
    for (const [ni, e164] of b.phoneNumbers.entries()) {
      const row = owned.find((o) => o.e164 === e164);
      if (row && row.companyId !== companyId) {
        // Moving a number between tenants silently would route one company's calls to another.
        throw new TenantsFileError([
          { path: `companies[${ci}].branches[${bi}].phoneNumbers[${ni}]`, message: `${e164} belongs to another company (id ${row.companyId}); remove it there first` },
        ]);
      }
      if (row) {
        await tx.update(phoneNumbers).set({ branchId }).where(eq(phoneNumbers.id, row.id));
        summary.phoneNumbers.updated++;
      } else {
        await tx.insert(phoneNumbers).values({ e164, companyId, branchId });
        summary.phoneNumbers.created++;
      }
    }
  }
  return companyId;
}

export async function importTenants(
  deps: { db: Db; cipher: Cipher; cache?: TieredCache },
  file: TenantsFile,
  actor: string,
): Promise<ImportSummary> {
  const summary: ImportSummary = { companies: counter(), branches: counter(), services: counter(), phoneNumbers: counter() };
  await deps.db.transaction(async (tx) => {
    for (const [ci, company] of file.companies.entries()) {
      const companyId = await importCompany(tx, deps.cipher, company, ci, summary);
      await tx.insert(auditLog).values({
        companyId,
        actor,
        action: 'tenants.import',
        target: `company:${company.slug}`,
        details: { branches: company.branches.length, services: company.services.length },
      });
    }
  });
  // This process sees a changed piiEncryption at once; others within the flag cache's 30 s.
  forgetPiiFlags();
  forgetCatalogues();
  const numbers = file.companies.flatMap((c) => c.branches.flatMap((b) => b.phoneNumbers));
  // The company key too: a rotated (say, leaked) Retell key must stop verifying at once, not
  // after the cache's 10 minutes (in this process and in Redis; other processes' L1 within 30 s).
  // And whether any company has a key of its own (retell-auth reads no body signed otherwise while none has).
  if (deps.cache) await deps.cache.invalidate(cacheKeys.retellOwnKeysExist(), ...numbers.flatMap((n) => [cacheKeys.phoneResolution(n), cacheKeys.retellWebhookKey(n)]));
  return summary;
}
