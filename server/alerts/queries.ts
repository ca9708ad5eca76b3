import { eq, type SQL, sql } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import { toIso, toIsoOrNull } from '../common/schemas.js';
import type { Tx } from '../db/client.js';
import { alerts, departments, users } from '../db/schema.js';
import type { Alert, Responder } from './schemas.js';

const creator = alias(users, 'creator');
const acker = alias(users, 'acker');
const resolver = alias(users, 'resolver');
const shelver = alias(users, 'shelver');

const columns = {
  row: alerts,
  departmentCode: departments.code,
  departmentName: departments.name,
  createdByName: creator.name,
  acknowledgedByName: acker.name,
  resolvedByName: resolver.name,
  shelvedByName: shelver.name,
  // As clarion_alert_json builds it (migrations/0019): only a code has responders.
  responders: sql<Responder[]>`CASE WHEN ${alerts.code} IS NULL THEN '[]'::jsonb ELSE coalesce((
    SELECT jsonb_agg(jsonb_build_object('userId', r.user_id, 'name', u.name, 'role', u.role, 'respondedAt', clarion_iso(r.responded_at)) ORDER BY r.responded_at, r.user_id)
    FROM alert_responders r JOIN users u ON u.id = r.user_id WHERE r.alert_id = ${alerts.id}), '[]'::jsonb) END`,
};

function baseQuery(db: Tx) {
  return db
    .select(columns)
    .from(alerts)
    .innerJoin(departments, eq(departments.id, alerts.departmentId))
    .leftJoin(creator, eq(creator.id, alerts.createdBy))
    .leftJoin(acker, eq(acker.id, alerts.acknowledgedBy))
    .leftJoin(resolver, eq(resolver.id, alerts.resolvedBy))
    .leftJoin(shelver, eq(shelver.id, alerts.shelvedBy))
    .$dynamic();
}
type Row = Awaited<ReturnType<typeof baseQuery>>[number];

/** Alerts with the names a screen shows, in the wire shape. `where` must already carry the caller's scope. */
export async function selectAlerts(db: Tx, where: SQL | undefined, order: SQL[] = [], limit?: number): Promise<Alert[]> {
  let query = baseQuery(db).where(where).orderBy(...order);
  if (limit) query = query.limit(limit);
  return (await query).map(toAlert);
}

export async function selectAlertById(db: Tx, id: string): Promise<Alert | undefined> {
  const [alert] = await selectAlerts(db, eq(alerts.id, id));
  return alert;
}

function toAlert(r: Row): Alert {
  const a = r.row;
  return {
    id: a.id,
    hospitalId: a.hospitalId,
    departmentId: a.departmentId,
    departmentCode: r.departmentCode,
    departmentName: r.departmentName,
    title: a.title,
    description: a.description,
    priority: a.priority,
    alertType: a.alertType,
    roomNumber: a.roomNumber,
    status: a.status,
    escalationLevel: a.escalationLevel,
    version: a.version,
    repeatCount: a.repeatCount,
    nextEscalationAt: toIsoOrNull(a.nextEscalationAt),
    ackDeadlineAt: toIsoOrNull(a.ackDeadlineAt),
    createdBy: a.createdBy,
    createdByName: r.createdByName,
    acknowledgedBy: a.acknowledgedBy,
    acknowledgedByName: r.acknowledgedByName,
    acknowledgedAt: toIsoOrNull(a.acknowledgedAt),
    resolvedBy: a.resolvedBy,
    resolvedByName: r.resolvedByName,
    resolvedAt: toIsoOrNull(a.resolvedAt),
    cancelledBy: a.cancelledBy,
    cancelledAt: toIsoOrNull(a.cancelledAt),
    createdAt: toIso(a.createdAt),
    updatedAt: toIso(a.updatedAt),
    expiresAt: toIsoOrNull(a.expiresAt),
    source: a.source,
    externalId: a.externalId,
    shelvedUntil: toIsoOrNull(a.shelvedUntil),
    shelvedBy: a.shelvedBy,
    shelvedByName: r.shelvedByName,
    shelveReason: a.shelveReason,
    code: a.code as Alert['code'],
    suppressionId: a.suppressionId,
    responders: r.responders,
  };
}
