import { and, asc, eq, gt, inArray, lt } from 'drizzle-orm';
import type { Tx } from '../db/client.js';
import { hospitals, scheduleOverrides, scheduleParticipants, schedules, users } from '../db/schema.js';
import { notFound } from '../errors.js';
import { readSettings } from '../hospitals/settings.js';
import { type Override, type Rotation, segmentAt, timeline } from './rotation.js';
import type { OnCall, Schedule, TimelineSegment } from './schemas.js';

/** Reads of on-call schedules, and the two functions the pager calls (onCallAt, scheduleExists). */

export interface ScheduleRow {
  id: string;
  name: string;
  timezone: string | null;
  startsAt: Date;
  shiftHours: number;
  isActive: boolean;
  participants: string[];
}

/** The zone a hospital's schedules fall back to: settings.timezone, else the server's CLARION_TIMEZONE. */
export async function hospitalTimezone(db: Tx, hospitalId: string, defaultTimezone: string): Promise<string> {
  const [row] = await db.select({ settings: hospitals.settings }).from(hospitals).where(eq(hospitals.id, hospitalId));
  return (row && readSettings(row.settings).timezone) || defaultTimezone;
}

const scheduleColumns = {
  id: schedules.id,
  name: schedules.name,
  timezone: schedules.timezone,
  startsAt: schedules.startsAt,
  shiftHours: schedules.shiftHours,
  isActive: schedules.isActive,
};

/** Schedules of the hospital (one, or all) with their participants in order. */
export async function loadSchedules(db: Tx, hospitalId: string, scheduleId?: string): Promise<ScheduleRow[]> {
  const rows = await db
    .select(scheduleColumns)
    .from(schedules)
    .where(and(eq(schedules.hospitalId, hospitalId), scheduleId ? eq(schedules.id, scheduleId) : undefined))
    .orderBy(asc(schedules.name), asc(schedules.id));
  if (!rows.length) return [];
  const parts = await db
    .select({ scheduleId: scheduleParticipants.scheduleId, userId: scheduleParticipants.userId })
    .from(scheduleParticipants)
    .where(and(eq(scheduleParticipants.hospitalId, hospitalId), inArray(scheduleParticipants.scheduleId, rows.map((r) => r.id))))
    .orderBy(asc(scheduleParticipants.scheduleId), asc(scheduleParticipants.position));
  return rows.map((r) => ({ ...r, participants: parts.filter((p) => p.scheduleId === r.id).map((p) => p.userId) }));
}

export async function loadSchedule(db: Tx, hospitalId: string, scheduleId: string): Promise<ScheduleRow> {
  const [row] = await loadSchedules(db, hospitalId, scheduleId);
  if (!row) throw notFound('Schedule');
  return row;
}

/** Overrides of a schedule overlapping [from, to). */
async function overridesIn(db: Tx, hospitalId: string, scheduleId: string, from: Date, to: Date): Promise<Override[]> {
  return db
    .select({ id: scheduleOverrides.id, userId: scheduleOverrides.userId, startsAt: scheduleOverrides.startsAt, endsAt: scheduleOverrides.endsAt, createdAt: scheduleOverrides.createdAt })
    .from(scheduleOverrides)
    .where(and(eq(scheduleOverrides.hospitalId, hospitalId), eq(scheduleOverrides.scheduleId, scheduleId), lt(scheduleOverrides.startsAt, to), gt(scheduleOverrides.endsAt, from)));
}

const rotationOf = (s: ScheduleRow, fallbackTimezone: string): Rotation => ({ participants: s.participants, startsAt: s.startsAt, shiftHours: s.shiftHours, timezone: s.timezone ?? fallbackTimezone });

/** Overrides that can shape the segment at `at`: those covering it, and those starting before the next handover. */
async function onCallOf(db: Tx, hospitalId: string, s: ScheduleRow, at: Date, fallbackTimezone: string): Promise<{ userIds: string[]; until: Date | null }> {
  if (!s.isActive) return { userIds: [], until: null };
  const r = rotationOf(s, fallbackTimezone);
  // The segment ends no later than the next handover (≤ 336 h + a DST hour) or the end of an override covering at.
  const horizon = new Date(at.getTime() + 338 * 3_600_000);
  const seg = segmentAt(r, await overridesIn(db, hospitalId, s.id, at, horizon), at);
  return { userIds: seg.userId ? [seg.userId] : [], until: seg.to };
}

/**
 * For the pager: who a schedule has on call at `at`. null: no such active schedule in that hospital.
 * userIds may name deactivated users (the pager filters them). fallbackTimezone: the hospital's zone,
 * used when the schedule has none of its own.
 */
export async function onCallAt(db: Tx, hospitalId: string, scheduleId: string, at: Date, fallbackTimezone: string): Promise<{ scheduleName: string; userIds: string[]; until: Date | null } | null> {
  const [s] = await loadSchedules(db, hospitalId, scheduleId);
  if (!s?.isActive) return null;
  return { scheduleName: s.name, ...(await onCallOf(db, hospitalId, s, at, fallbackTimezone)) };
}

export async function scheduleExists(db: Tx, hospitalId: string, scheduleId: string): Promise<boolean> {
  const rows = await db.select({ id: schedules.id }).from(schedules).where(and(eq(schedules.hospitalId, hospitalId), eq(schedules.id, scheduleId)));
  return rows.length > 0;
}

async function namesOf(db: Tx, hospitalId: string, ids: string[]): Promise<Map<string, { name: string; isActive: boolean }>> {
  if (!ids.length) return new Map();
  const rows = await db.select({ id: users.id, name: users.name, isActive: users.isActive }).from(users).where(and(eq(users.hospitalId, hospitalId), inArray(users.id, [...new Set(ids)])));
  return new Map(rows.map((u) => [u.id, { name: u.name, isActive: u.isActive }]));
}

export async function listSchedules(db: Tx, hospitalId: string, defaultTimezone: string, now = new Date()): Promise<Schedule[]> {
  const tz = await hospitalTimezone(db, hospitalId, defaultTimezone);
  const rows = await loadSchedules(db, hospitalId);
  const onCalls = await Promise.all(rows.map((s) => onCallOf(db, hospitalId, s, now, tz)));
  const names = await namesOf(db, hospitalId, [...rows.flatMap((s) => s.participants), ...onCalls.flatMap((o) => o.userIds)]);
  return rows.map((s, i) => {
    const onCall = onCalls[i] as { userIds: string[]; until: Date | null };
    return {
      id: s.id,
      name: s.name,
      timezone: s.timezone,
      effectiveTimezone: s.timezone ?? tz,
      rotation: {
        participants: s.participants.map((userId) => ({ userId, name: names.get(userId)?.name ?? '', isActive: names.get(userId)?.isActive ?? false })),
        startsAt: s.startsAt.toISOString(),
        shiftHours: s.shiftHours,
      },
      isActive: s.isActive,
      onCall: { userIds: onCall.userIds, names: onCall.userIds.map((u) => names.get(u)?.name ?? ''), until: onCall.until?.toISOString() ?? null },
    };
  });
}

export async function getOnCall(db: Tx, hospitalId: string, defaultTimezone: string, input: { scheduleId: string; at?: string }): Promise<OnCall> {
  const s = await loadSchedule(db, hospitalId, input.scheduleId);
  const tz = await hospitalTimezone(db, hospitalId, defaultTimezone);
  const r = await onCallOf(db, hospitalId, s, input.at ? new Date(input.at) : new Date(), tz);
  return { userIds: r.userIds, until: r.until?.toISOString() ?? null };
}

export async function getTimeline(db: Tx, hospitalId: string, defaultTimezone: string, input: { scheduleId: string; from: string; to: string }): Promise<TimelineSegment[]> {
  const s = await loadSchedule(db, hospitalId, input.scheduleId);
  const from = new Date(input.from);
  const to = new Date(input.to);
  // An inactive schedule has nobody on call: one gap over the whole window.
  const segs = s.isActive
    ? timeline(rotationOf(s, await hospitalTimezone(db, hospitalId, defaultTimezone)), await overridesIn(db, hospitalId, s.id, from, to), from, to)
    : [{ userId: null, from, to, override: false, overrideId: null }];
  const names = await namesOf(db, hospitalId, segs.flatMap((x) => (x.userId ? [x.userId] : [])));
  return segs.map((x) => ({ ...x, userName: x.userId ? (names.get(x.userId)?.name ?? null) : null, from: x.from.toISOString(), to: x.to.toISOString() }));
}
