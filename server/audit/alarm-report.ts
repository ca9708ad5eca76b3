import { and, eq } from 'drizzle-orm';
import { type SQL, sql } from 'drizzle-orm';
import { DateTime } from 'luxon';
import { isValidTimezone } from '../common/timezone.js';
import type { Tx } from '../db/client.js';
import { departments } from '../db/schema.js';
import { priorities } from '../db/enums.js';
import { badRequest, notFound } from '../errors.js';
import { readSettings } from '../hospitals/settings.js';
import { hospitalTimezone } from '../schedules/service.js';
import { type AlarmFigures, type AlarmReport, type AlarmReportInput, DEFAULT_SHIFT_STARTS } from './alarm-report-schemas.js';
import { type AuditContext, logAuditEvent } from './log.js';

/**
 * The alarm-load report (issue 19, DESIGN.md "Alarm management"): what an alarm committee asks of a
 * month — how many alarms, where and when, how much of it was repeats or kept quiet, how fast people
 * answered, who got paged. Every figure is one SQL aggregate over the caller's hospital, grouped by
 * GROUPING SETS so a department's all-day median is a real median, not an average of shift medians.
 *
 * Each thing is counted when it happened: an alert when it was raised, a repeat, shelving or
 * suppression event when it came in, an escalation when it escalated, a page when it was sent. Time to
 * acknowledge belongs to the alert (its raise's shift), however late the acknowledgement came.
 *
 * Shifts and busiest hours are local wall-clock time in the hospital's zone (Postgres's AT TIME ZONE),
 * so a night shift across a DST change is simply an hour longer or shorter, as on the ward.
 */

export const ALARM_REPORT_ACTION = 'audit.alarm_report_generated';
const TOP = 10;
const PEOPLE_LIMIT = 200;

export interface Shift {
  index: number;
  start: string;
  end: string;
  label: string;
  startMinute: number;
}

/** Shifts in order of their start; the last runs past midnight into the first. */
export function shiftsOf(starts: readonly string[]): Shift[] {
  const minutes = [...new Set(starts)].map((s) => Number(s.slice(0, 2)) * 60 + Number(s.slice(3, 5))).sort((a, b) => a - b);
  // luxon renders the wall-clock times (and keeps one formatter for both ends).
  const hhmm = (m: number) => DateTime.fromObject({ hour: Math.floor(m / 60), minute: m % 60 }, { zone: 'UTC' }).toFormat('HH:mm');
  return minutes.map((m, i) => {
    const start = hhmm(m);
    const end = hhmm(minutes[(i + 1) % minutes.length] as number);
    return { index: i, start, end, label: minutes.length === 1 ? `${start}–${end} (one shift)` : `${start}–${end}`, startMinute: m };
  });
}

/**
 * The shift a timestamp column falls in, by its local minute of the day: one zone conversion per row
 * (this runs over every alert of a quarter). width_bucket counts the starts at or before that minute;
 * before the first start it is 0, which wraps to the last shift (it began yesterday).
 */
function shiftExpr(col: SQL, tz: string, shifts: Shift[]): SQL {
  if (shifts.length === 1) return sql`0`;
  const minute = sql`floor(extract(epoch FROM (${col} AT TIME ZONE ${tz})::time) / 60)::int`;
  const starts = sql.raw(`ARRAY[${shifts.map((s) => s.startMinute).join(', ')}]::int[]`);
  return sql`((width_bucket(${minute}, ${starts}) + ${shifts.length - 1}::int) % ${shifts.length}::int)`;
}

type Cell = Omit<AlarmFigures, 'escalationsByLevel'> & { escalationsByLevel: Map<number, number> };
const emptyCell = (): Cell => ({
  alerts: 0,
  alertsWithRoom: 0,
  roomsAlerting: 0,
  alertsPerAlertingRoom: null,
  repeats: 0,
  foldedRaises: 0,
  suppressedAlerts: 0,
  suppressionEvents: 0,
  shelvings: 0,
  needingResponse: 0,
  acknowledged: 0,
  acknowledgedWithinFirstTimeout: 0,
  shareWithinFirstTimeout: null,
  medianAckSeconds: null,
  p90AckSeconds: null,
  escalations: 0,
  escalationsByLevel: new Map(),
  pages: 0,
});

/** GROUPING(department_id, shift): bit 2 = department rolled up, bit 1 = shift rolled up. */
const keyOf = (g: number, dept: string | null, shift: number | null) => `${g & 2 ? '*' : dept}|${g & 1 ? '*' : shift}`;
const SETS = sql.raw('GROUPING SETS ((department_id, shift), (department_id), (shift), ())');
const n = (v: unknown) => Number(v ?? 0);
const round1 = (v: number | null) => (v === null || v === undefined ? null : Math.round(Number(v) * 10) / 10);

/** The alarm-load report of the caller's hospital for [from, to). Audited as audit.alarm_report_generated. */
export async function getAlarmReport(
  db: Tx,
  audit: AuditContext & { hospitalId: string },
  input: AlarmReportInput,
  defaultTimezone: string,
  format: 'json' | 'csv' = 'json',
): Promise<AlarmReport> {
  const h = audit.hospitalId;
  const tz = await hospitalTimezone(db, h, defaultTimezone);
  // Postgres and luxon share the IANA names; an unknown one would be a 500 from AT TIME ZONE.
  if (!isValidTimezone(tz)) throw badRequest(`The hospital's time zone "${tz}" is not known; fix it in Settings`);
  const shifts = shiftsOf(input.shiftStarts ?? DEFAULT_SHIFT_STARTS);
  const from = new Date(input.from);
  const to = new Date(input.to);

  let department: { id: string; name: string } | null = null;
  if (input.departmentId) {
    const [d] = await db
      .select({ id: departments.id, name: departments.name })
      .from(departments)
      .where(and(eq(departments.id, input.departmentId), eq(departments.hospitalId, h)));
    if (!d) throw notFound('Department');
    department = d;
  }
  const deptOf = (col: string) => (department ? sql`AND ${sql.raw(col)} = ${department.id}` : sql``);

  const { rows: hospitalRows } = await db.execute<{ settings: unknown; kept_from: string | null }>(sql`
    SELECT settings, CASE WHEN events_pruned_through > 0 THEN coalesce(
             (SELECT ${sql.raw(`to_char(min(e.occurred_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`)} FROM alert_events e WHERE e.hospital_id = h.id),
             ${sql.raw(`to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`)}) END AS kept_from
    FROM hospitals h WHERE h.id = ${h}`);
  const policy = readSettings(hospitalRows[0]?.settings).escalation;
  const firstTimeoutSeconds = Object.fromEntries(priorities.map((p) => [p, policy[p].levelTimeoutsSeconds[0] as number])) as AlarmReport['firstTimeoutSeconds'];
  const firstTimeout = sql`(CASE a.priority::text ${sql.join(
    priorities.map((p) => sql`WHEN ${p} THEN ${firstTimeoutSeconds[p]}::int`),
    sql` `,
  )} END)`;

  const alertsInPeriod = sql`a.hospital_id = ${h} AND a.created_at >= ${from} AND a.created_at < ${to} ${deptOf('a.department_id')}`;
  const room = sql.raw(`nullif(lower(btrim(a.room_number)), '')`);

  const [alertRows, eventRows, escalationRows, pageRows, people, heat, sources, rooms, deptRows] = await Promise.all([
    db.execute<Record<string, unknown>>(sql`
      WITH x AS (
        SELECT a.department_id, ${shiftExpr(sql`a.created_at`, tz, shifts)} AS shift, ${room} AS room,
               a.status::text = 'suppressed' AS suppressed, ${firstTimeout} AS first_timeout, a.repeat_count,
               extract(epoch FROM coalesce(
                 (SELECT min(e.occurred_at) FROM alert_events e WHERE e.alert_id = a.id AND e.type::text = 'acknowledged'),
                 a.acknowledged_at) - a.created_at)::float AS ack_s
        FROM alerts a WHERE ${alertsInPeriod})
      SELECT department_id, shift, GROUPING(department_id, shift)::int AS g,
             count(*)::int AS alerts,
             count(room)::int AS with_room,
             coalesce(sum(repeat_count), 0)::int AS folded,
             count(DISTINCT department_id || '|' || room)::int AS rooms,
             count(*) FILTER (WHERE suppressed)::int AS suppressed,
             count(*) FILTER (WHERE NOT suppressed)::int AS needing,
             count(ack_s) FILTER (WHERE NOT suppressed)::int AS acked,
             count(*) FILTER (WHERE NOT suppressed AND ack_s <= first_timeout)::int AS within,
             percentile_cont(0.5) WITHIN GROUP (ORDER BY ack_s) FILTER (WHERE NOT suppressed) AS median,
             percentile_cont(0.9) WITHIN GROUP (ORDER BY ack_s) FILTER (WHERE NOT suppressed) AS p90
      FROM x GROUP BY ${SETS}`),
    // The new event types (shelved, suppressed) are compared as text: the query runs before and after their migration.
    db.execute<Record<string, unknown>>(sql`
      WITH x AS (
        SELECT e.department_id, ${shiftExpr(sql`e.occurred_at`, tz, shifts)} AS shift, e.type::text AS type
        FROM alert_events e
        WHERE e.hospital_id = ${h} AND e.occurred_at >= ${from} AND e.occurred_at < ${to} ${deptOf('e.department_id')}
          AND e.type::text IN ('repeated', 'suppressed', 'shelved'))
      SELECT department_id, shift, GROUPING(department_id, shift)::int AS g,
             count(*) FILTER (WHERE type = 'repeated')::int AS repeats,
             count(*) FILTER (WHERE type = 'suppressed')::int AS suppressions,
             count(*) FILTER (WHERE type = 'shelved')::int AS shelvings
      FROM x GROUP BY ${SETS}`),
    db.execute<Record<string, unknown>>(sql`
      WITH x AS (
        SELECT a.department_id, ${shiftExpr(sql`s.escalated_at`, tz, shifts)} AS shift, s.to_level AS level
        FROM alert_escalations s JOIN alerts a ON a.id = s.alert_id AND a.hospital_id = s.hospital_id
        WHERE s.hospital_id = ${h} AND s.escalated_at >= ${from} AND s.escalated_at < ${to} ${deptOf('a.department_id')})
      SELECT department_id, shift, level, GROUPING(department_id, shift)::int AS g, count(*)::int AS n
      FROM x GROUP BY GROUPING SETS ((department_id, shift, level), (department_id, level), (shift, level), (level))`),
    db.execute<Record<string, unknown>>(sql`
      WITH x AS (
        SELECT a.department_id, ${shiftExpr(sql`p.paged_at`, tz, shifts)} AS shift
        FROM alert_pages p JOIN alerts a ON a.id = p.alert_id AND a.hospital_id = p.hospital_id
        WHERE p.hospital_id = ${h} AND p.paged_at >= ${from} AND p.paged_at < ${to} ${deptOf('a.department_id')})
      SELECT department_id, shift, GROUPING(department_id, shift)::int AS g, count(*)::int AS n FROM x GROUP BY ${SETS}`),
    db.execute<{ user_id: string; name: string; role: string; pages: number; acked: number; declined: number }>(sql`
      SELECT p.user_id, u.name, u.role::text AS role, count(*)::int AS pages,
             count(*) FILTER (WHERE p.response = 'acknowledged')::int AS acked,
             count(*) FILTER (WHERE p.response = 'declined')::int AS declined
      FROM alert_pages p JOIN alerts a ON a.id = p.alert_id AND a.hospital_id = p.hospital_id
      JOIN users u ON u.id = p.user_id AND u.hospital_id = p.hospital_id
      WHERE p.hospital_id = ${h} AND p.paged_at >= ${from} AND p.paged_at < ${to} ${deptOf('a.department_id')}
      GROUP BY p.user_id, u.name, u.role ORDER BY pages DESC, u.name, p.user_id LIMIT ${PEOPLE_LIMIT}`),
    db.execute<{ dow: number; hour: number; n: number }>(sql`
      SELECT extract(isodow FROM (a.created_at AT TIME ZONE ${tz}))::int AS dow, extract(hour FROM (a.created_at AT TIME ZONE ${tz}))::int AS hour, count(*)::int AS n
      FROM alerts a WHERE ${alertsInPeriod} GROUP BY 1, 2 ORDER BY 1, 2`),
    db.execute<{ source: string; alerts: number; repeats: number }>(sql`
      SELECT source, count(*) FILTER (WHERE kind = 'raise')::int AS alerts, count(*) FILTER (WHERE kind = 'repeat')::int AS repeats FROM (
        SELECT a.source, 'raise' AS kind FROM alerts a WHERE ${alertsInPeriod}
        UNION ALL
        SELECT a.source, 'repeat' FROM alert_events e JOIN alerts a ON a.id = e.alert_id
        WHERE e.hospital_id = ${h} AND e.type::text = 'repeated' AND e.occurred_at >= ${from} AND e.occurred_at < ${to} ${deptOf('e.department_id')}
      ) x GROUP BY source ORDER BY count(*) DESC, source LIMIT ${TOP}`),
    db.execute<{ department_id: string; department_name: string; room: string; alerts: number; repeats: number }>(sql`
      SELECT x.department_id, d.name AS department_name, min(x.room_text COLLATE "C") AS room,
             count(*) FILTER (WHERE kind = 'raise')::int AS alerts, count(*) FILTER (WHERE kind = 'repeat')::int AS repeats FROM (
        SELECT a.department_id, ${room} AS room, btrim(a.room_number) AS room_text, 'raise' AS kind FROM alerts a WHERE ${alertsInPeriod}
        UNION ALL
        SELECT e.department_id, ${room}, btrim(a.room_number), 'repeat' FROM alert_events e JOIN alerts a ON a.id = e.alert_id
        WHERE e.hospital_id = ${h} AND e.type::text = 'repeated' AND e.occurred_at >= ${from} AND e.occurred_at < ${to} ${deptOf('e.department_id')}
      ) x JOIN departments d ON d.id = x.department_id AND d.hospital_id = ${h}
      WHERE x.room IS NOT NULL
      GROUP BY x.department_id, d.name, x.room ORDER BY count(*) DESC, d.name, x.room LIMIT ${TOP}`),
    // Every active department appears, quiet ones with zeros (a committee compares them side by side), and a deactivated one that alerted.
    db.execute<{ id: string; name: string }>(sql`
      SELECT d.id, d.name FROM departments d WHERE d.hospital_id = ${h}
        ${department ? sql`AND d.id = ${department.id}` : sql`AND (d.is_active OR EXISTS (SELECT 1 FROM alerts a WHERE ${alertsInPeriod} AND a.department_id = d.id))`}
      ORDER BY d.name, d.id`),
  ]);

  const cells = new Map<string, Cell>();
  const cell = (key: string) => {
    const c = cells.get(key) ?? emptyCell();
    cells.set(key, c);
    return c;
  };
  const at = (r: Record<string, unknown>) => cell(keyOf(n(r.g), r.department_id as string | null, r.shift === null ? null : n(r.shift)));
  for (const r of alertRows.rows) {
    const c = at(r);
    c.alerts = n(r.alerts);
    c.alertsWithRoom = n(r.with_room);
    c.roomsAlerting = n(r.rooms);
    c.alertsPerAlertingRoom = c.roomsAlerting ? Math.round((c.alertsWithRoom / c.roomsAlerting) * 100) / 100 : null;
    c.foldedRaises = n(r.folded);
    c.suppressedAlerts = n(r.suppressed);
    c.needingResponse = n(r.needing);
    c.acknowledged = n(r.acked);
    c.acknowledgedWithinFirstTimeout = n(r.within);
    c.shareWithinFirstTimeout = c.needingResponse ? Math.round((c.acknowledgedWithinFirstTimeout / c.needingResponse) * 1000) / 1000 : null;
    c.medianAckSeconds = r.median === null ? null : round1(Number(r.median));
    c.p90AckSeconds = r.p90 === null ? null : round1(Number(r.p90));
  }
  for (const r of eventRows.rows) {
    const c = at(r);
    c.repeats = n(r.repeats);
    c.suppressionEvents = n(r.suppressions);
    c.shelvings = n(r.shelvings);
  }
  for (const r of escalationRows.rows) {
    const c = at(r);
    c.escalations += n(r.n);
    c.escalationsByLevel.set(n(r.level), n(r.n));
  }
  for (const r of pageRows.rows) at(r).pages = n(r.n);

  const figures = (key: string): AlarmFigures => {
    const c = cells.get(key) ?? emptyCell();
    return { ...c, escalationsByLevel: [...c.escalationsByLevel].sort(([a], [b]) => a - b).map(([level, count]) => ({ level, count })) };
  };
  const depts = deptRows.rows;
  const report: AlarmReport = {
    period: { from: from.toISOString(), to: to.toISOString() },
    generatedAt: new Date().toISOString(),
    timezone: tz,
    department,
    eventsKeptFrom: hospitalRows[0]?.kept_from ?? null,
    shifts: shifts.map(({ startMinute: _m, ...s }) => s),
    firstTimeoutSeconds,
    total: figures('*|*'),
    byShift: shifts.map((s) => ({ shift: s.index, ...figures(`*|${s.index}`) })),
    byDepartment: depts.map((d) => ({ departmentId: d.id, departmentName: d.name, ...figures(`${d.id}|*`) })),
    byDepartmentShift: depts.flatMap((d) => shifts.map((s) => ({ departmentId: d.id, departmentName: d.name, shift: s.index, ...figures(`${d.id}|${s.index}`) }))),
    pagesPerPerson: people.rows.map((p) => ({ userId: p.user_id, name: p.name, role: p.role, pages: p.pages, acknowledged: p.acked, declined: p.declined })),
    busiestHours: heat.rows.map((r) => ({ dayOfWeek: r.dow, hour: r.hour, count: r.n })),
    noisiestSources: sources.rows.map((r) => ({ source: r.source, alerts: r.alerts, repeats: r.repeats })),
    noisiestRooms: rooms.rows.map((r) => ({ departmentId: r.department_id, departmentName: r.department_name, room: r.room, alerts: r.alerts, repeats: r.repeats })),
  };
  await logAuditEvent(db, audit, {
    action: ALARM_REPORT_ACTION,
    resource: 'audit',
    metadata: { from: report.period.from, to: report.period.to, departmentId: department?.id ?? null, format, alerts: report.total.alerts },
  });
  return report;
}
