import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { AlertResponse } from '../../../../server/alerts/report.js';
import { priorityLabel, statusLabel } from '../../lib/format.js';
import { ChartTable } from './ChartTable.js';

const PRIORITY_RANK: Record<string, number> = { critical: 0, high: 1, medium: 2, low: 3 };

/** "45 s", "3 min 05 s", "2 h 04 min": a duration as a person says it. */
export function duration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

/** The alert-response part of the compliance report: how fast alerts were taken, and how many there were. */
export function AlertResponseCharts({ data }: { data: AlertResponse }) {
  const tta = data.timeToAcknowledge
    .slice()
    .sort((a, b) => a.departmentName.localeCompare(b.departmentName) || (PRIORITY_RANK[a.priority] ?? 9) - (PRIORITY_RANK[b.priority] ?? 9))
    .map((r) => ({ label: `${r.departmentName} · ${priorityLabel[r.priority] ?? r.priority}`, median: r.medianSeconds, p90: r.p90Seconds, n: r.acknowledged }));
  const totalAlerts = data.byStatus.reduce((n, s) => n + s.count, 0);
  return (
    <>
      <h2>Alert response</h2>
      <dl className="stats">
        <div>
          <dt>Alerts raised</dt>
          <dd>{totalAlerts}</dd>
        </div>
        {data.byStatus.map((s) => (
          <div key={s.status}>
            <dt>{statusLabel[s.status] ?? s.status}</dt>
            <dd>{s.count}</dd>
          </div>
        ))}
        {data.escalationsByLevel.map((e) => (
          <div key={e.level}>
            <dt>Escalations to level {e.level}</dt>
            <dd>{e.count}</dd>
          </div>
        ))}
      </dl>
      <figure className="card chart">
        <figcaption>Time to acknowledge per department and priority (median and 90th percentile)</figcaption>
        {tta.length ? (
          <ResponsiveContainer width="100%" height={Math.max(220, tta.length * 44 + 70)}>
            <BarChart data={tta} layout="vertical" margin={{ left: 10, right: 20 }}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis type="number" tickFormatter={(v: number) => duration(v)} />
              <YAxis type="category" dataKey="label" width={220} interval={0} />
              <Tooltip formatter={(v) => duration(Number(v))} labelFormatter={(l, p) => `${String(l)} — ${p?.[0]?.payload?.n ?? 0} acknowledged`} />
              <Legend />
              <Bar dataKey="median" fill="#1d4ed8" name="Median" isAnimationActive={false} />
              <Bar dataKey="p90" fill="#e8590c" name="90th percentile" isAnimationActive={false} />
            </BarChart>
          </ResponsiveContainer>
        ) : null}
        {tta.length ? (
          <ChartTable
            caption="Time to acknowledge per department and priority"
            rows={tta}
            columns={[
              ['Department · priority', (r) => r.label],
              ['Median', (r) => duration(r.median)],
              ['90th percentile', (r) => duration(r.p90)],
              ['Acknowledged', (r) => r.n],
            ]}
          />
        ) : (
          <p className="muted">No alert was acknowledged in this period.</p>
        )}
      </figure>
      <figure className="card chart">
        <figcaption>Alert events per day</figcaption>
        {data.eventsPerDay.length ? (
          <ResponsiveContainer width="100%" height={260}>
            <BarChart data={data.eventsPerDay} margin={{ right: 20 }}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis dataKey="day" />
              <YAxis allowDecimals={false} />
              <Tooltip />
              <Bar dataKey="count" fill="#123c8c" name="Alert events" maxBarSize={60} isAnimationActive={false} />
            </BarChart>
          </ResponsiveContainer>
        ) : null}
        {data.eventsPerDay.length ? (
          <ChartTable
            caption="Alert events per day"
            rows={data.eventsPerDay}
            columns={[
              ['Day', (r) => r.day],
              ['Alert events', (r) => r.count],
            ]}
          />
        ) : (
          <p className="muted">No alert events in this period.</p>
        )}
      </figure>
    </>
  );
}
