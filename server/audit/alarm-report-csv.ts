import { stringify } from 'csv-stringify/sync';
import { DateTime } from 'luxon';
import type { AlarmFigures, AlarmReport } from './alarm-report-schemas.js';

const DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

/**
 * The report as one CSV a committee secretary opens in a spreadsheet: a few header lines, then one
 * table per section (the department × shift figures first), separated by a blank line. Names and
 * sources come from people and devices: formulas are escaped (as in the audit export, OWASP).
 */
export function alarmReportCsv(r: AlarmReport): { filename: string; csv: string } {
  const local = (iso: string) => DateTime.fromISO(iso, { zone: 'utc' }).setZone(r.timezone).toFormat('yyyy-MM-dd HH:mm');
  const levels = [...new Set([r.total, ...r.byDepartmentShift].flatMap((f) => f.escalationsByLevel.map((e) => e.level)))].sort((a, b) => a - b);
  const shiftLabel = (i: number) => r.shifts[i]?.label ?? String(i);
  const figures = (f: AlarmFigures) => [
    f.alerts,
    f.alertsWithRoom,
    f.roomsAlerting,
    f.alertsPerAlertingRoom ?? '',
    f.repeats,
    f.foldedRaises,
    f.suppressedAlerts,
    f.suppressionEvents,
    f.shelvings,
    f.needingResponse,
    f.acknowledged,
    f.acknowledgedWithinFirstTimeout,
    f.shareWithinFirstTimeout === null ? '' : Math.round(f.shareWithinFirstTimeout * 1000) / 10,
    f.medianAckSeconds ?? '',
    f.p90AckSeconds ?? '',
    f.escalations,
    ...levels.map((l) => f.escalationsByLevel.find((e) => e.level === l)?.count ?? 0),
    f.pages,
  ];
  const heat = new Map(r.busiestHours.map((c) => [`${c.dayOfWeek}|${c.hour}`, c.count]));
  const hours = Array.from({ length: 24 }, (_, h) => h);

  const rows: (string | number)[][] = [
    ['Clarion alarm-load report'],
    ['Period (local time)', local(r.period.from), local(r.period.to)],
    ['Time zone', r.timezone],
    ['Department', r.department?.name ?? 'All departments'],
    ['First escalation timeout (seconds)', ...Object.entries(r.firstTimeoutSeconds).map(([p, s]) => `${p} ${s}`)],
    ['Generated', r.generatedAt],
    ...(r.eventsKeptFrom && r.eventsKeptFrom > r.period.from ? [['Note', `Alert events are kept from ${local(r.eventsKeptFrom)}: repeats, shelvings and suppression events before then are not counted`]] : []),
    [],
    [
      'Department',
      'Shift',
      'Alerts raised',
      'Alerts naming a room',
      'Rooms that alerted',
      'Alerts per room that alerted',
      'Repeats',
      'Repeats of these alerts (from the alerts)',
      'Suppressed alerts',
      'Suppression events',
      'Shelvings',
      'Needing a response',
      'Acknowledged',
      'Acknowledged within first timeout',
      'Share acknowledged within first timeout (%)',
      'Median time to acknowledge (s)',
      '90th percentile time to acknowledge (s)',
      'Escalations',
      ...levels.map((l) => `Escalations to level ${l}`),
      'People paged',
    ],
    ...r.byDepartmentShift.map((d) => [d.departmentName, shiftLabel(d.shift), ...figures(d)]),
    ...r.byDepartment.map((d) => [d.departmentName, 'All shifts', ...figures(d)]),
    ...r.byShift.map((s) => ['All departments', shiftLabel(s.shift), ...figures(s)]),
    ['All departments', 'All shifts', ...figures(r.total)],
    [],
    ['Pages per person'],
    ['Name', 'Role', 'Pages', 'Acknowledged', 'Declined'],
    ...r.pagesPerPerson.map((p) => [p.name, p.role, p.pages, p.acknowledged, p.declined]),
    [],
    [`Busiest hours: alerts raised by local day and hour (${r.timezone})`],
    ['Day', ...hours.map((h) => `${String(h).padStart(2, '0')}:00`)],
    ...DAYS.map((day, i) => [day, ...hours.map((h) => heat.get(`${i + 1}|${h}`) ?? 0)]),
    [],
    ['Noisiest sources'],
    ['Source', 'Alerts raised', 'Repeats'],
    ...r.noisiestSources.map((s) => [s.source, s.alerts, s.repeats]),
    [],
    ['Noisiest rooms'],
    ['Department', 'Room', 'Alerts raised', 'Repeats'],
    ...r.noisiestRooms.map((s) => [s.departmentName, s.room, s.alerts, s.repeats]),
  ];
  const day = (iso: string) => DateTime.fromISO(iso, { zone: 'utc' }).setZone(r.timezone).toFormat('yyyy-MM-dd');
  return { filename: `clarion-alarm-report-${day(r.period.from)}-to-${day(r.period.to)}.csv`, csv: stringify(rows, { escape_formulas: true }) };
}
