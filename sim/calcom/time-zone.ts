/**
 * Whether `name` is an IANA time zone. luxon's `IANAZone.isValidZone` builds an
 * `Intl.DateTimeFormat` on every call (about a sixth of the simulator's CPU in a bench/e2e flood,
 * where every booking names its attendee's zone), so answers are kept per name. Kept here, not in
 * luxon's own zone cache, which keeps every name it is given for the life of the process: this
 * memo forgets everything past 256 names, and a name longer than any real zone's is not kept.
 */
import { IANAZone } from 'luxon';
import { memo } from './memo';

const MAX_NAMES = 256;
const MAX_NAME_LENGTH = 64;
const known = new Map<string, boolean>();

export function isValidTimeZone(name: string): boolean {
  if (name.length > MAX_NAME_LENGTH) return IANAZone.isValidZone(name);
  return memo(known, name, () => IANAZone.isValidZone(name), MAX_NAMES);
}
