import { z } from 'zod';
import { zId, zIso } from '../common/schemas.js';
import { roomSchema } from '../hospitals/schemas.js';

/** Zod schemas of the care assignments API (DESIGN.md "People, not only screens"), shared with the web. */

/** The longest a set of assignments lasts: one shift, with room for a long one. */
export const MAX_ASSIGNMENT_HOURS = 24;

export const assignmentEntryInput = z.object({
  userId: zId,
  /** The rooms this nurse looks after; the charge nurse may hold none. */
  rooms: z
    .array(roomSchema)
    .max(50, 'At most 50 rooms')
    .refine((rooms) => new Set(rooms.map((r) => r.toLowerCase())).size === rooms.length, 'Each room may be listed once'),
  charge: z.boolean().optional(),
});
export type AssignmentEntryInput = z.infer<typeof assignmentEntryInput>;

export const setAssignmentsInput = z.object({
  departmentId: zId,
  /** The department's whole list: it replaces the current one; empty clears the department. */
  entries: z.array(assignmentEntryInput).max(100, 'At most 100 people'),
  /** When these assignments stop counting (end of shift): in the future, at most 24 hours ahead. */
  until: zIso,
});
export type SetAssignmentsInput = z.infer<typeof setAssignmentsInput>;

export const currentAssignmentsInput = z.object({ departmentId: zId });

export const assignmentEntrySchema = z.object({
  userId: z.string(),
  userName: z.string(),
  rooms: z.array(z.string()),
  charge: z.boolean(),
  until: z.string(),
  /** Who set this list (a user id), null if that is not known. */
  assignedBy: z.string().nullable(),
  assignedAt: z.string(),
});
export type AssignmentEntry = z.infer<typeof assignmentEntrySchema>;

export const currentAssignmentsOutput = z.object({ departmentId: z.string(), entries: z.array(assignmentEntrySchema) });
export type CurrentAssignments = z.infer<typeof currentAssignmentsOutput>;
