import { z } from 'zod';
import { zId, zText } from '../common/schemas.js';
import { hospitalSettingsPatchSchema, hospitalSettingsSchema } from './settings.js';

/** Zod schemas of the hospitals API, shared by the router, the admin screens and the API docs. */

export const hospitalSchema = z.object({
  id: z.string(),
  name: z.string(),
  slug: z.string(),
  address: z.string().nullable(),
  phone: z.string().nullable(),
  licenseNumber: z.string().nullable(),
  isActive: z.boolean(),
  settings: hospitalSettingsSchema,
  /** The zone on-call schedules are computed in: settings.timezone, else the server's CLARION_TIMEZONE. */
  timezone: z.string(),
});
export type Hospital = z.infer<typeof hospitalSchema>;

export const departmentSchema = z.object({ id: z.string(), code: z.string(), name: z.string(), isActive: z.boolean(), rooms: z.array(z.string()) });
export type Department = z.infer<typeof departmentSchema>;

/** Upper-case letters and digits, at most 10 (ER, ICU, CARD, 4WEST); typed lower-case is accepted. */
export const departmentCodeSchema = z
  .string()
  .trim()
  .toUpperCase()
  .regex(/^[A-Z0-9]{1,10}$/, 'Use 1 to 10 letters or digits');
export const departmentNameSchema = zText(100).pipe(z.string().min(2, 'Enter at least 2 characters'));

/** A room as written on the door (301, E4, B-2): the same free text alerts carry. */
export const roomSchema = zText(16).pipe(z.string().min(1, 'Enter a room'));

/** A department's rooms: each once (case-insensitively, as alerts match rooms), at most 200. */
export const departmentRoomsSchema = z
  .array(roomSchema)
  .max(200, 'At most 200 rooms')
  .refine((rooms) => new Set(rooms.map((r) => r.toLowerCase())).size === rooms.length, 'Each room may be listed once');

export const createDepartmentInput = z.object({ code: departmentCodeSchema, name: departmentNameSchema, rooms: departmentRoomsSchema.optional() });
export type CreateDepartmentInput = z.infer<typeof createDepartmentInput>;

export const updateDepartmentInput = z.object({
  id: zId,
  code: departmentCodeSchema.optional(),
  name: departmentNameSchema.optional(),
  /** false deactivates: no new alerts or users there; existing users and history stay. */
  isActive: z.boolean().optional(),
  /** Replaces the whole list; a room another department of the hospital lists is refused. */
  rooms: departmentRoomsSchema.optional(),
});
export type UpdateDepartmentInput = z.infer<typeof updateDepartmentInput>;

export const updateSettingsInput = hospitalSettingsPatchSchema;
export const updateSettingsOutput = hospitalSettingsSchema;
