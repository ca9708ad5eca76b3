import { z } from 'zod';
import { zId, zIso, zText } from '../common/schemas.js';

/** The longest window one may set: a week (a bed out of service for longer is a department change). */
export const MAX_WINDOW_DAYS = 7;
const room = zText(40).pipe(z.string().min(1, 'Empty room'));
const alertType = z.string().trim().toLowerCase().min(1).max(40).regex(/^[a-z][a-z0-9_-]*$/, 'Letters, digits, - and _ only');

/** suppressions.create (DESIGN.md "Alarm management"): a department, optional rooms and alert types, from–to, why. */
export const createSuppressionInput = z
  .strictObject({
    departmentId: zId,
    rooms: z.array(room).min(1, 'Name at least one room, or leave rooms out for the whole department').max(50).optional(),
    alertTypes: z.array(alertType).min(1, 'Name at least one type, or leave types out for every type').max(20).optional(),
    from: zIso,
    to: zIso,
    /** "Fire drill", "Bed 4 out of service", "Patient off the unit for MRI". */
    reason: zText(500).pipe(z.string().min(1, 'Say why (the board shows it)')),
  })
  .superRefine((v, ctx) => {
    const from = Date.parse(v.from);
    const to = Date.parse(v.to);
    if (to <= from) ctx.addIssue({ code: 'custom', path: ['to'], message: 'Must be after the start' });
    if (to - from > MAX_WINDOW_DAYS * 86_400_000) ctx.addIssue({ code: 'custom', path: ['to'], message: `At most ${MAX_WINDOW_DAYS} days after the start` });
    if (to <= Date.now()) ctx.addIssue({ code: 'custom', path: ['to'], message: 'Must be in the future' });
    if (from < Date.now() - 5 * 60_000) ctx.addIssue({ code: 'custom', path: ['from'], message: 'Cannot start in the past (a window never hides alerts already raised)' });
  });
export type CreateSuppressionInput = z.infer<typeof createSuppressionInput>;

export const suppressionIdInput = z.strictObject({ id: zId });

export const listSuppressionsInput = z
  .strictObject({
    /** Also the windows that ended in the last this many hours (the board's "recently"). */
    endedWithinHours: z.number().int().min(0).max(24 * 31).default(24),
  })
  .optional();

export const suppressionSchema = z.object({
  id: z.string(),
  departmentId: z.string(),
  departmentName: z.string(),
  rooms: z.array(z.string()).nullable(),
  alertTypes: z.array(z.string()).nullable(),
  startsAt: zIso,
  endsAt: zIso,
  reason: z.string(),
  createdBy: z.string().nullable(),
  createdByName: z.string().nullable(),
  createdAt: zIso,
  endedAt: zIso.nullable(),
  endedByName: z.string().nullable(),
  /** 'upcoming' | 'running' | 'over' (ended early or ran out). */
  state: z.enum(['upcoming', 'running', 'over']),
  /** Raises it kept quiet so far. */
  suppressedCount: z.number().int(),
});
export type Suppression = z.infer<typeof suppressionSchema>;
export const listSuppressionsOutput = z.object({ suppressions: z.array(suppressionSchema) });
