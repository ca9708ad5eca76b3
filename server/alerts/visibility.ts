import { and, eq, or, type SQL, sql } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import { type Actor, can } from '../permissions.js';

/**
 * The one answer to "which alerts and events may this user see?" (DESIGN.md, "Who sees what" and
 * "People, not only screens"): operators, head doctors and admins see their whole hospital; nurses and
 * doctors their own department, and any alert paged to them (a float nurse paged for room 312, the
 * on-call doctor from another unit) — and every hospital code (Code Blue is everyone's). getActive, getById, list, the state changes, the replay and the
 * live fan-out (server/realtime/hub.ts, which keeps the paged set in memory) all use it.
 */
export interface AlertScope {
  hospitalId: string;
  /** null: the whole hospital. */
  departmentId: string | null;
  /** With a department scope: the user whose pages widen it. */
  pagedTo?: string | null;
}

export function alertScope(actor: Actor): AlertScope {
  if (can(actor.role, 'alert.viewHospital')) return { hospitalId: actor.hospitalId, departmentId: null };
  // A clinician without a department sees nothing rather than everything (but what is paged to them).
  return { hospitalId: actor.hospitalId, departmentId: actor.departmentId ?? '-', pagedTo: actor.id };
}

type Cols = { hospitalId: PgColumn; departmentId: PgColumn; code?: PgColumn; alert?: PgColumn } & ({ alertId: PgColumn } | { id: PgColumn });

/** A hospital code is everyone's (alarm issue): the alerts table says so in `code`, an event in its alert JSON. */
function isCode(cols: Cols): SQL | undefined {
  if (cols.code) return sql`${cols.code} IS NOT NULL`;
  if (cols.alert) return sql`(${cols.alert}->>'code') IS NOT NULL`;
  return undefined;
}

export function scopeWhere(scope: AlertScope, cols: Cols): SQL {
  if (scope.departmentId === null) return eq(cols.hospitalId, scope.hospitalId);
  const department = eq(cols.departmentId, scope.departmentId);
  const code = isCode(cols);
  if (!scope.pagedTo) return and(eq(cols.hospitalId, scope.hospitalId), or(department, code)) as SQL;
  const alertId = 'alertId' in cols ? cols.alertId : cols.id;
  const paged = sql`${alertId} IN (SELECT p.alert_id FROM alert_pages p WHERE p.user_id = ${scope.pagedTo})`;
  return and(eq(cols.hospitalId, scope.hospitalId), or(department, paged, code)) as SQL;
}
