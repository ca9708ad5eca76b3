import type { AlarmReport } from '../../../../server/audit/alarm-report-schemas.js';

const DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
const HOURS = Array.from({ length: 24 }, (_, h) => h);

/**
 * Pale to deep blue in two bands, so every cell's number keeps ≥ 4.5:1 (WCAG 1.4.3): the quieter half
 * is pale with dark figures, the busier half dark with white ones; the colour only repeats the number.
 */
function shade(count: number, max: number): { background: string; color: string } {
  if (!count || !max) return { background: '#ffffff', color: '#5b6472' };
  const t = Math.min(1, count / max);
  const mix = (from: number[], to: number[], f: number) => `rgb(${from.map((c, i) => Math.round(c + ((to[i] as number) - c) * f)).join(', ')})`;
  return t <= 0.5
    ? { background: mix([236, 242, 255], [157, 180, 234], t / 0.5), color: '#10213f' }
    : { background: mix([47, 79, 156], [14, 30, 92], (t - 0.5) / 0.5), color: '#ffffff' };
}

/**
 * When the alarms come: alerts raised per local day of the week and hour. A table, so it is its own
 * text alternative (a screen reader reads "Monday, 08:00, 14"); the colour only repeats the number.
 */
export function AlarmHeatMap({ report }: { report: AlarmReport }) {
  const counts = new Map(report.busiestHours.map((c) => [`${c.dayOfWeek}|${c.hour}`, c.count]));
  const max = Math.max(0, ...report.busiestHours.map((c) => c.count));
  const byHour = HOURS.map((h) => DAYS.reduce((n, _, d) => n + (counts.get(`${d + 1}|${h}`) ?? 0), 0));
  const peak = byHour.indexOf(Math.max(...byHour));
  return (
    <figure className="card chart">
      <figcaption>Busiest hours: alerts raised by day and hour ({report.timezone} time)</figcaption>
      {max ? (
        <p className="chart-note muted">
          Busiest hour of the day: {String(peak).padStart(2, '0')}:00–{String((peak + 1) % 24).padStart(2, '0')}:00 ({byHour[peak]} alerts over the period). Darker is busier.
        </p>
      ) : (
        <p className="muted">No alerts were raised in this period.</p>
      )}
      {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must be reachable by keyboard (WCAG 2.1.1) */}
      <section className="table-scroll heatmap-scroll" aria-label="Heat map, scrolls sideways" tabIndex={0}>
        <table className="heatmap" aria-label="Alerts raised by day of the week and hour of the day">
          <thead>
            <tr>
              <th scope="col">Day</th>
              {HOURS.map((h) => (
                <th key={h} scope="col" aria-label={`${String(h).padStart(2, '0')}:00`}>
                  {String(h).padStart(2, '0')}
                </th>
              ))}
              <th scope="col">Total</th>
            </tr>
          </thead>
          <tbody>
            {DAYS.map((day, d) => {
              const row = HOURS.map((h) => counts.get(`${d + 1}|${h}`) ?? 0);
              return (
                <tr key={day}>
                  <th scope="row">{day.slice(0, 3)}</th>
                  {row.map((n, h) => (
                    // biome-ignore lint/suspicious/noArrayIndexKey: the 24 hours never reorder
                    <td key={h} style={shade(n, max)}>
                      {n || ''}
                    </td>
                  ))}
                  <td className="heatmap-total">{row.reduce((a, b) => a + b, 0)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </section>
    </figure>
  );
}
