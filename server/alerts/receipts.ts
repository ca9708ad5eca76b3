import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Tx } from '../db/client.js';
import { alertReceipts, alerts, users } from '../db/schema.js';
import type { AuthSession } from '../auth/sessions.js';
import { recordPageReceipts } from './pages.js';
import { alertScope, scopeWhere } from './visibility.js';

/**
 * Records what a board reports in one batch: delivered (the event reached the screen) and seen (the
 * tile was on a visible screen). Ids the user may not see are ignored, revealing nothing.
 */
export async function reportReceipts(db: Tx, auth: AuthSession, receipts: { alertId: string; kind: 'delivered' | 'seen' }[]): Promise<{ recorded: number }> {
  const ids = [...new Set(receipts.map((r) => r.alertId))];
  const seen = new Set(receipts.filter((r) => r.kind === 'seen').map((r) => r.alertId));
  const visible = await db
    .select({ id: alerts.id, hospitalId: alerts.hospitalId })
    .from(alerts)
    .where(and(inArray(alerts.id, ids), scopeWhere(alertScope(auth.user), alerts)));
  if (!visible.length) return { recorded: 0 };
  await db
    .insert(alertReceipts)
    .values(
      visible.map((a) => ({
        alertId: a.id,
        sessionId: auth.session.id,
        hospitalId: a.hospitalId,
        userId: auth.user.id,
        seenAt: seen.has(a.id) ? sql`now()` : null,
      })),
    )
    .onConflictDoUpdate({
      target: [alertReceipts.alertId, alertReceipts.sessionId],
      set: { seenAt: sql`coalesce(${alertReceipts.seenAt}, excluded.seen_at)` },
    });
  const ok = visible.map((a) => a.id);
  await recordPageReceipts(db, auth.user.id, ok.filter((id) => !seen.has(id)), ok.filter((id) => seen.has(id)));
  return { recorded: visible.length };
}

export async function receiptsOf(db: Tx, alertId: string) {
  const rows = await db
    .select({ userId: alertReceipts.userId, userName: users.name, sessionId: alertReceipts.sessionId, deliveredAt: alertReceipts.deliveredAt, seenAt: alertReceipts.seenAt })
    .from(alertReceipts)
    .innerJoin(users, eq(users.id, alertReceipts.userId))
    .where(eq(alertReceipts.alertId, alertId))
    .orderBy(alertReceipts.deliveredAt);
  return rows.map((r) => ({ ...r, deliveredAt: r.deliveredAt.toISOString(), seenAt: r.seenAt?.toISOString() ?? null }));
}

/**
 * For the console: per alert, screens delivered to, how many of them are the alert's department's
 * own (a screen signed in by a user of that department; a head doctor's hospital-wide board is a
 * screen but not a Cardiology screen), who has seen it, who acknowledged.
 */
export async function receiptSummary(db: Tx, auth: AuthSession, alertIds: string[]) {
  const { rows } = await db.execute<{ alert_id: string; delivered: number; department: number; seen_by: string[] | null; acked_by: string | null }>(sql`
    SELECT alerts.id AS alert_id, count(r.session_id)::int AS delivered,
           count(r.session_id) FILTER (WHERE u.department_id = alerts.department_id)::int AS department,
           array_remove(array_agg(DISTINCT u.name) FILTER (WHERE r.seen_at IS NOT NULL), NULL) AS seen_by,
           ack.name AS acked_by
    FROM alerts
    LEFT JOIN alert_receipts r ON r.alert_id = alerts.id
    LEFT JOIN users u ON u.id = r.user_id
    LEFT JOIN users ack ON ack.id = alerts.acknowledged_by
    WHERE alerts.id IN ${alertIds} AND ${scopeWhere(alertScope(auth.user), alerts)}
    GROUP BY alerts.id, ack.name`);
  return rows.map((r) => ({ alertId: r.alert_id, deliveredScreens: r.delivered, departmentScreens: r.department, seenBy: r.seen_by ?? [], acknowledgedBy: r.acked_by }));
}
