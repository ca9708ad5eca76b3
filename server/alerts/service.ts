import { and, asc, desc, eq, gte, inArray, lt, lte, type SQL, sql } from 'drizzle-orm';
import { type AuditContext, logAuditEvent } from '../audit/log.js';
import { alertEscalations, alertEvents, alerts, departments } from '../db/schema.js';
import { conflict, notFound } from '../errors.js';
import { type Actor, checkPermission } from '../permissions.js';
import { afterCommit, type AlertDeps, changeAlert, type ChangeResult } from './change.js';
import { appendEvent, latestEventId, toWireEvent } from './events.js';
import { loadSettings, maxLevel, nextEscalationAt } from './policy.js';
import { selectAlertById, selectAlerts } from './queries.js';
import type { Alert, CreateAlertInput, ListAlertsInput } from './schemas.js';
import { alertScope, type AlertScope, scopeWhere } from './visibility.js';

const OPEN = ['active', 'acknowledged'] as const;

/** Raises an alert in an active department of the caller's hospital, with its first escalation deadline. */
export async function createAlert(deps: AlertDeps, actor: Actor, audit: AuditContext, input: CreateAlertInput): Promise<Alert> {
  const result = await deps.db.transaction(async (tx): Promise<ChangeResult> => {
    const [dept] = await tx
      .select({ id: departments.id })
      .from(departments)
      .where(and(eq(departments.id, input.departmentId), eq(departments.hospitalId, actor.hospitalId), eq(departments.isActive, true)));
    if (!dept) throw notFound('Department');
    const settings = await loadSettings(tx, actor.hospitalId);
    const now = new Date();
    const [row] = await tx
      .insert(alerts)
      .values({
        hospitalId: actor.hospitalId,
        departmentId: dept.id,
        title: input.title,
        description: input.description || null,
        priority: input.priority,
        alertType: input.alertType.toLowerCase(),
        roomNumber: input.roomNumber || null,
        expiresAt: input.expiresAt ? new Date(input.expiresAt) : null,
        nextEscalationAt: nextEscalationAt(settings, input.priority, 0, now),
        createdBy: actor.id,
      })
      .returning({ id: alerts.id });
    const alert = (await selectAlertById(tx, (row as { id: string }).id)) as Alert;
    const event = await appendEvent(tx, alert, 'created', actor.id);
    await logAuditEvent(tx, audit, {
      action: 'alert.created',
      resource: 'alert',
      resourceId: alert.id,
      metadata: { priority: alert.priority, departmentId: alert.departmentId, eventId: event.id },
    });
    return { alert, event };
  });
  afterCommit(deps, result);
  return result.alert;
}

const must = (r: ChangeResult | null): Alert => (r as ChangeResult).alert;

export async function acknowledgeAlert(deps: AlertDeps, actor: Actor, audit: AuditContext, alertId: string): Promise<Alert> {
  return must(
    await changeAlert(deps, alertScope(actor), audit, alertId, {
      action: 'acknowledged',
      event: 'acknowledged',
      from: ['active'],
      set: () => ({ status: 'acknowledged', acknowledgedBy: actor.id, acknowledgedAt: sql`now()`, nextEscalationAt: null }),
    }),
  );
}

export async function resolveAlert(deps: AlertDeps, actor: Actor, audit: AuditContext, alertId: string): Promise<Alert> {
  return must(
    await changeAlert(deps, alertScope(actor), audit, alertId, {
      action: 'resolved',
      event: 'resolved',
      from: OPEN,
      set: (row) => ({
        status: 'resolved',
        resolvedBy: actor.id,
        resolvedAt: sql`now()`,
        nextEscalationAt: null,
        // Resolving straight from active also records who took it.
        ...(row.acknowledgedAt ? {} : { acknowledgedBy: actor.id, acknowledgedAt: sql`now()` }),
      }),
    }),
  );
}

export async function cancelAlert(deps: AlertDeps, actor: Actor, audit: AuditContext, alertId: string): Promise<Alert> {
  return must(
    await changeAlert(deps, alertScope(actor), audit, alertId, {
      action: 'cancelled',
      event: 'cancelled',
      from: OPEN,
      authorize: (row) => checkPermission(actor, 'alert.cancelOwn', row),
      set: () => ({ status: 'cancelled', cancelledBy: actor.id, cancelledAt: sql`now()`, nextEscalationAt: null }),
    }),
  );
}

export type EscalationReason = 'timeout' | 'manual' | 'no_response' | 'declined' | 'ack_timeout';

/**
 * Raises an active alert one level. Manual escalation stops at the policy's top level (CONFLICT);
 * a timer passes `expect` so a stale timer (acknowledged, already escalated, changed) is a no-op.
 */
export async function escalateAlert(
  deps: AlertDeps,
  scope: AlertScope,
  audit: AuditContext,
  alertId: string,
  reason: EscalationReason,
  expect?: { escalationLevel: number; version: number },
): Promise<ChangeResult | null> {
  return changeAlert(deps, scope, audit, alertId, {
    action: 'escalated',
    event: 'escalated',
    from: ['active'],
    expect,
    metadata: { reason },
    set: async (row, tx) => {
      const settings = await loadSettings(tx, row.hospitalId);
      if (row.escalationLevel >= maxLevel(settings, row.priority)) {
        throw conflict('The alert is already at the highest escalation level');
      }
      return { escalationLevel: row.escalationLevel + 1, nextEscalationAt: nextEscalationAt(settings, row.priority, row.escalationLevel + 1, new Date()) };
    },
    escalation: (row) => ({ toLevel: row.escalationLevel + 1, reason }),
  });
}

/** Resolves an open alert whose expiry has passed, with an `expired` event. A no-op if it is not due. */
export async function expireAlert(deps: AlertDeps, hospitalId: string, alertId: string): Promise<ChangeResult | null> {
  const audit: AuditContext = { userId: null, hospitalId, ip: null, userAgent: 'clarion-worker', sessionId: null };
  return changeAlert(deps, { hospitalId, departmentId: null }, audit, alertId, {
    action: 'expired',
    event: 'expired',
    from: OPEN,
    authorize: (row) => {
      if (!row.expiresAt || row.expiresAt.getTime() > Date.now()) throw notFound('Due alert');
    },
    set: () => ({ status: 'resolved', resolvedAt: sql`now()`, nextEscalationAt: null }),
  });
}

/** The board: open alerts (critical first, then oldest) and the event id they are current to. */
export async function getActiveAlerts(deps: Pick<AlertDeps, 'db'>, actor: Actor): Promise<{ alerts: Alert[]; lastEventId: string }> {
  const scope = alertScope(actor);
  // One snapshot for both reads: events commit in id order, so the snapshot holds exactly the events ≤ lastEventId.
  return deps.db.transaction(
    async (tx) => {
      const list = await selectAlerts(tx, and(scopeWhere(scope, alerts), inArray(alerts.status, [...OPEN])), [
        desc(alerts.priority),
        asc(alerts.createdAt),
        asc(alerts.id),
      ]);
      return { alerts: list, lastEventId: String(await latestEventId(tx, scope.hospitalId)) };
    },
    { isolationLevel: 'repeatable read', accessMode: 'read only' },
  );
}

export async function getAlertById(deps: Pick<AlertDeps, 'db'>, actor: Actor, alertId: string) {
  const scope = alertScope(actor);
  const [alert] = await selectAlerts(deps.db, and(eq(alerts.id, alertId), scopeWhere(scope, alerts)));
  if (!alert) throw notFound('Alert');
  const [events, escalations] = await Promise.all([
    deps.db.select().from(alertEvents).where(eq(alertEvents.alertId, alertId)).orderBy(asc(alertEvents.id)).limit(1_000),
    deps.db.select().from(alertEscalations).where(eq(alertEscalations.alertId, alertId)).orderBy(asc(alertEscalations.escalatedAt)),
  ]);
  return {
    alert,
    events: events.map(toWireEvent),
    escalations: escalations.map((e) => ({
      id: e.id,
      fromLevel: e.fromLevel,
      toLevel: e.toLevel,
      reason: e.reason,
      escalatedBy: e.escalatedBy,
      escalatedAt: e.escalatedAt.toISOString(),
    })),
  };
}

/** History, newest first, keyset-paged on (created_at, id) at full precision: the cursor is the last alert's id. */
export async function listAlerts(deps: Pick<AlertDeps, 'db'>, actor: Actor, input: ListAlertsInput): Promise<{ alerts: Alert[]; nextCursor: string | null }> {
  const scope: AlertScope = alertScope(actor);
  const conds: (SQL | undefined)[] = [scopeWhere(scope, alerts)];
  if (input.status?.length) conds.push(inArray(alerts.status, input.status));
  if (input.priority?.length) conds.push(inArray(alerts.priority, input.priority));
  if (input.departmentId) conds.push(eq(alerts.departmentId, input.departmentId));
  if (input.from) conds.push(gte(alerts.createdAt, new Date(input.from)));
  if (input.to) conds.push(lte(alerts.createdAt, new Date(input.to)));
  if (input.cursor) {
    conds.push(
      lt(sql`(${alerts.createdAt}, ${alerts.id})`, sql`(SELECT c.created_at, c.id FROM alerts c WHERE c.id = ${input.cursor} AND c.hospital_id = ${scope.hospitalId})`),
    );
  }
  const page = await selectAlerts(deps.db, and(...conds), [desc(alerts.createdAt), desc(alerts.id)], input.limit + 1);
  const more = page.length > input.limit;
  const list = more ? page.slice(0, input.limit) : page;
  return { alerts: list, nextCursor: more ? (list[list.length - 1]?.id ?? null) : null };
}

export { alertScope };
