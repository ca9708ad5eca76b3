import { and, eq, inArray, type SQL, sql } from 'drizzle-orm';
import type { PgUpdateSetSource } from 'drizzle-orm/pg-core';
import { type AuditContext, logAuditEvent } from '../audit/log.js';
import type { Tx } from '../db/client.js';
import { alertEscalations, alerts, type alertStatuses, type escalationReasons } from '../db/schema.js';
import type { AppDeps } from '../deps.js';
import { AppError, conflict, notFound } from '../errors.js';
import { appendEventsWithAudit, type EventType, publishEvent } from './events.js';
import { writeGate } from './gate.js';
import { selectAlertById } from './queries.js';
import type { Alert, AlertEvent } from './schemas.js';
import { type AlertScope, scopeWhere } from './visibility.js';

type AlertRow = typeof alerts.$inferSelect;
type Status = (typeof alertStatuses)[number];

/** What the worker plugs in to keep escalation and expiry timers in step with each change. */
export interface AlertTimers {
  afterChange(alert: Alert): Promise<void>;
}

export type AlertDeps = Pick<AppDeps, 'db' | 'redis' | 'config' | 'log' | 'metrics'> & { timers?: AlertTimers };

export interface ChangeSpec {
  /** Audit action suffix: alert.<action>. */
  action: string;
  /** The events the change emits, in order; `escalated` tells whether the level went up. */
  events: (row: AlertRow, escalated: boolean) => { type: EventType; detail?: Record<string, unknown> }[];
  /** Statuses the change may start from; the guarded UPDATE re-checks them. */
  from: readonly Status[];
  /** Record-dependent permission check on a visible alert (throws FORBIDDEN). */
  authorize?: (row: AlertRow) => void;
  /** Extra guard for the UPDATE (the worker's level and version). A miss is a silent no-op, not CONFLICT. */
  expect?: { escalationLevel: number; version: number };
  /** Column values; `version` and `updatedAt` are bumped automatically. May read the locked row. */
  set: (row: AlertRow, tx: Tx) => Promise<PgUpdateSetSource<typeof alerts>> | PgUpdateSetSource<typeof alerts>;
  /** Recorded in alert_escalations when `set` raises the level. */
  escalationReason?: (typeof escalationReasons)[number];
  metadata?: Record<string, unknown>;
}

export interface ChangeResult {
  alert: Alert;
  event: AlertEvent;
}

/**
 * The one event path for a change to an existing alert: lock the row (in the caller's scope), check,
 * guarded UPDATE, escalation row, event row, audit row — one transaction — then, after commit, the
 * Redis wake-up and the timers. Refusals are audited in their own transaction.
 * Returns null when an `expect` guard no longer matches (a timer that lost its race).
 */
export async function changeAlert(deps: AlertDeps, scope: AlertScope, audit: AuditContext, alertId: string, spec: ChangeSpec): Promise<ChangeResult | null> {
  let result: ChangeResult | null;
  try {
    result = await writeGate(deps.db, deps.config.database.poolMax).run(() => deps.db.transaction((tx) => applyChange(tx, scope, audit, alertId, spec)));
  } catch (err) {
    if (err instanceof AppError && (err.code === 'FORBIDDEN' || err.code === 'CONFLICT')) {
      await logAuditEvent(deps.db, audit, {
        action: `alert.${spec.action}`,
        resource: 'alert',
        resourceId: alertId,
        outcome: 'failure',
        metadata: { reason: err.message },
      }).catch((e) => deps.log.error({ err: e }, 'could not audit a refused alert change'));
    }
    throw err;
  }
  if (result) afterCommit(deps, result);
  return result;
}

/** The change inside the caller's transaction (for callers that already hold one, like create's dedup). */
export async function applyChange(tx: Tx, scope: AlertScope, audit: AuditContext, alertId: string, spec: ChangeSpec): Promise<ChangeResult | null> {
  const [row] = await tx
    .select()
    .from(alerts)
    .where(and(eq(alerts.id, alertId), scopeWhere(scope, alerts)))
    .for('update');
  if (!row) throw notFound('Alert');
  spec.authorize?.(row);
  const stale = spec.expect && (row.escalationLevel !== spec.expect.escalationLevel || row.version !== spec.expect.version);
  if (stale || (spec.expect && !spec.from.includes(row.status))) return null;
  if (!spec.from.includes(row.status)) throw conflict(`The alert is already ${row.status}`);

  const values = await spec.set(row, tx);
  const guards: SQL[] = [eq(alerts.id, alertId), inArray(alerts.status, [...spec.from]), eq(alerts.version, row.version)];
  const updated = await tx
    .update(alerts)
    .set({ ...values, version: sql`${alerts.version} + 1`, updatedAt: sql`now()` })
    .where(and(...guards))
    .returning({ id: alerts.id });
  if (!updated.length) throw conflict('The alert changed meanwhile; reload and try again');

  const toLevel = typeof values.escalationLevel === 'number' ? values.escalationLevel : row.escalationLevel;
  const escalated = toLevel > row.escalationLevel;
  const escalation = escalated ? { toLevel, reason: spec.escalationReason ?? 'manual' } : undefined;
  if (escalation) {
    await tx.insert(alertEscalations).values({
      alertId,
      hospitalId: row.hospitalId,
      fromLevel: row.escalationLevel,
      toLevel: escalation.toLevel,
      reason: escalation.reason,
      escalatedBy: audit.userId,
    });
  }
  const alert = (await selectAlertById(tx, alertId)) as Alert;
  const emitted = await appendEventsWithAudit(tx, alert, spec.events(row, escalated), audit, {
    action: `alert.${spec.action}`,
    metadata: { from: row.status, to: alert.status, level: alert.escalationLevel, ...escalation, ...spec.metadata },
  });
  const event = emitted[emitted.length - 1];
  if (!event) throw new Error(`change ${spec.action} emitted no event`);
  return { alert, event };
}

/** Publish and reschedule after commit; neither may fail or block the caller. */
export function afterCommit(deps: AlertDeps, result: ChangeResult): void {
  publishEvent(deps, result.event);
  deps.timers?.afterChange(result.alert).catch((err) => {
    deps.log.warn({ err: err instanceof Error ? err.message : err, alertId: result.alert.id }, 'timer not rescheduled; the sweeper will catch up');
  });
}
