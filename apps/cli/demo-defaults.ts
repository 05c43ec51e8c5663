/**
 * What `callbook demo-call --to <number>` asks for when not told: the dialled branch's default
 * service (by name, which the service matcher knows) and a time spoken in the branch's language.
 */
import { DateTime } from 'luxon';
import { lookupPhone } from '../../lib/calls/resolve-phone';
import type { Db } from '../../lib/db';
import { defaultServiceName } from '../../lib/tenants/queries';

export interface DemoDefaults {
  language: string;
  /** The branch's default service, or undefined when the branch has none (or the number is unknown). */
  service?: string;
  timezone: string;
}

export async function demoDefaults(db: Db, to: string): Promise<DemoDefaults> {
  const where = await lookupPhone(db, to);
  if (!where) return { language: 'de', timezone: 'Europe/Berlin' };
  return { language: where.language, service: await defaultServiceName(db, where.branchId), timezone: where.timezone };
}

/** A weekday 2–8 days ahead at a whole hour 9–16, spoken as a caller would: "am 3.12. um 14 Uhr" / "on December 3 at 2 pm". */
export function spokenSoon(language: string, timezone: string, random = Math.random): string {
  let d = DateTime.now().setZone(timezone).plus({ days: 2 + Math.floor(random() * 7) });
  while (d.weekday > 5) d = d.plus({ days: 1 });
  const hour = 9 + Math.floor(random() * 8);
  if (language.startsWith('de')) return `am ${d.day}.${d.month}. um ${hour} Uhr`;
  return `on ${d.setLocale('en').toFormat('LLLL d')} at ${hour > 12 ? hour - 12 : hour} ${hour >= 12 ? 'pm' : 'am'}`;
}
