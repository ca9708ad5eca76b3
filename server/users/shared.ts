import { and, eq, sql } from 'drizzle-orm';
import { type AuditContext, type AuditEntry, logAuditEvent } from '../audit/log.js';
import { toIso, toIsoOrNull } from '../common/schemas.js';
import type { Tx } from '../db/client.js';
import { departments, users } from '../db/schema.js';
import type { AppDeps } from '../deps.js';
import { AppError, badRequest, notFound } from '../errors.js';
import type { Actor } from '../permissions.js';
import { shiftScheduleSchema, type User } from './schemas.js';

/** Who is calling: the actor for rules and scoping, the audit fields for the audit rows. */
export interface Caller {
  actor: Actor;
  audit: AuditContext;
}

/** The columns a user output is built from: never the password hash or the TOTP secret. */
export const userColumns = {
  id: users.id,
  email: users.email,
  name: users.name,
  role: users.role,
  hospitalId: users.hospitalId,
  departmentId: users.departmentId,
  departmentName: departments.name,
  licenseNumber: users.licenseNumber,
  specialization: users.specialization,
  shiftSchedule: users.shiftSchedule,
  isActive: users.isActive,
  isLocked: users.isLocked,
  lockoutUntil: users.lockoutUntil,
  twoFactorEnabled: users.twoFactorEnabled,
  emailVerified: users.emailVerified,
  mustChangePassword: users.mustChangePassword,
  lastLoginAt: users.lastLoginAt,
  createdAt: users.createdAt,
  updatedAt: users.updatedAt,
};

type UserRow = Omit<typeof users.$inferSelect, 'passwordHash' | 'twoFactorSecret' | 'failedLoginAttempts' | 'lastLoginIp' | 'passwordChangedAt'> & {
  departmentName: string | null;
};

/** Picks the public fields explicitly, so a secret column can never leak through a spread. */
export function toUser(row: UserRow): User {
  // Rows written before the schedule shape existed must not break the output schema.
  const schedule = shiftScheduleSchema.safeParse(row.shiftSchedule);
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    role: row.role,
    hospitalId: row.hospitalId,
    departmentId: row.departmentId,
    departmentName: row.departmentName,
    licenseNumber: row.licenseNumber,
    specialization: row.specialization,
    shiftSchedule: row.shiftSchedule == null || !schedule.success ? null : schedule.data,
    isActive: row.isActive,
    isLocked: row.isLocked,
    lockoutUntil: toIsoOrNull(row.lockoutUntil),
    twoFactorEnabled: row.twoFactorEnabled,
    emailVerified: row.emailVerified,
    mustChangePassword: row.mustChangePassword,
    lastLoginAt: toIsoOrNull(row.lastLoginAt),
    createdAt: toIso(row.createdAt),
    updatedAt: toIso(row.updatedAt),
  };
}

/** One user of the caller's hospital (another hospital's id is simply not found). */
export async function findUser(db: Tx, hospitalId: string, id: string): Promise<User | undefined> {
  const [row] = await db
    .select(userColumns)
    .from(users)
    .leftJoin(departments, eq(departments.id, users.departmentId))
    .where(and(eq(users.hospitalId, hospitalId), eq(users.id, id)))
    .limit(1);
  return row ? toUser(row) : undefined;
}

/**
 * Locks the user's row for the rest of the transaction and returns it, or NOT_FOUND. FOR NO KEY UPDATE,
 * not FOR UPDATE: it still serialises two edits of the user, but does not block the FOR KEY SHARE that
 * another transaction's foreign-key check takes (an audit or alert-event row naming this user) while
 * it holds the hospital lock our own audit row is about to wait for: that pair was a deadlock.
 */
export async function lockUser(tx: Tx, hospitalId: string, id: string): Promise<User> {
  const [locked] = await tx
    .select({ id: users.id })
    .from(users)
    .where(and(eq(users.hospitalId, hospitalId), eq(users.id, id)))
    .for('no key update');
  const user = locked && (await findUser(tx, hospitalId, id));
  if (!user) throw notFound('User');
  return user;
}

/** A department the caller may assign: of the caller's hospital (else NOT_FOUND) and active. */
export async function assignableDepartment(db: Tx, hospitalId: string, departmentId: string): Promise<{ id: string; name: string }> {
  const [dept] = await db
    .select({ id: departments.id, name: departments.name, isActive: departments.isActive })
    .from(departments)
    .where(and(eq(departments.hospitalId, hospitalId), eq(departments.id, departmentId)));
  if (!dept) throw notFound('Department');
  if (!dept.isActive) throw badRequest('This department is inactive', { departmentId: ['This department is inactive'] });
  return dept;
}

export const EMAIL_IN_USE = 'This email address is already in use';
const emailInUse = () => new AppError('CONFLICT', EMAIL_IN_USE, { email: [EMAIL_IN_USE] });

/** Emails are unique across all hospitals (sign-in is by email alone), so the check is global. */
export async function ensureEmailFree(db: Tx, email: string, exceptUserId?: string): Promise<void> {
  const [row] = await db
    .select({ id: users.id })
    .from(users)
    .where(and(eq(users.email, email), exceptUserId ? sql`${users.id} <> ${exceptUserId}` : undefined))
    .limit(1);
  if (row) throw emailInUse();
}

/** A unique violation of users_email_key (a concurrent insert won the race): the same clear answer. */
export function rethrowEmailRace(err: unknown): never {
  let e: unknown = err;
  for (let i = 0; i < 4 && e && typeof e === 'object'; i++) {
    const pg = e as { code?: string; constraint?: string; cause?: unknown };
    if (pg.code === '23505' && pg.constraint === 'users_email_key') throw emailInUse();
    e = pg.cause;
  }
  throw err;
}

/**
 * Runs a mutation; when it is refused by a rule (CONFLICT, FORBIDDEN) the refusal is audited with
 * outcome failure through the pool, outside the transaction whose rollback would erase it.
 */
export async function auditRefusal<T>(deps: Pick<AppDeps, 'db'>, audit: AuditContext, entry: AuditEntry, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof AppError && (err.code === 'CONFLICT' || err.code === 'FORBIDDEN')) {
      await logAuditEvent(deps.db, audit, { ...entry, outcome: 'failure', metadata: { ...entry.metadata, reason: err.message } });
    }
    throw err;
  }
}
