import { and, asc, eq, gt, sql } from 'drizzle-orm';
import type { Tx } from '../db/client.js';
import { alertEvents } from '../db/schema.js';
import type { AppDeps } from '../deps.js';
import { type AuditContext, scrub } from '../audit/log.js';
import { redisKey } from '../redis.js';
import type { Alert, AlertEvent } from './schemas.js';
import { type AlertScope, scopeWhere } from './visibility.js';

export type EventType = AlertEvent['type'];
type EventRow = typeof alertEvents.$inferSelect;

/**
 * Appends the events of a change and its audit row in ONE statement, inside the change's transaction.
 * The hospital lock is taken inside that statement, just before the event ids are drawn, so bigserial
 * ids commit in id order within a hospital (a reader of `id > lastSeen` never skips a late lower id),
 * while the lock is held only for this statement and the COMMIT — not across client round trips,
 * which under load made every alert of a hospital queue behind one slow client.
 */
export async function appendEventsWithAudit(
  tx: Tx,
  alert: Alert,
  events: { type: EventType; detail?: Record<string, unknown> }[],
  audit: AuditContext,
  entry: { action: string; metadata?: Record<string, unknown> },
): Promise<AlertEvent[]> {
  const alertJson = JSON.stringify(alert);
  const rows = events.map(
    (e, i) => sql`(${i}, ${e.type}::alert_event_type, ${e.detail ? JSON.stringify(e.detail) : null}::jsonb)`,
  );
  const metadata = JSON.stringify(scrub(entry.metadata ?? {}));
  const { rows: inserted } = await tx.execute<{ id: string; type: EventType; actor_id: string | null; occurred_at: Date; detail: Record<string, unknown> | null }>(sql`
    WITH locked AS (SELECT clarion_hospital_lock(${alert.hospitalId})),
    ev AS (
      INSERT INTO alert_events (hospital_id, department_id, alert_id, type, actor_id, alert, detail, escalation_level)
      SELECT ${alert.hospitalId}, ${alert.departmentId}, ${alert.id}, v.type, ${audit.userId}, ${alertJson}::jsonb, v.detail, ${alert.escalationLevel}
      FROM locked, (VALUES ${sql.join(rows, sql`, `)}) AS v(ord, type, detail)
      ORDER BY v.ord
      RETURNING id, type, actor_id, occurred_at, detail
    ),
    au AS (
      INSERT INTO audit_logs (user_id, hospital_id, action, resource, resource_id, outcome, ip_address, user_agent, session_id, metadata)
      SELECT ${audit.userId}, ${audit.hospitalId}, ${entry.action}, 'alert', ${alert.id}, 'success', ${audit.ip}, ${audit.userAgent}, ${audit.sessionId},
             ${metadata}::jsonb || jsonb_build_object('eventId', (SELECT max(id) FROM ev)::text)
      RETURNING 1
    )
    SELECT ev.id::text AS id, ev.type, ev.actor_id, ev.occurred_at, ev.detail FROM ev, (SELECT count(*) FROM au) AS audited ORDER BY ev.id`);
  return inserted.map((r) => ({
    id: r.id,
    type: r.type,
    alert,
    actorId: r.actor_id,
    occurredAt: new Date(r.occurred_at).toISOString(),
    detail: r.detail ?? null,
  }));
}

export function toWireEvent(row: EventRow): AlertEvent {
  return {
    id: String(row.id),
    type: row.type,
    alert: row.alert as Alert,
    actorId: row.actorId,
    occurredAt: row.occurredAt.toISOString(),
    detail: (row.detail as Record<string, unknown> | null) ?? null,
  };
}

export const eventsChannel = (deps: Pick<AppDeps, 'config'>, hospitalId: string) => redisKey(deps.config.redis, 'hospital', hospitalId, 'events');

/**
 * After commit: wake every instance's fan-out. The message is only a wake-up (the event of record is
 * in Postgres), so a failed publish costs latency, never an event — and never fails the mutation.
 */
export function publishEvent(deps: Pick<AppDeps, 'config' | 'redis' | 'log' | 'metrics'>, event: AlertEvent): void {
  deps.redis.publish(eventsChannel(deps, event.alert.hospitalId), event.id).then(() => deps.metrics.eventsPublished.inc({ result: 'ok' }), (err) => {
    deps.metrics.eventsPublished.inc({ result: 'failed' });
    deps.log.warn({ err: err.message, eventId: event.id }, 'event wake-up not published; instances will pick it up on their next tick');
  });
}

/** Events after `afterId` that the scope may see, in commit order. */
export async function readEventsAfter(db: Tx, scope: AlertScope, afterId: number, limit: number): Promise<AlertEvent[]> {
  const rows = await db
    .select()
    .from(alertEvents)
    .where(and(scopeWhere(scope, alertEvents), gt(alertEvents.id, afterId)))
    .orderBy(asc(alertEvents.id))
    .limit(limit);
  return rows.map(toWireEvent);
}

/** All events of a hospital after `afterId` (the fan-out reads these and filters per subscription). */
export async function readHospitalEventsAfter(db: Tx, hospitalId: string, afterId: number, limit: number): Promise<EventRow[]> {
  return db
    .select()
    .from(alertEvents)
    .where(and(eq(alertEvents.hospitalId, hospitalId), gt(alertEvents.id, afterId)))
    .orderBy(asc(alertEvents.id))
    .limit(limit);
}

export async function latestEventId(db: Tx, hospitalId: string): Promise<number> {
  const { rows } = await db.execute<{ id: string | null }>(sql`SELECT max(id)::text AS id FROM alert_events WHERE hospital_id = ${hospitalId}`);
  return Number(rows[0]?.id ?? 0);
}

/** The highest event id removed by retention for a hospital (0 when none). */
export async function prunedThrough(db: Tx, hospitalId: string): Promise<number> {
  const { rows } = await db.execute<{ n: string }>(sql`SELECT events_pruned_through::text AS n FROM hospitals WHERE id = ${hospitalId}`);
  return Number(rows[0]?.n ?? 0);
}
