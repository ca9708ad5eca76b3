import type { roles } from './db/schema.js';
import { forbidden } from './errors.js';

export type Role = (typeof roles)[number];

export const permissionNames = [
  'alert.create',
  'alert.viewHospital', // see every alert of the hospital (else: own department only)
  'alert.respond', // acknowledge, resolve, decline
  'alert.escalate',
  'alert.cancelOwn',
  'alert.cancelAny',
  'alert.update',
  'user.manage',
  'user.unlock', // clear a user's sign-in locks (admins; the nurse phones when locked out)
  'department.manage',
  'settings.manage',
  'audit.view',
  'audit.export',
  'presence.view',
  'schedule.manage', // create and edit on-call schedules, overrides for anyone
  'schedule.coverSelf', // an override that puts oneself on call (a swap, covering a colleague)
  'assignment.manage', // set a department's care assignments (nurses: only while charge nurse there)
  'integration.manage', // API keys, HL7 sources, outbound webhooks
  'alert.shelve', // shelve / unshelve an alert for a while (alarm issue; ISA-18.2)
  'suppression.manage', // suppression windows: drills, a bed out of service
  'alert.raiseCode', // call a hospital code (Code Blue, Fire…): anyone on staff who can raise or answer alerts
  'alert.incident_record', // export one alert's signed incident record (the risk team)
] as const;
export type Permission = (typeof permissionNames)[number];

/** The only place that says who may do what (DESIGN.md, "Who sees what"). */
export const permissionMatrix: Record<Role, readonly Permission[]> = {
  operator: ['alert.create', 'alert.viewHospital', 'alert.cancelOwn', 'alert.update', 'presence.view', 'alert.raiseCode'],
  nurse: ['alert.respond', 'schedule.coverSelf', 'assignment.manage', 'alert.shelve', 'alert.raiseCode'],
  doctor: ['alert.respond', 'schedule.coverSelf', 'alert.shelve', 'alert.raiseCode'],
  head_doctor: [
    'alert.viewHospital',
    'alert.respond',
    'alert.escalate',
    'alert.cancelOwn',
    'alert.cancelAny',
    'alert.update',
    'presence.view',
    'schedule.manage',
    'schedule.coverSelf',
    'assignment.manage',
    'alert.incident_record',
    'alert.shelve',
    'suppression.manage',
    'alert.raiseCode',
  ],
  admin: [
    'alert.create',
    'alert.viewHospital',
    'alert.respond',
    'alert.escalate',
    'alert.cancelOwn',
    'alert.cancelAny',
    'alert.update',
    'user.manage',
    'user.unlock',
    'department.manage',
    'settings.manage',
    'audit.view',
    'audit.export',
    'presence.view',
    'schedule.manage',
    'schedule.coverSelf',
    'assignment.manage',
    'integration.manage',
    'alert.incident_record',
    'alert.shelve',
    'suppression.manage',
    'alert.raiseCode',
  ],
};

export function can(role: Role, permission: Permission): boolean {
  return permissionMatrix[role].includes(permission);
}

export interface Actor {
  id: string;
  role: Role;
  hospitalId: string;
  departmentId: string | null;
}

/**
 * Record-dependent rules. Callers have already loaded the record scoped to the actor's hospital,
 * so a record of another hospital never gets here (it was NOT_FOUND).
 */
export function checkPermission(actor: Actor, permission: Permission, resource?: { createdBy?: string | null; departmentId?: string; chargeUserId?: string | null }): void {
  if (permission === 'alert.cancelOwn' && can(actor.role, 'alert.cancelAny')) return;
  if (!can(actor.role, permission)) throw forbidden();
  // A nurse sets assignments only in her own department, and only while she is its current charge nurse.
  if (permission === 'assignment.manage' && actor.role === 'nurse' && !(resource?.departmentId && resource.departmentId === actor.departmentId && resource.chargeUserId === actor.id)) {
    throw forbidden('Only the department’s charge nurse may set its assignments');
  }
  if (permission === 'alert.cancelOwn' && resource && resource.createdBy !== actor.id) {
    throw forbidden('You may cancel only alerts you raised');
  }
}
