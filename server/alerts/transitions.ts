import type { AuditContext } from '../audit/log.js';
import { type escalationReasons, openAlertStatuses } from '../db/enums.js';
import { conflict, notFound } from '../errors.js';
import { type Actor, checkPermission } from '../permissions.js';
import { type AlertDeps, type At, type ChangeContext, type ChangeResult, type ChangeSet, type ChangeSpec, changeAlert, NOW } from './change.js';
import { hasLevelAbove, levelTimeoutSeconds, maxLevel } from './policy.js';
import type { Alert, UpdateAlertInput } from './schemas.js';
import { type AlertScope, alertScope } from './visibility.js';

const OPEN = openAlertStatuses;
/** Leaving the shelf by any other way than its timer (acknowledged, resolved…): its countdown ends. */
const offTheShelf = (row: { status: string }): ChangeSet => (row.status === 'shelved' ? { shelvedUntil: null } : {});
const must = (r: ChangeResult | null): Alert => (r as ChangeResult).alert;
export type EscalationReason = (typeof escalationReasons)[number];
type Expect = { escalationLevel: number; version: number };
/** `seconds` after the change commits, by Postgres's clock; null stays null. */
const after = (seconds: number | null): At => (seconds === null ? null : { afterNow: seconds });

const systemAudit = (hospitalId: string): AuditContext => ({ userId: null, hospitalId, ip: null, userAgent: 'clarion-worker', sessionId: null });

/**
 * Who takes or closes an alert: a person (their scope, recorded as acknowledgedBy/resolvedBy) or a
 * system with no user row (an API key's integration over its whole hospital; the audit context names it).
 */
export interface TakenBy {
  scope: AlertScope;
  userId: string | null;
  /** Extra audit metadata (the API key's name). */
  metadata?: Record<string, unknown>;
}
const person = (actor: Actor): TakenBy => ({ scope: alertScope(actor), userId: actor.id });

export async function acknowledgeAlert(deps: AlertDeps, actor: Actor, audit: AuditContext, alertId: string): Promise<Alert> {
  return acknowledgeAs(deps, person(actor), audit, alertId);
}

export async function acknowledgeAs(deps: AlertDeps, by: TakenBy, audit: AuditContext, alertId: string): Promise<Alert> {
  return must(
    await changeAlert(deps, by.scope, audit, alertId, {
      action: 'acknowledged',
      events: () => [{ type: 'acknowledged' }],
      // A shelved alert may be taken too: the person has it, the shelf's countdown ends.
      from: ['active', 'shelved'],
      ...(by.metadata ? { metadata: by.metadata } : {}),
      set: async (row, ctx) => {
        // An acknowledgement that is not followed by a resolve in time reopens (ackTimeoutSeconds).
        const ackTimeout = (await ctx.settings()).escalation[row.priority].ackTimeoutSeconds;
        return { ...offTheShelf(row), status: 'acknowledged', acknowledgedBy: by.userId, acknowledgedAt: NOW, nextEscalationAt: null, ackDeadlineAt: after(ackTimeout || null) };
      },
    }),
  );
}

export async function resolveAlert(deps: AlertDeps, actor: Actor, audit: AuditContext, alertId: string): Promise<Alert> {
  return resolveAs(deps, person(actor), audit, alertId);
}

export async function resolveAs(deps: AlertDeps, by: TakenBy, audit: AuditContext, alertId: string): Promise<Alert> {
  return must(
    await changeAlert(deps, by.scope, audit, alertId, {
      action: 'resolved',
      events: () => [{ type: 'resolved' }],
      from: OPEN,
      ...(by.metadata ? { metadata: by.metadata } : {}),
      set: (row) => ({
        ...offTheShelf(row),
        status: 'resolved',
        resolvedBy: by.userId,
        resolvedAt: NOW,
        nextEscalationAt: null,
        ackDeadlineAt: null,
        // Resolving straight from active also records who took it.
        ...(row.acknowledgedAt ? {} : { acknowledgedBy: by.userId, acknowledgedAt: NOW }),
      }),
    }),
  );
}

export async function cancelAlert(deps: AlertDeps, actor: Actor, audit: AuditContext, alertId: string): Promise<Alert> {
  return must(
    await changeAlert(deps, alertScope(actor), audit, alertId, {
      action: 'cancelled',
      events: () => [{ type: 'cancelled' }],
      from: OPEN,
      authorize: (row) => checkPermission(actor, 'alert.cancelOwn', row),
      set: (row) => ({ ...offTheShelf(row), status: 'cancelled', cancelledBy: actor.id, cancelledAt: NOW, nextEscalationAt: null, ackDeadlineAt: null }),
    }),
  );
}

/**
 * Raises an active alert one level. Manual escalation stops at the policy's top level (CONFLICT);
 * a timer passes `expect` so a stale timer (acknowledged, already escalated, changed) is a no-op.
 * A timer that finds the alert at or above the top of a policy shortened since it was set stops the
 * alert's escalation instead: its deadline is cleared once, with one `alert.escalation_stopped`
 * audit row and an `updated` event, so neither the timer nor the sweeper retries it for ever.
 */
export async function escalateAlert(deps: AlertDeps, scope: AlertScope, audit: AuditContext, alertId: string, reason: EscalationReason, expect?: Expect) {
  let stopped = false;
  const spec: ChangeSpec = {
    action: 'escalated',
    events: () => (stopped ? [{ type: 'updated', detail: { changed: ['nextEscalationAt'], reason: STOPPED_REASON } }] : [{ type: 'escalated', detail: { reason } }]),
    from: ['active'],
    expect,
    escalationReason: reason,
    metadata: { reason },
    set: async (row, ctx) => {
      const settings = await ctx.settings();
      // `set` runs again when the row moved on before the statement: each run decides afresh.
      stopped = false;
      spec.action = 'escalated';
      spec.metadata = { reason };
      if (hasLevelAbove(settings, row.priority, row.escalationLevel)) {
        return { escalationLevel: row.escalationLevel + 1, nextEscalationAt: after(levelTimeoutSeconds(settings, row.priority, row.escalationLevel + 1)) };
      }
      if (!expect) throw conflict('The alert is already at the highest escalation level');
      // changeAlert reads the action and metadata after `set`: the change is recorded as what it is.
      stopped = true;
      spec.action = 'escalation_stopped';
      spec.metadata = { reason: STOPPED_REASON, topLevel: maxLevel(settings, row.priority) };
      return { nextEscalationAt: null };
    },
  };
  return changeAlert(deps, scope, audit, alertId, spec);
}

const STOPPED_REASON = 'at_or_above_policy_top_level';

/** One level up if the policy has one; at or above the top level the alert keeps its level (never lower). */
async function levelUp(row: { priority: Alert['priority']; escalationLevel: number }, ctx: ChangeContext): Promise<ChangeSet> {
  const settings = await ctx.settings();
  const level = hasLevelAbove(settings, row.priority, row.escalationLevel) ? row.escalationLevel + 1 : row.escalationLevel;
  return { escalationLevel: level, nextEscalationAt: after(levelTimeoutSeconds(settings, row.priority, level)) };
}

/** "Cannot take it": recorded with its reason, and the alert escalates at once. */
export async function declineAlert(deps: AlertDeps, actor: Actor, audit: AuditContext, alertId: string, reason: string): Promise<Alert> {
  return must(
    await changeAlert(deps, alertScope(actor), audit, alertId, {
      action: 'declined',
      from: ['active'],
      escalationReason: 'declined',
      metadata: { reason },
      events: (_row, escalated) => [{ type: 'declined', detail: { reason } }, ...(escalated ? [{ type: 'escalated' as const, detail: { reason: 'declined' } }] : [])],
      set: (row, ctx) => levelUp(row, ctx),
    }),
  );
}

/** Acknowledged but not resolved in time: back to active, needing attention, and up a level. */
export async function reopenAfterAckTimeout(deps: AlertDeps, hospitalId: string, alertId: string, version: number) {
  return changeAlert(deps, { hospitalId, departmentId: null }, systemAudit(hospitalId), alertId, {
    action: 'reopened',
    from: ['acknowledged'],
    escalationReason: 'ack_timeout',
    authorize: (row) => {
      if (row.version !== version || !row.ackDeadlineAt || row.ackDeadlineAt.getTime() > Date.now()) throw notFound('Due acknowledgement');
    },
    events: (_row, escalated) => [{ type: 'reopened', detail: { reason: 'ack_timeout' } }, ...(escalated ? [{ type: 'escalated' as const, detail: { reason: 'ack_timeout' } }] : [])],
    set: async (row, ctx) => ({ status: 'active', acknowledgedBy: null, acknowledgedAt: null, ackDeadlineAt: null, ...(await levelUp(row, ctx)) }),
  });
}

/**
 * Corrects an open alert. A priority change moves the escalation deadline onto the new priority's
 * timeline, counted from when the alert reached its current level (due at once if already past).
 */
export async function updateAlert(deps: AlertDeps, actor: Actor, audit: AuditContext, input: UpdateAlertInput): Promise<Alert> {
  const { alertId, ...changes } = input;
  return must(
    await changeAlert(deps, alertScope(actor), audit, alertId, {
      action: 'updated',
      from: OPEN,
      metadata: { changed: Object.keys(changes) },
      events: () => [{ type: 'updated', detail: { changed: Object.keys(changes) } }],
      set: async (row, ctx) => {
        const values: ChangeSet = {};
        if (changes.title !== undefined) values.title = changes.title;
        if (changes.description !== undefined) values.description = changes.description || null;
        if (changes.roomNumber !== undefined) values.roomNumber = changes.roomNumber || null;
        if (changes.priority !== undefined && changes.priority !== row.priority) Object.assign(values, await priorityChange(ctx, row, changes.priority));
        return values;
      },
    }),
  );
}

/**
 * The columns of a priority change (a correction): on an active alert the deadline moves onto the new
 * priority's timeline, counted from when the alert reached its current level (due at once if already
 * past) — clarion_change_alert finds that moment, as clarion_raise_alert does for a raised repeat.
 */
export async function priorityChange(ctx: ChangeContext, row: { status: string; escalationLevel: number }, priority: Alert['priority']): Promise<ChangeSet> {
  if (row.status !== 'active') return { priority };
  const seconds = levelTimeoutSeconds(await ctx.settings(), priority, row.escalationLevel);
  return { priority, nextEscalationAt: seconds === null ? null : { levelStart: seconds } };
}

/** Resolves an open alert whose expiry has passed, with an `expired` event. */
export async function expireAlert(deps: AlertDeps, hospitalId: string, alertId: string): Promise<ChangeResult | null> {
  return changeAlert(deps, { hospitalId, departmentId: null }, systemAudit(hospitalId), alertId, {
    action: 'expired',
    events: () => [{ type: 'expired' }],
    from: OPEN,
    authorize: (row) => {
      if (!row.expiresAt || row.expiresAt.getTime() > Date.now()) throw notFound('Due alert');
    },
    set: (row) => ({ ...offTheShelf(row), status: 'resolved', resolvedAt: NOW, nextEscalationAt: null, ackDeadlineAt: null }),
  });
}

/**
 * Resolved by a system rather than a person: a feed that speaks again after its silence alert, a
 * monitor reporting its alarm cleared. `audit` names the system (its user agent); no resolver user.
 */
export async function systemResolve(deps: AlertDeps, hospitalId: string, audit: AuditContext, alertId: string, reason: string): Promise<ChangeResult | null> {
  return changeAlert(deps, { hospitalId, departmentId: null }, audit, alertId, {
    action: 'resolved',
    metadata: { reason },
    events: () => [{ type: 'resolved', detail: { reason } }],
    from: OPEN,
    set: (row) => ({ ...offTheShelf(row), status: 'resolved', resolvedAt: NOW, nextEscalationAt: null, ackDeadlineAt: null }),
  });
}

export { after, systemAudit };
