import { useSyncExternalStore } from 'react';
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { AlarmReport } from '../../../../server/audit/alarm-report-schemas.js';
import { roleLabel, sourceLabel } from '../../lib/format.js';
import { duration } from './AlertResponseCharts.js';
import { ChartTable } from './ChartTable.js';

/** One colour per shift, each ≥ 3:1 against white (WCAG 1.4.11); the legend and the tables name them. */
export const SHIFT_COLOURS = ['#1d4ed8', '#c2410c', '#3b2a7a', '#047857', '#a21caf', '#475569'];
const pct = (share: number | null) => (share === null ? '—' : `${Math.round(share * 100)}%`);
const source = (s: string) => sourceLabel(s)?.replace(/^From /, '') ?? 'Console (typed in)';

/** Legend words in body text colour (the swatch carries the colour): a pale bar's name stays readable. */
const legendText = (value: string) => <span className="chart-legend-text">{value}</span>;

/** True on a phone-width screen: department names under the bars are then slanted so they do not overlap. */
function useNarrow(): boolean {
  const query = '(max-width: 699px)';
  return useSyncExternalStore(
    (onChange) => {
      const m = window.matchMedia(query);
      m.addEventListener('change', onChange);
      return () => m.removeEventListener('change', onChange);
    },
    () => window.matchMedia(query).matches,
  );
}

function Empty({ what }: { what: string }) {
  return <p className="muted">No {what} in this period.</p>;
}

/** The slides: load per department and shift, answered in time, time to answer, the noise and who carried it. */
export function AlarmReportCharts({ report }: { report: AlarmReport }) {
  const shifts = report.shifts;
  const narrow = useNarrow();
  const deptAxis = narrow ? { angle: -35, textAnchor: 'end' as const, height: 70, fontSize: 12 } : {};
  const key = (i: number) => `s${i}`;
  const perDept = report.byDepartment.map((d) => {
    const row: Record<string, string | number | null> = { name: d.departmentName };
    for (const s of shifts) {
      const c = report.byDepartmentShift.find((x) => x.departmentId === d.departmentId && x.shift === s.index);
      row[key(s.index)] = c?.alerts ?? 0;
      row[`share${s.index}`] = c?.shareWithinFirstTimeout === null || c === undefined ? null : Math.round(c.shareWithinFirstTimeout * 100);
    }
    return row;
  });
  const tta = report.byDepartment.filter((d) => d.medianAckSeconds !== null).map((d) => ({ name: d.departmentName, median: d.medianAckSeconds, p90: d.p90AckSeconds, n: d.acknowledged }));
  const sources = report.noisiestSources.map((s) => ({ name: source(s.source), alerts: s.alerts, repeats: s.repeats }));
  const rooms = report.noisiestRooms.map((r) => ({ name: `${r.departmentName} · ${r.room}`, alerts: r.alerts, repeats: r.repeats }));
  const levels = report.total.escalationsByLevel.map((e) => ({ name: `Level ${e.level}`, count: e.count }));
  const people = report.pagesPerPerson.slice(0, 10).map((p) => ({ name: p.name, pages: p.pages, acknowledged: p.acknowledged, declined: p.declined }));
  const barHeight = (n: number) => Math.max(180, n * 38 + 70);
  const shiftName = (i: number) => `Shift ${shifts[i]?.label ?? i}`;

  return (
    <div className="alarm-charts">
      <figure className="card chart">
        <figcaption>Alerts raised per department and shift</figcaption>
        <ResponsiveContainer width="100%" height={280}>
          <BarChart data={perDept} margin={{ right: 20 }}>
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis dataKey="name" interval={0} {...deptAxis} />
            <YAxis allowDecimals={false} />
            <Tooltip />
            <Legend formatter={legendText} />
            {shifts.map((s) => (
              <Bar key={s.index} dataKey={key(s.index)} stackId="shift" name={s.label} fill={SHIFT_COLOURS[s.index % SHIFT_COLOURS.length]} isAnimationActive={false} />
            ))}
          </BarChart>
        </ResponsiveContainer>
        <ChartTable
          caption="Alerts raised per department and shift"
          rows={perDept}
          columns={[['Department', (r) => String(r.name)], ...shifts.map((s): [string, (r: (typeof perDept)[number]) => string | number] => [shiftName(s.index), (r) => Number(r[key(s.index)])])]}
        />
      </figure>

      <figure className="card chart">
        <figcaption>Answered within the first escalation timeout, per department and shift</figcaption>
        <p className="chart-note muted">
          First timeouts now: critical {duration(report.firstTimeoutSeconds.critical)}, high {duration(report.firstTimeoutSeconds.high)}, medium {duration(report.firstTimeoutSeconds.medium)}, low{' '}
          {duration(report.firstTimeoutSeconds.low)}. Higher is better.
        </p>
        <ResponsiveContainer width="100%" height={280}>
          <BarChart data={perDept} margin={{ right: 20 }}>
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis dataKey="name" interval={0} {...deptAxis} />
            <YAxis domain={[0, 100]} tickFormatter={(v: number) => `${v}%`} />
            <Tooltip formatter={(v) => `${v}%`} />
            <Legend formatter={legendText} />
            {shifts.map((s) => (
              <Bar key={s.index} dataKey={`share${s.index}`} name={s.label} fill={SHIFT_COLOURS[s.index % SHIFT_COLOURS.length]} isAnimationActive={false} />
            ))}
          </BarChart>
        </ResponsiveContainer>
        <ChartTable
          caption="Answered within the first escalation timeout, per department and shift"
          rows={report.byDepartmentShift}
          columns={[
            ['Department', (r) => r.departmentName],
            ['Shift', (r) => shifts[r.shift]?.label ?? r.shift],
            ['In time', (r) => `${r.acknowledgedWithinFirstTimeout} of ${r.needingResponse}`],
            ['Share', (r) => pct(r.shareWithinFirstTimeout)],
          ]}
        />
      </figure>

      <figure className="card chart">
        <figcaption>Time to first acknowledgement per department (median and 90th percentile)</figcaption>
        {tta.length ? (
          <>
            <ResponsiveContainer width="100%" height={barHeight(tta.length * 1.6)}>
              <BarChart data={tta} layout="vertical" margin={{ left: 10, right: 20 }}>
                <CartesianGrid strokeDasharray="3 3" />
                <XAxis type="number" tickFormatter={(v: number) => duration(v)} />
                <YAxis type="category" dataKey="name" width={130} interval={0} />
                <Tooltip formatter={(v) => duration(Number(v))} />
                <Legend formatter={legendText} />
                <Bar dataKey="median" fill="#1d4ed8" name="Median" isAnimationActive={false} />
                <Bar dataKey="p90" fill="#c2410c" name="90th percentile" isAnimationActive={false} />
              </BarChart>
            </ResponsiveContainer>
            <ChartTable
              caption="Time to first acknowledgement per department"
              rows={tta}
              columns={[
                ['Department', (r) => r.name],
                ['Median', (r) => duration(r.median ?? 0)],
                ['90th percentile', (r) => duration(r.p90 ?? 0)],
                ['Acknowledged', (r) => r.n],
              ]}
            />
          </>
        ) : (
          <Empty what="alert was acknowledged" />
        )}
      </figure>

      <div className="alarm-pair">
        <figure className="card chart">
          <figcaption>Noisiest sources (top 10)</figcaption>
          {sources.length ? (
            <>
              <ResponsiveContainer width="100%" height={barHeight(sources.length)}>
                <BarChart data={sources} layout="vertical" margin={{ left: 10, right: 20 }}>
                  <CartesianGrid strokeDasharray="3 3" />
                  <XAxis type="number" allowDecimals={false} />
                  <YAxis type="category" dataKey="name" width={150} interval={0} />
                  <Tooltip />
                  <Legend formatter={legendText} />
                  <Bar dataKey="alerts" stackId="n" fill="#1d4ed8" name="Alerts raised" isAnimationActive={false} />
                  <Bar dataKey="repeats" stackId="n" fill="#8aa4e8" name="Repeats" isAnimationActive={false} />
                </BarChart>
              </ResponsiveContainer>
              <ChartTable caption="Noisiest sources" rows={sources} columns={[['Source', (r) => r.name], ['Alerts raised', (r) => r.alerts], ['Repeats', (r) => r.repeats]]} />
            </>
          ) : (
            <Empty what="alerts" />
          )}
        </figure>
        <figure className="card chart">
          <figcaption>Noisiest rooms (top 10)</figcaption>
          {rooms.length ? (
            <>
              <ResponsiveContainer width="100%" height={barHeight(rooms.length)}>
                <BarChart data={rooms} layout="vertical" margin={{ left: 10, right: 20 }}>
                  <CartesianGrid strokeDasharray="3 3" />
                  <XAxis type="number" allowDecimals={false} />
                  <YAxis type="category" dataKey="name" width={150} interval={0} />
                  <Tooltip />
                  <Legend formatter={legendText} />
                  <Bar dataKey="alerts" stackId="n" fill="#c2410c" name="Alerts raised" isAnimationActive={false} />
                  <Bar dataKey="repeats" stackId="n" fill="#f0a27a" name="Repeats" isAnimationActive={false} />
                </BarChart>
              </ResponsiveContainer>
              <ChartTable caption="Noisiest rooms" rows={rooms} columns={[['Room', (r) => r.name], ['Alerts raised', (r) => r.alerts], ['Repeats', (r) => r.repeats]]} />
            </>
          ) : (
            <Empty what="alerts naming a room" />
          )}
        </figure>
      </div>

      <div className="alarm-pair">
        <figure className="card chart">
          <figcaption>Escalations per level</figcaption>
          {levels.length ? (
            <>
              <ResponsiveContainer width="100%" height={220}>
                <BarChart data={levels} margin={{ right: 20 }}>
                  <CartesianGrid strokeDasharray="3 3" />
                  <XAxis dataKey="name" />
                  <YAxis allowDecimals={false} />
                  <Tooltip />
                  <Bar dataKey="count" fill="#3b2a7a" name="Escalations" maxBarSize={70} isAnimationActive={false} />
                </BarChart>
              </ResponsiveContainer>
              <ChartTable caption="Escalations per level" rows={levels} columns={[['Level reached', (r) => r.name], ['Escalations', (r) => r.count]]} />
            </>
          ) : (
            <Empty what="escalations" />
          )}
        </figure>
        <figure className="card chart">
          <figcaption>People paged most (top 10)</figcaption>
          {people.length ? (
            <>
              <ResponsiveContainer width="100%" height={barHeight(people.length)}>
                <BarChart data={people} layout="vertical" margin={{ left: 10, right: 20 }}>
                  <CartesianGrid strokeDasharray="3 3" />
                  <XAxis type="number" allowDecimals={false} />
                  <YAxis type="category" dataKey="name" width={150} interval={0} />
                  <Tooltip />
                  <Bar dataKey="pages" fill="#047857" name="Pages" isAnimationActive={false} />
                </BarChart>
              </ResponsiveContainer>
              <ChartTable
                caption="Pages per person"
                rows={report.pagesPerPerson}
                columns={[
                  ['Person', (r) => r.name],
                  ['Role', (r) => roleLabel[r.role] ?? r.role],
                  ['Pages', (r) => r.pages],
                  ['Acknowledged', (r) => r.acknowledged],
                  ['Declined', (r) => r.declined],
                ]}
              />
            </>
          ) : (
            <Empty what="pages" />
          )}
        </figure>
      </div>
    </div>
  );
}
