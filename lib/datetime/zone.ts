/**
 * UTC offsets of IANA zones, memoised. luxon (and Intl) find a zone's offset at an instant with
 * `Intl.DateTimeFormat#formatToParts`, once per DateTime they build or shift; a live-call request
 * builds dozens (the day's slots, the range asked about), and bench/live profiled that at ~20 % of
 * a cached check_availability's CPU.
 *
 * The memo is per 15-minute UTC bucket, and only for buckets whose first and last millisecond
 * have the same offset: then the bucket holds no transition (zones change at most once in
 * 15 minutes), so every instant in it has that offset. A bucket with a transition is never
 * memoised and is answered exactly every time. So the answer always equals Intl's.
 */
import { IANAZone, Info, Zone } from 'luxon';

const BUCKET_MS = 15 * 60_000;
/** Buckets kept per zone before that zone's memo starts afresh (a few months of them). */
const MAX_BUCKETS = 20_000;

const memos = new Map<string, Map<number, number>>();

/** The exact offset, as luxon computes it (Intl, per call). */
const exactOffset = (zone: string, ts: number): number => IANAZone.create(zone).offset(ts);

/** Offset in minutes east of UTC of IANA `zone` at epoch ms `ts`, exactly luxon's `IANAZone#offset` (NaN for an unknown zone). */
export function zoneOffset(zone: string, ts: number): number {
  if (!Number.isFinite(ts)) return NaN;
  const bucket = Math.floor(ts / BUCKET_MS);
  let memo = memos.get(zone);
  const hit = memo?.get(bucket);
  if (hit !== undefined) return hit;
  const first = exactOffset(zone, bucket * BUCKET_MS);
  const last = exactOffset(zone, (bucket + 1) * BUCKET_MS - 1);
  // A transition inside (or an unknown zone, NaN): never memoised.
  if (first !== last || Number.isNaN(first)) return exactOffset(zone, ts);
  if (!memo || memo.size >= MAX_BUCKETS) memos.set(zone, (memo = new Map()));
  memo.set(bucket, first);
  return first;
}

/**
 * A luxon zone that is `IANAZone` in every respect but answers `offset()` from the memo above.
 * Its type and name are the IANA zone's, so luxon formats through Intl with that name as before.
 */
class MemoIANAZone extends Zone {
  constructor(private readonly inner: IANAZone) {
    super();
  }
  override get type(): string {
    return 'iana';
  }
  override get name(): string {
    return this.inner.name;
  }
  /** luxon 3.5+ reads it for the canonical IANA name (DateTime#zoneName stays `name`). */
  get ianaName(): string {
    return this.inner.name;
  }
  override get isUniversal(): boolean {
    return false;
  }
  override offsetName(ts: number, opts: Parameters<Zone['offsetName']>[1]): string | null {
    return this.inner.offsetName(ts, opts);
  }
  override formatOffset(ts: number, format: Parameters<Zone['formatOffset']>[1]): string {
    return this.inner.formatOffset(ts, format);
  }
  override offset(ts: number): number {
    return zoneOffset(this.inner.name, ts);
  }
  override equals(other: Zone): boolean {
    return other.type === 'iana' && other.name === this.inner.name;
  }
  override get isValid(): boolean {
    return this.inner.isValid;
  }
}

const zones = new Map<string, Zone>();

/**
 * What to hand luxon as `zone` for `name`: the memoising zone when luxon would read `name` as an
 * IANA zone, else `name` itself (luxon's own readings of "UTC", "UTC+3", "system" … stay
 * exactly as they were: "UTC" is a fixed zone to luxon, which formats its offset as "Z").
 */
export function luxonZone(name: string): Zone | string {
  const known = zones.get(name);
  if (known) return known;
  const z = Info.normalizeZone(name);
  if (z.type !== 'iana' || !z.isValid) return name;
  const memo = new MemoIANAZone(z as IANAZone);
  zones.set(name, memo);
  return memo;
}
