import { z } from 'zod';
import { setupLinkSchema } from '../accounts/schemas.js';
import { zEmail, zId, zIso, zText } from '../common/schemas.js';
import { roles } from '../db/enums.js';

/** Zod schemas of the users API, shared by the router, the admin screens and the API docs. */

export const roleSchema = z.enum(roles);
/** DESIGN.md: admins create users only with the specification's non-admin roles; updateRole makes admins. */
export const creatableRoles = ['operator', 'doctor', 'nurse', 'head_doctor'] as const;
export const creatableRoleSchema = z.enum(creatableRoles);
/** Roles that must belong to a department (the database CHECK says the same). */
export const clinicalRoles: readonly string[] = ['nurse', 'doctor'];
export const DEPARTMENT_REQUIRED = 'Nurses and doctors need a department';

export const MAX_BULK_USERS = 500;

const time = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'Use HH:MM (24-hour)');
/** Weekly work hours; an end before the start is an overnight shift. */
export const shiftScheduleSchema = z
  .array(z.object({ day: z.enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']), start: time, end: time }))
  .max(21);
export type ShiftSchedule = z.infer<typeof shiftScheduleSchema>;

export const userNameSchema = zText(100).pipe(z.string().min(2, 'Enter at least 2 characters'));
const optionalText = (max: number) => zText(max).transform((s) => s || null);

/** A user as every output carries it: never a password hash, TOTP secret or backup code. */
export const userSchema = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  role: roleSchema,
  hospitalId: z.string(),
  departmentId: z.string().nullable(),
  departmentName: z.string().nullable(),
  licenseNumber: z.string().nullable(),
  specialization: z.string().nullable(),
  shiftSchedule: shiftScheduleSchema.nullable(),
  isActive: z.boolean(),
  isLocked: z.boolean(),
  lockoutUntil: zIso.nullable(),
  twoFactorEnabled: z.boolean(),
  emailVerified: z.boolean(),
  mustChangePassword: z.boolean(),
  lastLoginAt: zIso.nullable(),
  createdAt: zIso,
  updatedAt: zIso,
});
export type User = z.infer<typeof userSchema>;

export const getAllUsersInput = z.object({
  page: z.number().int().min(1).max(100_000).default(1),
  limit: z.number().int().min(1).max(100).default(20),
  search: zText(100).optional(),
  role: roleSchema.optional(),
  departmentId: zId.optional(),
  isActive: z.boolean().optional(),
});
export type GetAllUsersInput = z.infer<typeof getAllUsersInput>;

export const getAllUsersOutput = z.object({
  users: z.array(userSchema),
  total: z.number().int(),
  page: z.number().int(),
  totalPages: z.number().int(),
});

export const userIdInput = z.object({ id: zId });

export const createUserInput = z
  .object({
    name: userNameSchema,
    email: zEmail,
    role: creatableRoleSchema,
    departmentId: zId.optional(),
    licenseNumber: optionalText(50).optional(),
    specialization: optionalText(100).optional(),
    shiftSchedule: shiftScheduleSchema.optional(),
  })
  .superRefine((v, ctx) => {
    if (clinicalRoles.includes(v.role) && !v.departmentId) ctx.addIssue({ code: 'custom', path: ['departmentId'], message: DEPARTMENT_REQUIRED });
  });
export type CreateUserInput = z.infer<typeof createUserInput>;

/**
 * The temporary password is shown once, here, and never again. `setupLink` is the one-time link that
 * lets the user choose their own password and verifies their email (server/accounts): emailed when SMTP
 * is configured (then `url` is null), else given here to pass on. The temporary password stays for
 * clients that predate the link.
 */
export const createdUserSchema = z.object({ user: userSchema, temporaryPassword: z.string(), setupLink: setupLinkSchema });
export const createUserOutput = createdUserSchema;

export const updateUserInput = z.object({
  id: zId,
  name: userNameSchema.optional(),
  email: zEmail.optional(),
  /** null clears it (refused for nurses and doctors). */
  departmentId: zId.nullable().optional(),
  licenseNumber: optionalText(50).nullable().optional(),
  specialization: optionalText(100).nullable().optional(),
  shiftSchedule: shiftScheduleSchema.nullable().optional(),
});
export type UpdateUserInput = z.infer<typeof updateUserInput>;

export const updateRoleInput = z.object({ userId: zId, role: roleSchema, departmentId: zId.optional() });

/** Admin unlock: clears the user's failed sign-in counts and locks (every address) and any manual lock. */
export const unlockUserInput = z.object({ userId: zId });
export const unlockUserOutput = z.object({ user: userSchema, clearedLocks: z.number().int().min(0) });
export type UpdateRoleInput = z.infer<typeof updateRoleInput>;

/**
 * One row of a bulk import (a CSV line). The router accepts loose strings so that every bad row is
 * reported with its index by the service (`users.<i>.<field>`), instead of zod's first failure.
 */
export const bulkUserRowSchema = z.object({
  name: userNameSchema,
  email: zEmail,
  role: creatableRoleSchema,
  /** Either the department's id or its code (as a CSV would carry it). */
  departmentId: zId.optional(),
  departmentCode: z.string().trim().toUpperCase().max(10).optional(),
  licenseNumber: optionalText(50).optional(),
  specialization: optionalText(100).optional(),
});
export type BulkUserRow = z.infer<typeof bulkUserRowSchema>;

const looseText = z.string().max(400);
export const bulkCreateInput = z.object({
  users: z
    .array(
      z.object({
        name: looseText,
        email: looseText,
        role: looseText,
        departmentId: looseText.optional(),
        departmentCode: looseText.optional(),
        licenseNumber: looseText.optional(),
        specialization: looseText.optional(),
      }),
    )
    .min(1, 'Give at least one user')
    .max(MAX_BULK_USERS, `At most ${MAX_BULK_USERS} users per import`),
});
export type BulkCreateInput = z.infer<typeof bulkCreateInput>;

export const bulkCreateOutput = z.object({ created: z.array(createdUserSchema) });

/**
 * users.directory: the hospital's active staff by name, for pickers (who covers a shift, which
 * nurse has a room). Any signed-in user of the hospital: colleagues' names, roles and departments
 * only — no email, no sign-in details.
 */
export const directoryInput = z
  .object({
    /** Only this department's staff (NOT_FOUND for a department of another hospital). */
    departmentId: zId.optional(),
    roles: z.array(roleSchema).min(1, 'Choose at least one role').max(roles.length).optional(),
  })
  .optional();
export type DirectoryInput = z.infer<typeof directoryInput>;

export const directoryEntrySchema = z.object({
  id: z.string(),
  name: z.string(),
  role: roleSchema,
  departmentId: z.string().nullable(),
  departmentName: z.string().nullable(),
});
export const directoryOutput = z.array(directoryEntrySchema);
export type DirectoryEntry = z.infer<typeof directoryEntrySchema>;
