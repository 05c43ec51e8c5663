/**
 * Whether `name` is an IANA time zone. luxon's `IANAZone.isValidZone` builds an
 * `Intl.DateTimeFormat` on every call (about a sixth of the simulator's CPU in a bench/e2e flood,
 * where every booking names its attendee's zone); `IANAZone.create` keeps one zone per name and
 * checks it once.
 */
import { IANAZone } from 'luxon';

export function isValidTimeZone(name: string): boolean {
  return name !== '' && IANAZone.create(name).isValid;
}
