import type { AuditContext } from '../audit/log.js';
import type { AlertDeps } from '../alerts/change.js';
import type { Alert } from '../alerts/schemas.js';
import { acknowledgeAs, resolveAs, type TakenBy } from '../alerts/transitions.js';
import type { KeyCaller } from '../integrations/keys.js';

/*
 * Acknowledge and resolve by an API key (an `alerts:write` integration, e.g. a nurse-call system whose
 * staff pressed "answered"): the alerts' own transitions over the key's whole hospital, with no user
 * recorded (a key has no user row) and the audit context naming the key as the actor (keyAudit).
 */
const byKey = (caller: KeyCaller): TakenBy => ({ scope: { hospitalId: caller.hospitalId, departmentId: null }, userId: null, metadata: { apiKey: caller.name } });

export const acknowledgeByKey = (deps: AlertDeps, caller: KeyCaller, audit: AuditContext, alertId: string): Promise<Alert> => acknowledgeAs(deps, byKey(caller), audit, alertId);
export const resolveByKey = (deps: AlertDeps, caller: KeyCaller, audit: AuditContext, alertId: string): Promise<Alert> => resolveAs(deps, byKey(caller), audit, alertId);
