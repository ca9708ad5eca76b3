import type { AuditContext } from '../audit/log.js';
import { badRequest, conflict, notFound } from '../errors.js';
import type { Actor } from '../permissions.js';
import { type AlertDeps, type ChangeContext, type ChangeResult, type ChangeSet, changeAlert } from './change.js';
import { hospitalSettings } from './create.js';
import { levelTimeoutSeconds } from './policy.js';
import type { Alert, ShelveInput } from './schemas.js';
import { after, systemAudit } from './transitions.js';
import { alertScope } from './visibility.js';

type Row = { priority: Alert['priority']; escalationLevel: number; code: string | null };

/**
 * "Not now" (ISA-18.2 shelving): no sound, no escalation, its own row on the board, until the time runs
 * out. The cap per priority is the hospital's (settings.maxShelveMinutes); a code is never shelved.
 * Shelving an acknowledged alert ends its acknowledgement timer too: it comes back as active.
 */
export async function shelveAlert(deps: AlertDeps, actor: Actor, audit: AuditContext, input: ShelveInput): Promise<Alert> {
  const { alertId, minutes, reason } = input;
  const result = await changeAlert(deps, alertScope(actor), audit, alertId, {
    action: 'shelved',
    from: ['active', 'acknowledged'],
    metadata: { minutes, reason },
    authorize: (row) => refuseCode(row, 'shelved'),
    events: () => [{ type: 'shelved', detail: { minutes, reason } }],
    set: async (row, ctx) => {
      let cap = (await ctx.settings()).maxShelveMinutes[row.priority];
      // The cache may predate a raised cap: refuse only on what is stored (the statement's settings
      // hash then sends the change round again on the fresh copy).
      if (minutes > cap) cap = (await freshSettings(deps, row.hospitalId)).maxShelveMinutes[row.priority];
      if (minutes > cap) {
        const message = `A ${row.priority} alert can be shelved for at most ${cap} minutes here`;
        throw badRequest(message, { minutes: [message] });
      }
      return {
        status: 'shelved',
        shelvedUntil: after(minutes * 60),
        shelvedBy: actor.id,
        shelveReason: reason,
        nextEscalationAt: null,
        ackDeadlineAt: null,
        acknowledgedBy: null,
        acknowledgedAt: null,
      };
    },
  });
  return (result as ChangeResult).alert;
}

/** Back from the shelf before its time (the person who knows it needs attention now). */
export async function unshelveAlert(deps: AlertDeps, actor: Actor, audit: AuditContext, alertId: string): Promise<Alert> {
  const result = await changeAlert(deps, alertScope(actor), audit, alertId, {
    action: 'unshelved',
    from: ['shelved'],
    metadata: { reason: 'manual' },
    events: () => [{ type: 'unshelved', detail: { reason: 'manual' } }],
    set: (row, ctx) => backToActive(row, ctx),
  });
  return (result as ChangeResult).alert;
}

/**
 * The shelf's time ran out (the worker's timer, or the sweeper when the timer was lost): active again
 * with a fresh deadline at its level and an `unshelved` event the boards sound for. Guarded on the
 * version the timer was set for and on the deadline, so a stale or early timer is a no-op, and the
 * guarded UPDATE lets exactly one of the timer, the sweeper and a person's unshelve through.
 */
export async function unshelveWhenDue(deps: AlertDeps, hospitalId: string, alertId: string, version: number): Promise<ChangeResult | null> {
  return changeAlert(deps, { hospitalId, departmentId: null }, systemAudit(hospitalId), alertId, {
    action: 'unshelved',
    from: ['shelved'],
    metadata: { reason: 'expired' },
    authorize: (row) => {
      if (row.version !== version || !row.shelvedUntil || row.shelvedUntil.getTime() > Date.now()) throw notFound('Due shelf');
    },
    events: () => [{ type: 'unshelved', detail: { reason: 'expired' } }],
    set: (row, ctx) => backToActive(row, ctx),
  });
}

async function backToActive(row: Row, ctx: ChangeContext): Promise<ChangeSet> {
  const seconds = levelTimeoutSeconds(await ctx.settings(), row.priority, row.escalationLevel);
  return { status: 'active', shelvedUntil: null, nextEscalationAt: after(seconds) };
}

async function freshSettings(deps: AlertDeps, hospitalId: string) {
  return (await hospitalSettings(deps.db, hospitalId, await hospitalSettings(deps.db, hospitalId))).settings;
}

function refuseCode(row: { code: string | null }, what: string): void {
  if (row.code) throw conflict(`A hospital code cannot be ${what}`);
}

export { refuseCode };
