/**
 * Bookings per hour of the day as 24 SVG bars (no chart library: the whole chart is a few
 * rects). Each bar has a <title>; the figure has a text summary for screen readers, and the
 * numbers are also in a table that can be opened.
 */
import { useI18n } from './app';

const W = 480;
const H = 160;
const PAD_BOTTOM = 18;
const PAD_TOP = 14;

export function HourChart({ hours }: { hours: number[] }) {
  const { t } = useI18n();
  const max = Math.max(1, ...hours);
  const total = hours.reduce((a, b) => a + b, 0);
  const peak = hours.indexOf(Math.max(...hours));
  const slot = W / 24;
  const label = (h: number) => `${String(h).padStart(2, '0')}:00`;
  const summary = t.perHourSummary(total, total ? label(peak) : '–');
  return (
    <section aria-labelledby="hours-h" class="panel chart">
      <h2 id="hours-h">{t.perHour}</h2>
      <figure>
        <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={summary} class="hours" data-total={total}>
          <line x1="0" x2={W} y1={H - PAD_BOTTOM} y2={H - PAD_BOTTOM} class="axis" />
          {hours.map((n, h) => {
            const height = ((H - PAD_BOTTOM - PAD_TOP) * n) / max;
            return (
              <g key={h}>
                <title>{`${label(h)}: ${n}`}</title>
                <rect x={h * slot + 2} y={H - PAD_BOTTOM - height} width={slot - 4} height={height} class="barh" data-hour={h} data-n={n} />
                {n > 0 && (
                  <text x={h * slot + slot / 2} y={H - PAD_BOTTOM - height - 3} class="val" text-anchor="middle">
                    {n}
                  </text>
                )}
                {h % 3 === 0 && (
                  <text x={h * slot + slot / 2} y={H - 4} class="tick" text-anchor="middle">
                    {String(h).padStart(2, '0')}
                  </text>
                )}
              </g>
            );
          })}
        </svg>
        <figcaption>{summary}</figcaption>
      </figure>
      <details>
        <summary>{t.bookings} / {t.hour}</summary>
        <table>
          <thead>
            <tr>
              <th scope="col">{t.hour}</th>
              <th scope="col">{t.bookings}</th>
            </tr>
          </thead>
          <tbody>
            {hours.map((n, h) =>
              n ? (
                <tr key={h}>
                  <th scope="row">{label(h)}</th>
                  <td>{n}</td>
                </tr>
              ) : null,
            )}
          </tbody>
        </table>
      </details>
    </section>
  );
}
