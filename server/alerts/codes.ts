import type { AuditContext } from '../audit/log.js';
import type { hospitalCodes } from '../db/enums.js';
import { conflict } from '../errors.js';
import type { Actor } from '../permissions.js';
import { type AlertDeps, type ChangeResult, changeAlert } from './change.js';
import type { Alert, CreatedAlert, RaiseCodeInput } from './schemas.js';
import { createAlert } from './service.js';
import { alertScope } from './visibility.js';

type HospitalCode = (typeof hospitalCodes)[number];

/** What a code is called on the board, the banner and the lock screen. */
export const codeTitles: Record<HospitalCode, string> = {
  blue: 'Code Blue',
  rapid_response: 'Rapid Response',
  fire: 'Fire',
  lockdown: 'Lockdown',
  missing_person: 'Missing person',
};

/**
 * Calls a hospital code: a critical alert with `code` set, seen by the whole hospital, paging the code
 * team (settings.codeTeams.<code>) at once. The raise function never folds it into another alert and
 * never suppresses it: every call is its own emergency.
 */
export async function raiseCode(deps: AlertDeps, actor: Actor, audit: AuditContext, input: RaiseCodeInput): Promise<CreatedAlert> {
  return createAlert(deps, actor, audit, {
    title: codeTitles[input.code],
    priority: 'critical',
    alertType: `code_${input.code}`,
    departmentId: input.departmentId,
    ...(input.roomNumber ? { roomNumber: input.roomNumber } : {}),
    source: 'console',
    externalId: null,
    code: input.code,
  });
}

/**
 * "Responding": I am on my way. Once per person, on an open code; a `responding` event tells every
 * board and the console who is coming and since when. It does not acknowledge: the code stays until
 * someone resolves it.
 */
export async function respondToCode(deps: AlertDeps, actor: Actor, audit: AuditContext, alertId: string): Promise<Alert> {
  const result = await changeAlert(deps, alertScope(actor), audit, alertId, {
    action: 'responding',
    from: ['active', 'acknowledged'],
    authorize: (row) => {
      if (!row.code) throw conflict('Only a hospital code takes responders; acknowledge this alert instead');
    },
    responder: { userId: actor.id },
    events: () => [{ type: 'responding', detail: { userId: actor.id } }],
    set: () => ({}),
  });
  return (result as ChangeResult).alert;
}
