/** Dates, durations and shares in the console's language and the browser's time zone. */
import type { Lang } from './i18n';

const locale = (lang: Lang) => (lang === 'de' ? 'de-DE' : 'en-GB');

export const browserZone = (): string => Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

export function dateTime(lang: Lang, iso: string | null | undefined): string {
  if (!iso) return '–';
  return new Intl.DateTimeFormat(locale(lang), { dateStyle: 'short', timeStyle: 'short' }).format(new Date(iso));
}

export function time(lang: Lang, iso: string | null | undefined): string {
  if (!iso) return '–';
  return new Intl.DateTimeFormat(locale(lang), { timeStyle: 'medium' }).format(new Date(iso));
}

export function duration(ms: number | null): string {
  if (ms === null) return '–';
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

export function share(lang: Lang, part: number, whole: number): string {
  if (!whole) return '–';
  return new Intl.NumberFormat(locale(lang), { style: 'percent', maximumFractionDigits: 0 }).format(part / whole);
}

/** YYYY-MM-DD of today minus `days`, in the browser's zone. */
export function isoDay(daysAgo = 0): string {
  const d = new Date(Date.now() - daysAgo * 86_400_000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}
