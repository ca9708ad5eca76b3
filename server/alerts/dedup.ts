import { and, eq, gte, inArray, isNull, sql } from 'drizzle-orm';
import type { AuditContext } from '../audit/log.js';
import type { Tx } from '../db/client.js';
import { priorities } from '../db/enums.js';
import { alerts } from '../db/schema.js';
import { applyChange, type ChangeResult } from './change.js';
import type { Alert, CreateAlertInput } from './schemas.js';
import { priorityChange } from './transitions.js';

type AlertRow = typeof alerts.$inferSelect;
type Priority = Alert['priority'];

/** The title as duplicate suppression compares it: trimmed, case-insensitive (the dedup index's expression). */
const normalisedTitle = (title: unknown) => sql`lower(btrim(${title}))`;

/**
 * The same emergency, still open and raised (created or repeated) within the window: same department,
 * type, room — a roomless raise only matches a roomless alert — and title. Different titles are
 * different emergencies. The advisory lock on that key serialises identical raises, so exactly one
 * creates the alert and the others repeat it; the row is locked so the repeat acts on what was read.
 */
export async function findDuplicate(
  tx: Tx,
  hospitalId: string,
  departmentId: string,
  input: Pick<CreateAlertInput, 'alertType' | 'roomNumber' | 'title'>,
  windowSeconds: number,
): Promise<AlertRow | null> {
  if (windowSeconds <= 0) return null;
  const type = input.alertType.toLowerCase();
  const room = input.roomNumber || null;
  const title = normalisedTitle(input.title);
  await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtextextended(${`clarion:dedup:${departmentId}:${room ?? ''}:${type}:`} || ${title}, 0))`);
  const [row] = await tx
    .select()
    .from(alerts)
    .where(
      and(
        eq(alerts.hospitalId, hospitalId),
        eq(alerts.departmentId, departmentId),
        eq(alerts.alertType, type),
        sql`${normalisedTitle(alerts.title)} = ${title}`,
        room === null ? isNull(alerts.roomNumber) : eq(alerts.roomNumber, room),
        inArray(alerts.status, ['active', 'acknowledged']),
        gte(alerts.lastRaisedAt, sql`now() - make_interval(secs => ${windowSeconds})`),
      ),
    )
    .orderBy(alerts.createdAt)
    .limit(1)
    .for('update');
  return row ?? null;
}

const rank = (p: Priority) => priorities.indexOf(p);

/**
 * The raise, folded into the open alert in the raise's transaction: repeat count up, the window
 * restarted, a `repeated` event (boards chime on it, acknowledged or not; it never reopens). A repeat
 * never lowers urgency: a higher priority raises the alert (an `updated` event first) and moves its
 * deadline onto that priority's timeline, as a correction would.
 */
export async function repeatAlert(tx: Tx, row: AlertRow, priority: Priority, audit: AuditContext): Promise<ChangeResult & { priorityRaisedFrom: Priority | null }> {
  const raisedFrom = rank(priority) > rank(row.priority) ? row.priority : null;
  const repeatCount = row.repeatCount + 1;
  const result = await applyChange(tx, { hospitalId: row.hospitalId, departmentId: null }, audit, row.id, {
    action: 'repeated',
    from: ['active', 'acknowledged'],
    metadata: { repeatCount, ...(raisedFrom ? { priorityRaisedFrom: raisedFrom, priority } : {}) },
    events: () => [
      ...(raisedFrom ? [{ type: 'updated' as const, detail: { changed: ['priority'], priority: { from: raisedFrom, to: priority }, reason: 'repeat' } }] : []),
      { type: 'repeated', detail: { repeatCount } },
    ],
    set: async (locked, t) => ({ repeatCount, lastRaisedAt: sql`now()`, ...(raisedFrom ? await priorityChange(t, locked, priority) : {}) }),
  });
  return { ...(result as ChangeResult), priorityRaisedFrom: raisedFrom };
}
