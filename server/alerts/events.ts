import { and, asc, eq, gt, sql } from 'drizzle-orm';
import type { Tx } from '../db/client.js';
import { alertEvents } from '../db/schema.js';
import type { AppDeps } from '../deps.js';
import { redisKey } from '../redis.js';
import type { Alert, AlertEvent } from './schemas.js';
import { type AlertScope, scopeWhere } from './visibility.js';

export type EventType = AlertEvent['type'];
type EventRow = typeof alertEvents.$inferSelect;

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
