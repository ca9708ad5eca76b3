import { useQuery } from '@tanstack/react-query';
import { DateTime } from 'luxon';
import { type FormEvent, useState } from 'react';
import { type AlarmFigures, type AlarmReport, type AlarmReportInput, alarmReportInput, DEFAULT_SHIFT_STARTS } from '../../../../server/audit/alarm-report-schemas.js';
import { Field } from '../../components/Field.js';
import { client, errorMessage, useTRPC } from '../../lib/api.js';
import { dateTime } from '../../lib/format.js';
import { type FieldErrors, readable } from '../../lib/validate.js';
import { AlarmHeatMap } from './AlarmHeatMap.js';
import './AlarmReport.css';
import { AlarmReportCharts } from './AlarmReportCharts.js';
import { duration } from './AlertResponseCharts.js';

const pct = (share: number | null) => (share === null ? '—' : `${Math.round(share * 100)}%`);
const secs = (s: number | null) => (s === null ? '—' : duration(s));

/** The form's days are the hospital's local days: "1 to 31 March" means local midnight to local midnight. */
function toInput(draft: { from: string; to: string; departmentId: string; shifts: string }, zone: string): unknown {
  const from = DateTime.fromISO(draft.from, { zone }).startOf('day');
  const to = DateTime.fromISO(draft.to, { zone }).startOf('day').plus({ days: 1 });
  return {
    from: from.isValid ? from.toUTC().toISO() : draft.from,
    to: to.isValid ? to.toUTC().toISO() : draft.to,
    ...(draft.departmentId ? { departmentId: draft.departmentId } : {}),
    shiftStarts: draft.shifts.split(/[\s,;]+/).filter(Boolean),
  };
}

/** Admin › Alarm load: the report an alarm committee takes to its meeting (issue 19). */
export function AlarmReportPanel() {
  const trpc = useTRPC();
  const hospital = useQuery(trpc.hospitals.getCurrent.queryOptions());
  const departments = useQuery(trpc.hospitals.getDepartments.queryOptions());
  const zone = hospital.data?.timezone ?? 'UTC';
  const today = DateTime.now().setZone(zone);
  const [draft, setDraft] = useState({ from: today.minus({ days: 29 }).toISODate() ?? '', to: today.toISODate() ?? '', departmentId: '', shifts: DEFAULT_SHIFT_STARTS.join(', ') });
  const [input, setInput] = useState<AlarmReportInput | null>(null);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [saved, setSaved] = useState<string | null>(null);
  const [downloadError, setDownloadError] = useState<string | null>(null);
  const report = useQuery({ ...trpc.audit.getAlarmReport.queryOptions(input ?? { from: '', to: '' }), enabled: input !== null });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const parsed = alarmReportInput.safeParse(toInput(draft, zone));
    if (!parsed.success) {
      const errs: FieldErrors = {};
      for (const issue of parsed.error.issues) {
        const field = String(issue.path[0] ?? 'from') === 'shiftStarts' ? 'shifts' : String(issue.path[0] ?? 'from');
        errs[field] ??= readable(issue.message);
      }
      setErrors(errs);
      return;
    }
    setErrors({});
    setSaved(null);
    setInput(parsed.data);
  };

  const download = async () => {
    if (!input) return;
    setDownloadError(null);
    try {
      const { filename, csv } = await client.audit.getAlarmReportCsv.query(input);
      // A byte-order mark, so a spreadsheet reads "07:00–15:00" and names as UTF-8.
      const url = URL.createObjectURL(new Blob(['\uFEFF', csv], { type: 'text/csv;charset=utf-8' }));
      const a = document.createElement('a');
      a.href = url;
      a.download = filename;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      setSaved(filename);
    } catch (err) {
      setDownloadError(errorMessage(err));
    }
  };

  const r = report.data;
  return (
    <section aria-labelledby="alarm-title" className="alarm-report">
      <h1 id="alarm-title">Alarm-load report</h1>
      <p className="muted">For the alarm committee: how many alarms, where and when, how much was noise, and how fast people answered. Days and shifts are {zone} time.</p>
      <form className="card inline-form" onSubmit={submit} noValidate>
        <Field label="From (day)" error={errors.from}>
          {(p) => <input {...p} type="date" value={draft.from} onChange={(e) => setDraft({ ...draft, from: e.target.value })} />}
        </Field>
        <Field label="To (day, included)" error={errors.to}>
          {(p) => <input {...p} type="date" value={draft.to} onChange={(e) => setDraft({ ...draft, to: e.target.value })} />}
        </Field>
        <Field label="Department" error={errors.departmentId}>
          {(p) => (
            <select {...p} value={draft.departmentId} onChange={(e) => setDraft({ ...draft, departmentId: e.target.value })}>
              <option value="">All departments</option>
              {(departments.data ?? []).map((d) => (
                <option key={d.id} value={d.id}>
                  {d.name}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Shifts start at" hint="24-hour times, e.g. 07:00, 15:00, 23:00" error={errors.shifts}>
          {(p) => <input {...p} value={draft.shifts} onChange={(e) => setDraft({ ...draft, shifts: e.target.value })} />}
        </Field>
        <div className="alarm-actions">
          <button type="submit" className="primary">
            Generate report
          </button>
          <button type="button" onClick={download} disabled={!r}>
            Download CSV
          </button>
        </div>
      </form>
      {report.isFetching ? <p role="status">Generating…</p> : null}
      {report.isError ? <p role="alert">{errorMessage(report.error)}</p> : null}
      {downloadError ? <p role="alert">{downloadError}</p> : null}
      {saved ? <p role="status">Saved {saved}</p> : null}
      {r ? <Report r={r} /> : null}
    </section>
  );
}

function Report({ r }: { r: AlarmReport }) {
  const t = r.total;
  const local = (iso: string, end = false) => DateTime.fromISO(iso, { zone: r.timezone }).minus({ milliseconds: end ? 1 : 0 }).toFormat('d LLL yyyy');
  return (
    <div className="report">
      <h2>
        {r.department?.name ?? 'All departments'}, {local(r.period.from)} – {local(r.period.to, true)}
      </h2>
      <p className="muted">Generated {dateTime(r.generatedAt)}</p>
      {r.eventsKeptFrom && r.eventsKeptFrom > r.period.from ? (
        <p className="card alarm-warning">
          Alert events are kept only from {local(r.eventsKeptFrom)} (event retention): repeats, shelvings and suppression events before then are not counted. The CSV's “Repeats of these
          alerts” column counts repeats from the alerts themselves.
        </p>
      ) : null}
      <dl className="stats alarm-stats">
        <Stat label="Alerts raised" value={t.alerts} />
        <Stat label="Alerts per room that alerted" value={t.alertsPerAlertingRoom ?? '—'} note={`${t.roomsAlerting} rooms`} />
        <Stat label="Repeats folded in" value={t.repeats} />
        <Stat label="Suppressed" value={t.suppressedAlerts} />
        <Stat label="Shelved" value={t.shelvings} />
        <Stat label="Answered within first timeout" value={pct(t.shareWithinFirstTimeout)} note={`${t.acknowledgedWithinFirstTimeout} of ${t.needingResponse}`} />
        <Stat label="Median time to acknowledge" value={secs(t.medianAckSeconds)} />
        <Stat label="90th percentile" value={secs(t.p90AckSeconds)} />
        <Stat label="Escalations" value={t.escalations} />
        <Stat label="Pages sent" value={t.pages} />
      </dl>
      <AlarmReportCharts report={r} />
      <AlarmHeatMap report={r} />
      <DetailTable r={r} />
    </div>
  );
}

function Stat({ label, value, note }: { label: string; value: string | number; note?: string }) {
  return (
    <div>
      <dt>{label}</dt>
      <dd>
        {value}
        {note ? <span className="stat-note">{note}</span> : null}
      </dd>
    </div>
  );
}

/** Every figure, per department and shift, as it goes into the minutes (and the CSV). */
function DetailTable({ r }: { r: AlarmReport }) {
  const rows: { dept: string; shift: string; f: AlarmFigures; strong?: boolean }[] = [
    ...r.byDepartment.flatMap((d) => [
      ...r.byDepartmentShift.filter((c) => c.departmentId === d.departmentId).map((c) => ({ dept: d.departmentName, shift: r.shifts[c.shift]?.label ?? '', f: c })),
      { dept: d.departmentName, shift: 'All shifts', f: d, strong: true },
    ]),
    ...(r.department ? [] : [...r.byShift.map((s) => ({ dept: 'All departments', shift: r.shifts[s.shift]?.label ?? '', f: s })), { dept: 'All departments', shift: 'All shifts', f: r.total, strong: true }]),
  ];
  return (
    <section className="card" aria-labelledby="alarm-detail">
      <h2 id="alarm-detail">Every department and shift</h2>
      {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must be reachable by keyboard (WCAG 2.1.1) */}
      <section className="table-scroll" aria-label="Every department and shift, scrolls sideways" tabIndex={0}>
        <table className="data alarm-detail" aria-labelledby="alarm-detail">
          <thead>
            <tr>
              {['Department', 'Shift', 'Alerts', 'Per room that alerted', 'Repeats', 'Suppressed', 'Shelved', 'In time', 'Median', '90th pct', 'Escalations', 'Pages'].map((h) => (
                <th key={h} scope="col">
                  {h}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((x) => (
              <tr key={`${x.dept}|${x.shift}`} className={x.strong ? 'alarm-sum' : undefined}>
                <th scope="row">{x.dept}</th>
                <td>{x.shift}</td>
                <td>{x.f.alerts}</td>
                <td>{x.f.alertsPerAlertingRoom ?? '—'}</td>
                <td>{x.f.repeats}</td>
                <td>{x.f.suppressedAlerts}</td>
                <td>{x.f.shelvings}</td>
                <td>{pct(x.f.shareWithinFirstTimeout)}</td>
                <td>{secs(x.f.medianAckSeconds)}</td>
                <td>{secs(x.f.p90AckSeconds)}</td>
                <td>{x.f.escalations}</td>
                <td>{x.f.pages}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </section>
  );
}
