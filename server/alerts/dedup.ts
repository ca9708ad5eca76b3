import { and, eq, gte, inArray, isNull, sql } from 'drizzle-orm';
import type { AuditContext } from '../audit/log.js';
import type { Tx } from '../db/client.js';
import { alerts } from '../db/schema.js';
import { applyChange, type ChangeResult } from './change.js';
import type { CreateAlertInput } from './schemas.js';

type AlertRow = typeof alerts.$inferSelect;

/**
 * An open alert with the same department, room and type, raised or repeated within the window.
 * The advisory lock on (department, room, type) serialises two identical raises, so exactly one
 * creates the alert and the other repeats it.
 */
export async function findDuplicate(tx: Tx, hospitalId: string, departmentId: string, input: Pick<CreateAlertInput, 'alertType' | 'roomNumber'>, windowSeconds: number): Promise<AlertRow | null> {
  if (windowSeconds <= 0) return null;
  const type = input.alertType.toLowerCase();
  const room = input.roomNumber || null;
  await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtextextended(${`clarion:dedup:${departmentId}:${room ?? ''}:${type}`}, 0))`);
  const [row] = await tx
    .select()
    .from(alerts)
    .where(
      and(
        eq(alerts.hospitalId, hospitalId),
        eq(alerts.departmentId, departmentId),
        eq(alerts.alertType, type),
        room === null ? isNull(alerts.roomNumber) : eq(alerts.roomNumber, room),
        inArray(alerts.status, ['active', 'acknowledged']),
        gte(alerts.updatedAt, sql`now() - make_interval(secs => ${windowSeconds})`),
      ),
    )
    .orderBy(alerts.createdAt)
    .limit(1);
  return row ?? null;
}

/** Bumps the repeat counter of the duplicate, with a `repeated` event, in the raise's transaction. */
export async function repeatAlert(tx: Tx, row: AlertRow, audit: AuditContext): Promise<ChangeResult> {
  const result = await applyChange(tx, { hospitalId: row.hospitalId, departmentId: null }, audit, row.id, {
    action: 'repeated',
    from: ['active', 'acknowledged'],
    events: () => [{ type: 'repeated', detail: { repeatCount: row.repeatCount + 1 } }],
    set: () => ({ repeatCount: row.repeatCount + 1 }),
  });
  return result as ChangeResult;
}
