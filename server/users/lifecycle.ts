import { and, eq, sql } from 'drizzle-orm';
import { logAuditEvent } from '../audit/log.js';
import { revokeSessions } from '../auth/sessions.js';
import type { Tx } from '../db/client.js';
import { users } from '../db/schema.js';
import type { AppDeps } from '../deps.js';
import { badRequest, conflict, forbidden } from '../errors.js';
import { publishControl } from '../realtime/control.js';
import { clinicalRoles, DEPARTMENT_REQUIRED, type UpdateRoleInput, type User } from './schemas.js';
import { escalatePagesOf } from '../paging/repair.js';
import { assignableDepartment, auditRefusal, type Caller, findUser, lockUser } from './shared.js';

/**
 * Serialises every change that could remove a hospital's last active admin (deactivation, demotion).
 * Taken before any row lock and before the audit insert's hospital lock, so the lock order is the
 * same everywhere (DESIGN: row locks first, the hospital lock last) and two admins demoting each
 * other cannot both succeed.
 */
async function lockHospitalAdmins(tx: Tx, hospitalId: string): Promise<void> {
  await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtextextended(${'clarion:admins:' + hospitalId}, 0))`);
}

async function ensureAnotherActiveAdmin(tx: Tx, user: User): Promise<void> {
  if (user.role !== 'admin' || !user.isActive) return;
  const [other] = await tx
    .select({ id: users.id })
    .from(users)
    .where(and(eq(users.hospitalId, user.hospitalId), eq(users.role, 'admin'), eq(users.isActive, true), sql`${users.id} <> ${user.id}`))
    .limit(1);
  if (!other) throw conflict('This is the last active admin of the hospital: make another user an admin first');
}

/** Deactivates a user and ends all their sessions; their live sockets close on every instance. */
export async function deactivateUser(deps: AppDeps, caller: Caller, id: string): Promise<User> {
  const hospitalId = caller.actor.hospitalId;
  const entry = { action: 'user.deactivated', resource: 'user', resourceId: id };
  const { user, revoked } = await auditRefusal(deps, caller.audit, entry, async () => {
    if (id === caller.actor.id) throw forbidden('You cannot deactivate your own account');
    return deps.db.transaction(async (tx) => {
      await lockHospitalAdmins(tx, hospitalId);
      const current = await lockUser(tx, hospitalId, id);
      if (!current.isActive) throw conflict('This user is already deactivated');
      await ensureAnotherActiveAdmin(tx, current);
      await tx.update(users).set({ isActive: false, updatedAt: sql`now()` }).where(eq(users.id, id));
      const revokedIds = await revokeSessions(tx, { userId: id }, 'user deactivated');
      await logAuditEvent(tx, caller.audit, { ...entry, metadata: { role: current.role, revokedSessions: revokedIds.length } });
      return { user: (await findUser(tx, hospitalId, id)) as User, revoked: revokedIds };
    });
  });
  if (revoked.length) publishControl(deps, { type: 'sessions.revoked', sessionIds: revoked });
  publishControl(deps, { type: 'user.changed', userId: id, reason: 'deactivated' });
  // Their open pages escalate on now rather than wait for a timer nobody will beat.
  await escalatePagesOf(deps, hospitalId, id).catch((err: Error) => deps.log.warn({ err: err.message, userId: id }, 'open pages of a deactivated user not escalated; timers still will'));
  return user;
}

/** Lets a deactivated user sign in again (with the password they had; sessions stay revoked). */
export async function reactivateUser(deps: AppDeps, caller: Caller, id: string): Promise<User> {
  const hospitalId = caller.actor.hospitalId;
  const entry = { action: 'user.reactivated', resource: 'user', resourceId: id };
  return auditRefusal(deps, caller.audit, entry, () =>
    deps.db.transaction(async (tx) => {
      const current = await lockUser(tx, hospitalId, id);
      if (current.isActive) throw conflict('This user is already active');
      await tx.update(users).set({ isActive: true, updatedAt: sql`now()` }).where(eq(users.id, id));
      await logAuditEvent(tx, caller.audit, { ...entry, metadata: { role: current.role } });
      return (await findUser(tx, hospitalId, id)) as User;
    }),
  );
}

/**
 * Changes a user's role (admin included) and optionally their department. Nurses and doctors must
 * end up with a department; the last active admin cannot be demoted.
 */
export async function updateUserRole(deps: AppDeps, caller: Caller, input: UpdateRoleInput): Promise<User> {
  const hospitalId = caller.actor.hospitalId;
  const entry = { action: 'user.role_changed', resource: 'user', resourceId: input.userId, metadata: { to: input.role } };
  let changed = false;
  const user = await auditRefusal(deps, caller.audit, entry, () =>
    deps.db.transaction(async (tx) => {
      await lockHospitalAdmins(tx, hospitalId);
      const current = await lockUser(tx, hospitalId, input.userId);
      const departmentId = input.departmentId ?? current.departmentId;
      if (clinicalRoles.includes(input.role) && !departmentId) throw badRequest(DEPARTMENT_REQUIRED, { departmentId: [DEPARTMENT_REQUIRED] });
      if (input.departmentId && input.departmentId !== current.departmentId) await assignableDepartment(tx, hospitalId, input.departmentId);
      if (input.role === current.role && departmentId === current.departmentId) return current;
      if (input.role !== 'admin') await ensureAnotherActiveAdmin(tx, current);
      await tx.update(users).set({ role: input.role, departmentId, updatedAt: sql`now()` }).where(eq(users.id, current.id));
      await logAuditEvent(tx, caller.audit, {
        ...entry,
        metadata: { from: current.role, to: input.role, departmentFrom: current.departmentId, departmentTo: departmentId },
      });
      changed = true;
      return (await findUser(tx, hospitalId, current.id)) as User;
    }),
  );
  // What a socket may see depends on role and department: every instance closes this user's sockets.
  if (changed) publishControl(deps, { type: 'user.changed', userId: user.id, reason: 'role' });
  return user;
}
