import { and, desc, eq, gt, isNull, or, type SQL, sql } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import { type AuditContext, logAuditEvent } from '../audit/log.js';
import { toIso, toIsoOrNull } from '../common/schemas.js';
import type { Database } from '../db/client.js';
import { departments, suppressions, users } from '../db/schema.js';
import { conflict, notFound } from '../errors.js';
import type { Actor } from '../permissions.js';
import { alertScope } from '../alerts/visibility.js';
import type { CreateSuppressionInput, Suppression } from './schemas.js';

const creator = alias(users, 'creator');
const ender = alias(users, 'ender');

/**
 * Suppression windows (alarm issue): the raise function (migrations/0019) consults them, so a window
 * only ever affects raises made while it runs — ending one early, or its time running out, never
 * touches the alerts it kept quiet (they stay `suppressed`; nothing is resurrected).
 */
export async function createSuppression(db: Database, actor: Actor, audit: AuditContext, input: CreateSuppressionInput): Promise<Suppression> {
  const id = await db.transaction(async (tx) => {
    const [dept] = await tx
      .select({ id: departments.id })
      .from(departments)
      .where(and(eq(departments.id, input.departmentId), eq(departments.hospitalId, actor.hospitalId), eq(departments.isActive, true)));
    if (!dept) throw notFound('Department');
    const [row] = await tx
      .insert(suppressions)
      .values({
        hospitalId: actor.hospitalId,
        departmentId: input.departmentId,
        rooms: input.rooms ? [...new Set(input.rooms)] : null,
        alertTypes: input.alertTypes ? [...new Set(input.alertTypes)] : null,
        startsAt: new Date(Math.max(Date.parse(input.from), Date.now())),
        endsAt: new Date(input.to),
        reason: input.reason,
        createdBy: actor.id,
      })
      .returning({ id: suppressions.id });
    const created = (row as { id: string }).id;
    await logAuditEvent(tx, audit, {
      action: 'suppression.created',
      resource: 'suppression',
      resourceId: created,
      metadata: { departmentId: input.departmentId, rooms: input.rooms ?? null, alertTypes: input.alertTypes ?? null, from: input.from, to: input.to, reason: input.reason },
    });
    return created;
  });
  return (await listWhere(db, and(eq(suppressions.hospitalId, actor.hospitalId), eq(suppressions.id, id)) as SQL))[0] as Suppression;
}

/** Ends a window now. Raises it already kept quiet stay as they are. */
export async function endSuppression(db: Database, actor: Actor, audit: AuditContext, id: string): Promise<Suppression> {
  await db.transaction(async (tx) => {
    const [row] = await tx
      .select({ id: suppressions.id, over: sql<boolean>`${suppressions.endedAt} IS NOT NULL OR ${suppressions.endsAt} <= now()` })
      .from(suppressions)
      .where(and(eq(suppressions.id, id), eq(suppressions.hospitalId, actor.hospitalId)))
      .for('update');
    if (!row) throw notFound('Suppression window');
    if (row.over) throw conflict('This window is already over');
    await tx.update(suppressions).set({ endedAt: sql`now()`, endedBy: actor.id }).where(eq(suppressions.id, id));
    await logAuditEvent(tx, audit, { action: 'suppression.ended', resource: 'suppression', resourceId: id });
  });
  return (await listWhere(db, and(eq(suppressions.hospitalId, actor.hospitalId), eq(suppressions.id, id)) as SQL))[0] as Suppression;
}

/** Upcoming and running windows, and those over within `endedWithinHours`; a clinician sees their department's. */
export async function listSuppressions(db: Database, actor: Actor, endedWithinHours: number): Promise<Suppression[]> {
  const scope = alertScope(actor);
  const recent = sql`now() - make_interval(hours => ${endedWithinHours})`;
  return listWhere(
    db,
    and(
      eq(suppressions.hospitalId, actor.hospitalId),
      scope.departmentId === null ? undefined : eq(suppressions.departmentId, scope.departmentId),
      or(and(isNull(suppressions.endedAt), gt(suppressions.endsAt, recent)), gt(suppressions.endedAt, recent)),
    ) as SQL,
  );
}

async function listWhere(db: Database, where: SQL): Promise<Suppression[]> {
  const rows = await db
    .select({
      s: suppressions,
      departmentName: departments.name,
      createdByName: creator.name,
      endedByName: ender.name,
      now: sql<Date>`now()`.mapWith((v: string) => new Date(v)),
      suppressedCount: sql<number>`(SELECT count(*) FROM alerts a WHERE a.suppression_id = ${suppressions.id})`.mapWith(Number),
    })
    .from(suppressions)
    .innerJoin(departments, eq(departments.id, suppressions.departmentId))
    .leftJoin(creator, eq(creator.id, suppressions.createdBy))
    .leftJoin(ender, eq(ender.id, suppressions.endedBy))
    .where(where)
    .orderBy(desc(suppressions.startsAt), desc(suppressions.id))
    .limit(200);
  return rows.map(({ s, now, ...r }) => ({
    id: s.id,
    departmentId: s.departmentId,
    departmentName: r.departmentName,
    rooms: s.rooms,
    alertTypes: s.alertTypes,
    startsAt: toIso(s.startsAt),
    endsAt: toIso(s.endsAt),
    reason: s.reason,
    createdBy: s.createdBy,
    createdByName: r.createdByName,
    createdAt: toIso(s.createdAt),
    endedAt: toIsoOrNull(s.endedAt),
    endedByName: r.endedByName,
    state: s.endedAt || s.endsAt <= now ? 'over' : s.startsAt > now ? 'upcoming' : 'running',
    suppressedCount: r.suppressedCount,
  }));
}
