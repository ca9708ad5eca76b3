import type { AuditContext } from '../audit/log.js';
import { type AlertDeps, type ChangeResult, changeAlert, NOW } from '../alerts/change.js';
import type { Alert } from '../alerts/schemas.js';
import type { KeyCaller } from '../integrations/keys.js';

/*
 * Acknowledge and resolve by an API key (an `alerts:write` integration, e.g. a nurse-call system whose
 * staff pressed "answered"). alerts/transitions.ts takes a user Actor and records them as
 * acknowledgedBy/resolvedBy (user foreign keys); a key has no user, so these run the same guarded
 * change (changeAlert: status guards, events, audit) over the key's whole hospital, record no user,
 * and the audit context names the key as the actor (keyAudit). The timing rules are the same as a
 * person's: an acknowledgement gets the priority's ack deadline.
 */
const OPEN = ['active', 'acknowledged'] as const;
const scopeOf = (caller: KeyCaller) => ({ hospitalId: caller.hospitalId, departmentId: null });
const must = (r: ChangeResult | null): Alert => (r as ChangeResult).alert;

export async function acknowledgeByKey(deps: AlertDeps, caller: KeyCaller, audit: AuditContext, alertId: string): Promise<Alert> {
  return must(
    await changeAlert(deps, scopeOf(caller), audit, alertId, {
      action: 'acknowledged',
      events: () => [{ type: 'acknowledged' }],
      from: ['active'],
      metadata: { apiKey: caller.name },
      set: async (row, ctx) => {
        const ackTimeout = (await ctx.settings()).escalation[row.priority].ackTimeoutSeconds;
        return { status: 'acknowledged', acknowledgedAt: NOW, nextEscalationAt: null, ackDeadlineAt: ackTimeout ? { afterNow: ackTimeout } : null };
      },
    }),
  );
}

export async function resolveByKey(deps: AlertDeps, caller: KeyCaller, audit: AuditContext, alertId: string): Promise<Alert> {
  return must(
    await changeAlert(deps, scopeOf(caller), audit, alertId, {
      action: 'resolved',
      events: () => [{ type: 'resolved' }],
      from: OPEN,
      metadata: { apiKey: caller.name },
      set: (row) => ({ status: 'resolved', resolvedAt: NOW, nextEscalationAt: null, ackDeadlineAt: null, ...(row.acknowledgedAt ? {} : { acknowledgedAt: NOW }) }),
    }),
  );
}
