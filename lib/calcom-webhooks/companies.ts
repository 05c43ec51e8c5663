/**
 * Which company a Cal.com webhook belongs to. Preferred: the slug in the URL
 * (`/webhooks/calcom/<slug>`, one subscriber URL per company in Cal.com). Without it, the
 * candidates are the companies whose services book the payload's event type (else every company
 * with a webhook secret), and the one whose secret signed the body wins. Secrets are stored
 * encrypted and decrypted here, per request; they are not cached (webhooks are few, and a rotated
 * secret takes effect at once).
 */
import { and, eq, isNotNull } from 'drizzle-orm';
import { companies, services } from '../../drizzle/schema';
import type { Cipher } from '../crypto';
import type { Db } from '../db';

export interface SigningCompany {
  companyId: number;
  slug: string;
  secret: string;
}

function decrypted(cipher: Cipher, rows: Array<{ companyId: number; slug: string; secretEnc: string | null }>): SigningCompany[] {
  const out: SigningCompany[] = [];
  for (const r of rows) {
    if (!r.secretEnc) continue;
    try {
      out.push({ companyId: r.companyId, slug: r.slug, secret: cipher.decrypt(r.secretEnc) });
    } catch {
      // A secret made with another ENCRYPTION_KEY cannot verify anything: skip it.
    }
  }
  return out;
}

const cols = { companyId: companies.id, slug: companies.slug, secretEnc: companies.calcomWebhookSecretEnc };

/** The company named by the URL, with its secret; null when unknown or without a secret. */
export async function companyBySlug(db: Db, cipher: Cipher, slug: string): Promise<SigningCompany | null> {
  if (!/^[a-z0-9][a-z0-9-]{0,63}$/i.test(slug)) return null;
  const rows = await db.select(cols).from(companies).where(eq(companies.slug, slug)).limit(1);
  return decrypted(cipher, rows)[0] ?? null;
}

/**
 * The companies whose services book `eventTypeId` and that have a webhook secret: the candidates
 * for a webhook about it. Empty when no service books it.
 */
export async function companiesBookingEventType(db: Db, cipher: Cipher, eventTypeId: number): Promise<SigningCompany[]> {
  const rows = await db
    .selectDistinct(cols)
    .from(services)
    .innerJoin(companies, eq(companies.id, services.companyId))
    .where(and(eq(services.calcomEventTypeId, eventTypeId), isNotNull(companies.calcomWebhookSecretEnc)));
  return decrypted(cipher, rows);
}

/**
 * Every company with a webhook secret: the candidates for a webhook that names no event type (a
 * ping) or one no service books. Decrypting them all and an HMAC of the body with each is the
 * route's dearest answer, so the route asks for it only from a source within its failure limit.
 */
export async function companiesWithSecrets(db: Db, cipher: Cipher): Promise<SigningCompany[]> {
  const rows = await db.select(cols).from(companies).where(isNotNull(companies.calcomWebhookSecretEnc));
  return decrypted(cipher, rows);
}
