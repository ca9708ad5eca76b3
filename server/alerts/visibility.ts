import { and, eq, type SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import { type Actor, can } from '../permissions.js';

/**
 * The one answer to "which alerts and events may this user see?" (DESIGN.md, "Who sees what"):
 * operators, head doctors and admins see their whole hospital; nurses and doctors their own department.
 * getActive, getById, list, the replay and the live fan-out all use it.
 */
export interface AlertScope {
  hospitalId: string;
  /** null: the whole hospital. */
  departmentId: string | null;
}

export function alertScope(actor: Actor): AlertScope {
  if (can(actor.role, 'alert.viewHospital')) return { hospitalId: actor.hospitalId, departmentId: null };
  // A clinician without a department sees nothing rather than everything.
  return { hospitalId: actor.hospitalId, departmentId: actor.departmentId ?? '-' };
}

export function scopeWhere(scope: AlertScope, cols: { hospitalId: PgColumn; departmentId: PgColumn }): SQL {
  return scope.departmentId === null
    ? eq(cols.hospitalId, scope.hospitalId)
    : (and(eq(cols.hospitalId, scope.hospitalId), eq(cols.departmentId, scope.departmentId)) as SQL);
}

export function inScope(scope: AlertScope, record: { hospitalId: string; departmentId: string }): boolean {
  return record.hospitalId === scope.hospitalId && (scope.departmentId === null || scope.departmentId === record.departmentId);
}
