import { and, asc, desc, eq, gt, gte, inArray, lt, lte, type SQL, sql } from 'drizzle-orm';
import type { AuditContext } from '../audit/log.js';
import { alertEscalations, alertEvents, alerts, openAlertStatuses } from '../db/schema.js';
import { notFound } from '../errors.js';
import type { Actor } from '../permissions.js';
import { afterCommit, type AlertDeps } from './change.js';
import { type AlertOrigin, raiseAlert, raiseBatcher, raisePayload } from './create.js';
import { latestEventId, toWireEvent } from './events.js';
import { writeGate } from './gate.js';
import { pagesOf } from './pages.js';
import { receiptsOf } from './receipts.js';
import { selectAlerts } from './queries.js';
import type { Alert, AlertEvent, CreatedAlert, CreateAlertInput, ListAlertsInput } from './schemas.js';
import { alertScope, type AlertScope, scopeWhere } from './visibility.js';

const OPEN = openAlertStatuses;
export * from './transitions.js';

/**
 * Raises an alert in an active department of the caller's hospital, with its first escalation
 * deadline — unless the same emergency (department, room, type, title) is open and was raised within
 * the dedup window: that alert then absorbs it (repeat count up, a `repeated` event, its priority
 * raised if this raise is more urgent) and is returned with `deduplicated: true`.
 * One statement (clarion_create_alert, migrations/0009), group-committed with the raises that arrive
 * while one is in flight (clarion_create_alerts, 0010): the hospital lock is held only for its tail.
 */
export async function createAlert(deps: AlertDeps, actor: Actor | null, audit: AuditContext, input: CreateAlertInput & { hospitalId?: string } & Partial<AlertOrigin>): Promise<CreatedAlert> {
  const hospitalId = actor?.hospitalId ?? (input.hospitalId as string);
  const batcher = raiseBatcher(deps.db, writeGate(deps.db, deps.config.database.poolMax), hospitalId);
  const result = await raiseAlert(deps.db, hospitalId, (s) => raisePayload(hospitalId, actor?.id ?? null, audit, input, s, input.source || input.code ? { source: input.source ?? 'console', externalId: input.externalId ?? null, code: input.code } : undefined), (payload) => batcher.submit(payload));
  afterCommit(deps, { alert: result.alert, event: result.events[result.events.length - 1] as AlertEvent });
  return { ...result.alert, deduplicated: result.deduplicated, priorityRaisedFrom: result.priorityRaisedFrom };
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
  const [events, escalations, receipts, pages] = await Promise.all([
    deps.db.select().from(alertEvents).where(eq(alertEvents.alertId, alertId)).orderBy(asc(alertEvents.id)).limit(1_000),
    deps.db.select().from(alertEscalations).where(eq(alertEscalations.alertId, alertId)).orderBy(asc(alertEscalations.escalatedAt)),
    receiptsOf(deps.db, alertId),
    pagesOf(deps.db, alertId),
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
    receipts,
    pages,
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
  if (input.search) {
    // ILIKE with the user's text as a literal: % _ and \ are escaped, never wildcards.
    const like = `%${input.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    conds.push(sql`(${alerts.title} ILIKE ${like} OR ${alerts.roomNumber} ILIKE ${like} OR ${alerts.description} ILIKE ${like})`);
  }
  const oldest = input.order === 'oldest';
  if (input.cursor) {
    const after = sql`(SELECT c.created_at, c.id FROM alerts c WHERE c.id = ${input.cursor} AND c.hospital_id = ${scope.hospitalId})`;
    conds.push(oldest ? gt(sql`(${alerts.createdAt}, ${alerts.id})`, after) : lt(sql`(${alerts.createdAt}, ${alerts.id})`, after));
  }
  // DESC NULLS LAST matches alerts_history_idx (drizzle builds index columns DESC NULLS LAST), else Postgres
  // sorts; oldest-first is its exact reverse (ASC NULLS FIRST), a backward scan of the same index.
  const dir = oldest ? sql`ASC NULLS FIRST` : sql`DESC NULLS LAST`;
  const page = await selectAlerts(deps.db, and(...conds), [sql`${alerts.createdAt} ${dir}`, sql`${alerts.id} ${dir}`], input.limit + 1);
  const more = page.length > input.limit;
  const list = more ? page.slice(0, input.limit) : page;
  return { alerts: list, nextCursor: more ? (list[list.length - 1]?.id ?? null) : null };
}

export { alertScope };
