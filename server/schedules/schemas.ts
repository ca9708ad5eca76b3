import { DateTime } from 'luxon';
import { z } from 'zod';
import { zId, zIso, zText } from '../common/schemas.js';
import { timezoneSchema } from '../hospitals/settings.js';

/**
 * Zod schemas of the on-call schedules API, shared by the router, the web and the API docs.
 * Times are ISO-8601 with an offset. Rotations are computed in the schedule's timezone, else the
 * hospital's settings.timezone, else the server's CLARION_TIMEZONE (server/schedules/rotation.ts).
 */

/** The longest window timeline answers (and the longest override): two months. */
export const MAX_WINDOW_DAYS = 62;

export const scheduleNameSchema = zText(100).pipe(z.string().min(1, 'Enter a name'));

export const rotationInput = z.object({
  /** User ids in order; a user may appear more than once. Each must be an active user of the hospital. */
  participants: z.array(zId).min(1, 'Add at least one participant').max(100, 'At most 100 participants'),
  /** The first shift's start: also the handover time of day for whole-day shifts. */
  startsAt: zIso,
  /** A multiple of 24 counts local days (a 07:00 handover stays 07:00 across DST); other values count elapsed hours. */
  shiftHours: z.number().int('Whole hours').min(1, 'At least 1 hour').max(336, 'At most 336 hours (two weeks)'),
});

export const createScheduleInput = z.object({
  name: scheduleNameSchema,
  /** IANA zone; absent: the hospital's settings.timezone. */
  timezone: timezoneSchema.optional(),
  rotation: rotationInput,
});
export type CreateScheduleInput = z.infer<typeof createScheduleInput>;

export const updateScheduleInput = z.object({
  scheduleId: zId,
  name: scheduleNameSchema.optional(),
  /** null: follow the hospital's settings.timezone again. */
  timezone: timezoneSchema.nullable().optional(),
  /** Replaces the whole rotation (participants, start, shift length). */
  rotation: rotationInput.optional(),
  /** false deactivates: nobody is on call and the pager skips it (schedules are never deleted). */
  isActive: z.boolean().optional(),
});
export type UpdateScheduleInput = z.infer<typeof updateScheduleInput>;

/** to must be after from, and the window at most MAX_WINDOW_DAYS long: the field error names `to`. */
const windowRefine = <T extends { from: string; to: string }>(s: z.ZodType<T>) =>
  s.superRefine((v, ctx) => {
    const from = DateTime.fromISO(v.from);
    const to = DateTime.fromISO(v.to);
    if (!(to > from)) ctx.addIssue({ code: 'custom', path: ['to'], message: 'Must be after from' });
    else if (to.diff(from, 'days').days > MAX_WINDOW_DAYS) ctx.addIssue({ code: 'custom', path: ['to'], message: `At most ${MAX_WINDOW_DAYS} days after from` });
  });

export const addOverrideInput = windowRefine(
  z.object({
    scheduleId: zId,
    /** Who covers. Without schedule.manage, only oneself. */
    userId: zId,
    from: zIso,
    to: zIso,
    reason: zText(500).optional(),
  }),
);
export type AddOverrideInput = z.infer<typeof addOverrideInput>;

export const removeOverrideInput = z.object({ overrideId: zId });

export const onCallInput = z.object({ scheduleId: zId, at: zIso.optional() });

export const timelineInput = windowRefine(z.object({ scheduleId: zId, from: zIso, to: zIso }));

/** Who is on call: one person today (an override or the rotation), none in a gap. */
export const onCallOutput = z.object({
  userIds: z.array(z.string()),
  /** The end of the current segment (next handover or override boundary); null: an inactive schedule, nobody indefinitely. */
  until: z.string().nullable(),
});
export type OnCall = z.infer<typeof onCallOutput>;

/**
 * One segment of a timeline. Segments cover the whole window in order, without holes: a time with
 * nobody on call (before the rotation starts, or the schedule is inactive) is a segment with userId
 * null, so a gap is as visible as a shift. A segment ends at every handover and override boundary.
 */
export const timelineSegmentSchema = z.object({
  userId: z.string().nullable(),
  userName: z.string().nullable(),
  from: z.string(),
  to: z.string(),
  /** true: someone covers by override (overrideId says which; removeOverride takes it). */
  override: z.boolean(),
  overrideId: z.string().nullable(),
});
export const timelineOutput = z.array(timelineSegmentSchema);
export type TimelineSegment = z.infer<typeof timelineSegmentSchema>;

export const overrideSchema = z.object({
  id: z.string(),
  scheduleId: z.string(),
  userId: z.string(),
  from: z.string(),
  to: z.string(),
  reason: z.string().nullable(),
  createdBy: z.string().nullable(),
  createdAt: z.string(),
});
export type ScheduleOverride = z.infer<typeof overrideSchema>;

export const scheduleSchema = z.object({
  id: z.string(),
  name: z.string(),
  /** As set on the schedule; null: the hospital's. */
  timezone: z.string().nullable(),
  /** The zone the rotation is computed in. */
  effectiveTimezone: z.string(),
  rotation: z.object({
    participants: z.array(z.object({ userId: z.string(), name: z.string(), isActive: z.boolean() })),
    startsAt: z.string(),
    shiftHours: z.number().int(),
  }),
  isActive: z.boolean(),
  onCall: onCallOutput.extend({ names: z.array(z.string()) }),
});
export type Schedule = z.infer<typeof scheduleSchema>;
