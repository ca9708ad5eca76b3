import { and, eq, inArray, type SQL } from 'drizzle-orm';
import { currentAssignments } from '../assignments/service.js';
import type { Tx } from '../db/client.js';
import { users } from '../db/schema.js';
import type { EscalationTarget, HospitalSettings } from '../hospitals/settings.js';
import { onCallAt } from '../schedules/service.js';

export type TargetKind = EscalationTarget['kind'];

/** One person a level reaches, and why (stored on the page; the console's "assigned, room 312"). */
export interface Recipient {
  userId: string;
  target: TargetKind;
  detail: Record<string, unknown> | null;
}

/** A level that resolves to more people than this pages the first ones (a role target on a big hospital). */
export const MAX_RECIPIENTS = 200;

/**
 * The targets of one level, or null when the priority has none configured: then nobody is paged and
 * the screens are all there is, exactly as before the people issue. A level past the configured list
 * falls back to the old rule: level 0 the department, every level above it the head doctors.
 */
export function levelTargets(settings: HospitalSettings, priority: keyof HospitalSettings['escalation'], level: number): EscalationTarget[] | null {
  const configured = settings.escalation[priority].targets;
  if (!configured) return null;
  return configured[level] ?? (level === 0 ? [{ kind: 'department' }] : [{ kind: 'role', role: 'head_doctor' }]);
}

interface AlertPlace {
  hospitalId: string;
  departmentId: string;
  roomNumber: string | null;
}

const sameRoom = (a: string, b: string) => a.trim().toLowerCase() === b.trim().toLowerCase();

async function candidates(tx: Tx, alert: AlertPlace, t: EscalationTarget, at: Date, timezone: string): Promise<{ ids: string[]; detail: Record<string, unknown> | null }> {
  const activeWhere = (cond: SQL | undefined) =>
    tx.select({ id: users.id }).from(users).where(and(eq(users.hospitalId, alert.hospitalId), eq(users.isActive, true), cond)).orderBy(users.name).limit(MAX_RECIPIENTS);
  switch (t.kind) {
    case 'assigned': {
      if (!alert.roomNumber) return { ids: [], detail: null };
      const room = alert.roomNumber;
      const entries = await currentAssignments(tx, alert.hospitalId, alert.departmentId);
      return { ids: entries.filter((e) => e.rooms.some((r) => sameRoom(r, room))).map((e) => e.userId), detail: { room } };
    }
    case 'charge': {
      const entries = await currentAssignments(tx, alert.hospitalId, alert.departmentId);
      return { ids: entries.filter((e) => e.charge).map((e) => e.userId), detail: null };
    }
    case 'department':
      return { ids: (await activeWhere(and(eq(users.departmentId, alert.departmentId), inArray(users.role, ['nurse', 'doctor'])))).map((u) => u.id), detail: null };
    case 'role':
      return { ids: (await activeWhere(eq(users.role, t.role))).map((u) => u.id), detail: { role: t.role } };
    case 'user':
      return { ids: [t.userId], detail: null };
    case 'schedule': {
      const onCall = await onCallAt(tx, alert.hospitalId, t.scheduleId, at, timezone);
      return { ids: onCall?.userIds ?? [], detail: { scheduleId: t.scheduleId, scheduleName: onCall?.scheduleName ?? null } };
    }
  }
}

/**
 * The people a level reaches at `at`: each target in order, each person once (the first target that
 * found them says why), only active users of the alert's hospital — a deactivated user drops out of
 * every resolution at once, whatever a schedule or an assignment still says.
 */
export async function resolveTargets(tx: Tx, alert: AlertPlace, targets: EscalationTarget[], at: Date, timezone: string): Promise<Recipient[]> {
  const found: Recipient[] = [];
  const seen = new Set<string>();
  for (const t of targets) {
    const { ids, detail } = await candidates(tx, alert, t, at, timezone);
    for (const userId of ids) {
      if (seen.has(userId)) continue;
      seen.add(userId);
      found.push({ userId, target: t.kind, detail });
    }
  }
  if (!found.length) return [];
  const active = await tx
    .select({ id: users.id })
    .from(users)
    .where(and(eq(users.hospitalId, alert.hospitalId), eq(users.isActive, true), inArray(users.id, found.map((r) => r.userId))));
  const ok = new Set(active.map((u) => u.id));
  return found.filter((r) => ok.has(r.userId)).slice(0, MAX_RECIPIENTS);
}
