import { z } from 'zod';
import { zId, zIso } from '../common/schemas.js';
import { priorities } from '../db/enums.js';

/** A committee looks at a month or a quarter; longer ranges are split (and cost the database more). */
export const ALARM_REPORT_MAX_DAYS = 93;
export const DEFAULT_SHIFT_STARTS = ['07:00', '15:00', '23:00'] as const;
const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;

export const alarmReportInput = z
  .strictObject({
    from: zIso,
    to: zIso,
    /** One department; absent: every department of the hospital. */
    departmentId: zId.optional(),
    /** Local times ("HH:MM", the hospital's time zone) at which shifts start; default 07:00, 15:00, 23:00. */
    shiftStarts: z.array(z.string().regex(HHMM, 'Use HH:MM, 24-hour (07:00)')).min(1).max(6).optional(),
  })
  .superRefine((v, ctx) => {
    const from = Date.parse(v.from);
    const to = Date.parse(v.to);
    if (from >= to) ctx.addIssue({ code: 'custom', path: ['to'], message: 'Must be after "from"' });
    else if (to - from > ALARM_REPORT_MAX_DAYS * 86_400_000) {
      ctx.addIssue({ code: 'custom', path: ['to'], message: `The report covers at most ${ALARM_REPORT_MAX_DAYS} days: choose a shorter period` });
    }
    if (v.shiftStarts && new Set(v.shiftStarts).size !== v.shiftStarts.length) {
      ctx.addIssue({ code: 'custom', path: ['shiftStarts'], message: 'Each shift must start at a different time' });
    }
  });
export type AlarmReportInput = z.infer<typeof alarmReportInput>;

const int = z.number().int();
const seconds = z.number().nullable();

/** The figures of one cell (a department in a shift, a department all day, a shift hospital-wide, or everything). */
export const alarmFigures = z.object({
  /** Alerts raised (created) in the cell, suppressed ones included. */
  alerts: int,
  /** Alerts that named a room, and how many different rooms that was: "alerts per room that alerted". */
  alertsWithRoom: int,
  roomsAlerting: int,
  /** alertsWithRoom / roomsAlerting; null when no alert named a room. Not per occupied room: Clarion has no occupancy data. */
  alertsPerAlertingRoom: z.number().nullable(),
  /** Raises folded into an alert already open (its `repeated` events), counted when they came in. */
  repeats: int,
  /**
   * The same repeats counted from the alerts raised in the cell (their repeat count): kept as long as the
   * alert is, where the events above go after EVENT_RETENTION_DAYS (eventsKeptFrom).
   */
  foldedRaises: int,
  /** Alerts raised into a suppression window (status `suppressed`) and `suppressed` events. */
  suppressedAlerts: int,
  suppressionEvents: int,
  /** Times an alert was shelved (`shelved` events). */
  shelvings: int,
  /** Alerts that needed someone (raised, not suppressed), how many were taken, and how many within the priority's first escalation timeout. */
  needingResponse: int,
  acknowledged: int,
  acknowledgedWithinFirstTimeout: int,
  /** acknowledgedWithinFirstTimeout / needingResponse, 0–1; null when nothing needed a response. */
  shareWithinFirstTimeout: z.number().nullable(),
  /** From raised to the first acknowledgement, over the acknowledged ones. */
  medianAckSeconds: seconds,
  p90AckSeconds: seconds,
  escalations: int,
  escalationsByLevel: z.array(z.object({ level: int, count: int })),
  /** People paged (one per person per level of an alert). */
  pages: int,
});
export type AlarmFigures = z.infer<typeof alarmFigures>;

const shiftRef = z.object({ index: int, start: z.string(), end: z.string(), label: z.string() });

export const alarmReportOutput = z.object({
  period: z.object({ from: zIso, to: zIso }),
  generatedAt: zIso,
  /** IANA zone the shifts and busiest hours are counted in (the hospital's, else the server's). */
  timezone: z.string(),
  department: z.object({ id: z.string(), name: z.string() }).nullable(),
  /**
   * Alert events (repeats, shelvings, suppression events, first acknowledgements) are a replay log pruned
   * after EVENT_RETENTION_DAYS: the oldest one still kept once any were pruned, else null. Before it,
   * those counts are short (and time to acknowledge uses the latest acknowledgement).
   */
  eventsKeptFrom: zIso.nullable(),
  shifts: z.array(shiftRef),
  /** The first escalation timeout per priority, from the policy in force now (what "acknowledged in time" is held to). */
  firstTimeoutSeconds: z.object(Object.fromEntries(priorities.map((p) => [p, int])) as Record<(typeof priorities)[number], typeof int>),
  total: alarmFigures,
  byShift: z.array(alarmFigures.extend({ shift: int })),
  byDepartment: z.array(alarmFigures.extend({ departmentId: z.string(), departmentName: z.string() })),
  byDepartmentShift: z.array(alarmFigures.extend({ departmentId: z.string(), departmentName: z.string(), shift: int })),
  pagesPerPerson: z.array(z.object({ userId: z.string(), name: z.string(), role: z.string(), pages: int, acknowledged: int, declined: int })),
  /** Alerts raised per local day of week (1 Monday … 7 Sunday) and hour (0–23); cells with none are left out. */
  busiestHours: z.array(z.object({ dayOfWeek: int.min(1).max(7), hour: int.min(0).max(23), count: int })),
  noisiestSources: z.array(z.object({ source: z.string(), alerts: int, repeats: int })),
  noisiestRooms: z.array(z.object({ departmentId: z.string(), departmentName: z.string(), room: z.string(), alerts: int, repeats: int })),
});
export type AlarmReport = z.infer<typeof alarmReportOutput>;

export const alarmReportCsvOutput = z.object({ filename: z.string(), csv: z.string() });
